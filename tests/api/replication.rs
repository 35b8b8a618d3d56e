//! Replication to PostgreSQL, proven against a real server (see `pg.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Duration, Utc};
use jobrank::domain::FactorScores;
use jobrank::replication::push::{FaultPoint, PushOptions};
use jobrank::replication::{self, PgTarget, pull, push, reconcile};
use jobrank::store::{self, Store, commands, jobs, outbox, submissions, users};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::helpers::eventually;
use crate::pg::{self, PgServer, TestDb};

/// One replica: its own data directory and store (shared with `outcomes`).
pub(crate) struct Replica {
    _dir: TempDir,
    pub(crate) store: Store,
}

pub(crate) fn replica() -> Replica {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    Replica { _dir: dir, store }
}

fn target(url: &str) -> PgTarget {
    PgTarget::parse(&SecretString::from(url.to_string())).unwrap()
}

pub(crate) async fn migrated(db: &TestDb) -> PgTarget {
    let t = target(&db.url);
    let mut c = t.connect().await.unwrap();
    replication::migrate(&mut c).await.unwrap();
    t
}

pub(crate) fn t0() -> DateTime<Utc> {
    store::parse_ts("2026-03-02T09:00:00Z").unwrap()
}

/// Users and jobs every replica knows (as Recruiterflow and the admin would create them):
/// written on one replica, pushed, then pulled by the others.
pub(crate) async fn seed(store: &Store, scorers: usize, job_ids: &[i64]) -> Vec<String> {
    let job_ids = job_ids.to_vec();
    store
        .write(move |tx| {
            let mut ids = Vec::new();
            for i in 0..scorers {
                let u = users::insert_user(
                    tx,
                    &users::NewUser {
                        email: format!("scorer{i}@agency.test"),
                        name: format!("Scorer {i}"),
                        role: jobrank::domain::Role::AccountManager,
                        password_hash: "x".into(),
                        scores: true,
                    },
                    t0(),
                )?;
                ids.push(u.id);
            }
            for id in &job_ids {
                let _ = commands::upsert_job(
                    tx,
                    &jobs::JobUpsert {
                        id: *id,
                        title: format!("Job {id}"),
                        client: "Acme".into(),
                        status: "Open".into(),
                        is_open: true,
                        opened_at: Some(t0() - Duration::days(20)),
                        fee_minor: Some(2_000_000),
                        fee_currency: Some("GBP".into()),
                        hiring_team: vec![],
                        description_html: None,
                    },
                    t0(),
                )?;
            }
            Ok(ids)
        })
        .await
        .unwrap()
}

pub(crate) async fn score(
    store: &Store,
    job_id: i64,
    scorer: &str,
    v: [i64; 4],
    at: DateTime<Utc>,
) -> String {
    let scorer = scorer.to_string();
    store
        .write(move |tx| {
            let (s, _) = commands::submit_score(
                tx,
                &submissions::NewSubmission {
                    job_id,
                    scorer_id: scorer,
                    scores: FactorScores::from_values(v).unwrap(),
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: None,
                },
                at,
            )?
            .into_result();
            Ok(s.id)
        })
        .await
        .unwrap()
}

pub(crate) async fn push_all(store: &Store, t: &PgTarget) -> push::PushReport {
    let mut c = t.connect().await.unwrap();
    push::push(store, &mut c, &PushOptions::default())
        .await
        .unwrap()
}

pub(crate) async fn pull_all(store: &Store, t: &PgTarget) -> pull::PullReport {
    let mut c = t.connect().await.unwrap();
    pull::pull(store, &mut c, 7).await.unwrap()
}

pub(crate) async fn pending(store: &Store) -> i64 {
    store.read(outbox::pending_count).await.unwrap()
}

/// Everything that must agree between replicas: the replicated rows (rank history
/// without its origin) and the current ranks.
async fn state(store: &Store) -> Vec<String> {
    store
        .read(|c| {
            let mut out = Vec::new();
            for (sql, n) in [
                ("SELECT id, email, name, role, scores, active, version, updated_at, origin FROM users ORDER BY id", 9),
                ("SELECT id, title, status, is_open, version, updated_at, origin FROM jobs ORDER BY id", 7),
                ("SELECT id, version, created_at, origin FROM settings ORDER BY id", 4),
                ("SELECT id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size, submitted_at, origin FROM submissions ORDER BY id", 9),
                ("SELECT id, job_id, at, score_sum, scorer_count, rank, composites, settings_version FROM rank_history ORDER BY id", 8),
                ("SELECT job_id, score_sum, scorer_count, rank, settings_version, last_scored_at FROM job_ranks ORDER BY job_id", 6),
            ] {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| {
                    let mut s = String::new();
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        s.push_str(&format!("{v:?}|"));
                    }
                    Ok(s)
                })?;
                for r in rows {
                    out.push(r?);
                }
            }
            Ok(out)
        })
        .await
        .unwrap()
}

async fn remote_count(db: &TestDb, table: &str) -> i64 {
    db.count(&format!("SELECT count(*) FROM jobrank.{table}"))
        .await
}

#[tokio::test]
async fn migration_creates_a_locked_down_jobrank_schema() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    // Applying again changes nothing.
    let mut c = t.connect().await.unwrap();
    assert_eq!(replication::migrate(&mut c).await.unwrap(), 0);
    let c = db.client().await;
    let rows = c
        .query(
            "SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'jobrank' AND c.relkind = 'r' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let tables: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    for name in [
        "jobs",
        "pipeline_snapshots",
        "rank_history",
        "settings",
        "skips",
        "submissions",
        "users",
    ] {
        assert!(
            tables.contains(&(name.to_string(), true)),
            "{name} with RLS in {tables:?}"
        );
    }
    assert!(tables.iter().any(|(n, _)| n == "refinery_schema_history"));
    let public: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(public, 0, "nothing lands in public");
    let policies: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_policies WHERE schemaname = 'jobrank'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(policies, 0);
}

#[tokio::test]
async fn push_is_idempotent_and_assigns_server_sequences() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 2, &[101, 102]).await;
    score(&a.store, 101, &scorers[0], [4, 3, 5, 2], t0()).await;
    score(&a.store, 101, &scorers[1], [2, 2, 2, 2], t0()).await;
    let queued = pending(&a.store).await;
    assert!(queued > 0);
    let r = push_all(&a.store, &t).await;
    assert_eq!(r.pushed as i64, queued);
    assert_eq!(pending(&a.store).await, 0);
    assert_eq!(remote_count(&db, "submissions").await, 2);
    assert_eq!(remote_count(&db, "users").await, 2);
    assert_eq!(remote_count(&db, "jobs").await, 2);
    let seqs_before = db.count("SELECT max(seq) FROM jobrank.submissions").await;
    // Pushing everything again (as after a crash before marking) changes nothing.
    a.store
        .write(|tx| {
            tx.execute("UPDATE outbox SET pushed_at = NULL", [])?;
            Ok(())
        })
        .await
        .unwrap();
    push_all(&a.store, &t).await;
    assert_eq!(remote_count(&db, "submissions").await, 2);
    assert_eq!(
        db.count("SELECT max(seq) FROM jobrank.submissions").await,
        seqs_before
    );
    // A job update bumps its version and its server sequence.
    let before = db
        .count("SELECT seq FROM jobrank.jobs WHERE id = 101")
        .await;
    a.store
        .write(|tx| {
            commands::close_job(tx, 101, Some("Filled"), t0() + Duration::hours(1)).map(|_| ())
        })
        .await
        .unwrap();
    push_all(&a.store, &t).await;
    let c = db.client().await;
    let row = c
        .query_one(
            "SELECT seq, version, is_open FROM jobrank.jobs WHERE id = 101",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, i64>(0) > before);
    assert_eq!(row.get::<_, i64>(1), 2);
    assert_eq!(row.get::<_, i64>(2), 0);
}

#[tokio::test]
async fn a_row_postgres_refuses_goes_to_the_dead_letter_without_stalling_the_queue() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 1, &[201]).await;
    score(&a.store, 201, &scorers[0], [3, 3, 3, 3], t0()).await;
    // A change whose content Postgres refuses (a factor out of range).
    a.store
        .write(|tx| {
            tx.execute(
                "INSERT INTO outbox (table_name, row_id, payload, created_at)
                 SELECT 'submissions', 'bad-1', json_set(payload, '$.id', 'bad-1', '$.time_open', 9), created_at
                 FROM outbox WHERE table_name = 'submissions' LIMIT 1",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    // Enough changes after it that the batch goes through COPY.
    for i in 0..80 {
        score(
            &a.store,
            201,
            &scorers[0],
            [1 + i % 5, 5, 5, 5],
            t0() + Duration::minutes(i + 1),
        )
        .await;
    }
    let r = push_all(&a.store, &t).await;
    assert_eq!(r.dead, 1);
    assert_eq!(pending(&a.store).await, 0);
    assert_eq!(remote_count(&db, "submissions").await, 81);
    let dead = a.store.read(|c| outbox::list_dead(c, 10)).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].2, "bad-1");
    assert!(dead[0].3.contains("check"), "{}", dead[0].3);
}

#[tokio::test]
async fn two_offline_replicas_converge_to_identical_data_and_ranks() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let b = replica();
    let scorers = seed(&a.store, 3, &[301, 302, 303]).await;
    push_all(&a.store, &t).await;
    pull_all(&b.store, &t).await;
    // Both offline: each scores the same jobs; B's clock runs five hours ahead.
    let skew = Duration::hours(5);
    score(
        &a.store,
        301,
        &scorers[0],
        [5, 5, 4, 4],
        t0() + Duration::minutes(1),
    )
    .await;
    score(
        &a.store,
        302,
        &scorers[0],
        [1, 2, 1, 2],
        t0() + Duration::minutes(2),
    )
    .await;
    score(
        &b.store,
        301,
        &scorers[1],
        [2, 1, 2, 1],
        t0() + skew + Duration::minutes(1),
    )
    .await;
    score(
        &b.store,
        302,
        &scorers[2],
        [5, 5, 5, 5],
        t0() + skew + Duration::minutes(3),
    )
    .await;
    score(
        &b.store,
        301,
        &scorers[0],
        [1, 1, 1, 1],
        t0() + skew + Duration::minutes(4),
    )
    .await;
    score(
        &a.store,
        303,
        &scorers[2],
        [3, 4, 3, 4],
        t0() + Duration::minutes(5),
    )
    .await;
    // Both change the same job while offline: the greater (version, updated_at, origin) wins.
    a.store
        .write(|tx| {
            commands::close_job(tx, 303, Some("On hold"), t0() + Duration::minutes(6)).map(|_| ())
        })
        .await
        .unwrap();
    b.store
        .write(move |tx| commands::close_job(tx, 303, Some("Filled"), t0() + skew).map(|_| ()))
        .await
        .unwrap();
    // Back online, in either order.
    push_all(&b.store, &t).await;
    push_all(&a.store, &t).await;
    pull_all(&a.store, &t).await;
    pull_all(&b.store, &t).await;
    // Ranks recomputed on pull may add rank history: one more round settles it.
    push_all(&a.store, &t).await;
    push_all(&b.store, &t).await;
    pull_all(&a.store, &t).await;
    pull_all(&b.store, &t).await;
    let sa = state(&a.store).await;
    let sb = state(&b.store).await;
    assert_eq!(sa, sb);
    assert!(
        sa.iter().any(|r| r.contains("Filled")),
        "B's later change wins: {sa:?}"
    );
    assert_eq!(remote_count(&db, "submissions").await, 6);
    // Postgres agrees too: reconciliation finds nothing on either replica.
    for s in [&a.store, &b.store] {
        let mut c = t.connect().await.unwrap();
        let r = reconcile::reconcile(s, &mut c, true, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(r.differences(), 0, "{r:?}");
    }
    // Rows pulled were not queued again.
    assert_eq!(pending(&a.store).await, 0);
    assert_eq!(pending(&b.store).await, 0);
}

#[tokio::test]
async fn clock_skew_does_not_change_the_outcome() {
    // The same scores, once with both clocks right and once with B five hours ahead
    // and A three hours behind: the same ranks and the same winners.
    let mut outcomes = Vec::new();
    for (skew_a, skew_b) in [
        (Duration::zero(), Duration::zero()),
        (Duration::hours(-3), Duration::hours(5)),
    ] {
        let db = pg::test_db().await;
        let t = migrated(&db).await;
        let a = replica();
        let b = replica();
        let scorers = seed(&a.store, 2, &[401]).await;
        push_all(&a.store, &t).await;
        pull_all(&b.store, &t).await;
        score(&a.store, 401, &scorers[0], [5, 4, 5, 4], t0() + skew_a).await;
        score(&b.store, 401, &scorers[1], [1, 2, 1, 2], t0() + skew_b).await;
        for _ in 0..2 {
            push_all(&a.store, &t).await;
            push_all(&b.store, &t).await;
            pull_all(&a.store, &t).await;
            pull_all(&b.store, &t).await;
        }
        let ranks = |s: Store| async move {
            s.read(|c| {
                Ok(c.query_row(
                    "SELECT score_sum, scorer_count, rank FROM job_ranks WHERE job_id = 401",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    },
                )?)
            })
            .await
            .unwrap()
        };
        let ra = ranks(a.store.clone()).await;
        assert_eq!(ra, ranks(b.store.clone()).await);
        outcomes.push(ra);
    }
    assert_eq!(outcomes[0], outcomes[1]);
}

#[tokio::test]
async fn postgres_stopped_during_a_push_then_restarted_delivers_everything_once() {
    let server = PgServer::start().await;
    let db = server.create_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 2, &[501, 502]).await;
    for i in 0..30 {
        score(
            &a.store,
            501 + (i % 2),
            &scorers[(i % 2) as usize],
            [1 + i % 5, 2, 3, 4],
            t0() + Duration::minutes(i),
        )
        .await;
    }
    let queued = pending(&a.store).await;
    // Stop the server after the first batch commits.
    let stopped = Arc::new(AtomicBool::new(false));
    let server = Arc::new(server);
    let (s2, srv) = (stopped.clone(), server.clone());
    let opts = PushOptions {
        batch_size: 10,
        fault: Some(Arc::new(move |p| {
            let (s2, srv) = (s2.clone(), srv.clone());
            Box::pin(async move {
                if p == FaultPoint::AfterCommit && !s2.swap(true, Ordering::SeqCst) {
                    tokio::task::spawn_blocking(move || srv.stop())
                        .await
                        .unwrap();
                }
                Ok(())
            })
        })),
    };
    let mut c = t.connect().await.unwrap();
    let err = push::push(&a.store, &mut c, &opts).await.unwrap_err();
    assert!(
        matches!(err, replication::ReplicationError::Unreachable { .. }),
        "{err}"
    );
    let left = pending(&a.store).await;
    assert_eq!(
        left,
        queued - 10,
        "the committed batch is marked, the rest waits"
    );
    // While it is down, a push fails with the reason and jobrank keeps accepting scores.
    assert!(t.connect().await.is_err());
    score(
        &a.store,
        501,
        &scorers[0],
        [5, 5, 5, 5],
        t0() + Duration::hours(2),
    )
    .await;
    server.restart().await;
    let waiting = pending(&a.store).await;
    assert!(waiting > left);
    let r = push_all(&a.store, &t).await;
    assert_eq!(r.pushed as i64, waiting);
    assert_eq!(pending(&a.store).await, 0);
    assert_eq!(remote_count(&db, "submissions").await, 31);
    let local_rank_rows: i64 = a
        .store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM rank_history", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(remote_count(&db, "rank_history").await, local_rank_rows);
}

#[tokio::test]
async fn a_connection_killed_mid_batch_is_retried_without_duplicates() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 1, &[601]).await;
    for i in 0..12 {
        score(
            &a.store,
            601,
            &scorers[0],
            [1 + i % 5, 3, 3, 3],
            t0() + Duration::minutes(i),
        )
        .await;
    }
    let admin = db.url.clone();
    let killed = Arc::new(AtomicBool::new(false));
    let k2 = killed.clone();
    let opts = PushOptions {
        batch_size: 8,
        fault: Some(Arc::new(move |p| {
            let (admin, k2) = (admin.clone(), k2.clone());
            Box::pin(async move {
                if let FaultPoint::BeforeCommit { backend_pid } = p
                    && !k2.swap(true, Ordering::SeqCst)
                {
                    let (c, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                        .await
                        .unwrap();
                    tokio::spawn(conn);
                    c.execute("SELECT pg_terminate_backend($1)", &[&backend_pid])
                        .await
                        .unwrap();
                }
                Ok(())
            })
        })),
    };
    let mut c = t.connect().await.unwrap();
    assert!(push::push(&a.store, &mut c, &opts).await.is_err());
    assert!(killed.load(Ordering::SeqCst));
    assert_eq!(
        remote_count(&db, "submissions").await,
        0,
        "the killed batch rolled back"
    );
    let attempts: i64 = a
        .store
        .read(|c| Ok(c.query_row("SELECT max(attempts) FROM outbox", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the failed attempt is recorded");
    let mut c = t.connect().await.unwrap();
    push::push(&a.store, &mut c, &opts).await.unwrap();
    assert_eq!(pending(&a.store).await, 0);
    assert_eq!(remote_count(&db, "submissions").await, 12);
    assert_eq!(
        db.count("SELECT count(DISTINCT id) FROM jobrank.submissions")
            .await,
        12
    );
}

#[tokio::test]
async fn a_crash_between_commit_and_marking_pushed_repushes_without_change() {
    // SIGKILL timing between two statements is impractical to hit; the fault hook
    // aborts the push at exactly that point instead, as the crash would.
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 1, &[701]).await;
    score(&a.store, 701, &scorers[0], [4, 4, 4, 4], t0()).await;
    let queued = pending(&a.store).await;
    let opts = PushOptions {
        batch_size: 100,
        fault: Some(Arc::new(|p| {
            Box::pin(async move {
                if p == FaultPoint::AfterCommit {
                    Err("killed after commit".to_string())
                } else {
                    Ok(())
                }
            })
        })),
    };
    let mut c = t.connect().await.unwrap();
    let e = push::push(&a.store, &mut c, &opts).await.unwrap_err();
    assert!(matches!(e, replication::ReplicationError::Injected(_)));
    assert_eq!(pending(&a.store).await, queued, "nothing marked");
    let snapshot = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let mut all = Vec::new();
            for table in ["users", "jobs", "settings", "submissions", "rank_history"] {
                for r in c
                    .query(
                        &format!("SELECT to_jsonb(t)::text FROM jobrank.{table} t ORDER BY seq"),
                        &[],
                    )
                    .await
                    .unwrap()
                {
                    all.push(r.get::<_, String>(0));
                }
            }
            all
        }
    };
    let before = snapshot(&db).await;
    assert!(!before.is_empty());
    let r = push_all(&a.store, &t).await;
    assert_eq!(r.pushed as i64, queued);
    assert_eq!(
        snapshot(&db).await,
        before,
        "the re-push changed nothing, not even a sequence"
    );
}

#[tokio::test]
async fn a_pipelined_push_marks_exactly_the_batches_postgres_committed() {
    // Many batches big enough for COPY: the outbox marks batch N while Postgres takes
    // batch N+1. A crash after the third commit leaves exactly two batches marked, and
    // the re-push of the third (rows already in Postgres, so the straight COPY is
    // refused and the upsert skips them) changes nothing.
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 1, &[1001]).await;
    a.store
        .write({
            let scorer = scorers[0].clone();
            move |tx| {
                for i in 0..300 {
                    let s = submissions::Submission {
                        id: store::new_id(),
                        job_id: 1001,
                        scorer_id: scorer.clone(),
                        client_engagement: 1 + (i % 5) as u8,
                        search_difficulty: 2,
                        time_open: 3,
                        fee_size: 4,
                        time_open_overridden: false,
                        fee_size_overridden: false,
                        comment: Some(format!("tab\there, line\nthere, back\\slash {i}")),
                        submitted_at: t0() + Duration::seconds(i),
                        origin: tx.origin().to_string(),
                    };
                    submissions::insert_row(tx, &s)?;
                    outbox::enqueue(tx, "submissions", &s.id)?;
                }
                Ok(())
            }
        })
        .await
        .unwrap();
    let queued = pending(&a.store).await;
    let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = commits.clone();
    let opts = PushOptions {
        batch_size: 70,
        fault: Some(Arc::new(move |p| {
            let c2 = c2.clone();
            Box::pin(async move {
                if p == FaultPoint::AfterCommit && c2.fetch_add(1, Ordering::SeqCst) == 2 {
                    Err("killed after the third commit".to_string())
                } else {
                    Ok(())
                }
            })
        })),
    };
    let mut c = t.connect().await.unwrap();
    let e = push::push(&a.store, &mut c, &opts).await.unwrap_err();
    assert!(
        matches!(e, replication::ReplicationError::Injected(_)),
        "{e}"
    );
    assert_eq!(pending(&a.store).await, queued - 140, "two batches marked");
    let in_three_batches: i64 = a
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM (SELECT table_name FROM outbox ORDER BY seq LIMIT 210)
                 WHERE table_name = 'submissions'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(remote_count(&db, "submissions").await, in_three_batches);
    let rows = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            c.query(
                "SELECT id || ' ' || seq || ' ' || comment FROM jobrank.submissions ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
        }
    };
    let before = rows(&db).await;
    let r = push_all(&a.store, &t).await;
    assert_eq!(r.pushed as i64, queued - 140);
    assert_eq!(pending(&a.store).await, 0);
    let after = rows(&db).await;
    assert_eq!(after.len(), 300);
    assert!(
        before.iter().all(|row| after.contains(row)),
        "the re-pushed rows kept their sequence"
    );
    assert!(
        after
            .iter()
            .any(|r| r.contains("tab\there, line\nthere, back\\slash 299"))
    );
    let mut c = t.connect().await.unwrap();
    let r = reconcile::reconcile(&a.store, &mut c, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r.differences(), 0, "{r:?}");
}

#[tokio::test]
async fn reconcile_repairs_missing_rows_and_reports_altered_ones() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 2, &[801, 802]).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            score(
                &a.store,
                801 + (i % 2),
                &scorers[(i % 2) as usize],
                [1 + i % 5, 2, 3, 4],
                t0() + Duration::minutes(i),
            )
            .await,
        );
    }
    // Pipeline snapshots carry reals, rendered alike on both sides.
    a.store
        .write(|tx| {
            let stages: Vec<store::pipeline::StageCount> = [
                (Some(2.5), 3),
                (Some(0.1 + 0.2), 1),
                (Some(1e-5), 0),
                (None, 7),
            ]
            .iter()
            .enumerate()
            .map(|(i, (avg, n))| store::pipeline::StageCount {
                stage: format!("Stage {i}"),
                stage_order: i as i64,
                candidates: *n,
                avg_days_in_stage: *avg,
            })
            .collect();
            store::pipeline::record_snapshot(tx, 801, &stages, t0())
        })
        .await
        .unwrap();
    push_all(&a.store, &t).await;
    assert_eq!(remote_count(&db, "pipeline_snapshots").await, 4);
    let mut c = t.connect().await.unwrap();
    let clean = reconcile::reconcile(&a.store, &mut c, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(clean.differences(), 0, "{clean:?}");
    // Behind jobrank's back: two rows deleted, one altered in Postgres, and one row
    // another replica wrote appears in Postgres only.
    let pg = db.client().await;
    pg.execute(
        "DELETE FROM jobrank.submissions WHERE id = $1 OR id = $2",
        &[&ids[3], &ids[4]],
    )
    .await
    .unwrap();
    pg.execute(
        "UPDATE jobrank.submissions SET comment = 'edited' WHERE id = $1",
        &[&ids[5]],
    )
    .await
    .unwrap();
    pg.execute(
        "INSERT INTO jobrank.submissions (id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size,
           time_open_overridden, fee_size_overridden, comment, submitted_at, origin)
         VALUES ('0190aaaa-0000-7000-8000-000000000001', 802, $1, 5, 5, 5, 5, 0, 0, NULL, '2026-03-02T12:00:00.000000Z', 'other-replica')",
        &[&scorers[1]],
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    let dry = reconcile::reconcile(&a.store, &mut c, true, &mut |p| {
        if let reconcile::Progress::Table(t) = p {
            seen.push(t.to_string());
        }
    })
    .await
    .unwrap();
    assert_eq!(seen.len(), 7);
    assert_eq!(dry.differences(), 4, "{dry:?}");
    assert_eq!(dry.repaired(), 0);
    assert_eq!(remote_count(&db, "submissions").await, 19);
    let r = reconcile::reconcile_logged(&a.store, &mut c, false, &mut |_| {})
        .await
        .unwrap();
    let subs = r.tables.iter().find(|t| t.table == "submissions").unwrap();
    assert_eq!(subs.missing_remote.len(), 2);
    assert_eq!(
        subs.missing_local,
        vec!["0190aaaa-0000-7000-8000-000000000001".to_string()]
    );
    assert_eq!(subs.conflicting, vec![ids[5].clone()]);
    assert_eq!((subs.repaired_remote, subs.repaired_local), (2, 1), "{r:?}");
    assert_eq!(remote_count(&db, "submissions").await, 21);
    let comment: Option<String> = pg
        .query_one(
            "SELECT comment FROM jobrank.submissions WHERE id = $1",
            &[&ids[5]],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        comment.as_deref(),
        Some("edited"),
        "a conflicting row is reported, not overwritten"
    );
    let local: i64 = a
        .store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM submissions", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(local, 21);
    // The run and its JSON report are in sync_runs.
    let run = a
        .store
        .read(|c| store::sync_runs::latest_run(c, "reconcile"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "ok");
    assert!(run.report.unwrap().contains(&ids[5]));
    // Afterwards (the rank the repaired row changed is pushed as usual) only the
    // reported conflict remains.
    push_all(&a.store, &t).await;
    let again = reconcile::reconcile(&a.store, &mut c, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.differences(), 1);
}

#[tokio::test]
async fn reconcile_repairs_from_one_snapshot_when_a_push_lands_midway() {
    // A replica's reconciliation runs while another replica's push commits between the
    // comparison of the users and of the jobs (as at start-up, when the nightly run is
    // due at once). The repair must bring one state Postgres had: never that push's
    // jobs without its users, nor its submission refused for want of its scorer.
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let (a, b) = (replica(), replica());
    push_all(&b.store, &t).await;
    let scorers = seed(&a.store, 2, &[1301, 1302]).await;
    score(&a.store, 1301, &scorers[0], [4, 4, 4, 4], t0()).await;
    let pushed = Arc::new(AtomicBool::new(false));
    let (p2, sa, ta) = (pushed.clone(), a.store.clone(), t.clone());
    let mut midway = move |p: reconcile::Progress<'_>| {
        if let reconcile::Progress::TableDone(r) = p
            && r.table == "users"
            && !p2.swap(true, Ordering::SeqCst)
        {
            let (sa, ta) = (sa.clone(), ta.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(push_all(&sa, &ta))
            })
            .join()
            .unwrap();
        }
    };
    let mut c = t.connect().await.unwrap();
    reconcile::reconcile(&b.store, &mut c, false, &mut midway)
        .await
        .unwrap();
    assert!(pushed.load(Ordering::SeqCst));
    assert_eq!(remote_count(&db, "jobs").await, 2);
    let counts = |s: Store| async move {
        s.read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM jobs),
                        (SELECT count(*) FROM submissions)",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )?)
        })
        .await
        .unwrap()
    };
    assert_eq!(
        counts(b.store.clone()).await,
        (0, 0, 0),
        "B holds Postgres as it was when the reconciliation began"
    );
    pull_all(&b.store, &t).await;
    assert_eq!(counts(b.store.clone()).await, (2, 2, 1));
    // What B computed from them goes out as usual; then the two sides agree.
    push_all(&b.store, &t).await;
    let r = reconcile::reconcile(&b.store, &mut c, false, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(r.differences(), 0, "{r:?}");
}

/// Every settings version and skip of a store, whole, for comparing replicas.
async fn settings_and_skips(
    store: &Store,
) -> (
    Vec<store::settings::SettingsVersion>,
    Vec<store::skips::Skip>,
) {
    store
        .read(|c| {
            let mut versions = store::settings::list_settings(c)?;
            versions.sort_by(|a, b| a.id.cmp(&b.id));
            let skips = store::skips::list_between(
                c,
                chrono::NaiveDate::from_ymd_opt(2000, 1, 3).unwrap(),
                chrono::NaiveDate::from_ymd_opt(2100, 1, 4).unwrap(),
            )?;
            Ok((versions, skips))
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn new_settings_and_skips_replicate_intact_and_reconcile_finds_no_difference() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let b = replica();
    let scorers = seed(&a.store, 2, &[1101, 1102]).await;
    // A settings version with every new setting away from its default, and a skip.
    let (tom, priya) = (scorers[0].clone(), scorers[1].clone());
    let version = a
        .store
        .write(move |tx| {
            let s = jobrank::domain::Settings {
                stalled_after_days: 30,
                score_expiry_weeks: Some(6),
                min_scorers: 2,
                cadence_days: 10,
                ..store::settings::current_settings(tx)?.settings
            };
            let saved = commands::save_settings(tx, &s, t0(), None)?.into_result();
            store::skips::insert_skip(tx, 1101, &tom, "new to the client", t0())?;
            Ok(saved)
        })
        .await
        .unwrap();
    push_all(&a.store, &t).await;
    let c = db.client().await;
    let row = c
        .query_one(
            "SELECT stalled_after_days, score_expiry_weeks, min_scorers FROM jobrank.settings WHERE id = $1",
            &[&version.id],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, Option<i64>>(1),
            row.get::<_, i64>(2)
        ),
        (30, Some(6), 2)
    );
    assert_eq!(remote_count(&db, "skips").await, 1);
    pull_all(&b.store, &t).await;
    let current = b
        .store
        .read(store::settings::current_settings)
        .await
        .unwrap();
    assert_eq!(
        current, version,
        "the version arrives whole and is current on B"
    );
    assert_eq!(
        settings_and_skips(&a.store).await.1,
        settings_and_skips(&b.store).await.1
    );
    // The other way: a skip written on B reaches A.
    let on_b = b
        .store
        .write(move |tx| {
            store::skips::insert_skip(tx, 1102, &priya, "on leave", t0() + Duration::hours(2))
        })
        .await
        .unwrap();
    push_all(&b.store, &t).await;
    pull_all(&a.store, &t).await;
    let (_, skips_on_a) = settings_and_skips(&a.store).await;
    assert_eq!(skips_on_a.len(), 2);
    assert!(skips_on_a.contains(&on_b));
    assert_eq!(
        settings_and_skips(&a.store).await,
        settings_and_skips(&b.store).await
    );
    assert_eq!(state(&a.store).await, state(&b.store).await);
    // Pushing again (a re-sent batch) adds nothing, and both replicas agree with
    // Postgres row for row.
    push_all(&a.store, &t).await;
    push_all(&b.store, &t).await;
    assert_eq!(remote_count(&db, "skips").await, 2);
    for r in [&a, &b] {
        let mut c = t.connect().await.unwrap();
        let report = reconcile::reconcile(&r.store, &mut c, true, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(report.differences(), 0, "{report:?}");
        let skips = report.tables.iter().find(|t| t.table == "skips").unwrap();
        assert_eq!((skips.local_rows, skips.remote_rows), (2, 2));
    }
}

#[tokio::test]
async fn settings_pushed_before_the_upgrade_get_the_defaults_and_matching_digests() {
    let db = pg::test_db().await;
    // Postgres as jobrank left it before the new settings (schema version 2).
    let mut c = target(&db.url).connect().await.unwrap();
    c.batch_execute("CREATE SCHEMA IF NOT EXISTS jobrank")
        .await
        .unwrap();
    let mut runner = replication::embedded::migrations::runner()
        .set_grouped(true)
        .set_target(refinery::Target::Version(2));
    runner.set_migration_table_name(replication::MIGRATION_TABLE);
    runner.run_async(&mut c).await.unwrap();
    // The replica's first settings version, as an older jobrank pushed it.
    let a = replica();
    let v = a
        .store
        .read(store::settings::current_settings)
        .await
        .unwrap();
    let s = &v.settings;
    let w = s.weights.as_basis_points().map(i64::from);
    c.execute(
        "INSERT INTO jobrank.settings (id, version, weight_client_engagement, weight_search_difficulty,
            weight_time_open, weight_fee_size, threshold_a, threshold_b, time_open_bands, fee_bands,
            fee_currency, cadence_days, created_at, created_by, origin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, $14)",
        &[
            &v.id,
            &s.version,
            &w[0],
            &w[1],
            &w[2],
            &w[3],
            &i64::from(s.thresholds.a_hundredths()),
            &i64::from(s.thresholds.b_hundredths()),
            &serde_json::to_string(&s.time_open_bands.days()).unwrap(),
            &serde_json::to_string(&s.fee_bands.fees()).unwrap(),
            &s.fee_currency,
            &i64::from(s.cadence_days),
            &store::ts(&v.created_at),
            &v.origin,
        ],
    )
    .await
    .unwrap();
    a.store
        .write(|tx| {
            tx.execute("UPDATE outbox SET pushed_at = created_at", [])?;
            Ok(())
        })
        .await
        .unwrap();
    // Every migration after version 2 (the settings columns, and the rank at close).
    assert_eq!(replication::migrate(&mut c).await.unwrap(), 2);
    let row = c
        .query_one(
            "SELECT stalled_after_days, score_expiry_weeks, min_scorers FROM jobrank.settings",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, Option<i64>>(1),
            row.get::<_, i64>(2)
        ),
        (14, None, 1)
    );
    let report = reconcile::reconcile(&a.store, &mut c, true, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.differences(), 0, "{report:?}");
    // A replica pulling the renumbered row again changes nothing.
    let pulled = pull_all(&a.store, &target(&db.url)).await;
    assert_eq!((pulled.read, pulled.applied), (1, 0));
}

#[tokio::test]
async fn restore_from_postgres_rebuilds_an_empty_store() {
    let db = pg::test_db().await;
    let t = migrated(&db).await;
    let a = replica();
    let scorers = seed(&a.store, 2, &[901, 902]).await;
    score(&a.store, 901, &scorers[0], [5, 4, 3, 2], t0()).await;
    score(&a.store, 902, &scorers[1], [1, 2, 3, 4], t0()).await;
    push_all(&a.store, &t).await;
    let dir = tempfile::tempdir().unwrap();
    let out = crate::helpers::run_cli(
        &["restore", "--from-supabase"],
        &[
            ("JOBRANK_DATA_DIR", dir.path().to_str().unwrap()),
            ("SUPABASE_DB_URL", &db.url),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = Store::open(dir.path()).unwrap();
    assert_eq!(state(&a.store).await, state(&b).await);
    assert_eq!(pending(&b).await, 0);
    // A second restore into a store with data is refused.
    drop(b);
    let out = crate::helpers::run_cli(
        &["restore", "--from-supabase"],
        &[
            ("JOBRANK_DATA_DIR", dir.path().to_str().unwrap()),
            ("SUPABASE_DB_URL", &db.url),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds data"));
}

#[tokio::test]
async fn cli_sync_and_reconcile_report_and_fail_with_the_reason() {
    let db = pg::test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let env = [
        ("JOBRANK_DATA_DIR", data),
        ("SUPABASE_DB_URL", db.url.as_str()),
    ];
    let out = crate::helpers::run_cli(&["migrate", "--supabase"], &env, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let s = Store::open(dir.path()).unwrap();
        let scorers = seed(&s, 1, &[1001]).await;
        score(&s, 1001, &scorers[0], [3, 3, 3, 3], t0()).await;
    }
    let out = crate::helpers::run_cli(&["sync", "supabase"], &env, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("pushed"));
    assert_eq!(remote_count(&db, "submissions").await, 1);
    let out = crate::helpers::run_cli(&["reconcile"], &env, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("0 differences found, 0 repaired"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("reconciling submissions"));
    // Postgres unreachable: non-zero exit, the reason, and never the password.
    // Nothing listens on port 1 (a privileged port no test server takes).
    let dead = "postgres://jobrank:hunter2secret@127.0.0.1:1/postgres?sslmode=disable";
    let out = crate::helpers::run_cli(
        &["sync", "supabase"],
        &[("JOBRANK_DATA_DIR", data), ("SUPABASE_DB_URL", dead)],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot be reached"), "{stderr}");
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    // Supabase's transaction pooler is refused with an explanation.
    let pooler =
        "postgres://postgres.abc:hunter2secret@aws-0-eu-west-1.pooler.supabase.com:6543/postgres";
    let out = crate::helpers::run_cli(
        &["sync", "supabase"],
        &[("JOBRANK_DATA_DIR", data), ("SUPABASE_DB_URL", pooler)],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("transaction pooler") && stderr.contains("session pooler"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    let runs = Store::open(dir.path())
        .unwrap()
        .read(|c| store::sync_runs::latest_ok_run(c, "supabase_push"))
        .await
        .unwrap();
    assert!(runs.is_some());
}

#[tokio::test]
async fn tls_to_a_self_signed_server_is_verified_with_sslrootcert() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=jobrank test root",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.crt",
    ]);
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=someone else",
        "-keyout",
        "other.key",
        "-out",
        "other.crt",
    ]);
    let ssl_server = PgServer::start_tls(
        &std::fs::read(d.join("server.crt")).unwrap(),
        &std::fs::read(d.join("server.key")).unwrap(),
    )
    .await;
    let url = |mode: &str, root: &str| {
        format!(
            "postgres://postgres:pw@localhost:{}/postgres?sslmode={mode}{root}",
            ssl_server.port
        )
    };
    let ca = d.join("ca.crt");
    let ok = target(&url(
        "verify-full",
        &format!("&sslrootcert={}", ca.display()),
    ));
    let c = ok.connect().await.expect("verified TLS connection");
    let ssl: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(ssl);
    // require: encrypted without verification.
    target(&url("require", ""))
        .connect()
        .await
        .expect("require connects");
    // The wrong root is refused.
    let other = d.join("other.crt");
    let e = target(&url(
        "verify-full",
        &format!("&sslrootcert={}", other.display()),
    ))
    .connect()
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cannot be reached") && e.to_lowercase().contains("certificate"),
        "{e}"
    );
    assert!(!e.contains("pw@"));
}

#[tokio::test]
async fn two_running_jobrank_servers_converge_through_postgres_despite_an_outage() {
    let server = Arc::new(PgServer::start().await);
    let db = server.create_db().await;
    let extra = [
        ("SUPABASE_DB_URL", db.url.clone()),
        ("JOBRANK_SUPABASE_PULL_INTERVAL", "1s".to_string()),
    ];
    let a = crate::helpers::spawn_app_with(&extra).await;
    let b = crate::helpers::spawn_app_with(&extra).await;
    // Start-up migrated the schema.
    assert!(
        db.count("SELECT count(*) FROM jobrank.refinery_schema_history")
            .await
            >= 1
    );
    let scorers = seed(&a.store, 2, &[1101, 1102]).await;
    let bs = b.store.clone();
    eventually("B has A's users and jobs", || {
        let bs = bs.clone();
        async move {
            bs.read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM jobs)",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )?)
            })
            .await
            .unwrap()
                == (2, 2)
        }
    })
    .await;
    score(&a.store, 1101, &scorers[0], [4, 4, 4, 4], t0()).await;
    score(
        &b.store,
        1101,
        &scorers[1],
        [2, 3, 2, 3],
        t0() + Duration::minutes(1),
    )
    .await;
    // Postgres goes away: both keep accepting scores.
    let srv = server.clone();
    tokio::task::spawn_blocking(move || srv.stop())
        .await
        .unwrap();
    score(
        &a.store,
        1102,
        &scorers[0],
        [5, 5, 5, 5],
        t0() + Duration::minutes(2),
    )
    .await;
    score(
        &b.store,
        1102,
        &scorers[1],
        [1, 1, 1, 1],
        t0() + Duration::minutes(3),
    )
    .await;
    score(
        &b.store,
        1101,
        &scorers[1],
        [5, 4, 5, 4],
        t0() + Duration::minutes(4),
    )
    .await;
    // The replicas notice the outage: something answers on PostgreSQL's port and hangs
    // up at once, until the replicas' pushers and pullers (every second) have tried
    // four times, each attempt failing.
    let port_holder = tokio::net::TcpListener::bind(("127.0.0.1", server.port))
        .await
        .expect("PostgreSQL's port is free while it is stopped");
    for _ in 0..4 {
        let (connection, _) = tokio::time::timeout(crate::helpers::WAIT, port_holder.accept())
            .await
            .expect("the replicas try to reach PostgreSQL while it is down")
            .unwrap();
        drop(connection);
    }
    drop(port_holder);
    server.restart().await;
    let (sa, sb) = (a.store.clone(), b.store.clone());
    eventually(
        "both replicas hold the same data and ranks, all pushed",
        || {
            let (sa, sb) = (sa.clone(), sb.clone());
            async move {
                pending(&sa).await == 0
                    && pending(&sb).await == 0
                    && state(&sa).await == state(&sb).await
                    && sa
                        .read(|c| {
                            Ok(c.query_row("SELECT count(*) FROM submissions", [], |r| {
                                r.get::<_, i64>(0)
                            })?)
                        })
                        .await
                        .unwrap()
                        == 5
            }
        },
    )
    .await;
    assert_eq!(remote_count(&db, "submissions").await, 5);
    let t = target(&db.url);
    for s in [&a.store, &b.store] {
        let mut c = t.connect().await.unwrap();
        let r = reconcile::reconcile(s, &mut c, true, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(r.differences(), 0, "{r:?}");
    }
    for kind in ["supabase_push", "supabase_pull"] {
        let run = a
            .store
            .read(move |c| store::sync_runs::latest_ok_run(c, kind))
            .await
            .unwrap();
        assert!(run.is_some(), "{kind} runs are logged");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn check_reaches_supabase_and_says_what_works() {
    let db = pg::test_db().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let env = [
        ("JOBRANK_DATA_DIR", data),
        ("SUPABASE_DB_URL", db.url.as_str()),
    ];
    let out = crate::helpers::run_cli(&["check"], &env, None);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("supabase: ok") && text.contains("migrate --supabase"),
        "{text}"
    );
    let out = crate::helpers::run_cli(&["migrate", "--supabase"], &env, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = crate::helpers::run_cli(&["check"], &env, None);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("the jobrank schema is there"), "{text}");

    let unreachable = "postgresql://jobrank:pg-secret-pw@127.0.0.1:1/postgres?sslmode=disable";
    let out = crate::helpers::run_cli(
        &["check"],
        &[("JOBRANK_DATA_DIR", data), ("SUPABASE_DB_URL", unreachable)],
        None,
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("supabase: FAILED"), "{all}");
    assert!(!all.contains("pg-secret-pw"), "the password leaked: {all}");
}
