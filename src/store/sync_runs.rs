//! The log of sync runs: Recruiterflow polls, Supabase pushes and pulls, reconciliations.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, Tx, col_ts, col_ts_opt, query_all, query_opt, ts};

/// One run, as logged.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub kind: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub jobs_seen: i64,
    pub jobs_changed: i64,
    pub jobs_closed: i64,
    pub errors: i64,
    pub message: Option<String>,
    pub report: Option<String>,
}

/// What a run found, recorded when it finishes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunTotals {
    pub jobs_seen: i64,
    pub jobs_changed: i64,
    pub jobs_closed: i64,
    pub errors: i64,
    pub message: Option<String>,
    pub report: Option<String>,
}

const COLUMNS: &str = "id, kind, started_at, finished_at, status, jobs_seen, jobs_changed, jobs_closed, errors, message, report";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SyncRun> {
    Ok(SyncRun {
        id: r.get(0)?,
        kind: r.get(1)?,
        started_at: col_ts(r, 2)?,
        finished_at: col_ts_opt(r, 3)?,
        status: r.get(4)?,
        jobs_seen: r.get(5)?,
        jobs_changed: r.get(6)?,
        jobs_closed: r.get(7)?,
        errors: r.get(8)?,
        message: r.get(9)?,
        report: r.get(10)?,
    })
}

pub fn start_run(tx: &Tx<'_>, kind: &str, at: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO sync_runs (kind, started_at, status) VALUES (?1, ?2, 'running')",
        (kind, ts(&at)),
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn finish_run(
    tx: &Tx<'_>,
    id: i64,
    ok: bool,
    totals: &RunTotals,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE sync_runs SET finished_at = ?2, status = ?3, jobs_seen = ?4, jobs_changed = ?5,
           jobs_closed = ?6, errors = ?7, message = ?8, report = ?9 WHERE id = ?1",
        rusqlite::params![
            id,
            ts(&at),
            if ok { "ok" } else { "failed" },
            totals.jobs_seen,
            totals.jobs_changed,
            totals.jobs_closed,
            totals.errors,
            totals.message,
            totals.report
        ],
    )?;
    Ok(())
}

/// The latest run of a kind.
pub fn latest_run(conn: &Connection, kind: &str) -> Result<Option<SyncRun>> {
    query_opt(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM sync_runs WHERE kind = ?1 ORDER BY started_at DESC, id DESC LIMIT 1"
        ),
        [kind],
        from_row,
    )
}

/// The latest finished run of a kind (ok or failed), ignoring one still running.
pub fn latest_finished_run(conn: &Connection, kind: &str) -> Result<Option<SyncRun>> {
    query_opt(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM sync_runs WHERE kind = ?1 AND status <> 'running' ORDER BY started_at DESC, id DESC LIMIT 1"
        ),
        [kind],
        from_row,
    )
}

/// The latest successful run of a kind.
pub fn latest_ok_run(conn: &Connection, kind: &str) -> Result<Option<SyncRun>> {
    query_opt(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM sync_runs WHERE kind = ?1 AND status = 'ok' ORDER BY started_at DESC, id DESC LIMIT 1"
        ),
        [kind],
        from_row,
    )
}

/// The most recent runs of every kind.
pub fn recent_runs(conn: &Connection, limit: i64) -> Result<Vec<SyncRun>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM sync_runs ORDER BY id DESC LIMIT ?1"),
        [limit],
        from_row,
    )
}

/// Marks runs of a kind still `running` as failed with `message`: they were cut short
/// by a stop or crash. Called at start-up, before any new run of that kind. Returns how
/// many there were.
pub fn fail_unfinished_runs(
    tx: &Tx<'_>,
    kind: &str,
    message: &str,
    at: DateTime<Utc>,
) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE sync_runs SET status = 'failed', finished_at = ?2, errors = errors + 1, message = ?3
         WHERE kind = ?1 AND status = 'running'",
        (kind, ts(&at), message),
    )?)
}
