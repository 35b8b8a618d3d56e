//! `GET /api/jobs` (the open jobs, with the dashboard's filters and sort) and
//! `GET /api/jobs/{id}` (one job, open or closed, with its pipeline and each scorer's
//! latest scores).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{ApiUser, ScoresDue, display_name, score_number, view_and_due};
use crate::domain::{DashboardJob, composite, is_provisional, latest_per_scorer};
use crate::store::{
    self, StoreError, expired, jobs, pipeline, ranks, settings, submissions, users,
};
use crate::web::dashboard::DashboardParams;
use crate::web::jobs::job_id;
use crate::web::pages::Query;
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(list_jobs))
        .route("/api/jobs/{id}", get(job_detail))
}

#[derive(Serialize)]
struct JobList<'a> {
    jobs: Vec<JobSummary<'a>>,
}

/// An open job in the list.
#[derive(Serialize)]
struct JobSummary<'a> {
    id: i64,
    title: &'a str,
    client: &'a str,
    days_open: i64,
    rank: Option<&'static str>,
    team_score: Option<f64>,
    scorers_counted: u32,
    /// Ranked on fewer scorers than the `min_scorers` setting asks for: the rank
    /// counts but is provisional.
    provisional: bool,
    /// How many scorers' latest scores expired and no longer count.
    expired_scores: u32,
    last_scored_at: Option<String>,
    needs_score_from: Vec<String>,
    needs_my_score: bool,
    candidates: i64,
    fee_minor: Option<i64>,
    fee_currency: Option<&'a str>,
}

impl<'a> JobSummary<'a> {
    fn new(j: &'a DashboardJob, due: &ScoresDue) -> Self {
        let rank = j.rank.as_ref();
        JobSummary {
            id: j.id,
            title: &j.title,
            client: &j.client,
            days_open: j.days_open,
            rank: rank.map(|r| r.rank.as_str()),
            team_score: rank.and_then(|r| score_number(r.team)),
            scorers_counted: rank.map_or(0, |r| r.team.count()),
            provisional: j.freshness.is_provisional(),
            expired_scores: j.freshness.expired,
            last_scored_at: rank.map(|r| store::ts(&r.last_scored_at)),
            needs_score_from: due.needed_from(j.id),
            needs_my_score: j.needs_my_score,
            candidates: j.total_candidates(),
            fee_minor: j.fee.as_ref().map(|m| m.minor),
            fee_currency: j.fee.as_ref().and_then(|m| m.currency.as_deref()),
        }
    }
}

/// `GET /api/jobs`: the open jobs with the dashboard's filters and sort.
async fn list_jobs(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(params): Query<DashboardParams>,
) -> Result<Response> {
    let query = params.to_query()?;
    let now = store::now();
    let (view, due) = view_and_due(&state, user.id, now).await?;
    let jobs = query
        .select(view.jobs())
        .into_iter()
        .map(|j| JobSummary::new(j, &due))
        .collect();
    Ok(axum::Json(JobList { jobs }).into_response())
}

/// One job in full.
#[derive(Serialize)]
struct JobDetail {
    id: i64,
    title: String,
    client: String,
    status: String,
    is_open: bool,
    days_open: i64,
    rank: Option<&'static str>,
    team_score: Option<f64>,
    /// See [`JobSummary`]; never for a closed job, whose rank is the one it closed with.
    provisional: bool,
    expired_scores: Vec<ExpiredScore>,
    needs_score_from: Vec<String>,
    fee_minor: Option<i64>,
    fee_currency: Option<String>,
    pipeline: Vec<PipelineStage>,
    pipeline_taken_at: Option<String>,
    latest_scores: Vec<LatestScore>,
}

/// A scorer's latest score that expired and no longer counts.
#[derive(Serialize)]
struct ExpiredScore {
    scorer: String,
    submission_id: String,
    submitted_at: String,
    expired_at: String,
}

/// A stage of the job's latest pipeline snapshot.
#[derive(Serialize)]
struct PipelineStage {
    stage: String,
    candidates: i64,
    avg_days_in_stage: Option<f64>,
}

/// A scorer's latest submission on the job.
#[derive(Serialize)]
struct LatestScore {
    submission_id: String,
    scorer: String,
    submitted_at: String,
    client_engagement: u8,
    search_difficulty: u8,
    time_open: u8,
    fee_size: u8,
    /// Under the weights in force.
    composite: Option<f64>,
    comment: Option<String>,
}

/// `GET /api/jobs/{id}`: one job (open or closed) with its pipeline and each
/// scorer's latest scores, newest first.
async fn job_detail(
    State(state): State<AppState>,
    ApiUser(_user): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response> {
    let id = job_id(&raw)?;
    let now = store::now();
    let (job, rank, expired, snapshot, subs, all_users, due, current) = state
        .store
        .read(move |c| {
            let job =
                jobs::find_job(c, id)?.ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
            let current = settings::current_settings(c)?;
            Ok((
                job,
                ranks::find_job_rank(c, id)?,
                expired::list_for_job(c, id)?,
                pipeline::latest_snapshot(c, id)?,
                submissions::list_for_job(c, id)?,
                users::list_users(c)?,
                ScoresDue::read(c, current.settings.cadence_days, now)?,
                current,
            ))
        })
        .await?;
    let name_of = |scorer: &str| {
        all_users
            .iter()
            .find(|u| u.id == scorer)
            .map_or_else(|| "former user".into(), display_name)
    };
    let mut each_latest = latest_per_scorer(&subs);
    each_latest.sort_by(|a, b| (b.submitted_at, &b.id).cmp(&(a.submitted_at, &a.id)));
    let latest_scores = each_latest
        .into_iter()
        .map(|s| LatestScore {
            submission_id: s.id.clone(),
            scorer: name_of(&s.scorer_id),
            submitted_at: store::ts(&s.submitted_at),
            client_engagement: s.client_engagement,
            search_difficulty: s.search_difficulty,
            time_open: s.time_open,
            fee_size: s.fee_size,
            composite: s
                .scores()
                .ok()
                .and_then(|f| score_number(composite(&f, &current.settings.weights))),
            comment: s.comment.clone(),
        })
        .collect();
    let pipeline = snapshot.as_ref().map_or_else(Vec::new, |p| {
        p.stages
            .iter()
            .map(|s| PipelineStage {
                stage: s.stage.clone(),
                candidates: s.candidates,
                avg_days_in_stage: s.avg_days_in_stage,
            })
            .collect()
    });
    Ok(axum::Json(JobDetail {
        id: job.id,
        days_open: job.days_open(now),
        rank: rank.as_ref().map(|r| r.rank.as_str()),
        team_score: rank.as_ref().and_then(|r| score_number(r.team)),
        provisional: job.is_open
            && rank
                .as_ref()
                .is_some_and(|r| is_provisional(r.team.count(), &current.settings)),
        expired_scores: expired
            .into_iter()
            .map(|e| ExpiredScore {
                scorer: name_of(&e.scorer_id),
                submission_id: e.submission_id,
                submitted_at: store::ts(&e.submitted_at),
                expired_at: store::ts(&e.expired_at),
            })
            .collect(),
        needs_score_from: if job.is_open {
            due.needed_from(id)
        } else {
            Vec::new()
        },
        pipeline,
        pipeline_taken_at: snapshot.as_ref().map(|p| store::ts(&p.taken_at)),
        latest_scores,
        title: job.title,
        client: job.client,
        status: job.status,
        is_open: job.is_open,
        fee_minor: job.fee_minor,
        fee_currency: job.fee_currency,
    })
    .into_response())
}
