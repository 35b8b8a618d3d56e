//! The job page `/jobs/{id}` and the scoring form `/jobs/{id}/score` (the id is the
//! Recruiterflow job id).
//!
//! Scoring without JavaScript: the form posts `action=draft` (save and come back),
//! `action=review` (validate and show the confirmation step, `score_confirm.html`) or,
//! from the confirmation step, `action=submit` (store the submission, then go straight
//! to the next job that needs my score). A submission is never edited afterwards.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::{CurrentUser, RequireScorer, Session};
use super::dashboard::fee_text;
use super::pages::{Chrome, Form, Query, date, render, render_with};
use super::{AppState, FieldError, WebError};
use crate::domain::{
    Factor, FactorScores, Level, Money, QueueLinks, Suggestions, composite, latest_per_scorer,
    next_in_queue, scoring_queue,
};
use crate::store::dashboard::DashboardCache;
use crate::store::drafts::{self, Draft};
use crate::store::jobs::{self, Job};
use crate::store::pipeline::{self, PipelineSnapshot};
use crate::store::ranks::{self, JobRank, RankHistoryRow};
use crate::store::settings::{self, SettingsVersion};
use crate::store::submissions::{self, NewSubmission, Submission};
use crate::store::{self, commands, recruiterflow_users, users};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs/{id}", get(job_page))
        .route("/jobs/{id}/score", get(score_page).post(score_post))
}

/// Parses the job id of a path: 400 when it is not a number.
fn job_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        WebError::BadRequest(format!(
            "{raw:?} is not a job id (Recruiterflow job ids are whole numbers)"
        ))
    })
}

/// The jobs that need the viewer's score, in dashboard (rank) order.
fn queue(
    cache: &DashboardCache,
    conn: &rusqlite::Connection,
    viewer: &str,
    now: DateTime<Utc>,
) -> store::Result<Vec<i64>> {
    Ok(scoring_queue(cache.view(conn, viewer, now)?.jobs()))
}

/// One point of the team-score chart.
pub struct ChartPoint {
    pub x: i64,
    pub y: i64,
    pub label: String,
}

/// The team score over time as SVG coordinates (600 x 200, scores 1-5).
pub struct Chart {
    pub points: String,
    pub dots: Vec<ChartPoint>,
    pub a_y: i64,
    pub b_y: i64,
    pub first: String,
    pub last: String,
    /// Horizontal grid lines at scores 1-5: (y, label).
    pub ticks: Vec<(i64, u8)>,
}

const CHART_W: f64 = 600.0;
const CHART_H: f64 = 200.0;
const PAD: f64 = 28.0;

fn y_of(score: f64) -> i64 {
    (PAD + (5.0 - score.clamp(1.0, 5.0)) / 4.0 * (CHART_H - 2.0 * PAD)).round() as i64
}

fn chart(history: &[RankHistoryRow], current: &SettingsVersion) -> Option<Chart> {
    let first = history.first()?;
    let last = history.last()?;
    let span = (last.at - first.at).num_seconds().max(1) as f64;
    let dots: Vec<ChartPoint> = history
        .iter()
        .map(|h| {
            let x = if history.len() == 1 {
                CHART_W / 2.0
            } else {
                PAD + (h.at - first.at).num_seconds() as f64 / span * (CHART_W - 2.0 * PAD)
            };
            ChartPoint {
                x: x.round() as i64,
                y: y_of(h.team.as_f64()),
                label: format!("{}: {} ({})", date(h.at), h.team, h.rank.as_str()),
            }
        })
        .collect();
    let points = dots
        .iter()
        .map(|d| format!("{},{}", d.x, d.y))
        .collect::<Vec<_>>()
        .join(" ");
    let t = &current.settings.thresholds;
    Some(Chart {
        points,
        dots,
        a_y: y_of(f64::from(t.a_hundredths()) / 100.0),
        b_y: y_of(f64::from(t.b_hundredths()) / 100.0),
        first: date(first.at),
        last: date(last.at),
        ticks: (1..=5u8).map(|v| (y_of(f64::from(v)), v)).collect(),
    })
}

/// A submission as the job page lists it.
pub struct ScoreRow {
    pub scorer: String,
    pub date: String,
    pub levels: [u8; 4],
    pub composite: String,
    pub comment: String,
    pub overridden: String,
}

fn score_row(
    s: &Submission,
    names: &HashMap<String, String>,
    current: &SettingsVersion,
) -> ScoreRow {
    let composite = s
        .scores()
        .map(|f| composite(&f, &current.settings.weights).to_string())
        .unwrap_or_default();
    let mut overridden = Vec::new();
    if s.time_open_overridden {
        overridden.push("time open");
    }
    if s.fee_size_overridden {
        overridden.push("fee size");
    }
    ScoreRow {
        scorer: names
            .get(&s.scorer_id)
            .cloned()
            .unwrap_or_else(|| "former user".into()),
        date: date(s.submitted_at),
        levels: [
            s.client_engagement,
            s.search_difficulty,
            s.time_open,
            s.fee_size,
        ],
        composite,
        comment: s.comment.clone().unwrap_or_default(),
        overridden: overridden.join(", "),
    }
}

/// A pipeline stage row.
pub struct StageRow {
    pub stage: String,
    pub candidates: i64,
    pub avg_days: String,
    pub bottleneck: bool,
}

fn stage_rows(p: &Option<PipelineSnapshot>) -> Vec<StageRow> {
    let Some(p) = p else {
        return Vec::new();
    };
    let neck = p.bottleneck().map(|b| b.stage.clone());
    p.stages
        .iter()
        .map(|s| StageRow {
            stage: s.stage.clone(),
            candidates: s.candidates,
            avg_days: s
                .avg_days_in_stage
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "–".into()),
            bottleneck: neck.as_deref() == Some(s.stage.as_str()),
        })
        .collect()
}

/// What the job page and the scoring form show about a job.
pub struct JobView {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub status: String,
    pub is_open: bool,
    pub opened: String,
    pub days_open: i64,
    pub fee: String,
    /// Recruiterflow's HTML, shown as text (escaped by the template, never `|safe`).
    pub description: String,
    pub rank: &'static str,
    pub team_score: String,
    pub scorers_counted: u32,
    pub last_scored: String,
}

/// A job's fee as money, when it has one.
fn job_fee(job: &Job) -> Option<Money> {
    Money::from_parts(job.fee_minor, job.fee_currency.as_deref())
}

fn job_view(job: &Job, rank: &Option<JobRank>, now: DateTime<Utc>) -> JobView {
    JobView {
        id: job.id,
        title: job.title.clone(),
        client: job.client.clone(),
        status: job.status.clone(),
        is_open: job.is_open,
        opened: date(job.opened()),
        days_open: job.days_open(now),
        fee: fee_text(job_fee(job).as_ref()),
        description: job.description_html.clone().unwrap_or_default(),
        rank: rank.as_ref().map(|r| r.rank.as_str()).unwrap_or(""),
        team_score: rank
            .as_ref()
            .map(|r| r.team.to_string())
            .unwrap_or_else(|| "not scored yet".into()),
        scorers_counted: rank.as_ref().map(|r| r.team.count()).unwrap_or(0),
        last_scored: rank
            .as_ref()
            .map(|r| date(r.last_scored_at))
            .unwrap_or_else(|| "never".into()),
    }
}

/// A member of the job's hiring team, as Recruiterflow names them.
pub struct TeamMemberView {
    pub name: String,
    /// The jobrank user they are (their jobrank name), when their Recruiterflow user's
    /// email matches one.
    pub jobrank_user: Option<String>,
}

/// The hiring team with the members who are jobrank users marked (see
/// [`recruiterflow_users::match_hiring_team`]); nobody is marked while Recruiterflow is
/// not configured.
fn hiring_team(
    conn: &rusqlite::Connection,
    job: &Job,
    jobrank: &[users::User],
    recruiterflow_on: bool,
) -> store::Result<Vec<TeamMemberView>> {
    let recruiterflow = if recruiterflow_on {
        recruiterflow_users::list_recruiterflow_users(conn)?
    } else {
        Vec::new()
    };
    let matched = recruiterflow_users::match_hiring_team(&job.hiring_team, &recruiterflow, jobrank);
    Ok(job
        .hiring_team
        .iter()
        .zip(matched)
        .map(|(name, user)| TeamMemberView {
            name: name.clone(),
            jobrank_user: user.map(|u| u.name.clone()),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    chrome: Chrome,
    job: JobView,
    hiring_team: Vec<TeamMemberView>,
    stages: Vec<StageRow>,
    pipeline_date: String,
    latest: Vec<ScoreRow>,
    mine: Vec<ScoreRow>,
    chart: Option<Chart>,
    can_score: bool,
    needs_me: bool,
    queue: QueueLinks,
}

async fn job_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = job_id(&raw)?;
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let recruiterflow_on = state.config.recruiterflow.api_key.is_some();
    let page = state
        .store
        .read(move |c| {
            let job = jobs::find_job(c, id)?
                .ok_or_else(|| store::StoreError::NotFound(format!("job {id}")))?;
            let current = settings::current_settings(c)?;
            let rank = ranks::find_job_rank(c, id)?;
            let snapshot = pipeline::latest_snapshot(c, id)?;
            let everyone = users::list_users(c)?;
            let team = hiring_team(c, &job, &everyone, recruiterflow_on)?;
            let names: HashMap<String, String> =
                everyone.into_iter().map(|u| (u.id, u.name)).collect();
            let all = submissions::list_for_job(c, id)?;
            let mut latest = latest_per_scorer(&all);
            latest.sort_by(|a, b| (b.submitted_at, &b.id).cmp(&(a.submitted_at, &a.id)));
            let latest: Vec<ScoreRow> = latest
                .into_iter()
                .map(|s| score_row(s, &names, &current))
                .collect();
            let mine_subs: Vec<&Submission> =
                all.iter().filter(|s| s.scorer_id == viewer).collect();
            let needs_me = crate::domain::needs_score(
                mine_subs.first().map(|s| s.submitted_at),
                now,
                current.settings.cadence_days,
            );
            let mine = mine_subs
                .into_iter()
                .map(|s| score_row(s, &names, &current))
                .collect();
            let history = ranks::history_for_job(c, id)?;
            let q = queue(&cache, c, &viewer, now)?;
            Ok(JobPage {
                chrome: Chrome::anonymous(),
                job: job_view(&job, &rank, now),
                hiring_team: team,
                pipeline_date: snapshot
                    .as_ref()
                    .map(|p| date(p.taken_at))
                    .unwrap_or_default(),
                stages: stage_rows(&snapshot),
                latest,
                mine,
                chart: chart(&history, &current),
                can_score: false,
                needs_me,
                queue: QueueLinks::around(&q, id),
            })
        })
        .await?;
    let page = JobPage {
        chrome: Chrome::for_session(&session, "dashboard"),
        can_score: session.user.scores && page.job.is_open,
        needs_me: session.user.scores && page.needs_me,
        ..page
    };
    render(&page)
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
) -> Result<ScoringContext, WebError> {
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let ctx = state
        .store
        .read(move |c| {
            let job = jobs::find_job(c, id)?
                .ok_or_else(|| store::StoreError::NotFound(format!("job {id}")))?;
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
) -> Result<Response, WebError> {
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

async fn score_post(
    State(state): State<AppState>,
    RequireScorer(session): RequireScorer,
    Path(raw): Path<String>,
    Form(form): Form<ScoreForm>,
) -> Result<Response, WebError> {
    let id = job_id(&raw)?;
    let action = form.action.as_deref().unwrap_or("review");
    let comment = form
        .comment
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    let required = action != "draft" && action != "edit";
    let (levels, mut errors) = read_levels(&form, required);
    if let Err(crate::domain::DomainError::Invalid { reason, .. }) =
        crate::domain::check_text("comment", &comment)
    {
        errors.push(FieldError {
            field: "comment".into(),
            message: format!("Comment: {reason}"),
        });
    } else if comment.chars().count() > submissions::MAX_COMMENT_CHARS {
        errors.push(FieldError {
            field: "comment".into(),
            message: format!(
                "Comment: must be at most {} characters",
                submissions::MAX_COMMENT_CHARS
            ),
        });
    }
    // A malformed hint is dropped, not an error: it only saves a read.
    let hint = form
        .next
        .as_deref()
        .and_then(|n| n.trim().parse::<i64>().ok())
        .filter(|n| *n > 0 && *n != id);
    // Only the form page (errors, "Change") shows queue links.
    let with_queue = !errors.is_empty() || action == "edit";
    let ctx = scoring_context(&state, &session, id, with_queue).await?;
    let now = store::now();
    let s = suggestions(&ctx.job, &ctx.current, now);
    let job = job_view(&ctx.job, &ctx.rank, now);
    let form_page = |status: StatusCode, errors: Vec<FieldError>, notice: String| {
        render_with(
            status,
            &ScorePage {
                chrome: Chrome::for_session(&session, "dashboard"),
                factors: factor_views(levels, &s, &errors, &job),
                job: job_view(&ctx.job, &ctx.rank, now),
                comment: comment.clone(),
                comment_error: errors
                    .iter()
                    .find(|e| e.field == "comment")
                    .map(|e| e.message.clone()),
                errors,
                notice,
                mine: Vec::new(),
                queue: QueueLinks::around(&ctx.queue, id),
            },
        )
    };
    if !errors.is_empty() {
        return form_page(StatusCode::UNPROCESSABLE_ENTITY, errors, String::new());
    }
    match action {
        "edit" => form_page(StatusCode::OK, Vec::new(), String::new()),
        "draft" => {
            let draft = Draft {
                client_engagement: levels[0],
                search_difficulty: levels[1],
                time_open: levels[2],
                fee_size: levels[3],
                comment: (!comment.is_empty()).then(|| comment.clone()),
                updated_at: None,
            };
            let scorer = session.user.id.clone();
            state
                .store
                .write(move |tx| drafts::save_draft(tx, id, &scorer, &draft, now))
                .await
                .map_err(|e| WebError::from(e).not_saved("your draft was not saved"))?;
            Ok(Redirect::to(&format!("/jobs/{id}/score?saved=1")).into_response())
        }
        "review" | "submit" => {
            let values = levels.map(|l| i64::from(l.unwrap_or(0)));
            let scores = FactorScores::from_values(values)?;
            let overrides = s.overrides(&scores);
            if action == "review" {
                return render(&ConfirmPage {
                    chrome: Chrome::for_session(&session, "dashboard"),
                    factors: factor_views(levels, &s, &[], &job),
                    composite: composite(&scores, &ctx.current.settings.weights).to_string(),
                    job,
                    comment,
                    next: hint,
                });
            }
            let new = NewSubmission {
                job_id: id,
                scorer_id: session.user.id.clone(),
                scores,
                time_open_overridden: overrides.time_open,
                fee_size_overridden: overrides.fee_size,
                comment: (!comment.is_empty()).then_some(comment),
            };
            state
                .store
                .write(move |tx| commands::submit_score(tx, &new, now).map(|_| ()))
                .await
                .map_err(|e| WebError::from(e).not_saved("your score was not saved"))?;
            // The next job of the queue the form was opened from (wrapping round): the
            // submission changed only this job's place in it. The hint is checked with
            // two index seeks (still open, still needs my score); without a usable hint
            // the queue is read afresh.
            let viewer = session.user.id.clone();
            let cadence = ctx.current.settings.cadence_days;
            let cache = state.dashboard.clone();
            let after = state
                .store
                .read(move |c| {
                    if let Some(n) = hint {
                        let open = jobs::find_job(c, n)?.is_some_and(|j| j.is_open);
                        let mine = submissions::latest_for_job_and_scorer(c, n, &viewer)?;
                        if open && crate::domain::needs_score(mine, now, cadence) {
                            return Ok(Some(n));
                        }
                    }
                    Ok(next_in_queue(&queue(&cache, c, &viewer, now)?, id))
                })
                .await?;
            let to = match after {
                Some(next) => format!("/jobs/{next}/score"),
                None => format!("/?scored={id}"),
            };
            Ok(Redirect::to(&to).into_response())
        }
        other => Err(WebError::BadRequest(format!(
            "action must be draft, review, edit or submit, got {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_must_be_positive_numbers() {
        assert_eq!(job_id("4101").unwrap(), 4101);
        for bad in ["abc", "-3", "0", "1.5", ""] {
            assert!(matches!(job_id(bad), Err(WebError::BadRequest(_))), "{bad}");
        }
    }
}
