//! The alerts' state in the store: the kinds of alert, the events waiting for a batch
//! (a drop to C recorded by the store commands in the transaction of the rank change,
//! [`record_rank_drops`]; new unscored jobs and newly stalled pipelines recorded by the
//! periodic check), the batches that took them, whether this replica sends alerts, and
//! the jobs the periodic check already alerted (`alert_watch`), so it alerts each once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::bad;
use crate::domain::{Rank, RankChange, Settings, is_provisional};
use crate::store::{Result, StoreError, Tx, col_ts, col_ts_opt, jobs, query_all, ts};
/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// An open job's rank fell to C from A or B.
    DroppedToC,
    /// A job open for 2 days or more that nobody has scored.
    Unscored,
    /// A job's pipeline became stalled.
    Stalled,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DroppedToC => "dropped_to_c",
            AlertKind::Unscored => "unscored",
            AlertKind::Stalled => "stalled",
        }
    }

    fn parse(s: &str) -> Option<AlertKind> {
        match s {
            "dropped_to_c" => Some(AlertKind::DroppedToC),
            "unscored" => Some(AlertKind::Unscored),
            "stalled" => Some(AlertKind::Stalled),
            _ => None,
        }
    }
}

/// One thing to alert about, waiting for a batch or in one.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    pub id: i64,
    pub kind: AlertKind,
    pub job_id: i64,
    /// By kind: `{"from": "B", "score": 2.75}`, `{"days_open": 3}`, `{"stage": ...,
    /// "avg_days": 21.5}`.
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Whether this replica sends alerts (the store commands record rank drops only then).
pub fn alerts_on(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT alerts_on FROM notify_state WHERE singleton = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Records whether this replica sends alerts (at start, from the configuration).
/// Switched off, the events waiting for a batch are dropped: nobody would send them.
pub fn set_alerts_on(tx: &Tx<'_>, on: bool) -> Result<()> {
    tx.prepare_cached("UPDATE notify_state SET alerts_on = ?1 WHERE singleton = 1")?
        .execute([on])?;
    if !on {
        tx.prepare_cached("DELETE FROM alert_events WHERE batch_id IS NULL")?
            .execute([])?;
    }
    Ok(())
}

/// Records an alert event, waiting for the next batch.
pub fn insert_alert_event(
    tx: &Tx<'_>,
    kind: AlertKind,
    job_id: i64,
    detail: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO alert_events (kind, job_id, detail, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute((kind.as_str(), job_id, detail.to_string(), ts(&at)))?;
    Ok(tx.last_insert_rowid())
}

/// Records an alert event for each open job a command's rank changes took from A or B
/// down to C, unless the job is provisional under `settings` (fewer scorers than
/// `min_scorers`: `domain::is_provisional`) or this replica sends no alerts. Called by
/// the store commands in the transaction of the change, so a drop is never lost.
pub fn record_rank_drops(
    tx: &Tx<'_>,
    changes: &[RankChange],
    settings: &Settings,
    at: DateTime<Utc>,
) -> Result<usize> {
    let drops: Vec<_> = changes
        .iter()
        .filter_map(|c| match (c.old, c.new) {
            (Some(old), Some(new)) if new.rank == Rank::C && old.rank != Rank::C => {
                Some((c.job_id, old, new))
            }
            _ => None,
        })
        .filter(|(_, _, new)| !is_provisional(new.team.count(), settings))
        .collect();
    if drops.is_empty() || !alerts_on(tx)? {
        return Ok(0);
    }
    let mut n = 0;
    for (job_id, old, new) in drops {
        if !jobs::find_job(tx, job_id)?.is_some_and(|j| j.is_open) {
            continue;
        }
        let detail = serde_json::json!({
            "from": old.rank.as_str(),
            "score": (new.team.as_f64() * 100.0).round() / 100.0,
        });
        insert_alert_event(tx, AlertKind::DroppedToC, job_id, &detail, at)?;
        n += 1;
    }
    Ok(n)
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<AlertEvent> {
    let kind: String = r.get(1)?;
    let detail: String = r.get(3)?;
    Ok(AlertEvent {
        id: r.get(0)?,
        kind: AlertKind::parse(&kind).ok_or_else(|| bad("alert kind", &kind))?,
        job_id: r.get(2)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        at: col_ts(r, 4)?,
    })
}

/// The events waiting for a batch, oldest first.
pub fn waiting_events(conn: &Connection) -> Result<Vec<AlertEvent>> {
    query_all(
        conn,
        "SELECT id, kind, job_id, detail, at FROM alert_events WHERE batch_id IS NULL ORDER BY id",
        [],
        event_from_row,
    )
}

/// When the latest alert batch was made.
pub fn last_batch_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    Ok(conn
        .prepare_cached("SELECT MAX(made_at) FROM alert_batches")?
        .query_row([], |r| col_ts_opt(r, 0))?)
}

/// Records a new alert batch made at `at` holding the events `event_ids` (those still
/// waiting), and returns its id.
pub fn record_batch(
    tx: &Tx<'_>,
    event_ids: &[i64],
    at: DateTime<Utc>,
    messages: usize,
) -> Result<i64> {
    tx.prepare_cached("INSERT INTO alert_batches (made_at, messages) VALUES (?1, ?2)")?
        .execute((ts(&at), messages as i64))?;
    let id = tx.last_insert_rowid();
    let mut take = tx.prepare_cached(
        "UPDATE alert_events SET batch_id = ?1 WHERE id = ?2 AND batch_id IS NULL",
    )?;
    for e in event_ids {
        take.execute((id, e))?;
    }
    Ok(id)
}

/// When the periodic check first looked, if it has.
pub fn watch_seeded_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    Ok(conn
        .prepare_cached("SELECT watch_seeded_at FROM notify_state WHERE singleton = 1")?
        .query_row([], |r| col_ts_opt(r, 0))?)
}

/// Records that the periodic check has looked once.
pub fn set_watch_seeded(tx: &Tx<'_>, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached("UPDATE notify_state SET watch_seeded_at = ?1 WHERE singleton = 1")?
        .execute([ts(&at)])?;
    Ok(())
}

fn watch_kind(kind: AlertKind) -> Result<&'static str> {
    match kind {
        AlertKind::Unscored | AlertKind::Stalled => Ok(kind.as_str()),
        AlertKind::DroppedToC => Err(StoreError::Data(
            "drops to C are recorded as they happen, not watched".into(),
        )),
    }
}

/// The jobs the periodic check has alerted (and still watches) for `kind`.
pub fn watched_jobs(conn: &Connection, kind: AlertKind) -> Result<HashSet<i64>> {
    Ok(query_all(
        conn,
        "SELECT job_id FROM alert_watch WHERE kind = ?1",
        [watch_kind(kind)?],
        |r| r.get(0),
    )?
    .into_iter()
    .collect())
}

/// Remembers that the check alerted `job_id` for `kind`; `false` when it already had.
pub fn watch_job(tx: &Tx<'_>, kind: AlertKind, job_id: i64, at: DateTime<Utc>) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO alert_watch (kind, job_id, since) VALUES (?1, ?2, ?3)",
        )?
        .execute((watch_kind(kind)?, job_id, ts(&at)))?;
    Ok(n == 1)
}

/// Forgets `job_id` for `kind` (its pipeline moves again, or it closed).
pub fn unwatch_job(tx: &Tx<'_>, kind: AlertKind, job_id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM alert_watch WHERE kind = ?1 AND job_id = ?2")?
        .execute((watch_kind(kind)?, job_id))?;
    Ok(())
}
