//! `GET /api/dashboard`: open jobs per rank, how many jobs need each scorer's score,
//! and how fresh the data is.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{ApiUser, display_name, view_and_due};
use crate::store;
use crate::store::sync_runs::SyncRun;
use crate::web::dashboard::freshness_view;
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/dashboard", get(dashboard_summary))
}

#[derive(Serialize)]
struct Summary<'a> {
    open_jobs: usize,
    /// Open jobs per rank ("A", "B", "C"; each present, 0 when none).
    ranks: BTreeMap<&'static str, i64>,
    /// Open jobs no scorer has scored yet.
    unscored: i64,
    needs_scores: Vec<ScorerDue<'a>>,
    freshness: Freshness<'a>,
}

/// How many open jobs need one scorer's score.
#[derive(Serialize)]
struct ScorerDue<'a> {
    name: String,
    email: &'a str,
    jobs_needing_score: usize,
}

/// The dashboard strip's indicators, in words and as states.
#[derive(Serialize)]
struct Freshness<'a> {
    recruiterflow: String,
    recruiterflow_state: &'static str,
    recruiterflow_latest_run: Option<Run<'a>>,
    recruiterflow_last_ok_run: Option<Run<'a>>,
    replication: String,
    replication_state: &'static str,
    outbox_pending: i64,
    outbox_dead: i64,
    last_push: Option<String>,
}

/// A Recruiterflow sync run.
#[derive(Serialize)]
struct Run<'a> {
    status: &'a str,
    started_at: String,
    finished_at: Option<String>,
}

impl<'a> Run<'a> {
    fn new(r: &'a SyncRun) -> Self {
        Run {
            status: &r.status,
            started_at: store::ts(&r.started_at),
            finished_at: r.finished_at.as_ref().map(store::ts),
        }
    }
}

/// `GET /api/dashboard`: open jobs per rank, how many jobs need each scorer's score,
/// and how fresh the data is.
async fn dashboard_summary(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Response> {
    let now = store::now();
    let (view, due) = view_and_due(&state, user.id, now).await?;
    let jobs = view.jobs();
    let fresh = view.freshness();
    let mut ranks: BTreeMap<&str, i64> = [("A", 0), ("B", 0), ("C", 0)].into_iter().collect();
    let mut unscored = 0;
    for j in jobs {
        match &j.rank {
            Some(r) => *ranks.entry(r.rank.as_str()).or_default() += 1,
            None => unscored += 1,
        }
    }
    let needs_scores = due
        .scorers
        .iter()
        .map(|u| ScorerDue {
            name: display_name(u),
            email: &u.email,
            jobs_needing_score: jobs.iter().filter(|j| due.needs(j.id, u)).count(),
        })
        .collect();
    let strip = freshness_view(fresh, &state.config, now);
    Ok(axum::Json(Summary {
        open_jobs: jobs.len(),
        ranks,
        unscored,
        needs_scores,
        freshness: Freshness {
            recruiterflow: strip.sync_text,
            recruiterflow_state: strip.sync_class,
            recruiterflow_latest_run: fresh.recruiterflow_latest.as_ref().map(Run::new),
            recruiterflow_last_ok_run: fresh.recruiterflow_ok.as_ref().map(Run::new),
            replication: strip.replication_text,
            replication_state: strip.replication_class,
            outbox_pending: fresh.outbox_pending,
            outbox_dead: fresh.outbox_dead,
            last_push: fresh.last_push.as_ref().map(store::ts),
        },
    })
    .into_response())
}
