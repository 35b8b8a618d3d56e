//! The admin page's view of the Recruiterflow webhook inbox: counts per status, the
//! dead letters, and putting a dead letter back in the queue.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Result, StoreError, Tx, col_ts, ts};

/// A dead letter: an event that failed every attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: i64,
    pub event_type: String,
    pub job_id: Option<i64>,
    pub received_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// How many events are in each status, by status.
pub fn count_by_status(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, COUNT(*) FROM webhook_inbox GROUP BY status ORDER BY status",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Dead letters, newest first.
pub fn list_dead(conn: &Connection, limit: i64) -> Result<Vec<DeadLetter>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_type, job_id, received_at, attempts, last_error FROM webhook_inbox
         WHERE status = 'dead' ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok(DeadLetter {
                id: r.get(0)?,
                event_type: r.get(1)?,
                job_id: r.get(2)?,
                received_at: col_ts(r, 3)?,
                attempts: r.get(4)?,
                last_error: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Puts a dead letter back in the queue for an immediate new round of attempts.
pub fn retry_dead(tx: &Tx<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    let n = tx.execute(
        "UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = ?2
         WHERE id = ?1 AND status = 'dead'",
        (id, ts(&at)),
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("dead webhook event {id}")));
    }
    Ok(())
}
