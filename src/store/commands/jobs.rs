//! Commands on jobs as Recruiterflow (or the demo) describes them: store one, close
//! one, close those no longer in the open list.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::store::jobs::{self, JobUpsert, Upserted};
use crate::store::{Result, Tx};

/// Stores a job as Recruiterflow describes it (see [`jobs::upsert_job`]) and
/// recomputes its rank.
pub fn upsert_job(tx: &Tx<'_>, j: &JobUpsert, at: DateTime<Utc>) -> Result<Outcome<Upserted>> {
    let upserted = jobs::upsert_job(tx, j, at)?;
    let mut rerank = Reranker::new(tx)?;
    rerank.job(tx, j.id)?;
    rerank.outcome(tx, upserted)
}

/// Marks a job closed (closed, archived, or gone from Recruiterflow); its scores and
/// history stay. A job that closes has its rank recomputed as it closes. Returns
/// whether it was open.
pub fn close_job(
    tx: &Tx<'_>,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Outcome<bool>> {
    let mut rerank = Reranker::new(tx)?;
    let closed = close(tx, &mut rerank, id, status, at)?;
    rerank.outcome(tx, closed)
}

/// Closes every open job whose id is not in `open_ids`; returns how many.
pub fn close_jobs_not_in(tx: &Tx<'_>, open_ids: &[i64], at: DateTime<Utc>) -> Result<Outcome<i64>> {
    let keep: HashSet<i64> = open_ids.iter().copied().collect();
    let mut rerank = Reranker::new(tx)?;
    let mut closed = 0;
    for id in jobs::list_open_job_ids(tx)? {
        if !keep.contains(&id) && close(tx, &mut rerank, id, None, at)? {
            closed += 1;
        }
    }
    rerank.outcome(tx, closed)
}

fn close(
    tx: &Tx<'_>,
    rerank: &mut Reranker,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let closed = jobs::close_job(tx, id, status, at)?;
    if closed {
        rerank.job(tx, id)?;
    }
    Ok(closed)
}
