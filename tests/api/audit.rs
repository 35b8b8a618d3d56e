//! The audit log: every administrative act, from the admin page and from the command
//! line, with who, when, on what and what changed (never a secret); the CEO reads it
//! on the admin page, newest first, and the store's backups keep it.

use jobrank::domain::Role;
use jobrank::store::users;

use crate::fake_recruiterflow::{API_KEY, FakeRecruiterflow};
use crate::helpers::{TestApp, run_cli, spawn_app, spawn_app_with, stderr, stdout};
use crate::web_support::*;

/// One audit log row as stored: (actor, action, target, details), oldest first.
async fn audit_rows(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.store
        .read(|c| {
            let mut stmt =
                c.prepare("SELECT actor, action, target, details FROM audit_log ORDER BY id")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

/// The rows with this action.
fn with_action<'a>(
    rows: &'a [(String, String, String, String)],
    action: &str,
) -> Vec<&'a (String, String, String, String)> {
    rows.iter().filter(|r| r.1 == action).collect()
}

const SETTINGS: [(&str, &str); 16] = [
    ("weight_client_engagement", "40"),
    ("weight_search_difficulty", "20"),
    ("weight_time_open", "20"),
    ("weight_fee_size", "20"),
    ("threshold_a", "4.00"),
    ("threshold_b", "2.50"),
    ("time_open_5", "14"),
    ("time_open_4", "30"),
    ("time_open_3", "60"),
    ("time_open_2", "90"),
    ("fee_5", "40000"),
    ("fee_4", "30000"),
    ("fee_3", "20000"),
    ("fee_2", "10000"),
    ("fee_currency", "GBP"),
    ("cadence_days", "7"),
];

#[tokio::test]
async fn every_administrative_act_on_the_admin_page_is_recorded() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    let ceo = sign_in(&app, "claire@agency.example").await;
    let me = "User claire@agency.example <claire@agency.example>";

    let new_password = "priya's first passphrase";
    let res = ceo
        .post(
            "/admin/users",
            &[
                ("email", "priya@agency.example"),
                ("name", "Priya Shah"),
                ("role", "sales_person"),
                ("scores", "1"),
                ("password", new_password),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let priya = app
        .store
        .read(|c| users::find_user_by_email(c, "priya@agency.example"))
        .await
        .unwrap()
        .unwrap();
    let user_path = |what: &str| format!("/admin/users/{}/{what}", priya.id);
    assert_eq!(
        ceo.post(&user_path("scores"), &[("scores", "0")])
            .await
            .status(),
        303
    );
    let reset_password = "priya's second passphrase";
    assert_eq!(
        ceo.post(&user_path("password"), &[("password", reset_password)])
            .await
            .status(),
        303
    );
    let res = ceo
        .post(
            "/admin/tokens",
            &[("user_id", priya.id.as_str()), ("label", "weekly report")],
        )
        .await;
    assert_eq!(res.status(), 201);
    let html = res.text().await.unwrap();
    let i = html.find("<code class=\"token\">").unwrap() + "<code class=\"token\">".len();
    let token = html[i..].split('<').next().unwrap().to_string();
    let token_id = app
        .store
        .read(jobrank::store::api_tokens::list_tokens)
        .await
        .unwrap()[0]
        .0
        .id
        .clone();
    assert_eq!(
        ceo.post(&format!("/admin/tokens/{token_id}/revoke"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(ceo.post(&user_path("deactivate"), &[]).await.status(), 303);
    assert_eq!(ceo.post(&user_path("activate"), &[]).await.status(), 303);
    assert_eq!(ceo.post("/admin/settings", &SETTINGS).await.status(), 303);

    let at = jobrank::store::ts(&jobrank::store::now());
    let dead_id: i64 = app
        .store
        .write(move |tx| {
            tx.execute(
                "INSERT INTO webhook_inbox (event_key, event_type, job_id, body, received_at, status, attempts, next_attempt_at, last_error)
                 VALUES ('evt-9', 'job.updated', 42, '{}', ?1, 'dead', 10, ?1, 'job 42 could not be fetched')",
                [&at],
            )?;
            Ok(tx.last_insert_rowid())
        })
        .await
        .unwrap();
    assert_eq!(
        ceo.post(&format!("/admin/inbox/{dead_id}/retry"), &[])
            .await
            .status(),
        303
    );

    // Refresh now, once the start-up sync has ended and its minute is over.
    app.syncs_finished(1).await;
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(ceo.post("/sync/recruiterflow", &[]).await.status(), 303);

    // Refused acts leave no record.
    assert_eq!(
        ceo.post(&user_path("password"), &[("password", "short")])
            .await
            .status(),
        422
    );
    assert_eq!(
        ceo.post("/admin/users/nobody/deactivate", &[])
            .await
            .status(),
        404
    );

    let rows = audit_rows(&app).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_added",
            "scoring_changed",
            "password_reset",
            "token_created",
            "token_revoked",
            "user_deactivated",
            "user_reactivated",
            "settings_saved",
            "dead_letter_retried",
            "sync_started",
        ],
        "{rows:#?}"
    );
    assert!(rows.iter().all(|r| r.0 == me), "{rows:#?}");
    let priya_named = "Priya Shah <priya@agency.example>";
    let added = with_action(&rows, "user_added")[0];
    assert_eq!(added.2, priya_named);
    assert!(
        added.3.contains("Sales person") && added.3.contains("scores"),
        "{added:?}"
    );
    let scoring = with_action(&rows, "scoring_changed")[0];
    assert_eq!(scoring.2, priya_named);
    assert!(scoring.3.contains("no longer scores"), "{scoring:?}");
    assert_eq!(with_action(&rows, "password_reset")[0].2, priya_named);
    let created = with_action(&rows, "token_created")[0];
    assert!(
        created.2.contains("weekly report") && created.2.contains("priya@agency.example"),
        "{created:?}"
    );
    assert!(
        with_action(&rows, "token_revoked")[0]
            .2
            .contains("weekly report")
    );
    assert_eq!(with_action(&rows, "user_deactivated")[0].2, priya_named);
    let settings = with_action(&rows, "settings_saved")[0];
    assert!(
        settings.3.contains("25% → 40%") && !settings.3.contains("threshold"),
        "only what changed: {settings:?}"
    );
    let retried = with_action(&rows, "dead_letter_retried")[0];
    assert!(
        retried.2.contains("job.updated") && retried.2.contains("42"),
        "{retried:?}"
    );
    let sync = with_action(&rows, "sync_started")[0];
    assert!(sync.2.contains("Recruiterflow") && sync.3.contains("Refresh now"));

    // Never a secret: no password, password hash or token.
    let hash = app
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT password_hash FROM users WHERE email = 'priya@agency.example'",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap();
    let page = ceo.get("/admin").await.text().await.unwrap();
    for secret in [new_password, reset_password, &token, &hash, "$argon2"] {
        assert!(
            !rows.iter().any(|r| format!("{r:?}").contains(secret)),
            "{secret} in the audit log"
        );
        assert!(!page.contains(secret), "{secret} on the admin page");
    }

    // The CEO reads it on the admin page, newest first.
    let section = page
        .split("id=\"audit\"")
        .nth(1)
        .expect("an audit section on the admin page");
    let sync_at = section.find("Sync started").expect("sync started shown");
    let added_at = section.find("User added").expect("user added shown");
    assert!(sync_at < added_at, "newest first");
    assert!(section.contains("claire@agency.example"));
}

// Multi-threaded: the commands run as child processes while the fake Recruiterflow
// server answers on this runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrative_commands_are_recorded_with_the_unix_user() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let app = spawn_app().await;
    let dir = app.data_dir.path().to_str().unwrap().to_string();
    let base = fake.base_url();
    let env = [("JOBRANK_DATA_DIR", dir.as_str())];
    let password = "dana's long password";
    let out = run_cli(
        &[
            "user",
            "add",
            "--email",
            "dana@agency.example",
            "--name",
            "Dana Reyes",
            "--role",
            "account_manager",
        ],
        &env,
        Some(&format!("{password}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(
        &["user", "set-password", "--email", "dana@agency.example"],
        &env,
        Some("another long password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(
        &[
            "token",
            "create",
            "--email",
            "dana@agency.example",
            "--label",
            "bi",
        ],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    let out = run_cli(
        &["user", "deactivate", "--email", "dana@agency.example"],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_cli(
        &["sync", "recruiterflow"],
        &[
            ("JOBRANK_DATA_DIR", dir.as_str()),
            ("RECRUITERFLOW_API_KEY", API_KEY),
            ("RECRUITERFLOW_BASE_URL", base.as_str()),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // A refused command leaves no record.
    let out = run_cli(
        &["user", "deactivate", "--email", "nobody@agency.example"],
        &env,
        None,
    );
    assert!(!out.status.success());

    let rows = audit_rows(&app).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_added",
            "password_reset",
            "token_created",
            "user_deactivated",
            "sync_started"
        ],
        "{rows:#?}"
    );
    let unix_user = whoami::username().unwrap();
    for r in &rows {
        assert!(
            r.0.starts_with(&format!("command line (unix user {unix_user}")),
            "{r:?}"
        );
        for secret in [password, "another long password", token.as_str(), "$argon2"] {
            assert!(!format!("{r:?}").contains(secret), "{secret} in {r:?}");
        }
    }
    assert!(
        with_action(&rows, "user_deactivated")[0]
            .3
            .contains("1 API token")
    );
    assert!(
        with_action(&rows, "sync_started")[0]
            .3
            .contains("jobrank sync recruiterflow")
    );
}

#[tokio::test]
async fn the_audit_log_is_paged_newest_first_for_the_ceo_and_kept_in_backups() {
    let app = spawn_app().await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let by = jobrank::store::audit::Actor::CommandLine {
        unix_user: "ops".into(),
    };
    app.store
        .write(move |tx| {
            for i in 1..=130 {
                jobrank::store::audit::record(
                    tx,
                    &by,
                    jobrank::store::audit::Action::SyncStarted,
                    &format!("Recruiterflow #{i:03}"),
                    "test",
                    jobrank::store::now(),
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let ceo = sign_in(&app, "claire@agency.example").await;
    let page = ceo.get("/admin").await.text().await.unwrap();
    let section = page.split("id=\"audit\"").nth(1).unwrap();
    assert!(section.contains("Recruiterflow #130"));
    assert!(section.contains("Recruiterflow #111"));
    assert!(
        !section.contains("Recruiterflow #110"),
        "the latest 20 only"
    );
    assert!(section.find("#130").unwrap() < section.find("#111").unwrap());
    let i = section
        .find("href=\"/admin/audit?before=")
        .expect("a link to older entries")
        + "href=\"".len();
    let older = section[i..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");

    let res = ceo.get(&older).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("Recruiterflow #110") && html.contains("Recruiterflow #011"));
    assert!(!html.contains("Recruiterflow #111") && !html.contains("Recruiterflow #010"));
    let i = html
        .find("href=\"/admin/audit?before=")
        .expect("a link further back")
        + "href=\"".len();
    let oldest = html[i..].split('"').next().unwrap().to_string();
    let html = ceo.get(&oldest).await.text().await.unwrap();
    assert!(html.contains("Recruiterflow #001") && !html.contains("Recruiterflow #011"));
    assert!(
        !html.contains("href=\"/admin/audit?before="),
        "nothing older"
    );
    assert_eq!(ceo.get("/admin/audit?before=xyz").await.status(), 400);

    let tom = sign_in(&app, "tom@agency.example").await;
    assert_eq!(tom.get("/admin/audit").await.status(), 403);
    assert!(app.get("/admin/audit").await.status().is_redirection());

    // The backups keep it.
    let dest = app.data_dir.path().join("audit-backup.sqlite3");
    let (dir, d) = (app.data_dir.path().to_owned(), dest.clone());
    tokio::task::spawn_blocking(move || jobrank::store::backup::backup_data_dir(&dir, &d))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = rusqlite::Connection::open(&dest)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 130);
}
