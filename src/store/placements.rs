//! Placements: job outcomes from Recruiterflow placement records (a hire, its fee),
//! so the review page can compare a job's rank with what happened.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, Tx, col_ts, col_ts_opt, query_all, query_opt, ts};

/// A placement as Recruiterflow gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementUpsert {
    /// The Recruiterflow placement record id.
    pub id: i64,
    pub job_id: i64,
    /// The placed candidate's name.
    pub candidate: Option<String>,
    /// When the placement counts as made (the start date, else the billing date).
    pub placed_at: Option<DateTime<Utc>>,
    /// Fee in minor units.
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
}

/// A stored placement.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Placement {
    pub id: i64,
    pub job_id: i64,
    pub candidate: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub synced_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, job_id, candidate, placed_at, fee_minor, fee_currency, synced_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Placement> {
    Ok(Placement {
        id: r.get(0)?,
        job_id: r.get(1)?,
        candidate: r.get(2)?,
        placed_at: col_ts_opt(r, 3)?,
        fee_minor: r.get(4)?,
        fee_currency: r.get(5)?,
        synced_at: col_ts(r, 6)?,
    })
}

/// Stores a placement; returns whether it was new or changed.
pub fn upsert_placement(tx: &Tx<'_>, p: &PlacementUpsert, at: DateTime<Utc>) -> Result<bool> {
    let old = find_placement(tx, p.id)?;
    let same = old.as_ref().is_some_and(|o| {
        o.job_id == p.job_id
            && o.candidate == p.candidate
            && o.placed_at == p.placed_at
            && o.fee_minor == p.fee_minor
            && o.fee_currency == p.fee_currency
    });
    tx.prepare_cached(
        "INSERT INTO placements (id, job_id, candidate, placed_at, fee_minor, fee_currency, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET job_id = excluded.job_id, candidate = excluded.candidate,
           placed_at = excluded.placed_at, fee_minor = excluded.fee_minor,
           fee_currency = excluded.fee_currency, synced_at = excluded.synced_at",
    )?
    .execute(rusqlite::params![
        p.id,
        p.job_id,
        p.candidate,
        p.placed_at.as_ref().map(ts),
        p.fee_minor,
        p.fee_currency,
        ts(&at)
    ])?;
    Ok(!same)
}

/// One placement by its Recruiterflow id.
pub fn find_placement(conn: &Connection, id: i64) -> Result<Option<Placement>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM placements WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// A job's placements, earliest first.
pub fn list_job_placements(conn: &Connection, job_id: i64) -> Result<Vec<Placement>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM placements WHERE job_id = ?1 ORDER BY placed_at, id"),
        [job_id],
        from_row,
    )
}

/// How many placements are stored.
pub fn count_placements(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM placements", [], |r| r.get(0))?)
}
