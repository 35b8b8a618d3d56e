//! The scoring form `/jobs/{id}/score`.
//!
//! Scoring without JavaScript: the form posts `action=draft` (save and come back),
//! `action=review` (validate and show the confirmation step, `score_confirm.html`) or,
//! from the confirmation step, `action=submit` (store the submission, then go straight
//! to the next job that needs my score, or to "All caught up"); `action=edit` goes back
//! from the confirmation step to the form; `action=skip` ("Can't judge this one", with
//! a `reason`) sets the job aside for this week. A submission is never edited
//! afterwards.
//!
//! Each form and confirmation page carries a one-time `form_key`: the first submission
//! with a key is recorded with it, and a repeat (Back then submit again, a
//! double-click) is answered as the first was (the same confirmation, the same next
//! page) and stores nothing. After a submission or a skip the next page shows what
//! happened ("Fleet Manager scored 3.50; team 3.60, B (was C).", see `web::flash`).
//!
//! Reading the posted form (its fields, the button's action, the levels, the comment
//! and the one-time key, each error naming its field) is in [`form`]; this file holds
//! the pages, the handlers and the form's steps.

mod form;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::queue::{next_after_submit, queue};
use super::{JobView, ScoreRow, job_fee, job_id, job_view, score_row};
use crate::credentials::random_token;
use crate::domain::{
    Composite, DomainError, Factor, FactorScores, JobRank as Standing, Level, QueueLinks,
    RankChange, SKIP_REASONS, Suggestions, check_skip_reason, composite, week_end, week_of,
};
use crate::store::drafts::{self, Draft};
use crate::store::idempotency::{self, Purpose};
use crate::store::jobs::{self, Job};
use crate::store::ranks::{self, JobRank};
use crate::store::settings::{self, SettingsVersion};
use crate::store::skips::{self, Skip};
use crate::store::submissions::{self, NewSubmission};
use crate::store::{self, StoreError, commands, users};
use crate::web::auth::{RequireScorer, Session};
use crate::web::flash;
use crate::web::pages::{Chrome, Form, Query, date, render, render_with};
use crate::web::{AppState, FieldError, Result, WebError};
use form::{Action, Posted, ScoreForm};

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
    /// Which end of the scale is 5 ("5 = easy to fill").
    pub scale: &'static str,
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
                scale: f.scale(),
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

/// "Can't judge this one" on the form: the reasons offered, what was typed, and
/// whether (and why) the job is already set aside this week.
pub struct SkipView {
    pub reasons: &'static [&'static str],
    /// The offered reason picked, or the reason typed, when the form comes back.
    pub chosen: String,
    pub other: String,
    pub error: Option<String>,
    /// This week's skip of the job by the viewer, if any: its reason.
    pub done: Option<String>,
    /// The Monday the job comes back to the queue.
    pub back_on: String,
}

impl SkipView {
    fn new(done: Option<&Skip>, now: DateTime<Utc>) -> SkipView {
        SkipView {
            reasons: &SKIP_REASONS,
            chosen: String::new(),
            other: String::new(),
            error: None,
            done: done.map(|s| s.reason.clone()),
            back_on: date(week_end(week_of(now))),
        }
    }
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
    /// This form's one-time key.
    form_key: String,
    skip: SkipView,
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
    /// Carried from the form: its one-time key.
    form_key: String,
}

/// Everything the scoring handlers read, in one store call.
struct ScoringContext {
    job: Job,
    rank: Option<JobRank>,
    current: SettingsVersion,
    draft: Option<Draft>,
    mine: Vec<ScoreRow>,
    queue: Vec<i64>,
    /// The viewer's skip of this job this week, if any.
    skip: Option<Skip>,
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
                skip: skips::find_skip(c, id, &viewer, week_of(now))?,
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
        form_key: random_token(),
        skip: SkipView::new(ctx.skip.as_ref(), now),
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
    let posted = Posted::read(&form, id)?;
    // Only the form page (errors, "Change", a refused skip) shows queue links.
    let with_queue =
        !posted.errors.is_empty() || matches!(posted.action, Action::Edit | Action::Skip);
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
        Action::Skip => scoring.skip(&state, posted, &form).await,
        Action::Other(other) => Err(WebError::BadRequest(format!(
            "action must be draft, review, edit, submit or skip, got {other:?}"
        ))),
    }
}

impl Scoring<'_> {
    /// The form again with what was typed, and the errors by their fields.
    fn form_again(self, status: StatusCode, posted: Posted) -> Result<Response> {
        let skip = SkipView::new(self.ctx.skip.as_ref(), self.now);
        self.form_with(status, posted, skip)
    }

    /// The form again, with "Can't judge this one" as given.
    fn form_with(self, status: StatusCode, posted: Posted, skip: SkipView) -> Result<Response> {
        let id = self.job.id;
        render_with(
            status,
            &ScorePage {
                chrome: Chrome::for_session(self.session, "dashboard"),
                factors: factor_views(posted.levels, &self.suggestions, &posted.errors, &self.job),
                job: self.job,
                form_key: posted.key_or_new(),
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
                skip,
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
            form_key: posted.key_or_new(),
            comment: posted.comment,
            next: posted.hint,
        })
    }

    /// Stores the submission, then goes to the next job that needs my score, or to "All
    /// caught up" when none does, with a confirmation of the new team score and rank.
    /// A key used before gets the first answer again and stores nothing.
    async fn submit(self, state: &AppState, posted: Posted) -> Result<Response> {
        let id = self.job.id;
        let scores = Self::scores(&posted)?;
        let overrides = self.suggestions.overrides(&scores);
        let mine = composite(&scores, &self.ctx.current.settings.weights);
        let new = NewSubmission {
            job_id: id,
            scorer_id: self.session.user.id.clone(),
            scores,
            time_open_overridden: overrides.time_open,
            fee_size_overridden: overrides.fee_size,
            comment: posted.comment(),
        };
        let now = self.now;
        let viewer = self.session.user.id.clone();
        let title = self.job.title.clone();
        let cadence = self.ctx.current.settings.cadence_days;
        let (key, hint) = (posted.key, posted.hint);
        let answer = state
            .store
            .write(move |tx| {
                if let Some(k) = &key
                    && let Some(used) =
                        idempotency::find_used_key(tx, &viewer, Purpose::ScoreForm, k)?
                {
                    return FormAnswer::from_json(&used.answer);
                }
                let out = commands::submit_score(tx, &new, now)?;
                let (saved, rank) = &out.result;
                let answer = FormAnswer {
                    to: destination(next_after_submit(tx, &viewer, id, hint, cadence, now)?),
                    flash: scored_flash(&title, mine, rank, out.rank_changes.first()),
                };
                if let Some(k) = &key {
                    idempotency::record_used_key(
                        tx,
                        &viewer,
                        Purpose::ScoreForm,
                        k,
                        None,
                        &saved.id,
                        &answer.to_json()?,
                        now,
                    )?;
                }
                Ok(answer)
            })
            .await
            .map_err(|e| WebError::from(e).not_saved("your score was not saved"))?;
        Ok(answer.redirect(self.session, state, now))
    }

    /// "Can't judge this one": sets the job aside for this week with the reason given,
    /// then goes on as after a submission. A job already set aside this week is
    /// answered as the first time (a double-click stores one skip).
    async fn skip(self, state: &AppState, posted: Posted, form: &ScoreForm) -> Result<Response> {
        let picked = form.reason.as_deref().map(str::trim).unwrap_or("");
        let other = form.reason_other.as_deref().map(str::trim).unwrap_or("");
        let given = if other.is_empty() { picked } else { other };
        if let Err(e) = check_skip_reason(given) {
            let mut view = SkipView::new(self.ctx.skip.as_ref(), self.now);
            view.chosen = picked.to_string();
            view.other = other.to_string();
            view.error = Some(match e {
                DomainError::Invalid { reason, .. } => format!("Reason: {reason}."),
                other => other.to_string(),
            });
            return self.form_with(StatusCode::UNPROCESSABLE_ENTITY, posted, view);
        }
        let id = self.job.id;
        let now = self.now;
        let viewer = self.session.user.id.clone();
        let title = self.job.title.clone();
        let cadence = self.ctx.current.settings.cadence_days;
        let hint = posted.hint;
        let reason = given.to_string();
        let answer = state
            .store
            .write(move |tx| {
                let week = week_of(now);
                let skip = match skips::find_skip(tx, id, &viewer, week)? {
                    Some(earlier) => earlier,
                    None => skips::insert_skip(tx, id, &viewer, &reason, now)?,
                };
                Ok(FormAnswer {
                    to: destination(next_after_submit(tx, &viewer, id, hint, cadence, now)?),
                    flash: format!(
                        "{title} is set aside for this week ({}): it leaves your queue until Monday {}, and nothing was scored.",
                        skip.reason,
                        date(week_end(week)),
                    ),
                })
            })
            .await
            .map_err(|e| WebError::from(e).not_saved("the job was not set aside"))?;
        Ok(answer.redirect(self.session, state, now))
    }
}

/// Where a scorer goes after a submission or a skip: the next job, or "All caught up".
fn destination(next: Option<i64>) -> String {
    match next {
        Some(n) => format!("/jobs/{n}/score"),
        None => "/queue".into(),
    }
}

/// What a submission was answered, as recorded with the form's key.
#[derive(Debug, Serialize, Deserialize)]
struct FormAnswer {
    /// Where it led.
    to: String,
    /// The confirmation the next page showed.
    flash: String,
}

impl FormAnswer {
    fn to_json(&self) -> store::Result<String> {
        serde_json::to_string(self).map_err(|e| StoreError::Data(e.to_string()))
    }

    fn from_json(text: &str) -> store::Result<FormAnswer> {
        serde_json::from_str(text)
            .map_err(|e| StoreError::Data(format!("a recorded form answer: {e}")))
    }

    fn redirect(&self, session: &Session, state: &AppState, now: DateTime<Utc>) -> Response {
        flash::redirect(
            session,
            &self.to,
            &self.flash,
            state.config.secure_cookies(),
            now,
        )
    }
}

/// The confirmation of a submission: "Fleet Manager scored 3.50; team 3.60, B (was
/// C).", or "still B" when the rank held, or "ranked B for the first time".
pub fn scored_flash(
    title: &str,
    mine: Composite,
    now: &Standing,
    change: Option<&RankChange>,
) -> String {
    let (team, rank) = (now.team, now.rank);
    let standing = match change.map(|c| c.old) {
        Some(None) => format!("team {team}, ranked {rank} for the first time"),
        Some(Some(old)) if old.rank != rank => format!("team {team}, {rank} (was {})", old.rank),
        Some(Some(old)) => format!("team {team} (was {}), still {rank}", old.team),
        None => format!("team {team}, still {rank}"),
    };
    format!("{title} scored {mine}; {standing}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Rank, TeamScore};

    fn standing(sum: i64, count: i64, rank: Rank) -> crate::domain::Standing {
        crate::domain::Standing {
            rank,
            team: TeamScore::from_parts(sum, count).unwrap(),
        }
    }

    #[test]
    fn the_confirmation_says_the_score_the_team_score_and_the_rank_movement() {
        let now = Standing {
            job_id: 7,
            team: TeamScore::from_parts(72_000, 2).unwrap(),
            rank: Rank::B,
            previous: None,
            settings_version: 1,
            last_scored_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        };
        let mine = Composite::from_ten_thousandths(35_000).unwrap();
        let change = |old| RankChange {
            job_id: 7,
            old,
            new: Some(now.standing()),
        };
        assert_eq!(
            scored_flash(
                "Fleet Manager",
                mine,
                &now,
                Some(&change(Some(standing(30_000, 1, Rank::C))))
            ),
            "Fleet Manager scored 3.50; team 3.60, B (was C)."
        );
        assert_eq!(
            scored_flash(
                "Fleet Manager",
                mine,
                &now,
                Some(&change(Some(standing(34_000, 1, Rank::B))))
            ),
            "Fleet Manager scored 3.50; team 3.60 (was 3.40), still B."
        );
        assert_eq!(
            scored_flash("Fleet Manager", mine, &now, Some(&change(None))),
            "Fleet Manager scored 3.50; team 3.60, ranked B for the first time."
        );
        assert_eq!(
            scored_flash("Fleet Manager", mine, &now, None),
            "Fleet Manager scored 3.50; team 3.60, still B."
        );
    }
}
