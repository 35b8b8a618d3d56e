//! The scoring form `/jobs/{id}/score`.
//!
//! Scoring without JavaScript: the form posts `action=draft` (save and come back),
//! `action=review` (validate and show the confirmation step, `score_confirm.html`) or,
//! from the confirmation step, `action=submit` (store the submission, then go straight
//! to the next job that needs my score); `action=edit` goes back from the confirmation
//! step to the form. A submission is never edited afterwards.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::queue::{next_after_submit, queue};
use super::{JobView, ScoreRow, job_fee, job_id, job_view, score_row};
use crate::domain::{
    DomainError, Factor, FactorScores, Level, QueueLinks, Suggestions, check_text, composite,
};
use crate::store::drafts::{self, Draft};
use crate::store::jobs::{self, Job};
use crate::store::ranks::{self, JobRank};
use crate::store::settings::{self, SettingsVersion};
use crate::store::submissions::{self, NewSubmission};
use crate::store::{self, StoreError, commands, users};
use crate::web::auth::{RequireScorer, Session};
use crate::web::pages::{Chrome, Form, Query, date, render, render_with};
use crate::web::{AppState, FieldError, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/jobs/{id}/score", get(score_page).post(score_post))
}

/// One level of a factor on the form.
pub struct LevelView {
    pub value: u8,
    pub text: &'static str,
    pub checked: bool,
    pub suggested: bool,
}

/// One factor on the form, with its error if any.
pub struct FactorView {
    pub key: &'static str,
    pub label: &'static str,
    pub levels: Vec<LevelView>,
    pub error: Option<String>,
    pub note: String,
    pub chosen: Option<u8>,
    pub overridden: bool,
}

/// The suggested levels for time open and fee size, from Recruiterflow data.
fn suggestions(job: &Job, current: &SettingsVersion, now: DateTime<Utc>) -> Suggestions {
    Suggestions::for_job(&current.settings, job.opened(), job_fee(job).as_ref(), now)
}

fn factor_views(
    chosen: [Option<u8>; 4],
    s: &Suggestions,
    errors: &[FieldError],
    job: &JobView,
) -> Vec<FactorView> {
    Factor::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let suggested = s.get(*f).map(|l| l.get());
            let note = match f {
                Factor::TimeOpen => {
                    format!(
                        "Suggested {} from {} days open.",
                        s.time_open, job.days_open
                    )
                }
                Factor::FeeSize => match s.fee_size {
                    Some(l) => format!("Suggested {l} from the fee ({}).", job.fee),
                    None => "No suggestion: the job has no fee in the bands' currency.".into(),
                },
                _ => String::new(),
            };
            FactorView {
                key: f.key(),
                label: f.label(),
                levels: Level::ALL_DESC
                    .iter()
                    .map(|l| LevelView {
                        value: l.get(),
                        text: f.rubric(*l),
                        checked: chosen[i] == Some(l.get()),
                        suggested: suggested == Some(l.get()),
                    })
                    .collect(),
                error: errors
                    .iter()
                    .find(|e| e.field == f.key())
                    .map(|e| e.message.clone()),
                note,
                chosen: chosen[i],
                overridden: chosen[i]
                    .and_then(|c| Level::new(f.key(), i64::from(c)).ok())
                    .is_some_and(|c| s.overridden(*f, c)),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "score.html")]
struct ScorePage {
    chrome: Chrome,
    job: JobView,
    factors: Vec<FactorView>,
    comment: String,
    comment_error: Option<String>,
    errors: Vec<FieldError>,
    notice: String,
    mine: Vec<ScoreRow>,
    queue: QueueLinks,
}

#[derive(Template)]
#[template(path = "score_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    job: JobView,
    factors: Vec<FactorView>,
    comment: String,
    composite: String,
    /// Carried from the form: where to go after submitting.
    next: Option<i64>,
}

/// Everything the scoring handlers read, in one store call.
struct ScoringContext {
    job: Job,
    rank: Option<JobRank>,
    current: SettingsVersion,
    draft: Option<Draft>,
    mine: Vec<ScoreRow>,
    queue: Vec<i64>,
}

/// `with_queue` reads the viewer's queue too, which after any submission means
/// refilling the dashboard copy: only pages that show queue links ask for it.
async fn scoring_context(
    state: &AppState,
    session: &Session,
    id: i64,
    with_queue: bool,
) -> Result<ScoringContext> {
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let ctx = state
        .store
        .read(move |c| {
            let job =
                jobs::find_job(c, id)?.ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
            let current = settings::current_settings(c)?;
            let names: HashMap<String, String> = users::list_users(c)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            let mine = submissions::list_for_job_and_scorer(c, id, &viewer)?
                .iter()
                .map(|s| score_row(s, &names, &current))
                .collect();
            Ok(ScoringContext {
                rank: ranks::find_job_rank(c, id)?,
                draft: drafts::find_draft(c, id, &viewer)?,
                queue: if with_queue {
                    queue(&cache, c, &viewer, now)?
                } else {
                    Vec::new()
                },
                job,
                current,
                mine,
            })
        })
        .await?;
    if !ctx.job.is_open {
        return Err(WebError::Conflict(format!(
            "job {} ({}) is closed; closed jobs keep their scores but take no new ones",
            ctx.job.id, ctx.job.title
        )));
    }
    Ok(ctx)
}

#[derive(Deserialize)]
struct ScoreQuery {
    saved: Option<String>,
}

async fn score_page(
    State(state): State<AppState>,
    RequireScorer(session): RequireScorer,
    Path(raw): Path<String>,
    Query(q): Query<ScoreQuery>,
) -> Result<Response> {
    let id = job_id(&raw)?;
    let ctx = scoring_context(&state, &session, id, true).await?;
    let now = store::now();
    let s = suggestions(&ctx.job, &ctx.current, now);
    let d = ctx.draft.clone().unwrap_or_default();
    let chosen = [
        d.client_engagement,
        d.search_difficulty,
        d.time_open.or(Some(s.time_open.get())),
        d.fee_size.or(s.fee_size.map(|l| l.get())),
    ];
    let job = job_view(&ctx.job, &ctx.rank, now);
    let notice = match (&ctx.draft, q.saved.is_some()) {
        (Some(d), true) => format!(
            "Draft saved{}.",
            d.updated_at
                .map(|t| format!(" at {}", t.format("%H:%M UTC")))
                .unwrap_or_default()
        ),
        (Some(d), false) => format!(
            "Your draft from {} is restored.",
            d.updated_at.map(date).unwrap_or_default()
        ),
        _ => String::new(),
    };
    render(&ScorePage {
        chrome: Chrome::for_session(&session, "dashboard"),
        factors: factor_views(chosen, &s, &[], &job),
        job,
        comment: d.comment.unwrap_or_default(),
        comment_error: None,
        errors: Vec::new(),
        notice,
        mine: ctx.mine,
        queue: QueueLinks::around(&ctx.queue, id),
    })
}

/// The scoring form as posted.
#[derive(Debug, Deserialize)]
struct ScoreForm {
    client_engagement: Option<String>,
    search_difficulty: Option<String>,
    time_open: Option<String>,
    fee_size: Option<String>,
    comment: Option<String>,
    action: Option<String>,
    /// The job the form's page named as next in my queue (a hint; checked on use).
    next: Option<String>,
}

/// What the form's button asks for.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Save a draft and come back.
    Draft,
    /// Show the confirmation step (also when no action is sent).
    Review,
    /// Back from the confirmation step to the form.
    Edit,
    /// Store the submission.
    Submit,
    /// Anything else: refused once the job is known to take scores.
    Other(String),
}

impl Action {
    fn parse(raw: Option<&str>) -> Action {
        match raw.unwrap_or("review") {
            "draft" => Action::Draft,
            "review" => Action::Review,
            "edit" => Action::Edit,
            "submit" => Action::Submit,
            other => Action::Other(other.to_string()),
        }
    }
}

/// The form read and checked, before the job is.
struct Posted {
    action: Action,
    /// Valid levels only.
    levels: [Option<u8>; 4],
    comment: String,
    /// Each naming its field.
    errors: Vec<FieldError>,
    /// The next job the form named, when it reads as another job id.
    hint: Option<i64>,
}

impl Posted {
    /// Every level is required except for a draft and for going back to the form.
    fn read(form: &ScoreForm, id: i64) -> Posted {
        let action = Action::parse(form.action.as_deref());
        let required = !matches!(action, Action::Draft | Action::Edit);
        let (levels, mut errors) = read_levels(form, required);
        let comment = form.comment.as_deref().map(str::trim).unwrap_or("");
        errors.extend(comment_error(comment));
        Posted {
            action,
            levels,
            comment: comment.to_string(),
            errors,
            // A malformed hint is dropped, not an error: it only saves a read.
            hint: form
                .next
                .as_deref()
                .and_then(|n| n.trim().parse::<i64>().ok())
                .filter(|n| *n > 0 && *n != id),
        }
    }

    fn comment(&self) -> Option<String> {
        (!self.comment.is_empty()).then(|| self.comment.clone())
    }
}

/// Reads the four levels; `required` makes a missing one an error. Returns the raw
/// levels (valid ones only) and the errors, each naming its field.
fn read_levels(form: &ScoreForm, required: bool) -> ([Option<u8>; 4], Vec<FieldError>) {
    let raw = [
        &form.client_engagement,
        &form.search_difficulty,
        &form.time_open,
        &form.fee_size,
    ];
    let mut levels = [None; 4];
    let mut errors = Vec::new();
    for (i, f) in Factor::ALL.iter().enumerate() {
        match raw[i].as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None if required => errors.push(FieldError {
                field: f.key().into(),
                message: format!("{}: pick a level from 1 to 5", f.label()),
            }),
            None => {}
            Some(v) => match Level::parse(f.key(), v) {
                Ok(l) => levels[i] = Some(l.get()),
                Err(e) => errors.push(FieldError {
                    field: f.key().into(),
                    message: format!("{}: {e}", f.label()),
                }),
            },
        }
    }
    (levels, errors)
}

/// The comment's refusal, if any: a control character, or too long.
fn comment_error(comment: &str) -> Option<FieldError> {
    let message = if let Err(DomainError::Invalid { reason, .. }) = check_text("comment", comment) {
        format!("Comment: {reason}")
    } else if comment.chars().count() > submissions::MAX_COMMENT_CHARS {
        format!(
            "Comment: must be at most {} characters",
            submissions::MAX_COMMENT_CHARS
        )
    } else {
        return None;
    };
    Some(FieldError {
        field: "comment".into(),
        message,
    })
}

/// The job, as the form's steps show it.
struct Scoring<'a> {
    session: &'a Session,
    ctx: ScoringContext,
    suggestions: Suggestions,
    job: JobView,
    now: DateTime<Utc>,
}

async fn score_post(
    State(state): State<AppState>,
    RequireScorer(session): RequireScorer,
    Path(raw): Path<String>,
    Form(form): Form<ScoreForm>,
) -> Result<Response> {
    let id = job_id(&raw)?;
    let posted = Posted::read(&form, id);
    // Only the form page (errors, "Change") shows queue links.
    let with_queue = !posted.errors.is_empty() || posted.action == Action::Edit;
    let ctx = scoring_context(&state, &session, id, with_queue).await?;
    let now = store::now();
    let scoring = Scoring {
        session: &session,
        suggestions: suggestions(&ctx.job, &ctx.current, now),
        job: job_view(&ctx.job, &ctx.rank, now),
        ctx,
        now,
    };
    if !posted.errors.is_empty() {
        return scoring.form_again(StatusCode::UNPROCESSABLE_ENTITY, posted);
    }
    match posted.action.clone() {
        Action::Edit => scoring.form_again(StatusCode::OK, posted),
        Action::Draft => scoring.save_draft(&state, posted).await,
        Action::Review => scoring.confirm(posted),
        Action::Submit => scoring.submit(&state, posted).await,
        Action::Other(other) => Err(WebError::BadRequest(format!(
            "action must be draft, review, edit or submit, got {other:?}"
        ))),
    }
}

impl Scoring<'_> {
    /// The form again with what was typed, and the errors by their fields.
    fn form_again(self, status: StatusCode, posted: Posted) -> Result<Response> {
        let id = self.job.id;
        render_with(
            status,
            &ScorePage {
                chrome: Chrome::for_session(self.session, "dashboard"),
                factors: factor_views(posted.levels, &self.suggestions, &posted.errors, &self.job),
                job: self.job,
                comment: posted.comment,
                comment_error: posted
                    .errors
                    .iter()
                    .find(|e| e.field == "comment")
                    .map(|e| e.message.clone()),
                errors: posted.errors,
                notice: String::new(),
                mine: Vec::new(),
                queue: QueueLinks::around(&self.ctx.queue, id),
            },
        )
    }

    /// Saves the levels chosen so far and the comment, then shows the form again.
    async fn save_draft(self, state: &AppState, posted: Posted) -> Result<Response> {
        let id = self.job.id;
        let draft = Draft {
            client_engagement: posted.levels[0],
            search_difficulty: posted.levels[1],
            time_open: posted.levels[2],
            fee_size: posted.levels[3],
            comment: posted.comment(),
            updated_at: None,
        };
        let scorer = self.session.user.id.clone();
        let now = self.now;
        state
            .store
            .write(move |tx| drafts::save_draft(tx, id, &scorer, &draft, now))
            .await
            .map_err(|e| WebError::from(e).not_saved("your draft was not saved"))?;
        Ok(Redirect::to(&format!("/jobs/{id}/score?saved=1")).into_response())
    }

    /// The four levels of a complete form as scores.
    fn scores(posted: &Posted) -> Result<FactorScores> {
        Ok(FactorScores::from_values(
            posted.levels.map(|l| i64::from(l.unwrap_or(0))),
        )?)
    }

    /// The confirmation step: the levels, the composite and the comment, to submit or
    /// change.
    fn confirm(self, posted: Posted) -> Result<Response> {
        let scores = Self::scores(&posted)?;
        render(&ConfirmPage {
            chrome: Chrome::for_session(self.session, "dashboard"),
            factors: factor_views(posted.levels, &self.suggestions, &[], &self.job),
            composite: composite(&scores, &self.ctx.current.settings.weights).to_string(),
            job: self.job,
            comment: posted.comment,
            next: posted.hint,
        })
    }

    /// Stores the submission, then goes to the next job that needs my score, or back
    /// to the dashboard when none does.
    async fn submit(self, state: &AppState, posted: Posted) -> Result<Response> {
        let id = self.job.id;
        let scores = Self::scores(&posted)?;
        let overrides = self.suggestions.overrides(&scores);
        let new = NewSubmission {
            job_id: id,
            scorer_id: self.session.user.id.clone(),
            scores,
            time_open_overridden: overrides.time_open,
            fee_size_overridden: overrides.fee_size,
            comment: posted.comment(),
        };
        let now = self.now;
        state
            .store
            .write(move |tx| commands::submit_score(tx, &new, now).map(|_| ()))
            .await
            .map_err(|e| WebError::from(e).not_saved("your score was not saved"))?;
        let viewer = self.session.user.id.clone();
        let cadence = self.ctx.current.settings.cadence_days;
        let to = match next_after_submit(state, viewer, id, posted.hint, cadence, now).await? {
            Some(next) => format!("/jobs/{next}/score"),
            None => format!("/?scored={id}"),
        };
        Ok(Redirect::to(&to).into_response())
    }
}
