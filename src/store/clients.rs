//! The client page's read: jobs carry their client's name (Recruiterflow's), so a
//! client is the name shared by its jobs. Its engagement scores over time, its
//! placements and fees, and how many of its jobs are open or closed.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Result, col_ts, col_ts_opt, query_all, query_opt};
use crate::domain::Money;

/// A placement on one of the client's jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPlacement {
    pub job_id: i64,
    pub job_title: String,
    pub candidate: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub fee: Option<Money>,
}

/// What the store knows of one client.
#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    /// The name as its jobs spell it.
    pub name: String,
    pub open_jobs: i64,
    pub closed_jobs: i64,
    /// The client-engagement level of every submission on its jobs: (submitted at,
    /// level), oldest first.
    pub engagement: Vec<(DateTime<Utc>, u8)>,
    /// Latest first.
    pub placements: Vec<ClientPlacement>,
}

/// The client named `name` (letter case aside; the spelling of its jobs wins), or
/// `None` when no job has that client.
pub fn find_client(conn: &Connection, name: &str) -> Result<Option<Client>> {
    let tx = conn.unchecked_transaction()?;
    let Some((name, open_jobs, closed_jobs)) = query_opt(
        &tx,
        "SELECT client, SUM(is_open), SUM(1 - is_open) FROM jobs WHERE client = ?1 COLLATE NOCASE
         GROUP BY client ORDER BY client = ?1 DESC, COUNT(*) DESC, client LIMIT 1",
        [name],
        |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
    )?
    else {
        return Ok(None);
    };
    let engagement = query_all(
        &tx,
        "SELECT s.submitted_at, s.client_engagement FROM submissions s JOIN jobs j ON j.id = s.job_id
         WHERE j.client = ?1 ORDER BY s.submitted_at, s.id",
        [&name],
        |r| Ok((col_ts(r, 0)?, r.get(1)?)),
    )?;
    let placements = query_all(
        &tx,
        "SELECT p.job_id, j.title, p.candidate, p.placed_at, p.fee_minor, p.fee_currency
         FROM placements p JOIN jobs j ON j.id = p.job_id
         WHERE j.client = ?1 ORDER BY p.placed_at DESC, p.id DESC",
        [&name],
        |r| {
            Ok(ClientPlacement {
                job_id: r.get(0)?,
                job_title: r.get(1)?,
                candidate: r.get(2)?,
                placed_at: col_ts_opt(r, 3)?,
                fee: Money::from_parts(r.get(4)?, r.get::<_, Option<String>>(5)?.as_deref()),
            })
        },
    )?;
    tx.finish()?;
    Ok(Some(Client {
        name,
        open_jobs,
        closed_jobs,
        engagement,
        placements,
    }))
}
