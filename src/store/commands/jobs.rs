//! Commands on jobs as Recruiterflow (or the demo) describes them: store one, close
//! one, close those no longer in the open list. A job that closes ranks for the last
//! time as it closes and keeps that rank on its row; a reopened job is ranked afresh.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::store::jobs::{self, JobUpsert, Upserted};
use crate::store::{Result, Tx};

/// Stores a job as Recruiterflow describes it (see [`jobs::upsert_job`]) and
/// recomputes its rank: a job this closes keeps the rank it has at `at`, a job it
/// reopens is ranked afresh under the current settings.
pub fn upsert_job(tx: &Tx<'_>, j: &JobUpsert, at: DateTime<Utc>) -> Result<Outcome<Upserted>> {
    let mut rerank = Reranker::new(tx, at)?;
    let existing = jobs::find_job(tx, j.id)?;
    let at_close = if jobs::upsert_closes(existing.as_ref(), j) && existing.is_some() {
        rerank.closing(tx, j.id, at)?
    } else {
        None
    };
    let upserted = jobs::upsert_job(tx, j, at, at_close.as_ref())?;
    rerank.job(tx, j.id)?;
    rerank.outcome(tx, upserted)
}

/// Marks a job closed (closed, archived, or gone from Recruiterflow); its scores and
/// history stay, and it keeps the rank it has as it closes. Returns whether it was
/// open.
pub fn close_job(
    tx: &Tx<'_>,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Outcome<bool>> {
    let mut rerank = Reranker::new(tx, at)?;
    let closed = close(tx, &mut rerank, id, status, at)?;
    rerank.outcome(tx, closed)
}

/// Closes every open job whose id is not in `open_ids`; returns how many.
pub fn close_jobs_not_in(tx: &Tx<'_>, open_ids: &[i64], at: DateTime<Utc>) -> Result<Outcome<i64>> {
    let keep: HashSet<i64> = open_ids.iter().copied().collect();
    let mut rerank = Reranker::new(tx, at)?;
    let mut closed = 0;
    for id in jobs::list_open_job_ids(tx)? {
        if !keep.contains(&id) && close(tx, &mut rerank, id, None, at)? {
            closed += 1;
        }
    }
    rerank.outcome(tx, closed)
}

/// Closes one open job at `at` with the rank it has then; whether it was open.
pub(super) fn close(
    tx: &Tx<'_>,
    rerank: &mut Reranker,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool> {
    if !jobs::find_job(tx, id)?.is_some_and(|j| j.is_open) {
        return Ok(false);
    }
    let at_close = rerank.closing(tx, id, at)?;
    jobs::close_job(tx, id, status, at, at_close.as_ref())
}
