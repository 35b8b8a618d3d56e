//! The scoring queue as the job pages use it: the jobs that need the viewer's score in
//! dashboard order (for the previous/next links), and where to go after submitting.

use chrono::{DateTime, Utc};

use crate::domain::{needs_score, next_in_queue, scoring_queue};
use crate::store::dashboard::DashboardCache;
use crate::store::{self, jobs, submissions};
use crate::web::{AppState, Result};

/// The jobs that need the viewer's score, in dashboard (rank) order.
pub fn queue(
    cache: &DashboardCache,
    conn: &rusqlite::Connection,
    viewer: &str,
    now: DateTime<Utc>,
) -> store::Result<Vec<i64>> {
    Ok(scoring_queue(cache.view(conn, viewer, now)?.jobs()))
}

/// The job to score after submitting `scored`: the next job of the queue the form was
/// opened from (wrapping round), which the form carried as `hint`, since the
/// submission changed only this job's place in it. The hint is checked with two index
/// seeks (still open, still needs my score); without a usable hint the queue is read
/// afresh. `None` when nothing is left to score.
pub async fn next_after_submit(
    state: &AppState,
    viewer: String,
    scored: i64,
    hint: Option<i64>,
    cadence: u32,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let cache = state.dashboard.clone();
    let next = state
        .store
        .read(move |c| {
            if let Some(n) = hint {
                let open = jobs::find_job(c, n)?.is_some_and(|j| j.is_open);
                let mine = submissions::latest_for_job_and_scorer(c, n, &viewer)?;
                if open && needs_score(mine, now, cadence) {
                    return Ok(Some(n));
                }
            }
            Ok(next_in_queue(&queue(&cache, c, &viewer, now)?, scored))
        })
        .await?;
    Ok(next)
}
