//! Reconciliation: compares each replicated table between SQLite and Postgres by
//! bucketed digests computed on each side (only the digests cross the network when the
//! sides agree), narrows differing buckets down to rows, repairs rows missing on
//! either side, and reports rows with the same id and different content without
//! overwriting them.
//!
//! A row's digest is the first 56 bits of SHA-256 over its columns rendered as text
//! (integers in decimal, reals in PostgreSQL's shortest form, NULL as 0x1E, columns
//! separated by 0x1F); its bucket is the first byte of SHA-256 over its id. A bucket's
//! digest is its row count and the sum of its row digests, so order does not matter.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::{DateTime, NaiveTime, Utc};
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, IsolationLevel, Transaction};

use super::{ReplicationError, Result, WRITE_LOCK_KEY};
use crate::store::{self, Store, commands, outbox, replicated, sync_runs};

/// The sync-run kind of a reconciliation.
pub const KIND: &str = "reconcile";
/// Buckets per table.
pub const BUCKETS: usize = 256;

/// What reconciliation found in one table.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableReport {
    pub table: String,
    pub local_rows: u64,
    pub remote_rows: u64,
    pub buckets_differing: usize,
    /// Ids present locally and missing in Postgres.
    pub missing_remote: Vec<String>,
    /// Ids present in Postgres and missing locally.
    pub missing_local: Vec<String>,
    /// Ids present on both sides with different content: reported, never overwritten.
    pub conflicting: Vec<String>,
    pub repaired_remote: usize,
    pub repaired_local: usize,
}

/// The whole reconciliation report, stored as JSON with the sync run.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub dry_run: bool,
    pub tables: Vec<TableReport>,
}

impl ReconcileReport {
    /// Differences found: missing rows on either side plus conflicting rows.
    pub fn differences(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.missing_remote.len() + t.missing_local.len() + t.conflicting.len())
            .sum()
    }

    /// Rows copied to the side that lacked them.
    pub fn repaired(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.repaired_remote + t.repaired_local)
            .sum()
    }
}

/// Progress reported while reconciling.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// A table's comparison starts.
    Table(&'a str),
    /// A table is compared; its repairs are made once every table is compared.
    TableDone(&'a TableReport),
}

/// Whether the nightly reconciliation is due: the time of day `at` (in `now`'s time
/// zone, the VM's local time in service) has passed today and no run started since.
pub fn is_due<Tz: chrono::TimeZone>(
    now: DateTime<Tz>,
    last: Option<DateTime<Utc>>,
    at: NaiveTime,
) -> bool {
    let Some(today_at) = now
        .timezone()
        .from_local_datetime(&now.date_naive().and_time(at))
        .earliest()
    else {
        // The time does not exist today (a DST gap): wait for tomorrow.
        return false;
    };
    let today_at = today_at.with_timezone(&Utc);
    now.with_timezone(&Utc) >= today_at && last.is_none_or(|l| l < today_at)
}

/// A real rendered as PostgreSQL's `float8` output does (shortest exact form).
pub fn render_real(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..15).contains(&exp) {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", e.abs())
    } else {
        format!("{v}")
    }
}

/// A row's 56-bit digest from its canonical text.
pub fn row_digest(text: &str) -> u64 {
    let h = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b[1..8].copy_from_slice(&h[..7]);
    u64::from_be_bytes(b)
}

/// A row's bucket from its id.
pub fn bucket_of(id: &str) -> usize {
    Sha256::digest(id.as_bytes())[0] as usize
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Bucket {
    count: u64,
    sum: u128,
}

/// The columns Postgres computes for itself and never sends to a replica.
pub const SERVER_COLUMNS: &str = "- 'seq' - 'row_digest' - 'bucket'";

// Postgres keeps each row's digest and bucket up to date in its row trigger (see the
// migration), so its side of a comparison sums stored numbers.
async fn remote_buckets(client: &Transaction<'_>, table: &str) -> Result<Vec<Bucket>> {
    let sql = format!(
        "SELECT bucket::int, count(*), sum(row_digest)::text FROM jobrank.{table} GROUP BY bucket"
    );
    let mut out = vec![Bucket::default(); BUCKETS];
    for r in client.query(sql.as_str(), &[]).await? {
        let b: i32 = r.get(0);
        let count: i64 = r.get(1);
        let sum: String = r.get(2);
        let slot = out
            .get_mut(b as usize)
            .ok_or_else(|| ReplicationError::Postgres(format!("bad bucket {b} in {table}")))?;
        *slot = Bucket {
            count: count as u64,
            sum: sum
                .parse()
                .map_err(|e| ReplicationError::Postgres(format!("bad digest {sum}: {e}")))?,
        };
    }
    Ok(out)
}

async fn remote_rows(
    client: &Transaction<'_>,
    table: &str,
    buckets: &[i32],
) -> Result<BTreeMap<String, u64>> {
    let sql =
        format!("SELECT id::text, row_digest FROM jobrank.{table} WHERE bucket::int = ANY($1)");
    let rows = client.query(sql.as_str(), &[&buckets]).await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
        .collect())
}

/// Scans a local table, calling `f(bucket, id, digest)` for each row.
fn scan_local(
    conn: &rusqlite::Connection,
    table: &str,
    mut f: impl FnMut(usize, &str, u64),
) -> store::Result<()> {
    let cols = replicated::digest_columns(table)?;
    let mut stmt = conn.prepare(&format!("SELECT {} FROM {table}", cols.join(", ")))?;
    let mut rows = stmt.query([])?;
    let mut text = String::with_capacity(256);
    while let Some(r) = rows.next()? {
        text.clear();
        let mut id_end = 0;
        for i in 0..cols.len() {
            if i > 0 {
                text.push('\u{1f}');
            }
            match r.get_ref(i)? {
                ValueRef::Null => text.push('\u{1e}'),
                ValueRef::Integer(v) => {
                    let _ = write!(text, "{v}");
                }
                ValueRef::Real(v) => text.push_str(&render_real(v)),
                ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(t) => text.push_str(t),
                    Err(_) => text.push_str(&String::from_utf8_lossy(t)),
                },
                ValueRef::Blob(b) => text.push_str(&hex::encode(b)),
            }
            if i == 0 {
                id_end = text.len();
            }
        }
        let id = &text[..id_end];
        f(bucket_of(id), id, row_digest(&text));
    }
    Ok(())
}

async fn local_buckets(store: &Store, table: &'static str) -> Result<Vec<Bucket>> {
    Ok(store
        .read(move |c| {
            let mut out = vec![Bucket::default(); BUCKETS];
            scan_local(c, table, |b, _, d| {
                out[b].count += 1;
                out[b].sum += u128::from(d);
            })?;
            Ok(out)
        })
        .await?)
}

async fn local_rows(
    store: &Store,
    table: &'static str,
    buckets: Vec<i32>,
) -> Result<BTreeMap<String, u64>> {
    Ok(store
        .read(move |c| {
            let mut out = BTreeMap::new();
            scan_local(c, table, |b, id, d| {
                if buckets.contains(&(b as i32)) {
                    out.insert(id.to_string(), d);
                }
            })?;
            Ok(out)
        })
        .await?)
}

/// Copies rows missing in Postgres there, every table in one transaction, parents first.
/// Returns how many rows each table gained, in `tables` order.
async fn repair_remote(
    store: &Store,
    client: &mut Client,
    missing: Vec<(&'static str, Vec<String>)>,
) -> Result<Vec<usize>> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY])
        .await?;
    let mut out = Vec::with_capacity(missing.len());
    for (table, ids) in missing {
        if ids.is_empty() {
            out.push(0);
            continue;
        }
        let rows = store
            .read(move |c| replicated::rows_by_id(c, table, &ids))
            .await?;
        let (key, cols) = outbox::columns(table)
            .ok_or_else(|| ReplicationError::Refused(format!("{table} is not replicated")))?;
        let list = cols.join(", ");
        let sql = format!(
            "INSERT INTO jobrank.{table} ({list}) SELECT {list} FROM jsonb_populate_recordset(NULL::jobrank.{table}, $1::jsonb) ON CONFLICT ({key}) DO NOTHING"
        );
        let json = serde_json::Value::Array(
            rows.iter()
                .filter_map(|r| serde_json::from_str(r).ok())
                .collect(),
        );
        out.push(tx.execute(sql.as_str(), &[&json]).await? as usize);
    }
    tx.commit().await?;
    Ok(out)
}

/// Rows missing locally, read from the comparison's snapshot.
async fn missing_rows(
    snapshot: &Transaction<'_>,
    table: &'static str,
    ids: &[String],
) -> Result<Vec<String>> {
    let (key, _) = outbox::columns(table)
        .ok_or_else(|| ReplicationError::Refused(format!("{table} is not replicated")))?;
    let sql = format!(
        "SELECT (to_jsonb(t) {SERVER_COLUMNS})::text FROM jobrank.{table} t WHERE {key}::text = ANY($1)"
    );
    Ok(snapshot
        .query(sql.as_str(), &[&ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Applies rows missing locally in one SQLite transaction, parents first, with the
/// ranks they affect recomputed. Returns how many rows each table gained, in order.
async fn repair_local(store: &Store, rows: Vec<(&'static str, Vec<String>)>) -> Result<Vec<usize>> {
    let tables: Vec<&'static str> = rows.iter().map(|(table, _)| *table).collect();
    let applied = store
        .write(move |tx| commands::apply_repairs(tx, &rows))
        .await?
        .into_result();
    for (table, a) in tables.iter().zip(&applied) {
        for (id, why) in &a.refused {
            tracing::warn!(
                table,
                id,
                why,
                "a repaired row was refused by the local store"
            );
        }
    }
    Ok(applied.iter().map(|a| a.changed).collect())
}

/// Reconciles every replicated table. With `dry_run`, only reports.
///
/// Every table is compared with one Postgres snapshot, and the rows missing locally are
/// read from it and applied together, parents first: a repair never brings in a row
/// whose parent committed in Postgres after the parent's table was compared (a job
/// without the users written with it). Rows missing in Postgres are copied there in
/// one transaction once the comparison is over.
pub async fn reconcile(
    store: &Store,
    client: &mut Client,
    dry_run: bool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<ReconcileReport> {
    let mut report = ReconcileReport {
        dry_run,
        tables: Vec::new(),
    };
    let mut fetched: Vec<(&'static str, Vec<String>)> = Vec::new();
    let snapshot = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    for table in replicated::tables() {
        progress(Progress::Table(table));
        let local = local_buckets(store, table).await?;
        let remote = remote_buckets(&snapshot, table).await?;
        let differing: Vec<i32> = (0..BUCKETS)
            .filter(|b| local[*b] != remote[*b])
            .map(|b| b as i32)
            .collect();
        let mut t = TableReport {
            table: table.to_string(),
            local_rows: local.iter().map(|b| b.count).sum(),
            remote_rows: remote.iter().map(|b| b.count).sum(),
            buckets_differing: differing.len(),
            ..Default::default()
        };
        if !differing.is_empty() {
            let mine = local_rows(store, table, differing.clone()).await?;
            let theirs = remote_rows(&snapshot, table, &differing).await?;
            for (id, d) in &mine {
                match theirs.get(id) {
                    None => t.missing_remote.push(id.clone()),
                    Some(o) if o != d => t.conflicting.push(id.clone()),
                    Some(_) => {}
                }
            }
            t.missing_local = theirs
                .keys()
                .filter(|id| !mine.contains_key(*id))
                .cloned()
                .collect();
            if !dry_run && !t.missing_local.is_empty() {
                fetched.push((
                    table,
                    missing_rows(&snapshot, table, &t.missing_local).await?,
                ));
            }
            for id in &t.conflicting {
                tracing::warn!(
                    table,
                    id,
                    "same id, different content in SQLite and Postgres; left as is"
                );
            }
        }
        progress(Progress::TableDone(&t));
        report.tables.push(t);
    }
    snapshot.commit().await?;
    if dry_run {
        return Ok(report);
    }
    if !fetched.is_empty() {
        let tables: Vec<&'static str> = fetched.iter().map(|f| f.0).collect();
        let changed = repair_local(store, fetched).await?;
        for (table, n) in tables.into_iter().zip(changed) {
            if let Some(t) = report.tables.iter_mut().find(|t| t.table == table) {
                t.repaired_local = n;
            }
        }
    }
    let missing: Vec<(&'static str, Vec<String>)> = replicated::tables()
        .zip(report.tables.iter())
        .filter(|(_, t)| !t.missing_remote.is_empty())
        .map(|(table, t)| (table, t.missing_remote.clone()))
        .collect();
    if !missing.is_empty() {
        let tables: Vec<&'static str> = missing.iter().map(|m| m.0).collect();
        let added = repair_remote(store, client, missing).await?;
        for (table, n) in tables.into_iter().zip(added) {
            if let Some(t) = report.tables.iter_mut().find(|t| t.table == table) {
                t.repaired_remote = n;
            }
        }
    }
    Ok(report)
}

/// [`reconcile`], logged in `sync_runs` as `reconcile` with the JSON report.
pub async fn reconcile_logged(
    store: &Store,
    client: &mut Client,
    dry_run: bool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<ReconcileReport> {
    super::logged_run(store, KIND, || async {
        let r = reconcile(store, client, dry_run, progress).await?;
        let totals = sync_runs::RunTotals {
            jobs_seen: r.tables.iter().map(|t| t.local_rows as i64).sum(),
            jobs_changed: r.repaired() as i64,
            errors: r.differences() as i64,
            message: Some(format!(
                "{} differences found, {} repaired{}",
                r.differences(),
                r.repaired(),
                if dry_run { " (dry run)" } else { "" }
            )),
            report: serde_json::to_string(&r).ok(),
            ..Default::default()
        };
        Ok((r, totals))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_render_as_postgres_does() {
        assert_eq!(render_real(3.0), "3");
        assert_eq!(render_real(2.5), "2.5");
        assert_eq!(render_real(0.1), "0.1");
        assert_eq!(render_real(1e-5), "1e-05");
        assert_eq!(render_real(1.5e20), "1.5e+20");
        assert_eq!(render_real(-12.25), "-12.25");
    }

    #[test]
    fn nightly_run_is_due_once_after_its_time() {
        let at = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let t = |s: &str| store::parse_ts(s).unwrap();
        assert!(!is_due(
            t("2026-03-02T02:00:00Z"),
            Some(t("2026-03-01T02:31:00Z")),
            at
        ));
        assert!(is_due(
            t("2026-03-02T02:31:00Z"),
            Some(t("2026-03-01T02:31:00Z")),
            at
        ));
        assert!(!is_due(
            t("2026-03-02T05:00:00Z"),
            Some(t("2026-03-02T02:31:00Z")),
            at
        ));
    }
}
