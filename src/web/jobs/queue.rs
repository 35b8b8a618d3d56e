//! The scoring queue as the job pages use it: the jobs that need the viewer's score in
//! dashboard order (for the previous/next links), where to go after submitting, and
//! `/queue`, which leads to the next job to score or says "All caught up".

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use crate::domain::{needs_score, next_in_queue, scoring_queue, week_end, week_of, week_start};
use crate::store::dashboard::{self, DashboardCache};
use crate::store::{self, jobs, settings, skips, submissions};
use crate::web::auth::RequireScorer;
use crate::web::pages::{Chrome, date, render};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/queue", get(queue_page))
}

/// The jobs that need the viewer's score, in dashboard (rank) order.
pub fn queue(
    cache: &DashboardCache,
    conn: &rusqlite::Connection,
    viewer: &str,
    now: DateTime<Utc>,
) -> store::Result<Vec<i64>> {
    Ok(scoring_queue(cache.view(conn, viewer, now)?.jobs()))
}

/// The job to score after `scored` (submitted or skipped): the next job of the queue
/// the form was opened from (wrapping round), which the form carried as `hint`, since
/// the submission changed only this job's place in it. The hint is checked with three
/// index seeks (still open, still needs my score, not skipped this week); without a
/// usable hint the queue is read afresh. `None` when nothing is left to score.
///
/// Runs inside the submission's write transaction, so the answer can be recorded with
/// the form's one-time key: the fallback reads the store itself, never the dashboard's
/// in-memory copy, which must not take in a change before it is committed.
pub fn next_after_submit(
    conn: &rusqlite::Connection,
    viewer: &str,
    scored: i64,
    hint: Option<i64>,
    cadence: u32,
    now: DateTime<Utc>,
) -> store::Result<Option<i64>> {
    if let Some(n) = hint {
        let open = jobs::find_job(conn, n)?.is_some_and(|j| j.is_open);
        if open
            && needs_score(
                submissions::latest_for_job_and_scorer(conn, n, viewer)?,
                now,
                cadence,
            )
            && !skips::is_skipped(conn, n, viewer, week_of(now))?
        {
            return Ok(Some(n));
        }
    }
    let jobs = dashboard::dashboard_jobs(conn, viewer, now)?;
    Ok(next_in_queue(&scoring_queue(&jobs), scored))
}

/// A job set aside this week, as the caught-up page lists it.
pub struct SkippedRow {
    pub id: i64,
    pub title: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "caught_up.html")]
struct CaughtUpPage {
    chrome: Chrome,
    scored: usize,
    week: String,
    next_week: String,
    cadence: u32,
    skipped: Vec<SkippedRow>,
}

/// `/queue`: the first job that needs my score, or, when none does, "All caught up"
/// with how many jobs I scored this week and the ones I set aside.
async fn queue_page(
    State(state): State<AppState>,
    RequireScorer(session): RequireScorer,
) -> Result<Response> {
    let viewer = session.user.id.clone();
    let now = store::now();
    let cache = state.dashboard.clone();
    let week = week_of(now);
    let read = state
        .store
        .read(move |c| {
            let q = queue(&cache, c, &viewer, now)?;
            if let Some(first) = q.first() {
                return Ok(Err(*first));
            }
            let scored = submissions::count_jobs_scored_since(c, &viewer, week_start(week))?;
            let mut skipped = Vec::new();
            for s in skips::list_for_scorer_week(c, &viewer, week)? {
                if let Some(job) = jobs::find_job(c, s.job_id)? {
                    skipped.push(SkippedRow {
                        id: job.id,
                        title: job.title,
                        reason: s.reason,
                    });
                }
            }
            let cadence = settings::current_settings(c)?.settings.cadence_days;
            Ok(Ok((scored, skipped, cadence)))
        })
        .await?;
    match read {
        Err(first) => Ok(Redirect::to(&format!("/jobs/{first}/score")).into_response()),
        Ok((scored, skipped, cadence)) => render(&CaughtUpPage {
            chrome: Chrome::for_session(&session, "dashboard"),
            scored,
            week: date(week_start(week)),
            next_week: date(week_end(week)),
            cadence,
            skipped,
        }),
    }
}
