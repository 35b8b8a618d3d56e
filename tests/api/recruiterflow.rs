//! Recruiterflow sync against the fake Recruiterflow server on loopback, with real
//! SQLite stores: paging in both body shapes, the mapping, pipelines and placements,
//! retries (429 with Retry-After, 500s, timeouts), clear failures that leave the local
//! data as it was, closing jobs that leave the open list, the user list matched to
//! jobrank users by email (admin and job pages), and the CLI.

use std::time::{Duration, Instant};

use jobrank::recruiterflow::{
    Client, ClientOptions, InboxOptions, RecruiterflowError, SyncReport, SyncStatus, Syncer, sync,
};
use jobrank::store::recruiterflow_users::{self, RecruiterflowUser};
use jobrank::store::{Store, jobs, pipeline, placements, sync_runs};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::fake_recruiterflow::{API_KEY, FakeJob, FakeRecruiterflow, Fault};
use crate::helpers::{TestApp, eventually, run_cli, spawn_app, spawn_app_with, stderr, stdout};
use crate::web_support::{add_job, add_user, sign_in};
use jobrank::domain::Role;

pub fn fast_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        max_attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(2),
        concurrency: 8,
        page_size: 10,
    }
}

pub fn client_for(fake: &FakeRecruiterflow, opts: ClientOptions) -> Client {
    Client::new(
        url::Url::parse(&fake.base_url()).unwrap(),
        SecretString::from(API_KEY),
        opts,
    )
    .unwrap()
}

pub async fn fresh_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .unwrap()
        .unwrap();
    (dir, store)
}

async fn run(store: &Store, client: &Client) -> Result<SyncReport, RecruiterflowError> {
    sync::full_sync(store, client, &|_| {}).await
}

async fn open_jobs(store: &Store) -> Vec<jobs::Job> {
    store.read(jobs::list_open_jobs).await.unwrap()
}

async fn latest_run(store: &Store) -> sync_runs::SyncRun {
    store
        .read(|c| sync_runs::latest_run(c, sync::RUN_KIND))
        .await
        .unwrap()
        .expect("a sync run is recorded")
}

#[tokio::test]
async fn a_full_sync_stores_open_jobs_with_clients_fees_pipelines_and_placements() {
    let fake = FakeRecruiterflow::with_jobs(25).await;
    fake.edit_job(25, |j| j.is_open = false);
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_seen, 24);
    assert_eq!(report.jobs_changed, 24);
    assert_eq!(report.jobs_closed, 0);
    assert_eq!(report.errors, 0, "{}", report.message);
    let open = open_jobs(&store).await;
    assert_eq!(open.len(), 24);
    let job7 = store.read(|c| jobs::find_job(c, 7)).await.unwrap().unwrap();
    // The list lacks the company, so it came from the single-job call.
    assert_eq!(job7.client, "Client 7");
    assert_eq!(job7.title, "Role 7");
    assert_eq!(job7.status, "Active search");
    assert_eq!(job7.fee_currency.as_deref(), Some("GBP"));
    assert_eq!(job7.fee_minor, Some(2_500_000));
    assert_eq!(job7.hiring_team, vec!["Chérôme Shenoy".to_string()]);
    assert!(job7.opened_at.unwrap() < job7.first_seen_at - chrono::Duration::days(9));
    let snap = store
        .read(|c| pipeline::latest_snapshot(c, 7))
        .await
        .unwrap()
        .expect("a pipeline snapshot");
    let sourced = snap.stages.iter().find(|s| s.stage == "Sourced").unwrap();
    assert_eq!(sourced.candidates, 2);
    assert_eq!(sourced.avg_days_in_stage, Some(8.0));
    let submitted = snap
        .stages
        .iter()
        .find(|s| s.stage == "Company Submission")
        .unwrap();
    assert_eq!(submitted.candidates, 1, "a count sent as a string");
    assert_eq!(submitted.avg_days_in_stage, Some(9.0));
    assert_eq!(snap.bottleneck().unwrap().stage, "Company Submission");
    let placed = store
        .read(|c| placements::list_job_placements(c, 1))
        .await
        .unwrap();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].id, 418);
    assert_eq!(placed[0].candidate.as_deref(), Some("yghj"));
    let logged = latest_run(&store).await;
    assert_eq!(logged.status, "ok");
    assert_eq!(
        (logged.jobs_seen, logged.jobs_changed, logged.jobs_closed),
        (24, 24, 0)
    );
    assert!(logged.finished_at.is_some());
    // Pages were asked for with the documented parameters.
    let reqs = fake.requests();
    assert!(reqs.iter().any(|r| r.starts_with("/api/external/job/list?")
        && r.contains("only_open=1")
        && r.contains("current_page=3")
        && r.contains("items_per_page=10")
        && r.contains("include_count=true")));
    // A second sync with nothing changed changes nothing and records no new snapshot.
    let again = run(&store, &client).await.unwrap();
    assert_eq!(
        (
            again.jobs_changed,
            again.jobs_closed,
            again.pipelines_recorded
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn bare_array_pages_are_read_until_a_short_page() {
    let fake = FakeRecruiterflow::with_jobs(30).await;
    fake.set_counted(false);
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_seen, 30);
    assert_eq!(open_jobs(&store).await.len(), 30);
    let pages = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("/api/external/job/list?"))
        .count();
    // 10 + 10 + 10, then an empty page ends it.
    assert_eq!(pages, 4);
    // A server that ignores current_page would repeat page 1 for ever: refused.
    fake.state.lock().unwrap().ignore_paging = true;
    let err = run(&store, &client).await.unwrap_err();
    assert!(err.to_string().contains("ignores current_page"), "{err}");
    assert_eq!(open_jobs(&store).await.len(), 30);
}

#[tokio::test]
async fn a_job_gone_from_the_open_list_or_closed_is_closed_and_keeps_its_history() {
    let fake = FakeRecruiterflow::with_jobs(5).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    run(&store, &client).await.unwrap();
    fake.remove_job(2);
    fake.edit_job(3, |j| j.is_open = false);
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_closed, 2, "{}", report.message);
    let open: Vec<i64> = open_jobs(&store).await.iter().map(|j| j.id).collect();
    assert_eq!(open, vec![1, 4, 5]);
    let gone = store.read(|c| jobs::find_job(c, 2)).await.unwrap().unwrap();
    assert!(!gone.is_open && gone.closed_at.is_some());
    assert!(
        store
            .read(|c| pipeline::latest_snapshot(c, 2))
            .await
            .unwrap()
            .is_some(),
        "the closed job's pipeline history stays"
    );
    // Reopened in Recruiterflow: open again.
    fake.put_job(FakeJob::new(2, "Role 2", "Client 2"));
    run(&store, &client).await.unwrap();
    assert!(
        store
            .read(|c| jobs::find_job(c, 2))
            .await
            .unwrap()
            .unwrap()
            .is_open
    );
}

#[tokio::test]
async fn rate_limits_are_retried_honouring_retry_after() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    fake.push_fault(
        "/api/external/job/list",
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    let t = Instant::now();
    let report = run(&store, &client).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(report.jobs_seen, 3);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_retried() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    fake.push_faults("/api/external/job/list", Fault::ServerError, 2);
    fake.push_fault("/api/external/job/pipeline", Fault::HtmlBadGateway);
    fake.push_fault("/api/external/job", Fault::Slow(Duration::from_millis(800)));
    let (_dir, store) = fresh_store().await;
    let client = client_for(
        &fake,
        ClientOptions {
            timeout: Duration::from_millis(300),
            ..fast_options()
        },
    );
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_seen, 3);
    assert_eq!(open_jobs(&store).await.len(), 3);
}

#[tokio::test]
async fn every_kind_of_recruiterflow_failure_fails_the_run_and_leaves_data_as_it_was() {
    let fake = FakeRecruiterflow::with_jobs(12).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(
        &fake,
        ClientOptions {
            timeout: Duration::from_millis(300),
            ..fast_options()
        },
    );
    run(&store, &client).await.unwrap();
    let before = open_jobs(&store).await;
    // Recruiterflow now lists only one job: a failed run must not close the others.
    for id in 2..=12 {
        fake.remove_job(id);
    }
    fake.edit_job(1, |j| j.title = "Renamed".into());
    let list = "/api/external/job/list";
    let cases: Vec<(&str, Fault, usize, &str)> = vec![
        (list, Fault::Unauthorized, 1, "refused the API key"),
        (list, Fault::ServerError, 4, "HTTP 500"),
        (
            list,
            Fault::RateLimited {
                retry_after_secs: 0,
            },
            4,
            "429",
        ),
        (list, Fault::HtmlBadGateway, 4, "HTTP 502"),
        (list, Fault::Html, 1, "HTML page"),
        (list, Fault::Malformed, 1, "malformed JSON"),
        (list, Fault::WrongShape, 1, "unexpected shape"),
        (list, Fault::Slow(Duration::from_secs(2)), 4, "no answer"),
        ("/api/external/job", Fault::ServerError, 4, "HTTP 500"),
        (
            "/api/external/job",
            Fault::Unauthorized,
            1,
            "refused the API key",
        ),
        (
            "/api/external/job/pipeline",
            Fault::Malformed,
            1,
            "malformed JSON",
        ),
        (
            "/api/external/placement-record/list",
            Fault::Html,
            1,
            "HTML page",
        ),
    ];
    for (path, fault, n, expect) in cases {
        fake.clear_faults();
        fake.push_faults(path, fault.clone(), n);
        let err = run(&store, &client)
            .await
            .expect_err(&format!("{fault:?} at {path} should fail the run"));
        assert!(err.to_string().contains(expect), "{fault:?}: {err}");
        let run_row = latest_run(&store).await;
        assert_eq!(run_row.status, "failed", "{fault:?}");
        assert!(run_row.finished_at.is_some());
        let message = run_row.message.unwrap_or_default();
        assert!(message.contains(expect), "{fault:?} at {path}: {message}");
        assert!(message.contains(path), "the endpoint is named: {message}");
        assert!(!message.contains(API_KEY));
        assert_eq!(
            open_jobs(&store).await,
            before,
            "{fault:?} at {path} changed local data"
        );
    }
    // Once Recruiterflow recovers, the same sync applies the changes.
    fake.clear_faults();
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_closed, 11);
    assert_eq!(open_jobs(&store).await[0].title, "Renamed");
}

#[tokio::test]
async fn a_list_that_changes_while_paged_closes_nothing() {
    let fake = FakeRecruiterflow::with_jobs(15).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    run(&store, &client).await.unwrap();
    fake.remove_job(4);
    // The pages now hold 14 jobs but the count says 15.
    fake.state.lock().unwrap().total_skew = 1;
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_closed, 0);
    assert!(
        report.message.contains("no job was closed"),
        "{}",
        report.message
    );
    assert_eq!(open_jobs(&store).await.len(), 15);
    fake.state.lock().unwrap().total_skew = 0;
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.jobs_closed, 1);
}

#[tokio::test]
async fn the_client_reads_users_stage_names_movements_and_job_placements() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let client = client_for(&fake, fast_options());
    let users = client.list_users().await.unwrap();
    assert_eq!(users.users.len(), 2);
    assert!(users.errors.is_empty() && users.incomplete.is_none());
    assert_eq!(
        users.users[0].email.as_deref(),
        Some("manish.kotian36@outlook.com")
    );
    let stages = client.stage_names().await.unwrap();
    assert!(stages.contains(&"Phone Interview".to_string()));
    let m = client.stage_movements(11).await.unwrap();
    assert_eq!(m.current_stage(1).unwrap().0, "Sourced");
    assert_eq!(client.job_placements(1).await.unwrap().len(), 1);
    assert_eq!(client.job_placements(2).await.unwrap().len(), 0);
    assert_eq!(client.open_job_count().await.unwrap(), 2);
    assert!(matches!(
        client.get_job(99).await,
        Err(RecruiterflowError::NotFound { .. })
    ));
    let bad = Client::new(
        url::Url::parse(&fake.base_url()).unwrap(),
        SecretString::from("wrong-key"),
        fast_options(),
    )
    .unwrap();
    let err = bad.open_job_count().await.unwrap_err();
    assert!(err.is_bad_key(), "{err}");
    assert!(err.to_string().contains("RECRUITERFLOW_API_KEY"));
    assert!(!format!("{bad:?}").contains("wrong-key"));
}

#[tokio::test]
async fn a_fresh_jobrank_with_only_the_key_and_base_url_shows_the_open_jobs_with_pipelines() {
    let fake = FakeRecruiterflow::with_jobs(20).await;
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    let run = app.syncs_finished(1).await;
    assert_eq!(run.status, "ok", "{:?}", run.message);
    let open = open_jobs(&app.store).await;
    assert_eq!(open.len(), 20);
    for j in &open {
        let snap = app
            .store
            .read({
                let id = j.id;
                move |c| pipeline::latest_snapshot(c, id)
            })
            .await
            .unwrap();
        assert_eq!(snap.expect("a pipeline").total_candidates(), 3);
    }
    // The dashboard shows them, with each pipeline's bottleneck, to a signed-in user.
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let browser = sign_in(&app, "tom@agency.example").await;
    let html = browser.get("/").await.text().await.unwrap();
    for id in [1, 7, 20] {
        assert!(
            html.contains(&format!("Role {id}<"))
                || html.contains(&format!("Role {id}\n"))
                || html.contains(&format!(">Role {id}")),
            "job {id} missing: {html}"
        );
    }
    assert!(html.contains("Client 7"));
    // Each stage by name; the slowest (9 days) is not stalled, so nothing is marked.
    assert!(
        html.contains("<li>Sourced 2</li><li>Company Submission 1</li>"),
        "{html}"
    );
    assert!(!html.contains("Stalled:"), "{html}");
    assert!(html.contains("Recruiterflow synced"), "{html}");
    let page = browser.get("/jobs/7").await.text().await.unwrap();
    assert!(page.contains("<td>Company Submission</td>"), "{page}");
    assert!(!page.contains("(stalled)"), "{page}");
    assert!(
        page.contains("waited 14 days or more on average"),
        "the rule is explained: {page}"
    );
    app.stop().await;
}

#[test]
fn the_cli_syncs_and_check_reports_whether_the_key_works() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeRecruiterflow::with_jobs(4));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let base = fake.base_url();
    let env = |key: &'static str| {
        vec![
            ("JOBRANK_DATA_DIR", data.to_string()),
            ("RECRUITERFLOW_API_KEY", key.to_string()),
            ("RECRUITERFLOW_BASE_URL", base.clone()),
        ]
    };
    let call = |args: &[&str], env: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_cli(args, &pairs, None)
    };
    let out = call(&["sync", "recruiterflow"], env(API_KEY));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("4 open jobs seen"),
        "{}",
        stdout(&out)
    );
    let out = call(&["check"], env(API_KEY));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("recruiterflow: ok"),
        "{}",
        stdout(&out)
    );
    let out = call(&["check"], env("a-wrong-key"));
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("refused the API key"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("a-wrong-key") && !stderr(&out).contains("a-wrong-key"));
    let out = call(&["sync", "recruiterflow"], env("a-wrong-key"));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("refused the API key"),
        "{}",
        stderr(&out)
    );
    // The failed run is recorded; the jobs synced before stay.
    let store = Store::open(dir.path()).unwrap();
    let run = store
        .read_blocking(|c| sync_runs::latest_run(c, sync::RUN_KIND))
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "failed");
    assert_eq!(store.read_blocking(jobs::count_jobs).unwrap(), 4);
}

#[tokio::test]
async fn the_syncer_runs_at_start_on_trigger_and_reports_its_status() {
    let fake = FakeRecruiterflow::with_jobs(6).await;
    let (_dir, store) = fresh_store().await;
    // A run cut short earlier (a stop or crash) is closed at start-up.
    store
        .write(|tx| sync_runs::start_run(tx, sync::RUN_KIND, jobrank::store::now()))
        .await
        .unwrap();
    let syncer = Syncer::new(
        store.clone(),
        client_for(&fake, fast_options()),
        InboxOptions::default(),
    );
    assert_eq!(syncer.status(), SyncStatus::default());
    let shutdown = jobrank::tasks::Shutdown::new();
    let tasks = syncer.spawn(Duration::from_secs(3600), &shutdown.signal());
    let wait_runs = |n: usize| {
        let store = store.clone();
        async move {
            eventually(&format!("{n} sync runs finished"), || async {
                let runs = store.read(|c| sync_runs::recent_runs(c, 10)).await.unwrap();
                if runs.len() >= n && runs.iter().all(|r| r.status != "running") {
                    Ok(runs)
                } else {
                    Err(format!("{runs:?}"))
                }
            })
            .await
        }
    };
    let runs = wait_runs(2).await;
    assert_eq!(runs[1].status, "failed");
    assert!(runs[1].message.as_deref().unwrap().contains("interrupted"));
    assert_eq!(runs[0].status, "ok");
    // The run is recorded in the store just before the syncer's own status is updated.
    let status = eventually("the syncer reports the finished sync", || async {
        let s = syncer.status();
        (!s.running && s.last_ok.is_some()).then_some(s)
    })
    .await;
    assert!(!status.running && status.last_ok == Some(true) && !status.bad_key);
    assert!(status.last_message.unwrap().contains("6 open jobs seen"));
    fake.edit_job(6, |j| j.title = "Refreshed".into());
    assert!(syncer.trigger());
    wait_runs(3).await;
    let job6 = store.read(|c| jobs::find_job(c, 6)).await.unwrap().unwrap();
    assert_eq!(job6.title, "Refreshed");
    shutdown.stop();
    for t in tasks {
        t.await.unwrap();
    }

    // A refused key shows in the status for the admin page.
    let bad = Syncer::new(
        store.clone(),
        Client::new(
            url::Url::parse(&fake.base_url()).unwrap(),
            SecretString::from("revoked-key"),
            fast_options(),
        )
        .unwrap(),
        InboxOptions::default(),
    );
    assert!(bad.sync_now().await.unwrap_err().is_bad_key());
    let status = bad.status();
    assert!(status.bad_key && status.last_ok == Some(false));
    assert!(!format!("{status:?}").contains("revoked-key"));
}

async fn stored_users(store: &Store) -> Vec<RecruiterflowUser> {
    store
        .read(recruiterflow_users::list_recruiterflow_users)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_full_sync_stores_every_page_of_users_and_removes_those_gone() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    for i in 1..=25 {
        fake.put_user(
            50_000 + i,
            &format!("Recruiter {i}"),
            &format!("r{i}@agency.example"),
        );
    }
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    assert_eq!(
        store
            .read(recruiterflow_users::user_list_read_at)
            .await
            .unwrap(),
        None
    );
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.errors, 0, "{}", report.message);
    assert_eq!(
        (
            report.users_seen,
            report.users_matched,
            report.users_removed
        ),
        (Some(27), Some(0), 0)
    );
    assert!(
        report
            .message
            .contains("27 Recruiterflow users seen, 0 matched to jobrank users"),
        "{}",
        report.message
    );
    // 27 users at 10 a page: three pages were read.
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("/api/external/user/list?")
                && r.contains("current_page=3")
                && r.contains("include_count=true"))
    );
    let users = stored_users(&store).await;
    assert_eq!(users.len(), 27);
    assert_eq!(users[0].id, 40201);
    assert_eq!(
        users[0].email.as_deref(),
        Some("manish.kotian36@outlook.com")
    );
    assert_eq!(users[0].name.as_deref(), Some("Manish Kotian"));
    assert_eq!(users[26].name.as_deref(), Some("Recruiter 25"));
    let logged = latest_run(&store).await;
    assert_eq!(logged.status, "ok");
    assert!(
        logged
            .message
            .unwrap()
            .contains("27 Recruiterflow users seen")
    );
    let details: serde_json::Value = serde_json::from_str(&logged.report.unwrap()).unwrap();
    assert_eq!(details["recruiterflow_users_seen"], 27);
    assert_eq!(details["recruiterflow_users_matched"], 0);

    // Two users leave Recruiterflow and one changes email: the next sync follows.
    fake.remove_user(40626);
    fake.remove_user(50_003);
    fake.put_user(50_004, "Recruiter 4", "r4.new@agency.example");
    let report = run(&store, &client).await.unwrap();
    assert_eq!(
        (report.users_seen, report.users_removed),
        (Some(25), 2),
        "{}",
        report.message
    );
    assert!(report.message.contains("2 removed"), "{}", report.message);
    let users = stored_users(&store).await;
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), 25);
    assert!(!ids.contains(&40626) && !ids.contains(&50_003));
    let r4 = users.iter().find(|u| u.id == 50_004).unwrap();
    assert_eq!(r4.email.as_deref(), Some("r4.new@agency.example"));
    // Bare-array pages (no count) are read too.
    fake.set_counted(false);
    fake.remove_user(50_025);
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.users_seen, Some(24), "{}", report.message);
    assert_eq!(stored_users(&store).await.len(), 24);
}

#[tokio::test]
async fn a_user_list_that_does_not_add_up_removes_nobody() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    run(&store, &client).await.unwrap();
    assert_eq!(stored_users(&store).await.len(), 2);
    fake.remove_user(40626);
    // The pages now hold 1 user but the count says 2 (the list changed while paged;
    // the fake skews the job list's count too).
    fake.state.lock().unwrap().total_skew = 1;
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.users_removed, 0);
    assert_eq!(report.errors, 2, "{}", report.message);
    assert!(
        report.message.contains(
            "the Recruiterflow user list was not read whole (Recruiterflow reported 2 users but the pages held 1); no user was removed this time"
        ),
        "{}",
        report.message
    );
    assert_eq!(stored_users(&store).await.len(), 2);
    fake.state.lock().unwrap().total_skew = 0;
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.users_removed, 1, "{}", report.message);
    assert_eq!(stored_users(&store).await.len(), 1);
}

#[tokio::test]
async fn a_failing_users_endpoint_keeps_the_jobs_synced_records_the_error_and_the_stored_users() {
    let fake = FakeRecruiterflow::with_jobs(4).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(&fake, fast_options());
    run(&store, &client).await.unwrap();
    let users_before = stored_users(&store).await;
    assert_eq!(users_before.len(), 2);
    let read_before = store
        .read(recruiterflow_users::user_list_read_at)
        .await
        .unwrap();
    assert!(read_before.is_some());
    // Recruiterflow changes both jobs and users, then its users endpoint fails on every
    // attempt (4 with these options).
    fake.edit_job(1, |j| j.title = "Renamed".into());
    fake.remove_job(4);
    fake.remove_user(40626);
    fake.put_user(60_001, "New Recruiter", "new@agency.example");
    fake.push_faults("/api/external/user/list", Fault::ServerError, 4);
    let report = run(&store, &client).await.unwrap();
    // The jobs were synced.
    assert_eq!(report.jobs_closed, 1, "{}", report.message);
    let open = open_jobs(&store).await;
    assert_eq!(open.len(), 3);
    assert_eq!(open[0].title, "Renamed");
    // The run records the failure as one of its errors, naming the endpoint.
    assert_eq!(report.errors, 1, "{}", report.message);
    assert_eq!((report.users_seen, report.users_matched), (None, None));
    let logged = latest_run(&store).await;
    assert_eq!(logged.status, "ok");
    assert_eq!(logged.errors, 1);
    let message = logged.message.unwrap();
    assert!(
        message.contains("Recruiterflow users not read"),
        "{message}"
    );
    assert!(message.contains("/api/external/user/list"), "{message}");
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(!message.contains(API_KEY));
    // The stored users are exactly as they were.
    assert_eq!(stored_users(&store).await, users_before);
    assert_eq!(
        store
            .read(recruiterflow_users::user_list_read_at)
            .await
            .unwrap(),
        read_before
    );
    // Once the endpoint answers again, the change arrives.
    let report = run(&store, &client).await.unwrap();
    assert_eq!(report.errors, 0, "{}", report.message);
    let ids: Vec<i64> = stored_users(&store).await.iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![40201, 60_001]);
}

/// Waits until `n` Recruiterflow sync runs have finished; returns the latest.
async fn wait_for_runs(app: &TestApp, n: usize) -> sync_runs::SyncRun {
    app.syncs_finished(n).await
}

/// The admin page's table row of a user.
fn user_row<'a>(html: &'a str, user_id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"user-{user_id}\""))
        .unwrap_or_else(|| panic!("no row for user {user_id}: {html}"));
    let end = html[start..].find("</tr>").unwrap() + start;
    &html[start..end]
}

#[tokio::test]
async fn jobrank_users_are_matched_to_recruiterflow_users_by_email_on_the_admin_and_job_pages() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    // The reference job's hiring-team member is a Recruiterflow user too.
    let (member, member_email, member_id) = FakeRecruiterflow::hiring_team_member();
    fake.put_user(member_id, &member, &member_email);
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    let run = wait_for_runs(&app, 1).await;
    assert_eq!(run.status, "ok", "{:?}", run.message);
    let ceo = add_user(&app, "claire@agency.example", Role::Ceo, false).await;
    // The same email as Recruiterflow's user 40201, in other case.
    let manish = add_user(
        &app,
        "Manish.Kotian36@OUTLOOK.com",
        Role::AccountManager,
        true,
    )
    .await;
    let member_user = add_user(
        &app,
        &member_email.to_uppercase(),
        Role::AccountManager,
        true,
    )
    .await;
    let browser = sign_in(&app, "claire@agency.example").await;
    let html = browser.get("/admin").await.text().await.unwrap();
    assert!(
        user_row(&html, &manish.id).contains("Recruiterflow: matched (id 40201)"),
        "{}",
        user_row(&html, &manish.id)
    );
    assert!(
        user_row(&html, &member_user.id)
            .contains(&format!("Recruiterflow: matched (id {member_id})"))
    );
    assert!(user_row(&html, &ceo.id).contains("not found in Recruiterflow"));
    assert!(
        html.contains("Recruiterflow users: 3 from the list read"),
        "{html}"
    );
    assert!(html.contains("2 matched to a jobrank user"), "{html}");

    // The job page marks the hiring-team member who is a jobrank user.
    let page = browser.get("/jobs/1").await.text().await.unwrap();
    let team = format!(
        "Hiring team: {member} <span class=\"muted\">(jobrank user: {})</span>",
        member_user.name
    );
    assert!(page.contains(&team), "{page}");

    // Manish leaves Recruiterflow: after the next sync ("Refresh now") he is not found.
    fake.remove_user(40201);
    // "Refresh now" waits a minute after the start-up sync.
    app.clock.advance(chrono::Duration::seconds(61));
    let res = browser.post("/sync/recruiterflow", &[]).await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let run = wait_for_runs(&app, 2).await;
    assert!(
        run.message
            .as_deref()
            .unwrap()
            .contains("2 Recruiterflow users seen, 1 matched to jobrank users, 1 removed"),
        "{:?}",
        run.message
    );
    let html = browser.get("/admin").await.text().await.unwrap();
    assert!(
        user_row(&html, &manish.id).contains("not found in Recruiterflow"),
        "{}",
        user_row(&html, &manish.id)
    );
    assert!(!html.contains("id 40201"));
    app.stop().await;
}

#[tokio::test]
async fn without_recruiterflow_the_admin_and_job_pages_say_nothing_of_matches() {
    let app = spawn_app().await;
    add_user(&app, "claire@agency.example", Role::Ceo, false).await;
    // web_support's job has "Tom Okafor" in its hiring team.
    add_job(
        &app,
        1,
        "Head of Finance",
        "Kestrel Fintech",
        10,
        true,
        "<p>x</p>",
    )
    .await;
    // Users stored by an earlier sync, before the key was removed.
    app.store
        .write(|tx| {
            recruiterflow_users::store_user_list(
                tx,
                &[
                    recruiterflow_users::RecruiterflowUserUpsert {
                        id: 7,
                        email: Some("claire@agency.example".into()),
                        name: Some("Claire".into()),
                    },
                    recruiterflow_users::RecruiterflowUserUpsert {
                        id: 8,
                        email: Some("claire@agency.example".into()),
                        name: Some("Tom Okafor".into()),
                    },
                ],
                &[],
                true,
                jobrank::store::now(),
            )
        })
        .await
        .unwrap();
    let browser = sign_in(&app, "claire@agency.example").await;
    let html = browser.get("/admin").await.text().await.unwrap();
    assert!(html.contains("claire@agency.example"));
    assert!(!html.contains("Recruiterflow:"), "{html}");
    assert!(!html.contains("not found in Recruiterflow"), "{html}");
    assert!(!html.contains("Recruiterflow users:"), "{html}");
    let page = browser.get("/jobs/1").await.text().await.unwrap();
    assert!(page.contains("Hiring team: Tom Okafor</p>"), "{page}");
    assert!(!page.contains("jobrank user"), "{page}");
    app.stop().await;
}
