//! The replication outbox: every change to a replicated row is recorded here, in the
//! same transaction as the change, as a JSON snapshot of the whole row.

use rusqlite::{Connection, OptionalExtension};

use super::{Result, Tx, now, ts};

/// The replicated tables, their key column and every column, in schema order.
pub const REPLICATED: &[(&str, &str, &[&str])] = &[
    (
        "users",
        "id",
        &[
            "id",
            "email",
            "name",
            "role",
            "password_hash",
            "scores",
            "active",
            "created_at",
            "updated_at",
            "version",
            "origin",
        ],
    ),
    (
        "jobs",
        "id",
        &[
            "id",
            "title",
            "client",
            "status",
            "is_open",
            "opened_at",
            "fee_minor",
            "fee_currency",
            "hiring_team",
            "description_html",
            "first_seen_at",
            "last_synced_at",
            "closed_at",
            "updated_at",
            "version",
            "origin",
            "rank_at_close",
            "score_sum_at_close",
            "scorer_count_at_close",
        ],
    ),
    (
        "settings",
        "id",
        &[
            "id",
            "version",
            "weight_client_engagement",
            "weight_search_difficulty",
            "weight_time_open",
            "weight_fee_size",
            "threshold_a",
            "threshold_b",
            "time_open_bands",
            "fee_bands",
            "fee_currency",
            "cadence_days",
            "created_at",
            "created_by",
            "origin",
            "stalled_after_days",
            "score_expiry_weeks",
            "min_scorers",
        ],
    ),
    (
        "submissions",
        "id",
        &[
            "id",
            "job_id",
            "scorer_id",
            "client_engagement",
            "search_difficulty",
            "time_open",
            "fee_size",
            "time_open_overridden",
            "fee_size_overridden",
            "comment",
            "submitted_at",
            "origin",
        ],
    ),
    (
        "skips",
        "id",
        &[
            "id",
            "job_id",
            "scorer_id",
            "week",
            "reason",
            "created_at",
            "origin",
        ],
    ),
    (
        "rank_history",
        "id",
        &[
            "id",
            "job_id",
            "at",
            "score_sum",
            "scorer_count",
            "rank",
            "composites",
            "settings_version",
            "origin",
        ],
    ),
    (
        "pipeline_snapshots",
        "id",
        &[
            "id",
            "job_id",
            "taken_at",
            "stage",
            "stage_order",
            "candidates",
            "avg_days_in_stage",
            "origin",
        ],
    ),
];

/// The columns of a replicated table.
pub fn columns(table: &str) -> Option<(&'static str, &'static [&'static str])> {
    REPLICATED.iter().find(|t| t.0 == table).map(|t| (t.1, t.2))
}

/// Records the current content of one row of a replicated table.
pub fn enqueue(tx: &Tx<'_>, table: &str, row_id: &str) -> Result<()> {
    let (key, cols) = columns(table)
        .ok_or_else(|| super::StoreError::Data(format!("{table} is not a replicated table")))?;
    let fields: Vec<String> = cols.iter().map(|c| format!("'{c}', {c}")).collect();
    let sql = format!(
        "INSERT INTO outbox (table_name, row_id, payload, created_at) \
         SELECT ?1, ?2, json_object({}), ?3 FROM {table} WHERE {key} = ?2",
        fields.join(", ")
    );
    let n = tx
        .prepare_cached(&sql)?
        .execute((table, row_id, ts(&now())))?;
    if n != 1 {
        return Err(super::StoreError::Data(format!(
            "no {table} row {row_id} to replicate"
        )));
    }
    Ok(())
}

/// Changes waiting to reach Supabase (not pushed, not dead).
pub fn pending_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE pushed_at IS NULL AND dead = 0",
        [],
        |r| r.get(0),
    )?)
}

/// Changes Postgres refused permanently.
pub fn dead_count(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM outbox WHERE dead = 1", [], |r| {
            r.get(0)
        })?,
    )
}

/// When the oldest change still waiting to be pushed was made (none waiting: `None`).
pub fn oldest_pending_at(conn: &Connection) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let s: Option<String> = conn
        .query_row(
            "SELECT created_at FROM outbox WHERE pushed_at IS NULL AND dead = 0
             ORDER BY seq LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    s.map(|s| super::parse_ts(&s)).transpose()
}

/// When the last change was pushed, if ever.
pub fn last_pushed_at(conn: &Connection) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let s: Option<String> =
        conn.query_row("SELECT MAX(pushed_at) FROM outbox", [], |r| r.get(0))?;
    s.map(|s| super::parse_ts(&s)).transpose()
}

/// One change waiting in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub table_name: String,
    pub row_id: String,
    /// JSON of the row as written.
    pub payload: String,
    pub attempts: i64,
}

/// The oldest changes waiting to be pushed (not pushed, not dead) after outbox
/// sequence `after` (0 for all), in outbox order.
pub fn pending_batch(conn: &Connection, after: i64, limit: i64) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, table_name, row_id, payload, attempts FROM outbox
         WHERE pushed_at IS NULL AND dead = 0 AND seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt
        .query_map([after, limit], |r| {
            Ok(OutboxEntry {
                seq: r.get(0)?,
                table_name: r.get(1)?,
                row_id: r.get(2)?,
                payload: r.get(3)?,
                attempts: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Marks changes as pushed: only after the Postgres transaction holding them committed.
pub fn mark_pushed(tx: &Tx<'_>, seqs: &[i64], at: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE outbox SET pushed_at = ?2, attempts = attempts + 1, last_error = NULL
         WHERE seq = ?1 AND pushed_at IS NULL",
    )?;
    let at = ts(&at);
    for s in seqs {
        stmt.execute((s, &at))?;
    }
    Ok(())
}

/// Marks every change still waiting with a sequence in `first..=last` as pushed: a
/// whole batch [`pending_batch`] returned, only after the Postgres transaction holding
/// it committed. Sequences only grow and a pushed or dead change never waits again,
/// so the changes waiting in that range are exactly the batch's. Returns how many.
pub fn mark_pushed_range(
    tx: &Tx<'_>,
    first: i64,
    last: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE outbox SET pushed_at = ?3, attempts = attempts + 1, last_error = NULL
             WHERE pushed_at IS NULL AND dead = 0 AND seq BETWEEN ?1 AND ?2",
        )?
        .execute((first, last, ts(&at)))?)
}

/// Records a failed attempt (Postgres down, connection lost) on changes that stay queued.
pub fn record_failure(tx: &Tx<'_>, seqs: &[i64], error: &str) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
    )?;
    for s in seqs {
        stmt.execute((s, error))?;
    }
    Ok(())
}

/// Moves a change Postgres rejected permanently to the dead letter, with the reason.
pub fn mark_dead(tx: &Tx<'_>, seq: i64, error: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE outbox SET dead = 1, attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
    )?
    .execute((seq, error))?;
    Ok(())
}

/// Changes in the dead letter, newest first: (seq, table, row id, last error).
pub fn list_dead(conn: &Connection, limit: i64) -> Result<Vec<(i64, String, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, table_name, row_id, COALESCE(last_error, '') FROM outbox
         WHERE dead = 1 ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
