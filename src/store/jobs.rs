//! Jobs, keyed by the Recruiterflow job id. Recruiterflow is their source of truth:
//! jobrank stores what it says and never edits a job itself.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, Tx, col_ts, col_ts_opt, outbox, query_all, query_opt, ts};

/// A job as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub status: String,
    pub is_open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    /// Expected fee in minor units (pence, cents).
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub hiring_team: Vec<String>,
    /// HTML written in Recruiterflow: untrusted, never rendered unescaped.
    pub description_html: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Job {
    /// When the job counts as opened: Recruiterflow's last (re)open, else first seen.
    pub fn opened(&self) -> DateTime<Utc> {
        self.opened_at.unwrap_or(self.first_seen_at)
    }

    /// Whole days open as of `now`.
    pub fn days_open(&self, now: DateTime<Utc>) -> i64 {
        crate::domain::days_between(self.opened(), now)
    }
}

/// A job's details as Recruiterflow (or the demo) gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct JobUpsert {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub status: String,
    pub is_open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub hiring_team: Vec<String>,
    pub description_html: Option<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Changed,
    Unchanged,
}

pub(crate) const COLUMNS: &str = "id, title, client, status, is_open, opened_at, fee_minor, fee_currency, hiring_team, \
    description_html, first_seen_at, last_synced_at, closed_at, updated_at";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let team: String = r.get(8)?;
    Ok(Job {
        id: r.get(0)?,
        title: r.get(1)?,
        client: r.get(2)?,
        status: r.get(3)?,
        is_open: r.get(4)?,
        opened_at: col_ts_opt(r, 5)?,
        fee_minor: r.get(6)?,
        fee_currency: r.get(7)?,
        hiring_team: serde_json::from_str(&team).unwrap_or_default(),
        description_html: r.get(9)?,
        first_seen_at: col_ts(r, 10)?,
        last_synced_at: col_ts_opt(r, 11)?,
        closed_at: col_ts_opt(r, 12)?,
        updated_at: col_ts(r, 13)?,
    })
}

pub fn find_job(conn: &Connection, id: i64) -> Result<Option<Job>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// Every open job, by client and title.
pub fn list_open_jobs(conn: &Connection) -> Result<Vec<Job>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM jobs WHERE is_open = 1 ORDER BY client, title, id"),
        [],
        from_row,
    )
}

pub fn count_jobs(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))?)
}

/// Stores a job as Recruiterflow describes it. A change bumps its version and is queued
/// for replication; an unchanged job only records the sync time. The store command
/// `commands::upsert_job` calls this and recomputes the job's rank.
pub(in crate::store) fn upsert_job(
    tx: &Tx<'_>,
    j: &JobUpsert,
    at: DateTime<Utc>,
) -> Result<Upserted> {
    let team = serde_json::to_string(&j.hiring_team).unwrap_or_else(|_| "[]".into());
    let existing = find_job(tx, j.id)?;
    let outcome = match &existing {
        None => {
            tx.execute(
                "INSERT INTO jobs (id, title, client, status, is_open, opened_at, fee_minor, fee_currency, hiring_team,
                   description_html, first_seen_at, last_synced_at, closed_at, updated_at, version, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?11, 1, ?13)",
                rusqlite::params![
                    j.id,
                    j.title,
                    j.client,
                    j.status,
                    j.is_open,
                    j.opened_at.as_ref().map(ts),
                    j.fee_minor,
                    j.fee_currency,
                    team,
                    j.description_html,
                    ts(&at),
                    (!j.is_open).then(|| ts(&at)),
                    tx.origin()
                ],
            )?;
            Upserted::Inserted
        }
        Some(old) => {
            let same = old.title == j.title
                && old.client == j.client
                && old.status == j.status
                && old.is_open == j.is_open
                && old.opened_at == j.opened_at
                && old.fee_minor == j.fee_minor
                && old.fee_currency == j.fee_currency
                && old.hiring_team == j.hiring_team
                && old.description_html == j.description_html;
            if same {
                tx.execute(
                    "UPDATE jobs SET last_synced_at = ?2 WHERE id = ?1",
                    (j.id, ts(&at)),
                )?;
                return Ok(Upserted::Unchanged);
            }
            let closed_at = match (old.is_open, j.is_open) {
                (true, false) => Some(ts(&at)),
                (_, true) => None,
                (false, false) => old.closed_at.as_ref().map(ts),
            };
            tx.execute(
                "UPDATE jobs SET title = ?2, client = ?3, status = ?4, is_open = ?5, opened_at = ?6, fee_minor = ?7,
                   fee_currency = ?8, hiring_team = ?9, description_html = ?10, last_synced_at = ?11, closed_at = ?12,
                   updated_at = ?11, version = version + 1, origin = ?13
                 WHERE id = ?1",
                rusqlite::params![
                    j.id,
                    j.title,
                    j.client,
                    j.status,
                    j.is_open,
                    j.opened_at.as_ref().map(ts),
                    j.fee_minor,
                    j.fee_currency,
                    team,
                    j.description_html,
                    ts(&at),
                    closed_at,
                    tx.origin()
                ],
            )?;
            Upserted::Changed
        }
    };
    outbox::enqueue(tx, "jobs", &j.id.to_string())?;
    Ok(outcome)
}

/// Marks a job closed (closed, archived, or gone from Recruiterflow's open list). Its
/// scores and history stay. Returns whether it was open. Closing is the store command
/// `commands::close_job`.
pub(in crate::store) fn close_job(
    tx: &Tx<'_>,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE jobs SET is_open = 0, status = COALESCE(?2, status), closed_at = ?3, updated_at = ?3,
           version = version + 1, origin = ?4
         WHERE id = ?1 AND is_open = 1",
        rusqlite::params![id, status, ts(&at), tx.origin()],
    )?;
    if n > 0 {
        outbox::enqueue(tx, "jobs", &id.to_string())?;
    }
    Ok(n > 0)
}

/// Ids of the open jobs.
pub fn list_open_job_ids(conn: &Connection) -> Result<Vec<i64>> {
    let ids = conn
        .prepare_cached("SELECT id FROM jobs WHERE is_open = 1 ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Ids of every job, open or closed.
pub fn list_job_ids(conn: &Connection) -> Result<Vec<i64>> {
    let ids = conn
        .prepare_cached("SELECT id FROM jobs ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Ids of jobs synced after `since` (by a webhook while a full sync was reading):
/// a full sync neither overwrites nor closes them with its older view.
pub fn list_jobs_synced_since(conn: &Connection, since: DateTime<Utc>) -> Result<Vec<i64>> {
    query_all(
        conn,
        "SELECT id FROM jobs WHERE last_synced_at > ?1",
        [ts(&since)],
        |r| r.get(0),
    )
}
