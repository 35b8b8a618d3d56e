//! A full disk, for real: the data directory on a 4 MB tmpfs the test mounts (as root,
//! as CI runs), filled with score submissions until the store refuses one.

use std::path::{Path, PathBuf};
use std::process::Command;

use jobrank::domain::Role;
use jobrank::store::{self, backup};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{Value, json};

use crate::api_json::api_token;
use crate::helpers::{eventually, spawn_app_in};
use crate::web_support::{add_job, add_user, sign_in, submission_count};

fn is_root() -> bool {
    // The effective uid from /proc, to stay in safe Rust.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A tmpfs mounted for one test; unmounted on drop.
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
            "mounting a tmpfs at {} failed: {}",
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
        let unmounted = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a failed test's server holds the store open): detach it now,
            // the kernel frees it when the files close.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// The value of a metric line starting with `prefix` (`name ` or `name{labels} `).
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_is_a_503_in_words_is_reported_and_writes_resume_when_space_returns() {
    if !is_root() {
        eprintln!(
            "NOT RUN: disk_full::a_full_disk_is_a_503_in_words_is_reported_and_writes_resume_when_space_returns \
             mounts a 4 MB tmpfs, which needs root; CI runs the tests as root, run them as root to cover a full disk"
        );
        return;
    }
    let outer = tempfile::tempdir().unwrap();
    let mount = Tmpfs::mount(&outer.path().join("disk"), "size=4m,mode=0700");
    // Space the test gives back later.
    let filler = mount.path.join("filler");
    std::fs::write(&filler, vec![0u8; 2 * 1024 * 1024]).unwrap();
    let data = tempfile::tempdir_in(&mount.path).unwrap();
    let data_dir = data.path().to_owned();
    let app = spawn_app_in(data, &[]).await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let ann = sign_in(&app, "ann@agency.example").await;
    let token = api_token(&app, "ann@agency.example").await;
    for id in 1..=20 {
        add_job(
            &app,
            id,
            &format!("Role {id}"),
            "Acme",
            30,
            true,
            "<p>x</p>",
        )
        .await;
    }
    let before = submission_count(&app).await;
    // Use the token once now: its first use records when it was used (a write), which
    // the full disk below could refuse before the request got to the score.
    let res = app
        .client
        .get(app.url("/api/jobs"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Fill the disk with submissions (long comments) until one is refused.
    let mut acked = 0;
    let mut refused = None;
    for i in 0..20_000 {
        let job = i % 20 + 1;
        let comment = format!("{i} {}", "a long comment about this search ".repeat(60));
        let res = ann
            .post(
                &format!("/jobs/{job}/score"),
                &[
                    ("client_engagement", "3"),
                    ("search_difficulty", "4"),
                    ("time_open", "2"),
                    ("fee_size", "5"),
                    ("comment", &comment[..1900]),
                    ("action", "submit"),
                ],
            )
            .await;
        match res.status().as_u16() {
            303 => acked += 1,
            _ => {
                refused = Some(res);
                break;
            }
        }
    }
    let res = refused.expect("the 4 MB disk never filled up");
    assert_eq!(
        res.status(),
        503,
        "a refused write for lack of space, after {acked} accepted"
    );
    let retry = res.headers().get(RETRY_AFTER).cloned();
    let html = res.text().await.unwrap();
    assert!(retry.is_some(), "no Retry-After");
    assert!(
        html.contains("disk is full") && html.contains("your score was not saved"),
        "{html}"
    );
    assert!(acked > 0);

    // The JSON API says the same. The refused write may have left room for a smaller
    // one (a page freed as SQLite gave up): scores it still takes are acknowledged
    // and counted, until the disk refuses one too.
    let mut refused = None;
    for _ in 0..50 {
        let res = app
            .client
            .post(app.url("/api/scores"))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(CONTENT_TYPE, "application/json")
            .body(
                json!({"job_id": 3, "client_engagement": 3, "search_difficulty": 4,
                       "time_open": 2, "fee_size": 5, "comment": "x".repeat(1900)})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        if res.status() == 201 {
            acked += 1;
            continue;
        }
        refused = Some(res);
        break;
    }
    let res = refused.expect("the full disk refuses an API score too");
    assert_eq!(res.status(), 503);
    assert!(res.headers().get(RETRY_AFTER).is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unavailable", "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("disk is full") && detail.contains("your score was not saved"),
        "{body}"
    );

    // Readiness, metrics and the admin page report it.
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let ready: Value = res.json().await.unwrap();
    assert_eq!(ready["store_writable"], false, "{ready}");
    assert!(ready["problems"].to_string().contains("disk"), "{ready}");
    let text = app.get("/metrics").await.text().await.unwrap();
    let free_when_full = metric(&text, "jobrank_data_dir_free_bytes ");
    assert!(free_when_full < 256.0 * 1024.0, "{text}");
    assert_eq!(metric(&text, "jobrank_store_disk_full "), 1.0);
    let admin = ceo.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("disk is full"), "{admin}");

    // The nightly backup does not even start on a disk this full.
    let d = data_dir.clone();
    let err = tokio::task::spawn_blocking(move || {
        backup::scheduled_backup(&d, chrono::Local::now().date_naive(), 7, 4)
    })
    .await
    .unwrap()
    .expect_err("a backup onto a nearly full disk is refused");
    assert!(err.to_string().contains("free"), "{err}");
    let backups: Vec<_> = std::fs::read_dir(backup::backups_dir(&data_dir))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(backups.is_empty(), "{backups:?}");

    // Every acknowledged score is there, and the store is intact.
    assert_eq!(submission_count(&app).await, before + acked);
    let check = rusqlite::Connection::open_with_flags(
        data_dir.join(store::DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let ok: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    drop(check);

    // Space comes back: writes resume by themselves, and the reports clear.
    std::fs::remove_file(&filler).unwrap();
    let res = ann
        .post(
            "/jobs/5/score",
            &[
                ("client_engagement", "2"),
                ("search_difficulty", "2"),
                ("time_open", "2"),
                ("fee_size", "2"),
                ("comment", "after the clean-up"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    eventually("the store writable and jobrank ready again", || async {
        let ready: Value = app.get("/readyz").await.json().await.unwrap();
        if ready["store_writable"] == true && ready["ready"] == true {
            Ok(())
        } else {
            Err(format!("{ready}"))
        }
    })
    .await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(metric(&text, "jobrank_store_disk_full "), 0.0);
    let free_after = metric(&text, "jobrank_data_dir_free_bytes ");
    assert!(
        free_after > free_when_full + 256.0 * 1024.0,
        "{free_when_full} -> {free_after}"
    );
    eprintln!(
        "full disk: {acked} submissions accepted before the refusal; free bytes {free_when_full} when full, {free_after} after freeing the filler"
    );
    let admin = ceo.get("/admin").await.text().await.unwrap();
    assert!(!admin.contains("disk is full"), "{admin}");
    assert_eq!(submission_count(&app).await, before + acked + 1);
    app.stop().await;
    drop(mount);
}
