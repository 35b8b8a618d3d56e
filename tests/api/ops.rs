//! Operations: readiness, metrics, request ids, backups and restores under load and
//! on bad input, secrets kept out of logs, graceful shutdown of the real binary. The
//! deploy kit itself (unit, Caddyfile, install and upgrade scripts) is tested by
//! scripts/check-deploy, which scripts/test runs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jobrank::domain::FactorScores;
use jobrank::store::submissions::NewSubmission;
use jobrank::store::{self, Store, backup, jobs, sync_runs, users};
use rusqlite::Connection;

use crate::helpers::{
    eventually, run_cli, serve_process, spawn_app, spawn_app_with, stderr, stdout,
};

// ---------- helpers ----------

/// A tmpfs mounted for one test (the test runs as root, as CI does); unmounted on drop.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, options: &str) -> Tmpfs {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "mounting a tmpfs at {} failed (these tests run as root): {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs {
            path: path.to_owned(),
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

async fn demo_store(dir: &Path) -> Store {
    let d = dir.to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&d))
        .await
        .unwrap()
        .unwrap();
    jobrank::cli::fill_demo(&store).await.unwrap();
    store
}

fn integrity(path: &Path) -> String {
    let c = Connection::open(path).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn counts(path: &Path) -> (i64, i64, i64) {
    let c = Connection::open(path).unwrap();
    let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        q("SELECT COUNT(*) FROM users"),
        q("SELECT COUNT(*) FROM jobs"),
        q("SELECT COUNT(*) FROM submissions"),
    )
}

// ---------- readiness, metrics, request ids ----------

#[tokio::test]
async fn readyz_reports_the_store_ready_and_outside_services_without_failing() {
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", "rf-test-key".into()),
        // Nothing listens there: the start-up sync fails fast, on loopback.
        ("RECRUITERFLOW_BASE_URL", "http://127.0.0.1:1".into()),
        ("SUPABASE_DB_URL", "postgresql://u:pw@127.0.0.1:1/db".into()),
    ])
    .await;
    // Recruiterflow's last sync failed, Supabase never pushed: still ready.
    app.store
        .write(|tx| {
            let id = sync_runs::start_run(tx, "recruiterflow", store::now())?;
            let totals = sync_runs::RunTotals {
                errors: 1,
                message: Some("Recruiterflow answered 503".into()),
                ..Default::default()
            };
            sync_runs::finish_run(tx, id, false, &totals, store::now())
        })
        .await
        .unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-request-id").is_some());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["store_writable"], true);
    assert_eq!(body["schema_version"], body["schema_expected"]);
    // The latest finished run failed (ours, or the start-up sync that cannot connect).
    assert_eq!(body["recruiterflow"]["state"], "failing", "{body}");
    assert!(body["recruiterflow"]["message"].is_string(), "{body}");
    assert_eq!(body["supabase"]["state"], "never_ran", "{body}");
    app.stop().await;

    let plain = spawn_app().await;
    let body: serde_json::Value = plain.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["recruiterflow"]["state"], "not_configured");
    assert_eq!(body["supabase"]["state"], "not_configured");
    plain.stop().await;
}

#[tokio::test]
async fn readyz_is_503_when_the_store_cannot_take_writes() {
    let app = spawn_app().await;
    // Another process holds the write lock for longer than the store's busy timeout.
    let db = app.data_dir.path().join(store::DB_FILE);
    let blocker = Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["store_writable"], false);
    let problems = body["problems"].to_string();
    assert!(problems.contains("not writable"), "{problems}");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_per_matched_route_and_report_queues_and_ages() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    assert_eq!(app.get("/no/such/page/12345").await.status(), 404);
    app.store
        .write(|tx| {
            tx.execute(
                "INSERT INTO webhook_inbox (event_key, event_type, body, received_at, status, next_attempt_at)
                 VALUES ('e1', 'job.updated', '{}', ?1, 'pending', ?1),
                        ('e2', 'job.updated', '{}', ?1, 'done', ?1)",
                [store::ts(&store::now())],
            )?;
            let at = store::now() - chrono::Duration::seconds(120);
            let id = sync_runs::start_run(tx, "recruiterflow", at)?;
            sync_runs::finish_run(tx, id, true, &Default::default(), at)?;
            tx.execute("UPDATE outbox SET dead = 1 WHERE seq = (SELECT MIN(seq) FROM outbox)", [])?;
            Ok(())
        })
        .await
        .unwrap();
    let (pending, dead) = app
        .store
        .read(|c| {
            Ok((
                store::outbox::pending_count(c)?,
                store::outbox::dead_count(c)?,
            ))
        })
        .await
        .unwrap();
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = res.text().await.unwrap();
    let value = |prefix: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(
        value(r#"jobrank_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        3.0
    );
    assert_eq!(
        value(r#"jobrank_http_requests_total{method="GET",route="unmatched",status="404"}"#),
        1.0
    );
    assert_eq!(
        value(
            r#"jobrank_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}"#
        ),
        3.0
    );
    assert!(text.contains(r#"jobrank_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}"#)
        || text.contains(r#"route="/healthz",status="200",le="0.005"}"#), "{text}");
    assert!(!text.contains("12345"), "raw paths must not become labels");
    assert_eq!(value("jobrank_outbox_depth "), pending as f64);
    assert_eq!(value("jobrank_outbox_dead_letters "), dead as f64);
    assert_eq!(dead, 1);
    assert_eq!(value("jobrank_webhook_inbox_depth "), 1.0);
    let age = value("jobrank_recruiterflow_last_sync_age_seconds ");
    assert!((119.0..200.0).contains(&age), "age {age}");
    assert!(
        text.contains("jobrank_supabase_last_push_age_seconds +Inf")
            || text.contains("jobrank_supabase_last_push_age_seconds inf"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn each_request_gets_an_id_and_a_given_id_is_kept() {
    let app = spawn_app().await;
    let a = app.get("/healthz").await;
    let b = app.get("/healthz").await;
    let id_a = a.headers()["x-request-id"].to_str().unwrap().to_owned();
    let id_b = b.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id_a, id_b);
    assert_eq!(id_a.len(), 36, "a UUID: {id_a}");
    let c = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "from-caddy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(c.headers()["x-request-id"], "from-caddy-42");
    app.stop().await;
}

// ---------- backups ----------

/// Backups taken while two writers record scores restore to a consistent store: every
/// submission has its outbox row and every job's stored rank is what its submissions give.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_while_scores_are_written_restores_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(dir.path()).await;
    let (scorers, open_jobs) = store
        .read(|c| Ok((users::list_scorers(c)?, jobs::list_open_jobs(c)?)))
        .await
        .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Submissions written so far by both writers, for the backups to wait on.
    let total = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for w in 0..2usize {
        let store = store.clone();
        let stop = stop.clone();
        let total = total.clone();
        let scorers = scorers.clone();
        let job_ids: Vec<i64> = open_jobs.iter().map(|j| j.id).collect();
        writers.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let scorer = scorers[(n + w) % scorers.len()].id.clone();
                let job_id = job_ids[(n * 7 + w) % job_ids.len()];
                let v = (n % 5) as i64 + 1;
                let new = NewSubmission {
                    job_id,
                    scorer_id: scorer,
                    scores: FactorScores::from_values([v, 6 - v, v, 3]).unwrap(),
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: Some(format!("concurrent writer {w} #{n}")),
                };
                store
                    .write(move |tx| {
                        jobrank::store::commands::submit_score(tx, &new, store::now()).map(|_| ())
                    })
                    .await
                    .unwrap();
                n += 1;
                total.fetch_add(1, Ordering::SeqCst);
            }
            n
        }));
    }
    let mut backups = Vec::new();
    for i in 0..3 {
        // Each backup is taken after at least ten more submissions were written.
        let target = (i + 1) * 10;
        eventually(&format!("the writers wrote {target} submissions"), || {
            let total = total.clone();
            async move { total.load(Ordering::SeqCst) >= target }
        })
        .await;
        let dest = dir.path().join(format!("during-{i}.sqlite3"));
        let d = dir.path().to_owned();
        let p = dest.clone();
        tokio::task::spawn_blocking(move || backup::backup_data_dir(&d, &p))
            .await
            .unwrap()
            .unwrap();
        backups.push(dest);
    }
    stop.store(true, Ordering::Relaxed);
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert!(written > 20, "the writers wrote only {written} submissions");

    let mut last_count = 0;
    for b in &backups {
        let restored = tempfile::tempdir().unwrap();
        let out = run_cli(
            &[
                "--data-dir",
                restored.path().to_str().unwrap(),
                "restore",
                b.to_str().unwrap(),
            ],
            &[],
            None,
        );
        assert!(out.status.success(), "restore failed: {}", stderr(&out));
        let r = restored.path().to_owned();
        let (ours, with_outbox, rank_changes) = tokio::task::spawn_blocking(move || {
            let s = Store::open(&r).unwrap();
            let consistency = s
                .read_blocking(|c| {
                    let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
                    Ok((
                        q("SELECT COUNT(*) FROM submissions WHERE comment LIKE 'concurrent writer%'")?,
                        q("SELECT COUNT(*) FROM submissions s JOIN outbox o
                             ON o.table_name = 'submissions' AND o.row_id = s.id
                           WHERE s.comment LIKE 'concurrent writer%'")?,
                    ))
                })
                .unwrap();
            // Recomputing every rank changes nothing: ranks match their submissions.
            let changed = s
                .write_blocking(store::commands::rerank_all_jobs)
                .unwrap()
                .rank_changes
                .len();
            (consistency.0, consistency.1, changed)
        })
        .await
        .unwrap();
        assert_eq!(
            ours,
            with_outbox,
            "a submission lost its outbox row in {}",
            b.display()
        );
        assert_eq!(
            rank_changes,
            0,
            "stored ranks disagree with submissions in {}",
            b.display()
        );
        assert!(ours >= last_count, "later backups hold at least as much");
        last_count = ours;
    }
    assert!(
        last_count > 0,
        "the backups were taken while scores were written"
    );
}

#[tokio::test]
async fn the_nightly_backup_is_written_once_a_day_and_old_ones_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let _store = demo_store(dir.path()).await;
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    // Thirty days of old scheduled backups, plus files retention must never touch.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    for i in 1..=30 {
        let day = today - chrono::Duration::days(i);
        std::fs::write(backup::daily_path(dir.path(), day), b"old").unwrap();
    }
    std::fs::write(
        backups.join("pre-upgrade-20260101T000000Z.sqlite3"),
        b"keep",
    )
    .unwrap();
    std::fs::write(backups.join("manual.sqlite3"), b"keep").unwrap();
    let d = dir.path().to_owned();
    let taken = tokio::task::spawn_blocking(move || backup::scheduled_backup(&d, today, 7, 4))
        .await
        .unwrap()
        .unwrap()
        .expect("today's backup is taken");
    assert_eq!(taken, backup::daily_path(dir.path(), today));
    assert_eq!(integrity(&taken), "ok");
    let mut names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let daily: Vec<&String> = names.iter().filter(|n| n.starts_with("jobrank-")).collect();
    assert_eq!(daily.len(), 11, "7 daily + 4 weekly: {names:?}");
    assert!(names.contains(&"pre-upgrade-20260101T000000Z.sqlite3".to_string()));
    assert!(names.contains(&"manual.sqlite3".to_string()));
    // A second run the same day takes nothing new.
    let d = dir.path().to_owned();
    let again = tokio::task::spawn_blocking(move || backup::scheduled_backup(&d, today, 7, 4))
        .await
        .unwrap()
        .unwrap();
    assert!(again.is_none());
}

#[tokio::test]
async fn a_full_disk_during_a_backup_fails_clearly_and_leaves_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let _store = demo_store(dir.path()).await;
    let db = dir.path().join(store::DB_FILE);
    let before = counts(&db);
    // The backups folder is a 64 KiB disk; the store is several times larger.
    let full = Tmpfs::mount(&dir.path().join("backups"), "size=64k");
    let d = dir.path().to_owned();
    let today = chrono::Local::now().date_naive();
    let err = tokio::task::spawn_blocking(move || backup::scheduled_backup(&d, today, 7, 4))
        .await
        .unwrap()
        .expect_err("a backup onto a full disk must fail");
    let msg = err.to_string();
    assert!(msg.contains("backup failed"), "{msg}");
    assert!(
        msg.to_lowercase().contains("full"),
        "the message names the cause: {msg}"
    );
    assert!(
        msg.contains("jobrank-"),
        "the message names the file: {msg}"
    );
    let left: Vec<_> = std::fs::read_dir(&full.path).unwrap().collect();
    assert!(left.is_empty(), "partial files were left: {left:?}");
    assert_eq!(counts(&db), before);
    assert_eq!(integrity(&db), "ok");
    // The command line says the same, with exit code 1.
    let dest = full.path.join("by-hand.sqlite3");
    let out = run_cli(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "backup",
            dest.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).to_lowercase().contains("full"),
        "{}",
        stderr(&out)
    );
    assert!(!dest.exists());
    drop(full);
}

#[tokio::test]
async fn restoring_a_corrupt_backup_is_refused_and_the_store_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(demo_store(dir.path()).await);
    let db = dir.path().join(store::DB_FILE);
    let before = counts(&db);
    let good = dir.path().join("good.sqlite3");
    let out = run_cli(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "backup",
            good.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Corrupt a copy in the middle of its pages.
    let mut bytes = std::fs::read(&good).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 8192] {
        *b = 0x5A;
    }
    let corrupt = dir.path().join("corrupt.sqlite3");
    std::fs::write(&corrupt, &bytes).unwrap();
    let garbage = dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, b"this is not a database at all, just text").unwrap();
    for bad in [&corrupt, &garbage] {
        let out = run_cli(
            &[
                "--data-dir",
                dir.path().to_str().unwrap(),
                "restore",
                bad.to_str().unwrap(),
            ],
            &[],
            None,
        );
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(bad.to_str().unwrap()), "names the file: {err}");
        assert!(err.contains("corrupt"), "says why: {err}");
        assert_eq!(counts(&db), before);
        assert_eq!(integrity(&db), "ok");
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("restoring") || n.contains("before-restore"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

// ---------- start-up failures ----------

#[tokio::test]
async fn a_port_already_taken_is_a_clear_message_naming_jobrank_bind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_cli(
        &["--data-dir", dir.path().to_str().unwrap(), "serve"],
        &[("JOBRANK_BIND", &addr)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("JOBRANK_BIND"), "{err}");
    assert!(err.contains(&addr), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn an_unusable_data_directory_is_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // A path through a regular file can never be created.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("data");
    let out = run_cli(
        &["--data-dir", under_file.to_str().unwrap(), "serve"],
        &[("JOBRANK_BIND", "127.0.0.1:0")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(under_file.to_str().unwrap()), "{err}");
    assert!(err.contains("cannot"), "{err}");
    // A read-only file system (root ignores permission bits, not a read-only mount).
    let ro = Tmpfs::mount(&dir.path().join("ro"), "ro,size=64k");
    let out = run_cli(
        &["--data-dir", ro.path.to_str().unwrap(), "serve"],
        &[("JOBRANK_BIND", "127.0.0.1:0")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(ro.path.to_str().unwrap()), "{err}");
    assert!(
        err.contains("Read-only file system") || err.contains("cannot write"),
        "{err}"
    );
    // A missing data directory is created.
    let fresh = dir.path().join("new").join("data");
    let out = run_cli(
        &["--data-dir", fresh.to_str().unwrap(), "migrate"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fresh.join(store::DB_FILE).is_file());
}

// ---------- logs ----------

/// The real binary, with every secret set and debug logging, is exercised on every
/// route (including a webhook path carrying the token); no log line holds a secret.
#[tokio::test]
async fn no_secret_appears_in_any_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let api_key = "rfkey-SECRET-0f3c9a7e41d2";
    let webhook_secret = "whsec-SECRET-77ab12cd34ef";
    let token = "tok0SECRET0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let db_password = "pgpw-SECRET-5e6f7a8b";
    let db_url =
        format!("postgresql://postgres.ref:{db_password}@127.0.0.1:1/postgres?sslmode=disable");
    for format in ["text", "json"] {
        let mut server = serve_process(
            dir.path(),
            &[
                ("RUST_LOG", "debug"),
                ("JOBRANK_LOG_FORMAT", format),
                ("RECRUITERFLOW_API_KEY", api_key),
                ("RECRUITERFLOW_WEBHOOK_SECRET", webhook_secret),
                ("RECRUITERFLOW_WEBHOOK_TOKEN", token),
                ("RECRUITERFLOW_BASE_URL", "http://127.0.0.1:1"),
                ("SUPABASE_DB_URL", &db_url),
            ],
        );
        jobrank::install_crypto();
        let client = reqwest::Client::new();
        for path in [
            "/healthz".to_string(),
            "/readyz".to_string(),
            "/metrics".to_string(),
            format!("/webhooks/recruiterflow/{token}"),
            format!("/no-such-page?key={api_key}"),
        ] {
            let _ = client
                .post(server.url(&path))
                .header("x-recruiterflow-signature", webhook_secret)
                .body(format!("{{\"secret\":\"{webhook_secret}\"}}"))
                .send()
                .await
                .unwrap();
            let _ = client.get(server.url(&path)).send().await.unwrap();
        }
        server.sigterm();
        assert_eq!(server.wait_exit().code(), Some(0));
        let log = server.output();
        assert!(log.lines().count() > 5, "debug logging was on: {log}");
        assert!(log.contains("request"), "requests were logged: {log}");
        for secret in [api_key, webhook_secret, token, db_password] {
            for line in log.lines() {
                assert!(
                    !line.contains(secret),
                    "a secret leaked into the {format} log: {line}"
                );
            }
        }
        if format == "json" {
            for line in log.lines().filter(|l| l.starts_with('{')) {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            }
        }
    }
}

// ---------- graceful shutdown ----------

/// SIGTERM while requests wait on the store: the listener closes at once, the waiting
/// requests still get their answers, the WAL is checkpointed and the process exits 0
/// within 10 seconds. Each step waits for the server to say (in its log) or show that
/// the previous one happened, never for a fixed time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_requests_checkpoints_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    drop(demo_store(dir.path()).await);
    // tower_http's debug lines say when each request reached the handlers.
    let mut server = serve_process(dir.path(), &[("RUST_LOG", "info,tower_http=debug")]);
    jobrank::install_crypto();
    let client = reqwest::Client::new();
    // Hold the store's write lock so /readyz requests stay in flight.
    let db = dir.path().join(store::DB_FILE);
    let blocker = Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut in_flight = Vec::new();
    for _ in 0..4 {
        let c = client.clone();
        let url = server.url("/readyz");
        in_flight.push(tokio::spawn(async move { c.get(url).send().await }));
    }
    let started = "started processing request";
    tokio::task::block_in_place(|| server.wait_for_output(started, 4));
    let stopping = Instant::now();
    server.sigterm();
    tokio::task::block_in_place(|| server.wait_for_output("shutdown requested", 1));
    let addr = server.addr;
    eventually("the listener is closed after SIGTERM", || async move {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;
    assert!(server.running(), "exited before finishing requests");
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    for r in in_flight {
        let res = r.await.unwrap().expect("an in-flight request was cut off");
        assert_eq!(res.status(), 200, "in-flight request answered");
    }
    let code = tokio::task::block_in_place(|| server.wait_exit()).code();
    assert_eq!(code, Some(0), "log:\n{}", server.output());
    assert!(stopping.elapsed() < Duration::from_secs(10));
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the WAL was not checkpointed"
    );
    assert!(
        server.output().contains("jobrank stopped"),
        "{}",
        server.output()
    );
    assert_eq!(integrity(&db), "ok");
}
