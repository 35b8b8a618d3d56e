//! The job page `/jobs/{id}`: the job as Recruiterflow describes it (its description
//! sanitized, see [`super::description`]), its hiring team, its pipeline, each
//! scorer's latest scores and mine, and its team score over time.
//!
//! A job opened from the dashboard carries the dashboard's query string (`/jobs/4101?
//! rank=A&page=2`), so "← Dashboard" returns to the same filtered view; parameters
//! that do not make a valid view lead back to the plain dashboard.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::chart::{Chart, chart};
use super::description::{SanitizedHtml, sanitize};
use super::freshness::{FreshnessView, freshness_view};
use super::queue::queue;
use super::{JobView, ScoreRow, job_id, job_view, score_row};
use crate::domain::{QueueLinks, latest_per_scorer, needs_score, week_end, week_of};
use crate::store::jobs::{self, Job};
use crate::store::pipeline::{self, PipelineSnapshot};
use crate::store::submissions::{self, Submission};
use crate::store::{self, StoreError, ranks, recruiterflow_users, settings, skips, users};
use crate::web::auth::CurrentUser;
use crate::web::dashboard::{DashboardParams, stalled_text};
use crate::web::pages::{Chrome, Query, date, render};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/jobs/{id}", get(job_page))
}

/// A pipeline stage row.
pub struct StageRow {
    pub stage: String,
    pub candidates: i64,
    pub avg_days: String,
    /// The stage makes the pipeline stalled (marked only then, never a merely slowest
    /// stage).
    pub stalled: bool,
}

/// The stages of a pipeline, and why it is stalled in words (empty when it is not).
fn stage_rows(p: &Option<PipelineSnapshot>, stalled_after_days: u32) -> (Vec<StageRow>, String) {
    let Some(p) = p else {
        return (Vec::new(), String::new());
    };
    let stalled = p.stalled_stage(stalled_after_days);
    let rows = p
        .stages
        .iter()
        .map(|s| StageRow {
            stage: s.stage.clone(),
            candidates: s.candidates,
            avg_days: s
                .avg_days_in_stage
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "–".into()),
            stalled: stalled.is_some_and(|b| b.stage == s.stage),
        })
        .collect();
    (rows, stalled_text(stalled, stalled_after_days))
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
    /// Recruiterflow's description, sanitized.
    description: SanitizedHtml,
    /// The job's page in Recruiterflow, when `RECRUITERFLOW_JOB_URL` is set.
    recruiterflow_url: Option<String>,
    /// "← Dashboard": the dashboard view the job was opened from.
    back: String,
    hiring_team: Vec<TeamMemberView>,
    stages: Vec<StageRow>,
    /// Why the pipeline is stalled; empty when it is not.
    stalled: String,
    stalled_after_days: u32,
    pipeline_date: String,
    latest: Vec<ScoreRow>,
    mine: Vec<ScoreRow>,
    chart: Option<Chart>,
    can_score: bool,
    needs_me: bool,
    queue: QueueLinks,
    /// The viewer's reason for setting the job aside this week, and the Monday it
    /// comes back to their queue.
    my_skip: Option<(String, String)>,
    freshness: FreshnessView,
}

async fn job_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
    Query(from): Query<DashboardParams>,
) -> Result<Response> {
    let id = job_id(&raw)?;
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let recruiterflow_on = state.config.recruiterflow.api_key.is_some();
    let viewer_scores = session.user.scores;
    let page = state
        .store
        .read(move |c| {
            let job =
                jobs::find_job(c, id)?.ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
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
            let needs_me = needs_score(
                mine_subs.first().map(|s| s.submitted_at),
                now,
                current.settings.cadence_days,
            );
            let mine = mine_subs
                .into_iter()
                .map(|s| score_row(s, &names, &current))
                .collect();
            let freshness = freshness_view(c, &job, &rank, &current, &names)?;
            let history = ranks::history_for_job(c, id)?;
            let week = week_of(now);
            let my_skip =
                skips::find_skip(c, id, &viewer, week)?.map(|s| (s.reason, date(week_end(week))));
            // Only a scorer has a queue: anyone else would be sent to forms they may
            // not open.
            let q = if viewer_scores {
                queue(&cache, c, &viewer, now)?
            } else {
                Vec::new()
            };
            let stalled_after_days = current.settings.stalled_after_days;
            let (stages, stalled) = stage_rows(&snapshot, stalled_after_days);
            Ok(JobPage {
                chrome: Chrome::anonymous(),
                job: job_view(&job, &rank, now),
                description: sanitize(job.description_html.as_deref().unwrap_or_default()),
                recruiterflow_url: None,
                back: String::new(),
                hiring_team: team,
                pipeline_date: snapshot
                    .as_ref()
                    .map(|p| date(p.taken_at))
                    .unwrap_or_default(),
                stages,
                stalled,
                stalled_after_days,
                latest,
                mine,
                chart: chart(&history, &current),
                can_score: false,
                needs_me,
                queue: QueueLinks::around(&q, id),
                my_skip,
                freshness,
            })
        })
        .await?;
    let page = JobPage {
        chrome: Chrome::for_session(&session, "dashboard"),
        recruiterflow_url: state
            .config
            .recruiterflow
            .job_url
            .as_ref()
            .map(|u| u.for_job(id)),
        back: from.back_href(),
        can_score: session.user.scores && page.job.is_open,
        needs_me: session.user.scores && page.needs_me,
        ..page
    };
    render(&page)
}
