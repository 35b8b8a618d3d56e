//! Hardening against made-up input: metrics labels stay bounded whatever clients send.

use std::sync::{Arc, Mutex};

use jobrank::domain::{FactorScores, Role};
use jobrank::replication::push::{self, PushOptions};
use jobrank::replication::{self, PgTarget};
use jobrank::store::{self, Store, commands, jobs, outbox, pipeline, submissions, users};
use reqwest::Method;
use secrecy::SecretString;

use crate::api_json::api_token;
use crate::fake_recruiterflow::{API_KEY, FakeJob, FakeRecruiterflow, Fault};
use crate::helpers::{TestApp, jobrank_command, run_cli, spawn_app, spawn_app_with, stderr};
use crate::pg;
use crate::recruiterflow::{client_for, fast_options};
use crate::web_support::{add_user, sign_in};

/// The request series `/metrics` exposes now, and the size of the whole text.
async fn request_series(app: &TestApp) -> (usize, usize) {
    let text = app.get("/metrics").await.text().await.unwrap();
    let series = text
        .lines()
        .filter(|l| l.starts_with("jobrank_http_requests_total{"))
        .count();
    (series, text.len())
}

/// Sends `n` requests with made-up methods (and some with standard ones) to real
/// routes and to random paths.
async fn scan(app: &TestApp, round: usize, n: usize) {
    for i in 0..n {
        let method = Method::from_bytes(format!("X{round}M{i}").as_bytes()).unwrap();
        let path = match i % 3 {
            0 => "/".to_string(),
            1 => "/healthz".to_string(),
            _ => format!("/scan/{round}/{i}/{}", uuid::Uuid::new_v4()),
        };
        let res = app
            .client
            .request(method, app.url(&path))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        if i % 50 == 0 {
            let res = app
                .client
                .get(app.url(&format!("/r{round}x{i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404);
        }
    }
}

#[tokio::test]
async fn made_up_methods_and_random_paths_leave_the_metrics_bounded() {
    let app = spawn_app().await;
    scan(&app, 1, 1500).await;
    let (series1, size1) = request_series(&app).await;
    scan(&app, 2, 1500).await;
    let (series2, size2) = request_series(&app).await;
    // A second round of 1,500 new methods and paths adds no series (only the
    // `/metrics` scrape itself, counted once).
    assert!(series2 <= series1 + 1, "series {series1} -> {series2}");
    assert!(series1 < 20, "{series1} request series after 1,500 scans");
    // The text grows only by digits of the counts.
    assert!(
        size2 < size1 + 2_000,
        "metrics text {size1} -> {size2} bytes"
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("X1M"), "a made-up method became a label");
    assert!(!text.contains("/scan/"), "a raw path became a label");
    app.stop().await;
}

/// A store with one row of every replicated kind (user, job, settings, submission,
/// rank history, pipeline snapshot), pushed to `db`.
async fn pushed_store(db: &pg::TestDb) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store
        .write(|tx| {
            let now = store::now();
            let u = users::insert_user(
                tx,
                &users::NewUser {
                    email: "rls@agency.test".into(),
                    name: "Row Level".into(),
                    role: Role::AccountManager,
                    password_hash: "x".into(),
                    scores: true,
                },
                now,
            )?;
            let _ = commands::upsert_job(
                tx,
                &jobs::JobUpsert {
                    id: 77,
                    title: "Head of Data".into(),
                    client: "Acme".into(),
                    status: "Open".into(),
                    is_open: true,
                    opened_at: Some(now - chrono::Duration::days(3)),
                    fee_minor: Some(2_000_000),
                    fee_currency: Some("GBP".into()),
                    hiring_team: vec!["Ann Lee".into()],
                    description_html: Some("<p>Data</p>".into()),
                },
                now,
            )?;
            pipeline::record_snapshot(
                tx,
                77,
                &[pipeline::StageCount {
                    stage: "Sourced".into(),
                    stage_order: 0,
                    candidates: 3,
                    avg_days_in_stage: Some(2.5),
                }],
                now,
            )?;
            let _ = commands::submit_score(
                tx,
                &submissions::NewSubmission {
                    job_id: 77,
                    scorer_id: u.id.clone(),
                    scores: FactorScores::from_values([3, 4, 2, 5]).unwrap(),
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: Some("fine".into()),
                },
                now,
            )?;
            store::skips::insert_skip(tx, 77, &u.id, "new to the client", now)?;
            Ok(())
        })
        .await
        .unwrap();
    let t = PgTarget::parse(&SecretString::from(db.url.clone())).unwrap();
    let mut c = t.connect().await.unwrap();
    replication::migrate(&mut c).await.unwrap();
    let report = push::push(&store, &mut c, &PushOptions::default())
        .await
        .unwrap();
    assert_eq!(report.dead, 0, "{report:?}");
    (dir, store)
}

#[tokio::test]
async fn every_jobrank_table_in_postgres_has_row_level_security_and_supabase_roles_read_nothing() {
    let db = pg::test_db().await;
    let (_dir, _store) = pushed_store(&db).await;
    let c = db.client().await;
    let tables: Vec<(String, bool)> = c
        .query(
            "SELECT c.relname, c.relrowsecurity FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'jobrank' AND c.relkind IN ('r', 'p') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        tables.iter().any(|(t, _)| t == "refinery_schema_history"),
        "{tables:?}"
    );
    assert!(tables.len() >= 7, "{tables:?}");
    // The roles Supabase gives its REST API, as Supabase creates them (NOLOGIN, no
    // BYPASSRLS), granted what a careless GRANT would give them.
    c.batch_execute(
        "DO $$ BEGIN
             CREATE ROLE anon NOLOGIN NOINHERIT;
         EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         DO $$ BEGIN
             CREATE ROLE authenticated NOLOGIN NOINHERIT;
         EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT USAGE ON SCHEMA jobrank TO anon, authenticated;
         GRANT SELECT ON ALL TABLES IN SCHEMA jobrank TO anon, authenticated;",
    )
    .await
    .unwrap();
    let mut unprotected = Vec::new();
    for (table, rls) in &tables {
        if !rls {
            unprotected.push(format!("{table}: row level security is off"));
        }
        let owner_sees: i64 = c
            .query_one(&format!("SELECT count(*) FROM jobrank.{table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert!(
            owner_sees > 0,
            "jobrank.{table} is empty: the test proves nothing"
        );
        for role in ["anon", "authenticated"] {
            c.batch_execute(&format!("SET ROLE {role}")).await.unwrap();
            let seen: i64 = c
                .query_one(&format!("SELECT count(*) FROM jobrank.{table}"), &[])
                .await
                .unwrap()
                .get(0);
            c.batch_execute("RESET ROLE").await.unwrap();
            if seen > 0 {
                unprotected.push(format!("{role} reads {seen} rows of jobrank.{table}"));
            }
        }
    }
    assert!(unprotected.is_empty(), "{unprotected:#?}");
}

/// A server on another loopback port that records the `RF-Api-Key` header of every
/// request it gets (None when a request came without one) and answers a job.
async fn key_recorder() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(
                headers
                    .get("rf-api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            );
            axum::Json(serde_json::json!({"id": 1, "title": "Stolen", "is_open": true}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn the_recruiterflow_client_follows_no_redirect_and_the_key_stays_home() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let (elsewhere, seen) = key_recorder().await;
    let client = client_for(&fake, fast_options());
    for to in [
        format!("{elsewhere}/api/external/job"),
        // Same host, same port: still refused (jobrank follows no redirect at all).
        format!("{}/api/external/job", fake.base_url()),
    ] {
        fake.push_fault("/api/external/job", Fault::Redirect(to.clone()));
        let err = client.get_job(1).await.expect_err("a redirect is refused");
        let msg = err.to_string();
        assert!(msg.contains("redirect"), "{msg}");
        assert!(msg.contains("/api/external/job"), "{msg}");
        assert!(!msg.contains(API_KEY), "{msg}");
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "the other server was reached: {:?}",
        seen.lock().unwrap()
    );
    // Without the fault the same call works.
    assert_eq!(client.get_job(1).await.unwrap().id, 1);
}

#[test]
fn a_non_https_recruiterflow_base_url_is_refused_unless_loopback() {
    for bad in [
        "http://api.recruiterflow.com",
        "http://10.0.0.5:8080",
        "http://recruiterflow.example",
        "ftp://api.recruiterflow.com",
    ] {
        let out = run_cli(&["check"], &[("RECRUITERFLOW_BASE_URL", bad)], None);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("RECRUITERFLOW_BASE_URL"), "{bad}: {err}");
        assert!(err.contains("https"), "{bad}: {err}");
        let dir = tempfile::tempdir().unwrap();
        let out = run_cli(
            &["serve", "--bind", "127.0.0.1:0"],
            &[
                ("RECRUITERFLOW_BASE_URL", bad),
                ("JOBRANK_DATA_DIR", dir.path().to_str().unwrap()),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("RECRUITERFLOW_BASE_URL"));
    }
    for good in [
        "https://api.recruiterflow.com",
        "http://127.0.0.1:9",
        "http://localhost:9",
        "http://[::1]:9",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut layers = jobrank::config::Layers::default();
        layers.set("RECRUITERFLOW_BASE_URL", good.to_string(), "test");
        layers.set(
            "JOBRANK_DATA_DIR",
            dir.path().to_str().unwrap().to_string(),
            "test",
        );
        assert!(layers.build().is_ok(), "{good} refused");
    }
}

/// The binary run through `sh` with umask 000, the most permissive, so any file it
/// creates without an explicit mode would be readable by everyone.
fn jobrank_umask_000(args: &[&str]) -> std::process::Command {
    let mut cmd = jobrank_command();
    let program = cmd.get_program().to_owned();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(program)
        .args(args);
    // The same cleared environment as jobrank_command().
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    cmd = sh;
    cmd
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn backups_and_the_store_are_private_and_a_backup_deletes_nothing_else() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let mut server = jobrank_umask_000(&["serve", "--bind", "127.0.0.1:0", "--data-dir", data_s])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log says when it serves; the rest of the log is drained in the background.
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut serving = false;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if line.contains("jobrank is serving") {
            serving = true;
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    assert!(serving, "the server did not start");
    // An unrelated file that happens to share the backup's stem.
    let notes = dir.path().join("notes.partial");
    std::fs::write(&notes, "my own notes").unwrap();
    let dest = dir.path().join("notes.db");
    let out = jobrank_umask_000(&["--data-dir", data_s, "backup", dest.to_str().unwrap()])
        .output()
        .unwrap();
    let mut problems = Vec::new();
    if !out.status.success() {
        problems.push(format!(
            "backup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    match std::fs::read_to_string(&notes) {
        Ok(t) if t == "my own notes" => {}
        other => problems.push(format!("notes.partial was touched: {other:?}")),
    }
    if dest.exists() && mode(&dest) != 0o600 {
        problems.push(format!("backup mode {:o}", mode(&dest)));
    }
    // The store, its WAL and shared-memory files and the lock, while the server runs.
    for name in [
        "jobrank.sqlite3",
        "jobrank.sqlite3-wal",
        "jobrank.sqlite3-shm",
        "jobrank.lock",
    ] {
        let p = data.join(name);
        if !p.exists() {
            problems.push(format!("{name} missing"));
        } else if mode(&p) != 0o600 {
            problems.push(format!("{name} mode {:o}", mode(&p)));
        }
    }
    if mode(&data) & 0o077 != 0 {
        problems.push(format!("data directory mode {:o}", mode(&data)));
    }
    // No temporary file is left beside the backup.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "data" && n != "notes.db" && n != "notes.partial")
        .collect();
    if !left.is_empty() {
        problems.push(format!("left behind: {left:?}"));
    }
    // A second backup to the same path is refused and changes nothing.
    let before = std::fs::read(&dest).unwrap_or_default();
    let out = jobrank_umask_000(&["--data-dir", data_s, "backup", dest.to_str().unwrap()])
        .output()
        .unwrap();
    if out.status.success() || std::fs::read(&dest).unwrap_or_default() != before {
        problems.push("a second backup overwrote PATH".into());
    }
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Control characters of every kind a client or Recruiterflow might send.
const NOISE: &str = "\u{0}\u{7}\u{1b}\r\u{7f}\u{85}";

fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

#[tokio::test]
async fn control_characters_are_refused_from_people_and_cleaned_from_recruiterflow_so_nothing_becomes_a_dead_letter()
 {
    let db = pg::test_db().await;
    let fake = FakeRecruiterflow::start().await;
    let mut job = FakeJob::new(
        41,
        &format!("Head{NOISE} of Data"),
        &format!("Acme{NOISE} Ltd"),
    );
    job.status = format!("Active{NOISE} search");
    job.name_noise = NOISE.to_string();
    fake.put_job(job);
    fake.put_user(
        9001,
        &format!("Rita{NOISE} Recruiter"),
        "rita@agency.example",
    );
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    let run = app.syncs_finished(1).await;
    assert_eq!(run.status, "ok", "{:?}", run.message);

    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    add_user(&app, "bea@agency.example", Role::SalesPerson, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let ann = sign_in(&app, "ann@agency.example").await;
    let bea = sign_in(&app, "bea@agency.example").await;
    let token = api_token(&app, "ann@agency.example").await;
    let levels = [
        ("client_engagement", "3"),
        ("search_difficulty", "4"),
        ("time_open", "2"),
        ("fee_size", "5"),
    ];

    // People: every text field refuses control characters with a 422 naming it.
    for bad in ["nul\0here", "bell\u{7}", "esc\u{1b}[2J", "lone\rreturn"] {
        let res = bea
            .post(
                "/jobs/41/score",
                &[("action", "skip"), ("reason_other", bad)],
            )
            .await;
        assert_eq!(res.status(), 422, "skip reason {bad:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("control characters"), "skip {bad:?}: {html}");
        for action in ["submit", "draft"] {
            let mut form = levels.to_vec();
            form.push(("comment", bad));
            form.push(("action", action));
            let res = ann.post("/jobs/41/score", &form).await;
            assert_eq!(res.status(), 422, "{action} {bad:?}");
            let html = res.text().await.unwrap();
            assert!(
                html.contains("control characters"),
                "{action} {bad:?}: {html}"
            );
        }
        let res = app
            .client
            .post(app.url("/api/scores"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"job_id": 41, "client_engagement": 3, "search_difficulty": 4,
                    "time_open": 2, "fee_size": 5, "comment": bad})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "API {bad:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["fields"]["comment"].is_string(), "{body}");
        for (field, name, email) in [
            ("name", bad.to_string(), "new@agency.example".to_string()),
            (
                "email",
                "New Person".to_string(),
                format!("new{bad}@agency.example"),
            ),
        ] {
            let res = ceo
                .post(
                    "/admin/users",
                    &[
                        ("email", email.as_str()),
                        ("name", name.as_str()),
                        ("role", "account_manager"),
                        ("password", "long enough password"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 422, "user {field} {bad:?}");
            let html = res.text().await.unwrap();
            assert!(html.contains("control characters"), "user {field}: {html}");
        }
        let res = ceo
            .post("/admin/tokens", &[("user_id", "whoever"), ("label", bad)])
            .await;
        let html = res.text().await.unwrap();
        assert!(
            html.contains("control characters"),
            "token label {bad:?}: {html}"
        );
    }
    // The command line refuses them too (an argument cannot hold NUL; \x01 it can).
    let data_dir = app.data_dir.path().to_str().unwrap().to_string();
    let out = run_cli(
        &[
            "--data-dir",
            &data_dir,
            "user",
            "add",
            "--email",
            "cli@agency.example",
            "--name",
            "Cli\u{1}Person",
            "--role",
            "account_manager",
        ],
        &[],
        Some("long enough password\n"),
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("control characters"),
        "{}",
        stderr(&out)
    );
    let out = run_cli(
        &[
            "--data-dir",
            &data_dir,
            "token",
            "create",
            "--email",
            "ann@agency.example",
            "--label",
            "bad\u{1b}label",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("control characters"),
        "{}",
        stderr(&out)
    );
    // A skip's reason with a tab is fine (it replicates below).
    let res = bea
        .post(
            "/jobs/41/score",
            &[("action", "skip"), ("reason_other", "on leave\tthis week")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // Line breaks and tabs are fine, and are kept.
    let mut form = levels.to_vec();
    form.push(("comment", "first line\r\nsecond\tline"));
    form.push(("action", "submit"));
    assert_eq!(ann.post("/jobs/41/score", &form).await.status(), 303);
    assert_eq!(
        app.store
            .read(submissions::count_submissions)
            .await
            .unwrap(),
        1
    );

    // Recruiterflow: its text was cleaned as it arrived.
    let stored = app
        .store
        .read(|c| jobs::find_job(c, 41))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.title, "Head of Data");
    assert_eq!(stored.client, "Acme Ltd");
    assert_eq!(stored.status, "Active search");
    assert!(!stored.hiring_team.is_empty());
    for t in stored
        .hiring_team
        .iter()
        .chain(stored.description_html.iter())
    {
        assert!(!has_control(t), "{t:?}");
    }
    let rf_users = app
        .store
        .read(store::recruiterflow_users::list_recruiterflow_users)
        .await
        .unwrap();
    assert!(
        rf_users
            .iter()
            .any(|u| u.name.as_deref() == Some("Rita Recruiter")),
        "{rf_users:?}"
    );

    // Everything replicates: no dead letter, and PostgreSQL holds no control character.
    let t = PgTarget::parse(&SecretString::from(db.url.clone())).unwrap();
    let mut c = t.connect().await.unwrap();
    replication::migrate(&mut c).await.unwrap();
    let report = push::push(&app.store, &mut c, &PushOptions::default())
        .await
        .unwrap();
    assert_eq!(report.dead, 0, "{report:?}");
    assert_eq!(app.store.read(outbox::dead_count).await.unwrap(), 0);
    assert_eq!(app.store.read(outbox::pending_count).await.unwrap(), 0);
    let pg = db.client().await;
    for (table, n) in [
        ("users", 2),
        ("jobs", 1),
        ("settings", 1),
        ("submissions", 1),
        ("rank_history", 1),
        ("pipeline_snapshots", 1),
        ("skips", 1),
    ] {
        let rows: i64 = pg
            .query_one(&format!("SELECT count(*) FROM jobrank.{table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert!(rows >= n, "{table}: {rows} rows");
        let dirty: i64 = pg
            .query_one(
                &format!(
                    "SELECT count(*) FROM jobrank.{table} t
                     WHERE row_to_json(t)::text ~ '\\\\u00(0[0-8bcef]|1[0-9a-f]|7f|8[0-9a-f]|9[0-9a-f])'"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(dirty, 0, "{table} holds control characters");
    }
    let comment: String = pg
        .query_one("SELECT comment FROM jobrank.submissions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(comment, "first line\r\nsecond\tline");
    let stages: Vec<String> = pg
        .query(
            "SELECT stage FROM jobrank.pipeline_snapshots ORDER BY stage_order",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(stages.contains(&"Sourced".to_string()), "{stages:?}");
    app.stop().await;
}
