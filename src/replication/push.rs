//! The pusher: drains the SQLite outbox into Postgres in batches, one Postgres
//! transaction per batch, with idempotent upserts. A change is marked pushed only after
//! its batch committed, so a crash in between re-pushes it, and the re-push changes
//! nothing (at-least-once delivery plus idempotency). A row Postgres rejects for its
//! content goes to the dead letter and the rest of the queue moves on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio_postgres::Client;

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
    /// Changes per Postgres transaction.
    pub batch_size: i64,
    /// Test-only fault injection.
    pub fault: Option<FaultHook>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            batch_size: 1000,
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

/// One row of COPY text format from a stored JSON payload, columns in order. A payload
/// that is not a JSON object becomes a row of NULLs, which Postgres refuses (so the
/// change goes to the dead letter like any other refused row).
fn copy_line(out: &mut String, cols: &[&str], payload: &str) {
    let obj: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(payload).ok();
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match obj.as_ref().and_then(|o| o.get(*c)) {
            None | Some(serde_json::Value::Null) => out.push_str("\\N"),
            Some(serde_json::Value::String(s)) => {
                for ch in s.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            Some(serde_json::Value::Bool(b)) => out.push_str(if *b { "1" } else { "0" }),
            Some(v) => out.push_str(&v.to_string()),
        }
    }
    out.push('\n');
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

/// Writes entries in one transaction; rows grouped by table, parents first, the last
/// change of each row only.
async fn write_batch(
    client: &mut Client,
    entries: &[&outbox::OutboxEntry],
    opts: &PushOptions,
) -> std::result::Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY])
        .await?;
    for table in replicated::tables() {
        // The last change of each row, in outbox order; payloads are sent as they are
        // stored (JSON text), joined into one array.
        let mut rows: Vec<(&str, &str)> = Vec::new();
        let mut at: std::collections::HashMap<&str, usize> = Default::default();
        for e in entries.iter().filter(|e| e.table_name == table) {
            match at.get(e.row_id.as_str()) {
                Some(&pos) => rows[pos].1 = &e.payload,
                None => {
                    at.insert(&e.row_id, rows.len());
                    rows.push((&e.row_id, &e.payload));
                }
            }
        }
        if rows.is_empty() {
            continue;
        }
        if rows.len() < COPY_FROM {
            let mut json =
                String::with_capacity(rows.iter().map(|r| r.1.len() + 1).sum::<usize>() + 2);
            json.push('[');
            for (i, (_, payload)) in rows.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(payload);
            }
            json.push(']');
            let source =
                format!("jsonb_populate_recordset(NULL::jobrank.{table}, $1::text::jsonb)");
            let sql = upsert_sql(table, &source).unwrap_or_default();
            tx.execute(sql.as_str(), &[&json]).await?;
        } else {
            // Many rows: COPY them into a bare staging table, then upsert from it.
            let cols = crate::store::outbox::columns(table)
                .map(|c| c.1)
                .unwrap_or_default();
            let list = cols.join(", ");
            tx.batch_execute(&format!(
                "CREATE TEMP TABLE push_{table} ON COMMIT DROP AS                  SELECT {list} FROM jobrank.{table} WITH NO DATA"
            ))
            .await?;
            let mut data = String::with_capacity(rows.iter().map(|r| r.1.len()).sum::<usize>());
            for (_, payload) in &rows {
                copy_line(&mut data, cols, payload);
            }
            let sink = tx
                .copy_in(&format!("COPY push_{table} ({list}) FROM STDIN"))
                .await?;
            let mut sink = Box::pin(sink);
            sink.send(bytes::Bytes::from(data)).await?;
            sink.as_mut().finish().await?;
            let sql = upsert_sql(table, &format!("push_{table}")).unwrap_or_default();
            tx.execute(sql.as_str(), &[]).await?;
        }
    }
    if let Some(f) = &opts.fault {
        let pid: i32 = tx.query_one("SELECT pg_backend_pid()", &[]).await?.get(0);
        // A hook error here is only used to kill the connection from outside.
        let _ = f(FaultPoint::BeforeCommit { backend_pid: pid }).await;
    }
    tx.commit().await
}

/// Pushes every waiting change, batch after batch. Returns at the first transient
/// failure (connection lost, server down) with the batch left queued.
pub async fn push(store: &Store, client: &mut Client, opts: &PushOptions) -> Result<PushReport> {
    let mut report = PushReport::default();
    loop {
        let limit = opts.batch_size;
        let batch = store.read(move |c| outbox::pending_batch(c, limit)).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let all: Vec<&outbox::OutboxEntry> = batch.iter().collect();
        let mut pushed: Vec<i64> = Vec::new();
        let mut dead: Vec<(i64, String)> = Vec::new();
        match write_batch(client, &all, opts).await {
            Ok(()) => pushed.extend(batch.iter().map(|e| e.seq)),
            Err(e) if is_data_error(&e) => {
                // Isolate the row(s) Postgres refuses: one transaction per change.
                for entry in &batch {
                    match write_batch(client, &[entry], opts).await {
                        Ok(()) => pushed.push(entry.seq),
                        Err(e) if is_data_error(&e) => {
                            dead.push((entry.seq, describe_pg_error(&e)));
                        }
                        Err(e) => {
                            let reason = describe_pg_error(&e);
                            record(store, &pushed, &dead).await?;
                            fail(store, &batch, &reason).await?;
                            return Err(e.into());
                        }
                    }
                }
            }
            Err(e) => {
                fail(store, &batch, &describe_pg_error(&e)).await?;
                return Err(e.into());
            }
        }
        if let Some(f) = &opts.fault {
            f(FaultPoint::AfterCommit)
                .await
                .map_err(ReplicationError::Injected)?;
        }
        for (seq, reason) in &dead {
            tracing::warn!(
                seq,
                reason,
                "Postgres refused a change; moved to the dead letter"
            );
        }
        record(store, &pushed, &dead).await?;
        report.pushed += pushed.len();
        report.dead += dead.len();
        report.batches += 1;
    }
}

async fn record(store: &Store, pushed: &[i64], dead: &[(i64, String)]) -> Result<()> {
    let (pushed, dead) = (pushed.to_vec(), dead.to_vec());
    store
        .write(move |tx| {
            outbox::mark_pushed(tx, &pushed, store::now())?;
            for (seq, reason) in &dead {
                outbox::mark_dead(tx, *seq, reason)?;
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
    fn copy_lines_escape_text_and_mark_nulls() {
        let mut out = String::new();
        copy_line(
            &mut out,
            &["id", "comment", "n", "gone"],
            r#"{"id":"a\tb","comment":"line\nback\\slash","n":2.5,"gone":null}"#,
        );
        assert_eq!(out, "a\\tb\tline\\nback\\\\slash\t2.5\t\\N\n");
        out.clear();
        copy_line(&mut out, &["id", "n"], "not json");
        assert_eq!(out, "\\N\t\\N\n");
    }

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
