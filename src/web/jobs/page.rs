//! The job page `/jobs/{id}`: the job as Recruiterflow describes it, its hiring team,
//! its pipeline, each scorer's latest scores and mine, and its team score over time.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::chart::{Chart, chart};
use super::freshness::{FreshnessView, freshness_view};
use super::queue::queue;
use super::{JobView, ScoreRow, job_id, job_view, score_row};
use crate::domain::{QueueLinks, latest_per_scorer, needs_score};
use crate::store::jobs::{self, Job};
use crate::store::pipeline::{self, PipelineSnapshot};
use crate::store::submissions::{self, Submission};
use crate::store::{self, StoreError, ranks, recruiterflow_users, settings, users};
use crate::web::auth::CurrentUser;
use crate::web::pages::{Chrome, date, render};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/jobs/{id}", get(job_page))
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
    freshness: FreshnessView,
}

async fn job_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(raw): Path<String>,
) -> Result<Response> {
    let id = job_id(&raw)?;
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let recruiterflow_on = state.config.recruiterflow.api_key.is_some();
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
                freshness,
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
