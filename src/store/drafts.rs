//! Drafts: one per job and scorer, saved while scoring and restored later. Local only.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{Result, Tx, col_ts, ts};

/// A scorer's unfinished scores for a job; any factor may still be empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    pub client_engagement: Option<u8>,
    pub search_difficulty: Option<u8>,
    pub time_open: Option<u8>,
    pub fee_size: Option<u8>,
    pub comment: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn save_draft(
    tx: &Tx<'_>,
    job_id: i64,
    scorer_id: &str,
    d: &Draft,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO drafts (job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size, comment, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (job_id, scorer_id) DO UPDATE SET client_engagement = excluded.client_engagement,
           search_difficulty = excluded.search_difficulty, time_open = excluded.time_open,
           fee_size = excluded.fee_size, comment = excluded.comment, updated_at = excluded.updated_at",
        rusqlite::params![job_id, scorer_id, d.client_engagement, d.search_difficulty, d.time_open, d.fee_size, d.comment, ts(&at)],
    )?;
    Ok(())
}

pub fn find_draft(conn: &Connection, job_id: i64, scorer_id: &str) -> Result<Option<Draft>> {
    Ok(conn
        .prepare_cached(
            "SELECT client_engagement, search_difficulty, time_open, fee_size, comment, updated_at
             FROM drafts WHERE job_id = ?1 AND scorer_id = ?2",
        )?
        .query_row((job_id, scorer_id), |r| {
            Ok(Draft {
                client_engagement: r.get(0)?,
                search_difficulty: r.get(1)?,
                time_open: r.get(2)?,
                fee_size: r.get(3)?,
                comment: r.get(4)?,
                updated_at: Some(col_ts(r, 5)?),
            })
        })
        .optional()?)
}

pub fn delete_draft(tx: &Tx<'_>, job_id: i64, scorer_id: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM drafts WHERE job_id = ?1 AND scorer_id = ?2",
        (job_id, scorer_id),
    )?;
    Ok(())
}
