//! Applying rows that other replicas wrote (pulled from Postgres) to the working store,
//! without queueing them for push again, plus the pull cursors and the row digests
//! reconciliation compares.
//!
//! Immutable rows (submissions, skips, rank history, pipeline snapshots, settings
//! versions) merge as a set union. Mutable rows (users, jobs) keep the greatest by the
//! total order (version, updated_at, origin), the same comparison on every replica and
//! in Postgres.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension};

use super::outbox::{REPLICATED, columns};
use super::{Result, StoreError, Tx};

/// Tables whose rows change in place and merge last-writer-wins.
pub const MUTABLE: &[&str] = &["users", "jobs"];

/// Whether a replicated table's rows change in place.
pub fn is_mutable(table: &str) -> bool {
    MUTABLE.contains(&table)
}

fn known(table: &str) -> Result<(&'static str, &'static [&'static str])> {
    columns(table).ok_or_else(|| StoreError::Data(format!("{table} is not a replicated table")))
}

/// What applying a page of pulled rows changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    /// Rows inserted or replaced.
    pub changed: usize,
    /// Rows refused by the local store (logged; the pull goes on).
    pub refused: Vec<(String, String)>,
    /// Jobs whose rank must be recomputed.
    pub jobs: BTreeSet<i64>,
    /// Whether every open job's rank must be recomputed (a user or settings version arrived).
    pub all_jobs: bool,
}

/// Columns added after their table was first replicated, with the value a row written
/// before them (by an older replica, or queued before an upgrade) takes: the value the
/// migration gave existing rows.
pub const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("settings", "stalled_after_days", "14"),
    ("settings", "min_scorers", "1"),
];

fn apply_sql(table: &str) -> Result<String> {
    let (key, cols) = known(table)?;
    let extract: Vec<String> = cols
        .iter()
        .map(|c| {
            match ADDED_COLUMNS
                .iter()
                .find(|(t, col, _)| *t == table && col == c)
            {
                Some((_, _, default)) => {
                    format!("COALESCE(json_extract(?1, '$.{c}'), {default})")
                }
                None => format!("json_extract(?1, '$.{c}')"),
            }
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO {table} ({}) SELECT {} WHERE true ON CONFLICT ({key}) DO ",
        cols.join(", "),
        extract.join(", ")
    );
    if is_mutable(table) {
        let set: Vec<String> = cols
            .iter()
            .filter(|c| **c != key)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        sql.push_str(&format!(
            "UPDATE SET {} WHERE (excluded.version, excluded.updated_at, excluded.origin) > \
             ({table}.version, {table}.updated_at, {table}.origin)",
            set.join(", ")
        ));
    } else {
        sql.push_str("NOTHING");
    }
    Ok(sql)
}

/// Applies rows of one table (each a JSON object with the table's columns) written
/// elsewhere. Nothing enters the outbox; ranks are not recomputed here: applying pulled
/// rows or repairs is a store command (`commands::apply_pulled_rows`,
/// `commands::apply_repairs`).
pub(in crate::store) fn apply_rows(tx: &Tx<'_>, table: &str, rows: &[String]) -> Result<Applied> {
    let sql = apply_sql(table)?;
    let mut stmt = tx.prepare_cached(&sql)?;
    let mut out = Applied::default();
    for row in rows {
        match stmt.execute([row]) {
            Ok(0) => {}
            Ok(_) => {
                out.changed += 1;
                match table {
                    "users" | "settings" => out.all_jobs = true,
                    "jobs" | "submissions" => {
                        let id: Option<i64> = tx.query_row(
                            if table == "jobs" {
                                "SELECT json_extract(?1, '$.id')"
                            } else {
                                "SELECT json_extract(?1, '$.job_id')"
                            },
                            [row],
                            |r| r.get(0),
                        )?;
                        out.jobs.extend(id);
                    }
                    _ => {}
                }
            }
            Err(e @ rusqlite::Error::SqliteFailure(..)) => {
                let id: Option<String> = tx
                    .query_row(
                        "SELECT CAST(json_extract(?1, '$.id') AS TEXT)",
                        [row],
                        |r| r.get(0),
                    )
                    .unwrap_or(None);
                out.refused.push((id.unwrap_or_default(), e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The greatest server sequence already pulled for a table (0 before the first pull).
pub fn cursor(conn: &Connection, table: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT last_seq FROM replication_cursors WHERE table_name = ?1")?
        .query_row([table], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Moves a table's pull cursor forward (never back).
pub fn set_cursor(tx: &Tx<'_>, table: &str, seq: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO replication_cursors (table_name, last_seq) VALUES (?1, ?2)
         ON CONFLICT (table_name) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
    )?
    .execute((table, seq))?;
    Ok(())
}

/// Whether the store holds nothing worth keeping: no users, jobs or submissions
/// (the default settings written at first start do not count).
pub fn is_empty(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM submissions)",
        [],
        |r| r.get(0),
    )?;
    Ok(n == 0)
}

/// Clears an empty store's automatic default settings and outbox, so a rebuild from
/// Postgres holds exactly what Postgres holds.
pub fn clear_for_rebuild(tx: &Tx<'_>) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM job_ranks; DELETE FROM rank_history; DELETE FROM pipeline_snapshots;
         DELETE FROM settings; DELETE FROM outbox; DELETE FROM replication_cursors;",
    )?;
    Ok(())
}

/// The text each side hashes for a row in reconciliation: the columns that must agree,
/// in schema order, each rendered canonically. `origin` of rank history is left out:
/// replicas that compute the same rank write the same row under their own origin.
pub fn digest_columns(table: &str) -> Result<Vec<&'static str>> {
    let (_, cols) = known(table)?;
    Ok(cols
        .iter()
        .copied()
        .filter(|c| !(table == "rank_history" && *c == "origin"))
        .collect())
}

/// Every row of a table as (id text, JSON object) for the given ids, for repairs.
pub fn rows_by_id(conn: &Connection, table: &str, ids: &[String]) -> Result<Vec<String>> {
    let (key, cols) = known(table)?;
    let fields: Vec<String> = cols.iter().map(|c| format!("'{c}', {c}")).collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT json_object({}) FROM {table} WHERE CAST({key} AS TEXT) = ?1",
        fields.join(", ")
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

/// The replicated tables in the order they are pulled and pushed: settings first (ranks
/// need them), parents before children (foreign keys), and rank history before the
/// submissions whose arrival recomputes ranks, so the recomputed history rows (same
/// ids, derived from their inputs) are already there and nothing is queued again.
pub const ORDER: &[&str] = &[
    "settings",
    "users",
    "jobs",
    "rank_history",
    "submissions",
    "skips",
    "pipeline_snapshots",
];

/// The replicated tables in [`ORDER`].
pub fn tables() -> impl Iterator<Item = &'static str> {
    debug_assert_eq!(ORDER.len(), REPLICATED.len());
    ORDER.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, outbox};

    fn job(version: i64, updated_at: &str, origin: &str, title: &str) -> String {
        serde_json::json!({
            "id": 42, "title": title, "client": "Acme", "status": "Open", "is_open": 1,
            "opened_at": null, "fee_minor": null, "fee_currency": null, "hiring_team": "[]",
            "description_html": null, "first_seen_at": "2026-03-01T09:00:00.000000Z",
            "last_synced_at": null, "closed_at": null, "updated_at": updated_at,
            "version": version, "origin": origin
        })
        .to_string()
    }

    #[test]
    fn mutable_rows_keep_the_greatest_by_version_time_and_origin_and_are_not_queued() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let queued = store.read_blocking(outbox::pending_count).unwrap();
        let title = |s: &Store| -> String {
            s.read_blocking(|c| {
                Ok(c.query_row("SELECT title FROM jobs WHERE id = 42", [], |r| r.get(0))?)
            })
            .unwrap()
        };
        let apply = |rows: Vec<String>| {
            store
                .write_blocking(|tx| apply_rows(tx, "jobs", &rows))
                .unwrap()
        };
        let a = apply(vec![job(
            2,
            "2026-03-02T09:00:00.000000Z",
            "b",
            "v2 from b",
        )]);
        assert_eq!(a.changed, 1);
        assert_eq!(a.jobs.into_iter().collect::<Vec<_>>(), vec![42]);
        // Older version, even with a later clock: ignored.
        assert_eq!(
            apply(vec![job(1, "2026-09-01T00:00:00.000000Z", "z", "v1")]).changed,
            0
        );
        // Same version and time: the greater origin wins, in any order.
        apply(vec![job(
            2,
            "2026-03-02T09:00:00.000000Z",
            "c",
            "v2 from c",
        )]);
        apply(vec![job(
            2,
            "2026-03-02T09:00:00.000000Z",
            "a",
            "v2 from a",
        )]);
        assert_eq!(title(&store), "v2 from c");
        assert_eq!(store.read_blocking(outbox::pending_count).unwrap(), queued);
        // Immutable rows merge as a set union: a second copy changes nothing.
        let s = serde_json::json!({"id": "s1", "version": 9, "weight_client_engagement": 2500,
            "weight_search_difficulty": 2500, "weight_time_open": 2500, "weight_fee_size": 2500,
            "threshold_a": 400, "threshold_b": 300, "time_open_bands": "[7,14,30,60]",
            "fee_bands": "[1,2,3,4]", "fee_currency": "GBP", "cadence_days": 7,
            "created_at": "2026-03-02T09:00:00.000000Z", "created_by": null, "origin": "b"})
        .to_string();
        let first = store
            .write_blocking(|tx| apply_rows(tx, "settings", std::slice::from_ref(&s)))
            .unwrap();
        assert!(first.all_jobs);
        // A version written before the stalled and freshness settings existed takes
        // their defaults.
        let pulled = store
            .read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT stalled_after_days, score_expiry_weeks, min_scorers FROM settings WHERE id = 's1'",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, i64>(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!(pulled, (14, None, 1));
        let again = store
            .write_blocking(|tx| apply_rows(tx, "settings", std::slice::from_ref(&s)))
            .unwrap();
        assert_eq!(again.changed, 0);
    }
}
