//! Commands that bring in rows other replicas wrote: a page of pulled rows, and the
//! rows reconciliation found missing here.

use std::collections::BTreeSet;

use super::Outcome;
use super::rerank::Reranker;
use crate::store::replicated::{self, Applied};
use crate::store::{Result, Tx};

/// Applies rows of one table pulled from Postgres (see [`replicated::apply_rows`]) and
/// recomputes the ranks they affect, in the same transaction, so a pull cut short never
/// leaves applied rows with stale ranks: the jobs of pulled jobs and submissions, or
/// every job when a user or a settings version arrived.
pub fn apply_pulled_rows(tx: &Tx<'_>, table: &str, rows: &[String]) -> Result<Outcome<Applied>> {
    let applied = replicated::apply_rows(tx, table, rows)?;
    let rank_changes = rerank_affected(tx, applied.all_jobs, &applied.jobs)?;
    Ok(Outcome {
        result: applied,
        rank_changes,
    })
}

/// Applies rows reconciliation found missing here, table by table in the given order
/// (parents first), then recomputes the ranks they affect once. Returns what each
/// table's rows did, in order.
pub fn apply_repairs(tx: &Tx<'_>, tables: &[(&str, Vec<String>)]) -> Result<Outcome<Vec<Applied>>> {
    let mut out = Vec::with_capacity(tables.len());
    let (mut all, mut jobs) = (false, BTreeSet::new());
    for (table, rows) in tables {
        let applied = replicated::apply_rows(tx, table, rows)?;
        all |= applied.all_jobs;
        jobs.extend(applied.jobs.iter().copied());
        out.push(applied);
    }
    let rank_changes = rerank_affected(tx, all, &jobs)?;
    Ok(Outcome {
        result: out,
        rank_changes,
    })
}

fn rerank_affected(tx: &Tx<'_>, all: bool, jobs: &BTreeSet<i64>) -> Result<Vec<super::RankChange>> {
    let Some(mut rerank) = Reranker::if_settings(tx)? else {
        return Ok(Vec::new());
    };
    if all {
        rerank.all(tx)?;
    } else {
        rerank.jobs(tx, jobs.iter().copied())?;
    }
    rerank.changes(tx)
}
