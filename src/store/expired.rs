//! Expired scores (`expired_scores`, local): each job's scorers whose latest score no
//! longer counts toward its team score under the score expiry rule, as of the job's
//! latest rank computation. Written only by the store commands' recomputation, beside
//! the rank it explains; read by the dashboard and the job page.

use std::collections::HashMap;

use rusqlite::Connection;

use super::{Result, Tx, col_ts, query_all, ts};
use crate::domain::ExpiredScore;

/// Replaces a job's expired scores with `expired` (none: the table holds nothing for it).
pub(in crate::store) fn replace_for_job(
    tx: &Tx<'_>,
    job_id: i64,
    expired: &[ExpiredScore],
) -> Result<()> {
    tx.prepare_cached("DELETE FROM expired_scores WHERE job_id = ?1")?
        .execute([job_id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO expired_scores (job_id, submission_id, scorer_id, submitted_at, expired_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in expired {
        insert.execute(rusqlite::params![
            job_id,
            e.submission_id,
            e.scorer_id,
            ts(&e.submitted_at),
            ts(&e.expired_at)
        ])?;
    }
    Ok(())
}

/// A job's expired scores, those that expired first first.
pub fn list_for_job(conn: &Connection, job_id: i64) -> Result<Vec<ExpiredScore>> {
    query_all(
        conn,
        "SELECT scorer_id, submission_id, submitted_at, expired_at FROM expired_scores
         WHERE job_id = ?1 ORDER BY expired_at, scorer_id",
        [job_id],
        |r| {
            Ok(ExpiredScore {
                scorer_id: r.get(0)?,
                submission_id: r.get(1)?,
                submitted_at: col_ts(r, 2)?,
                expired_at: col_ts(r, 3)?,
            })
        },
    )
}

/// Whose scores expired on each open job, by name, in the order they expired (jobs
/// with none are left out).
pub fn scorers_on_open_jobs(conn: &Connection) -> Result<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = query_all(
        conn,
        "SELECT e.job_id, COALESCE(u.name, 'a former user') FROM expired_scores e
         JOIN jobs j ON j.id = e.job_id LEFT JOIN users u ON u.id = e.scorer_id
         WHERE j.is_open = 1 ORDER BY e.job_id, e.expired_at, e.scorer_id",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut by_job: HashMap<i64, Vec<String>> = HashMap::new();
    for (job_id, name) in rows {
        by_job.entry(job_id).or_default().push(name);
    }
    Ok(by_job)
}
