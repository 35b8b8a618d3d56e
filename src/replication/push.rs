//! The pusher: drains the SQLite outbox into Postgres in batches, one Postgres
//! transaction per batch, with idempotent upserts. A change is marked pushed only after
//! its batch committed, so a crash in between re-pushes it, and the re-push changes
//! nothing (at-least-once delivery plus idempotency). A row Postgres rejects for its
//! content goes to the dead letter and the rest of the queue moves on.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::copy_text::CopyEncoder;
use super::{ReplicationError, Result, WRITE_LOCK_KEY, connect::describe_pg_error};
use crate::store::{self, Store, outbox, replicated, sync_runs};

/// Where a test can inject a fault into a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// The batch is written, not yet committed; the server process of this connection.
    BeforeCommit { backend_pid: i32 },
    /// The batch committed; the outbox not yet marked.
    AfterCommit,
}

/// A fault hook: returning an error aborts the push at that point, as a crash would.
pub type FaultHook = Arc<
    dyn Fn(FaultPoint) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>
        + Send
        + Sync,
>;

/// How a push runs.
#[derive(Clone)]
pub struct PushOptions {
    /// Changes per Postgres transaction (at most).
    pub batch_size: i64,
    /// Test-only fault injection.
    pub fault: Option<FaultHook>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            batch_size: 5000,
            fault: None,
        }
    }
}

/// What a push did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PushReport {
    pub pushed: usize,
    pub dead: usize,
    pub batches: usize,
}

/// Exponential backoff while Postgres is down: 5 s doubling to 5 minutes.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
    next: Option<Instant>,
}

impl Backoff {
    /// Whether a new attempt may start now.
    pub fn due(&self, now: Instant) -> bool {
        self.next.is_none_or(|n| now >= n)
    }

    /// Records a failure and pushes the next attempt back.
    pub fn failed(&mut self, now: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.next = Some(now + self.delay());
    }

    /// Records a success: the next attempt may come at once.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.next = None;
    }

    /// The current wait after a failure.
    pub fn delay(&self) -> Duration {
        let secs = 5u64.saturating_mul(1u64 << self.failures.saturating_sub(1).min(6));
        Duration::from_secs(secs.min(300))
    }
}

/// Batches with at least this many rows of a table go through COPY.
const COPY_FROM: usize = 64;

/// One table's part of a batch, encoded for Postgres: the last change of each row, in
/// outbox order.
struct TableLoad {
    table: &'static str,
    data: Load,
}

enum Load {
    /// Few rows: the stored JSON payloads joined into one array, upserted from
    /// `jsonb_populate_recordset`.
    Json(String),
    /// Many rows: COPY text for a staging table, upserted from there.
    Copy(bytes::Bytes),
}

/// Encodes outbox entries for Postgres, parents before children.
fn encode(entries: &[outbox::OutboxEntry]) -> Vec<TableLoad> {
    let mut loads = Vec::new();
    for table in replicated::tables() {
        let Some((_, cols)) = outbox::columns(table) else {
            continue;
        };
        // The last change of each row, at the place of its first change.
        let mut rows: Vec<&str> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for e in entries.iter().filter(|e| e.table_name == table) {
            match at.entry(e.row_id.as_str()) {
                Entry::Occupied(o) => rows[*o.get()] = &e.payload,
                Entry::Vacant(v) => {
                    v.insert(rows.len());
                    rows.push(&e.payload);
                }
            }
        }
        if rows.is_empty() {
            continue;
        }
        let size = rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2;
        let data = if rows.len() < COPY_FROM {
            let mut json = String::with_capacity(size);
            json.push('[');
            for (i, payload) in rows.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(payload);
            }
            json.push(']');
            Load::Json(json)
        } else {
            let mut text = String::with_capacity(size);
            let mut encoder = CopyEncoder::default();
            for payload in &rows {
                encoder.push_row(&mut text, cols, payload);
            }
            Load::Copy(bytes::Bytes::from(text))
        };
        loads.push(TableLoad { table, data });
    }
    loads
}

fn upsert_sql(table: &str, source: &str) -> Result<String> {
    let (key, cols) = crate::store::outbox::columns(table)
        .ok_or_else(|| ReplicationError::Refused(format!("{table} is not a replicated table")))?;
    let list = cols.join(", ");
    let mut sql = format!(
        "INSERT INTO jobrank.{table} AS t ({list}) \
         SELECT {list} FROM {source} \
         ON CONFLICT ({key}) DO "
    );
    if replicated::is_mutable(table) {
        let set: Vec<String> = cols
            .iter()
            .filter(|c| **c != key)
            .map(|c| format!("{c} = EXCLUDED.{c}"))
            .collect();
        sql.push_str(&format!(
            "UPDATE SET {} WHERE (EXCLUDED.version, EXCLUDED.updated_at COLLATE \"C\", EXCLUDED.origin COLLATE \"C\") \
             > (t.version, t.updated_at COLLATE \"C\", t.origin COLLATE \"C\")",
            set.join(", ")
        ));
    } else {
        sql.push_str("NOTHING");
    }
    Ok(sql)
}

/// Whether Postgres refused a statement for the data in it (a row to dead-letter)
/// rather than for the connection or the server's state (retry later).
fn is_data_error(e: &tokio_postgres::Error) -> bool {
    // Class 22: data exception; class 23: integrity constraint violation.
    e.code()
        .is_some_and(|c| c.code().starts_with("22") || c.code().starts_with("23"))
}

/// Writes encoded rows in one transaction, parents first. `staged` names the staging
/// tables this connection already holds (created once per session, emptied at every
/// commit).
async fn write_batch(
    client: &mut Client,
    loads: &[TableLoad],
    staged: &mut HashSet<&'static str>,
    opts: &PushOptions,
) -> std::result::Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    // Statements without parameters go as simple queries: one round trip each.
    tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"))
        .await?;
    let mut created = Vec::new();
    for load in loads {
        let table = load.table;
        match &load.data {
            Load::Json(json) => {
                let source =
                    format!("jsonb_populate_recordset(NULL::jobrank.{table}, $1::text::jsonb)");
                let sql = upsert_sql(table, &source).unwrap_or_default();
                tx.query_typed(sql.as_str(), &[(json, Type::TEXT)]).await?;
            }
            Load::Copy(data) => {
                let list = outbox::columns(table)
                    .map(|c| c.1.join(", "))
                    .unwrap_or_default();
                if COPY_DIRECT.contains(&table) && copy_direct(&tx, table, &list, data).await? {
                    continue;
                }
                // COPY into a bare staging table, then upsert from it.
                if !staged.contains(table) {
                    tx.batch_execute(&format!(
                        "CREATE TEMP TABLE IF NOT EXISTS push_{table} ON COMMIT DELETE ROWS AS \
                         SELECT {list} FROM jobrank.{table} WITH NO DATA"
                    ))
                    .await?;
                    created.push(table);
                }
                let sink = tx
                    .copy_in(&format!("COPY push_{table} ({list}) FROM STDIN"))
                    .await?;
                let mut sink = Box::pin(sink);
                sink.send(data.clone()).await?;
                sink.as_mut().finish().await?;
                let sql = upsert_sql(table, &format!("push_{table}")).unwrap_or_default();
                tx.batch_execute(&sql).await?;
            }
        }
    }
    if let Some(f) = &opts.fault {
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        // A hook error here is only used to kill the connection from outside.
        let _ = f(FaultPoint::BeforeCommit { backend_pid: pid }).await;
    }
    tx.commit().await?;
    // Created inside the transaction, so known to exist only once it committed.
    staged.extend(created);
    Ok(())
}

/// Tables whose ids each replica mints afresh, so a batch of their rows is nearly always
/// new to Postgres: it is first copied straight into the table (see [`copy_direct`]).
/// Rank history and pipeline snapshots are left out: their ids derive from their
/// inputs, so another replica has often pushed the same rows already.
const COPY_DIRECT: &[&str] = &["settings", "submissions"];

/// COPY straight into the table, under a savepoint: the same rows and triggers as the
/// upsert when none of them is in Postgres yet, without the staging table and the
/// conflict checks. Returns false, the transaction as it was before, when Postgres
/// refused (a row already there, or bad data): the caller then upserts, which skips
/// rows already there and reports bad data as usual.
async fn copy_direct(
    tx: &Transaction<'_>,
    table: &str,
    list: &str,
    data: &bytes::Bytes,
) -> std::result::Result<bool, tokio_postgres::Error> {
    tx.batch_execute("SAVEPOINT push_direct").await?;
    let copied = async {
        let sink = tx
            .copy_in(&format!("COPY jobrank.{table} ({list}) FROM STDIN"))
            .await?;
        let mut sink = Box::pin(sink);
        sink.send(data.clone()).await?;
        sink.as_mut().finish().await
    }
    .await;
    match copied {
        Ok(_) => Ok(true),
        Err(e) if e.as_db_error().is_some() => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT push_direct")
                .await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// A batch read from the outbox, encoded for Postgres.
struct Batch {
    entries: Vec<outbox::OutboxEntry>,
    loads: Vec<TableLoad>,
}

/// Reads and encodes the next batch: the oldest waiting changes after `after`.
async fn read_batch(store: &Store, after: i64, limit: i64) -> Result<Batch> {
    Ok(store
        .read(move |c| {
            let entries = outbox::pending_batch(c, after, limit)?;
            let loads = encode(&entries);
            Ok(Batch { entries, loads })
        })
        .await?)
}

/// What became of a batch Postgres committed, to be recorded in the outbox.
enum Outcome {
    /// Every change of the batch, which spans these outbox sequences.
    Whole { first: i64, last: i64 },
    /// Some changes pushed, some refused for good.
    Split {
        pushed: Vec<i64>,
        dead: Vec<(i64, String)>,
    },
}

impl Outcome {
    fn counts(&self, batch: &[outbox::OutboxEntry]) -> (usize, usize) {
        match self {
            Outcome::Whole { .. } => (batch.len(), 0),
            Outcome::Split { pushed, dead } => (pushed.len(), dead.len()),
        }
    }
}

/// Pushes every waiting change, batch after batch. Returns at the first transient
/// failure (connection lost, server down) with the batch left queued.
///
/// Pipelined: while Postgres takes batch N, the outbox marks batch N-1 (committed
/// before) as pushed and the next batch is read and encoded, so the SQLite side's
/// reads, decoding and fsyncs overlap Postgres's work instead of adding to it.
pub async fn push(store: &Store, client: &mut Client, opts: &PushOptions) -> Result<PushReport> {
    let mut report = PushReport::default();
    let limit = opts.batch_size.max(1);
    let mut staged = HashSet::new();
    let mut batch = read_batch(store, 0, limit).await?;
    // A batch Postgres committed that the outbox does not record yet.
    let mut committed: Option<Outcome> = None;
    loop {
        let Some(after) = batch.entries.last().map(|e| e.seq) else {
            if let Some(done) = committed.take() {
                record(store, done).await?;
            }
            return Ok(report);
        };
        let (written, marked, next) = tokio::join!(
            write_batch(client, &batch.loads, &mut staged, opts),
            async {
                match committed.take() {
                    Some(done) => record(store, done).await,
                    None => Ok(()),
                }
            },
            read_batch(store, after, limit),
        );
        marked?;
        let outcome = match written {
            Ok(()) => Outcome::Whole {
                first: batch.entries[0].seq,
                last: after,
            },
            Err(e) if is_data_error(&e) => {
                let refusal = describe_pg_error(&e);
                isolate(store, client, &batch.entries, refusal, &mut staged, opts).await?
            }
            Err(e) => {
                fail(store, &batch.entries, &describe_pg_error(&e)).await?;
                return Err(e.into());
            }
        };
        if let Some(f) = &opts.fault {
            f(FaultPoint::AfterCommit)
                .await
                .map_err(ReplicationError::Injected)?;
        }
        if let Outcome::Split { dead, .. } = &outcome {
            for (seq, reason) in dead {
                tracing::warn!(
                    seq,
                    reason,
                    "Postgres refused a change; moved to the dead letter"
                );
            }
        }
        let (pushed, dead) = outcome.counts(&batch.entries);
        report.pushed += pushed;
        report.dead += dead;
        report.batches += 1;
        committed = Some(outcome);
        batch = match next {
            Ok(b) => b,
            Err(e) => {
                if let Some(done) = committed.take() {
                    record(store, done).await?;
                }
                return Err(e);
            }
        };
    }
}

/// After Postgres refused a batch for its data (`refusal`): the batch is halved until
/// the refused changes stand alone, each part in its own transaction, in outbox order.
/// The refused changes go to the dead letter, the rest go through; one bad change in
/// n costs about 2 log2(n) transactions instead of n.
async fn isolate(
    store: &Store,
    client: &mut Client,
    batch: &[outbox::OutboxEntry],
    refusal: String,
    staged: &mut HashSet<&'static str>,
    opts: &PushOptions,
) -> Result<Outcome> {
    let mut pushed: Vec<i64> = Vec::new();
    let mut dead: Vec<(i64, String)> = Vec::new();
    // Parts still to write, the next one last.
    let mut todo: Vec<(usize, usize)> = Vec::new();
    let halve = |todo: &mut Vec<(usize, usize)>, lo: usize, hi: usize| {
        let mid = lo + (hi - lo) / 2;
        todo.push((mid, hi));
        todo.push((lo, mid));
    };
    match batch {
        [] => {}
        [one] => dead.push((one.seq, refusal)),
        _ => halve(&mut todo, 0, batch.len()),
    }
    while let Some((lo, hi)) = todo.pop() {
        let part = &batch[lo..hi];
        match write_batch(client, &encode(part), staged, opts).await {
            Ok(()) => pushed.extend(part.iter().map(|e| e.seq)),
            Err(e) if is_data_error(&e) => match part {
                [one] => dead.push((one.seq, describe_pg_error(&e))),
                _ => halve(&mut todo, lo, hi),
            },
            Err(e) => {
                let reason = describe_pg_error(&e);
                record(store, Outcome::Split { pushed, dead }).await?;
                fail(store, batch, &reason).await?;
                return Err(e.into());
            }
        }
    }
    Ok(Outcome::Split { pushed, dead })
}

/// Records in the outbox what became of a batch Postgres committed.
async fn record(store: &Store, outcome: Outcome) -> Result<()> {
    store
        .write(move |tx| {
            let at = store::now();
            match &outcome {
                Outcome::Whole { first, last } => {
                    outbox::mark_pushed_range(tx, *first, *last, at)?;
                }
                Outcome::Split { pushed, dead } => {
                    outbox::mark_pushed(tx, pushed, at)?;
                    for (seq, reason) in dead {
                        outbox::mark_dead(tx, *seq, reason)?;
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}

async fn fail(store: &Store, batch: &[outbox::OutboxEntry], reason: &str) -> Result<()> {
    let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
    let reason = reason.to_string();
    store
        .write(move |tx| outbox::record_failure(tx, &seqs, &reason))
        .await?;
    Ok(())
}

/// [`push`], logged in `sync_runs` as `supabase_push`.
pub async fn push_logged(
    store: &Store,
    client: &mut Client,
    opts: &PushOptions,
) -> Result<PushReport> {
    super::logged_run(store, "supabase_push", || async {
        let r = push(store, client, opts).await?;
        let totals = sync_runs::RunTotals {
            jobs_changed: r.pushed as i64,
            errors: r.dead as i64,
            message: Some(format!(
                "{} changes pushed, {} to the dead letter",
                r.pushed, r.dead
            )),
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
    fn backoff_doubles_up_to_five_minutes() {
        let mut b = Backoff::default();
        let t = Instant::now();
        assert!(b.due(t));
        b.failed(t);
        assert_eq!(b.delay(), Duration::from_secs(5));
        assert!(!b.due(t));
        assert!(b.due(t + Duration::from_secs(5)));
        for _ in 0..10 {
            b.failed(t);
        }
        assert_eq!(b.delay(), Duration::from_secs(300));
        b.succeeded();
        assert!(b.due(t));
    }
}
