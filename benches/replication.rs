//! Replication benchmarks against a real PostgreSQL (started as in the tests, or
//! TEST_DATABASE_URL). Prints figures; asserts nothing about speed.
//!
//! - push throughput vs COPY of the same rows into the same server (ratio, target >= 0.5)
//! - reconcile of 1,000,000 agreeing submissions (target <= 5 s) and with one
//!   differing bucket (target <= 10 s)
//! - the outbox's share of a score submission's latency (target <= 10%)
//!
//! Run: `cargo bench --bench replication` (BENCH_ROWS, BENCH_RECONCILE_ROWS to scale).

#[path = "../tests/api/helpers.rs"]
mod helpers;
#[path = "../tests/api/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::SinkExt;
use jobrank::domain::{FactorScores, Role};
use jobrank::replication::push::{self, PushOptions};
use jobrank::replication::{self, PgTarget, reconcile};
use jobrank::store::{self, Store, commands, jobs, outbox, submissions, users};
use secrecy::SecretString;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed(store: &Store) -> String {
    store
        .write_blocking(|tx| {
            let u = users::insert_user(
                tx,
                &users::NewUser {
                    email: "bench@agency.test".into(),
                    name: "Bench".into(),
                    role: Role::AccountManager,
                    password_hash: "x".into(),
                    scores: true,
                },
                store::now(),
            )?;
            for id in 1..=50 {
                let _ = commands::upsert_job(
                    tx,
                    &jobs::JobUpsert {
                        id,
                        title: format!("Job {id}"),
                        client: "Acme".into(),
                        status: "Open".into(),
                        is_open: true,
                        opened_at: None,
                        fee_minor: None,
                        fee_currency: None,
                        hiring_team: vec![],
                        description_html: None,
                    },
                    store::now(),
                )?;
            }
            Ok(u.id)
        })
        .unwrap()
}

/// Queues `n` submissions in the outbox (rows written directly, as a replica that
/// scored offline for a long time would have them).
fn queue_submissions(store: &Store, scorer: &str, n: usize) {
    store
        .write_blocking(|tx| {
            for i in 0..n {
                let s = submissions::Submission {
                    id: store::new_id(),
                    job_id: 1 + (i % 50) as i64,
                    scorer_id: scorer.to_string(),
                    client_engagement: 1 + (i % 5) as u8,
                    search_difficulty: 2,
                    time_open: 3,
                    fee_size: 4,
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: Some("steady pipeline".into()),
                    submitted_at: store::now(),
                    origin: tx.origin().to_string(),
                };
                submissions::insert_row(tx, &s)?;
                outbox::enqueue(tx, "submissions", &s.id)?;
            }
            Ok(())
        })
        .unwrap();
}

async fn bench_push(target: &PgTarget, db: &pg::TestDb, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scorer = seed(&store);
    let mut client = target.connect().await.unwrap();
    push::push(&store, &mut client, &PushOptions::default())
        .await
        .unwrap();
    queue_submissions(&store, &scorer, rows);
    let opts = PushOptions {
        batch_size: env_usize("BENCH_BATCH", PushOptions::default().batch_size as usize) as i64,
        ..PushOptions::default()
    };
    let started = Instant::now();
    let r = push::push(&store, &mut client, &opts).await.unwrap();
    let push_time = started.elapsed();
    assert_eq!(r.pushed, rows);
    // COPY the same rows (text format, as psql \copy would) into a table of the same shape.
    let data: Vec<String> = store
        .read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {} FROM submissions",
                submissions_columns()
            ))?;
            let rows = stmt
                .query_map([], |r| {
                    let mut line = Vec::new();
                    for i in 0..12 {
                        let v: rusqlite::types::Value = r.get(i)?;
                        line.push(match v {
                            rusqlite::types::Value::Null => "\\N".to_string(),
                            rusqlite::types::Value::Integer(i) => i.to_string(),
                            rusqlite::types::Value::Real(f) => f.to_string(),
                            rusqlite::types::Value::Text(t) => t,
                            rusqlite::types::Value::Blob(_) => String::new(),
                        });
                    }
                    Ok(line.join("\t"))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    let admin = db.client().await;
    admin
        .batch_execute(
            "CREATE TABLE jobrank.copy_target (LIKE jobrank.submissions INCLUDING ALL);
             CREATE TRIGGER copy_target_stamp BEFORE INSERT OR UPDATE ON jobrank.copy_target
                 FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_submissions();",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let sink = admin
        .copy_in(&format!(
            "COPY jobrank.copy_target ({}) FROM STDIN",
            submissions_columns()
        ))
        .await
        .unwrap();
    let mut sink = Box::pin(sink);
    let mut buf = String::with_capacity(1 << 20);
    for line in &data {
        buf.push_str(line);
        buf.push('\n');
        if buf.len() > (1 << 20) {
            sink.send(bytes::Bytes::from(std::mem::take(&mut buf)))
                .await
                .unwrap();
        }
    }
    sink.send(bytes::Bytes::from(buf)).await.unwrap();
    let copied = sink.as_mut().finish().await.unwrap();
    let copy_time = started.elapsed();
    assert_eq!(copied as usize, rows);
    let per_s = |d: Duration| rows as f64 / d.as_secs_f64();
    println!(
        "push: {rows} submissions in {:.2} s ({:.0} rows/s); COPY of the same rows: {:.2} s ({:.0} rows/s); push/COPY throughput ratio {:.2} (target >= 0.50)",
        push_time.as_secs_f64(),
        per_s(push_time),
        copy_time.as_secs_f64(),
        per_s(copy_time),
        per_s(push_time) / per_s(copy_time)
    );
}

fn submissions_columns() -> &'static str {
    "id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size, \
     time_open_overridden, fee_size_overridden, comment, submitted_at, origin"
}

async fn bench_reconcile(target: &PgTarget, db: &pg::TestDb, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scorer = seed(&store);
    let mut client = target.connect().await.unwrap();
    push::push(&store, &mut client, &PushOptions::default())
        .await
        .unwrap();
    let started = Instant::now();
    // The same rows on both sides, generated by the same formula.
    let sc = scorer.clone();
    store
        .write(move |tx| {
            tx.execute(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
                 INSERT INTO submissions (id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size,
                     time_open_overridden, fee_size_overridden, comment, submitted_at, origin)
                 SELECT printf('%08x-0000-7000-8000-%012x', i, i), 1 + i % 50, ?2, 1 + i % 5, 1 + i % 4, 1 + i % 3, 2, 0, 0,
                     NULL, '2026-03-02T09:00:00.000000Z', 'bench' FROM n",
                (rows as i64, &sc),
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let admin = db.client().await;
    admin
        .execute(
            "INSERT INTO jobrank.submissions (id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size,
                 time_open_overridden, fee_size_overridden, comment, submitted_at, origin)
             SELECT lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), 1 + i % 50, $2, 1 + i % 5,
                 1 + i % 4, 1 + i % 3, 2, 0, 0, NULL, '2026-03-02T09:00:00.000000Z', 'bench'
             FROM generate_series(0, $1::bigint - 1) AS i",
            &[&(rows as i64), &scorer],
        )
        .await
        .unwrap();
    admin
        .batch_execute("VACUUM ANALYZE jobrank.submissions")
        .await
        .unwrap();
    println!(
        "reconcile set-up: {rows} submissions on each side in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let r = reconcile::reconcile(&store, &mut client, false, &mut |_| {})
        .await
        .unwrap();
    let agree = started.elapsed();
    assert_eq!(r.differences(), 0, "{r:?}");
    admin
        .execute(
            "DELETE FROM jobrank.submissions WHERE id = lpad(to_hex(12345), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(12345), 12, '0')",
            &[],
        )
        .await
        .unwrap();
    let started = Instant::now();
    let r = reconcile::reconcile(&store, &mut client, false, &mut |_| {})
        .await
        .unwrap();
    let one = started.elapsed();
    assert_eq!((r.differences(), r.repaired()), (1, 1), "{r:?}");
    println!(
        "reconcile: {rows} agreeing submissions in {:.2} s (target <= 5 s); with one differing bucket (found and repaired) in {:.2} s (target <= 10 s)",
        agree.as_secs_f64(),
        one.as_secs_f64()
    );
}

/// The outbox's share of a score submission's latency: the same fsynced submission
/// transaction with and without extra outbox writes gives the cost of one outbox
/// write; a submission makes `per_submission` of them.
async fn bench_outbox_overhead(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let scorer = seed(&store);
    let submit = |extra: usize, i: usize| {
        let scorer = scorer.clone();
        store.write_blocking(move |tx| {
            let (s, _) = commands::submit_score(
                tx,
                &submissions::NewSubmission {
                    job_id: 1 + (i % 50) as i64,
                    scorer_id: scorer,
                    scores: FactorScores::from_values([1 + (i % 5) as i64, 2, 3, 4]).unwrap(),
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: Some("steady pipeline".into()),
                },
                Utc::now(),
            )?
            .into_result();
            for _ in 0..extra {
                outbox::enqueue(tx, "submissions", &s.id)?;
            }
            Ok(())
        })
    };
    let before: i64 = store.read_blocking(outbox::pending_count).unwrap();
    let mut plain = Vec::new();
    let mut doubled = Vec::new();
    for i in 0..n {
        // Interleaved, so drift on a shared machine hits both alike.
        let t = Instant::now();
        submit(0, i).unwrap();
        plain.push(t.elapsed());
        let t = Instant::now();
        submit(4, i + 1).unwrap();
        doubled.push(t.elapsed());
    }
    let after: i64 = store.read_blocking(outbox::pending_count).unwrap();
    let per_submission = (after - before - 4 * n as i64) as f64 / (2 * n) as f64;
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    let (a, b) = (median(&mut plain), median(&mut doubled));
    let per_write = ((b - a) / 4.0).max(0.0);
    let outbox_part = per_write * per_submission;
    println!(
        "outbox: a score submission takes {a:.0} us (median, fsynced); one outbox write ~{per_write:.1} us, \
         {per_submission:.1} per submission -> outbox overhead {:.1}% of a submission without it (target <= 10%)",
        100.0 * outbox_part / (a - outbox_part).max(1.0)
    );
}

fn main() {
    jobrank::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let rows = env_usize("BENCH_ROWS", 50_000);
        let reconcile_rows = env_usize("BENCH_RECONCILE_ROWS", 1_000_000);
        let db = pg::test_db().await;
        let target = PgTarget::parse(&SecretString::from(db.url.clone())).unwrap();
        let mut c = target.connect().await.unwrap();
        replication::migrate(&mut c).await.unwrap();
        bench_push(&target, &db, rows).await;
        let db2 = pg::test_db().await;
        let target2 = PgTarget::parse(&SecretString::from(db2.url.clone())).unwrap();
        let mut c = target2.connect().await.unwrap();
        replication::migrate(&mut c).await.unwrap();
        bench_reconcile(&target2, &db2, reconcile_rows).await;
        bench_outbox_overhead(200).await;
    });
}
