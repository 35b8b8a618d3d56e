//! The dashboard's "Refresh now" control, against the fake Recruiterflow server.

use std::time::Duration;

use jobrank::domain::Role;
use jobrank::store::sync_runs::{self, RunTotals};

use crate::fake_recruiterflow::{API_KEY, FakeJob, FakeRecruiterflow};
use crate::helpers::{TestApp, eventually, spawn_app, spawn_app_with};
use crate::web_support::{Browser, add_user, sign_in};

/// Waits until `n` full syncs were recorded and none is running; returns when the
/// last one started.
async fn wait_for_syncs(
    app: &TestApp,
    browser: &Browser<'_>,
    n: usize,
) -> chrono::DateTime<chrono::Utc> {
    app.syncs_finished(n).await;
    let body = browser
        .htmx_get("/sync/recruiterflow/status")
        .await
        .text()
        .await
        .unwrap();
    assert!(!body.contains("Syncing"), "{body}");
    app.store
        .read(|c| sync_runs::latest_run(c, "recruiterflow"))
        .await
        .unwrap()
        .expect("a run")
        .started_at
}

/// How many full Recruiterflow syncs were recorded.
async fn full_syncs(app: &TestApp) -> usize {
    app.store
        .read(|c| sync_runs::recent_runs(c, 1000))
        .await
        .unwrap()
        .iter()
        .filter(|r| r.kind == "recruiterflow")
        .count()
}

#[tokio::test]
async fn refresh_now_syncs_shows_progress_and_reloads_when_done() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let browser = sign_in(&app, "tom@agency.example").await;
    // Let the sync that runs at start finish first.
    wait_for_syncs(&app, &browser, 1).await;
    let page = browser.get("/").await.text().await.unwrap();
    assert!(page.contains("Refresh now"), "{page}");
    assert!(!page.contains("Head of Data"));
    // The start-up sync began less than a minute ago.
    app.clock.advance(chrono::Duration::seconds(61));

    // A new job appears in Recruiterflow; pages are answered slowly so the sync is
    // seen running.
    fake.put_job(FakeJob::new(99, "Head of Data", "Kestrel Fintech"));
    fake.set_delay("/api/external/job/list", Duration::from_millis(600));
    let res = app
        .client
        .post(app.url("/sync/recruiterflow"))
        .header("cookie", format!("jobrank_session={}", browser.cookie))
        .header("hx-request", "true")
        .header("x-csrf-token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("Syncing"), "{fragment}");
    assert!(
        fragment.contains("every 1s"),
        "the control polls: {fragment}"
    );

    eventually("the sync finished and the page reloads", || async {
        let res = browser
            .htmx_get("/sync/recruiterflow/status?after=running")
            .await;
        assert_eq!(res.status(), 200);
        let refresh = res.headers().get("hx-refresh").is_some();
        let body = res.text().await.unwrap();
        if refresh {
            assert!(body.contains("Refresh now"), "{body}");
            Ok(())
        } else {
            Err(body)
        }
    })
    .await;
    let page = browser.get("/").await.text().await.unwrap();
    assert!(
        page.contains("Head of Data"),
        "the new job shows after the refresh"
    );

    // Without JavaScript the button is a form that returns to the dashboard.
    app.clock.advance(chrono::Duration::seconds(61));
    let res = browser.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
}

#[tokio::test]
async fn refresh_needs_recruiterflow_a_session_and_the_csrf_token() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let browser = sign_in(&app, "tom@agency.example").await;
    let page = browser.get("/").await.text().await.unwrap();
    assert!(
        !page.contains("Refresh now"),
        "no control without Recruiterflow"
    );
    let res = browser.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("RECRUITERFLOW_API_KEY"));
    let res = browser.post_raw("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 403, "no CSRF token");
    let res = app
        .client
        .post(app.url("/sync/recruiterflow"))
        .send()
        .await
        .unwrap();
    assert!(
        res.status() == 303 || res.status() == 401 || res.status() == 403,
        "{}",
        res.status()
    );
}

/// "Refresh now" is for scorers and the CEO (read-only users see the state, not the
/// button), and starts at most one full sync a minute, counted from the start of the
/// last full sync whatever started it (the poller, a press, `jobrank sync`).
#[tokio::test]
async fn refresh_now_is_for_scorers_and_the_ceo_at_most_once_a_minute() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
    ])
    .await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "claire@agency.example", Role::Ceo, false).await;
    let sam = sign_in(&app, "sam@agency.example").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let claire = sign_in(&app, "claire@agency.example").await;
    let start_up = wait_for_syncs(&app, &tom, 1).await;

    // A read-only user: no button, and 403 with a reason when posting anyway.
    app.clock.set(start_up + chrono::Duration::seconds(61));
    let page = sam.get("/").await.text().await.unwrap();
    assert!(!page.contains("Refresh now"), "{page}");
    assert!(
        !page.contains("id=\"sync-refresh\""),
        "nothing is wrong, so a read-only user sees no sync state (issue 13 item 7)"
    );
    let res = sam.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 403);
    let body = res.text().await.unwrap();
    assert!(body.contains("Only scorers and the CEO"), "{body}");
    assert_eq!(full_syncs(&app).await, 1, "nothing started");

    // A scorer starts one; a press 20 seconds after it started is refused with the
    // time left, in words, for the plain form and for htmx alike.
    assert!(
        tom.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("Refresh now")
    );
    let res = tom.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 303);
    let pressed = wait_for_syncs(&app, &tom, 2).await;
    app.clock.set(pressed + chrono::Duration::seconds(20));
    let res = claire.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("started 20 seconds ago; you can refresh again in 40 seconds"),
        "{body}"
    );
    let res = app
        .client
        .post(app.url("/sync/recruiterflow"))
        .header("cookie", format!("jobrank_session={}", tom.cookie))
        .header("hx-request", "true")
        .header("x-csrf-token", &tom.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let fragment = res.text().await.unwrap();
    assert!(
        fragment.contains("id=\"sync-refresh\"") && fragment.contains("again in 40 seconds"),
        "htmx gets the control with the reason: {fragment}"
    );
    assert_eq!(full_syncs(&app).await, 2);

    // A minute after that start, the CEO (who does not score) may refresh.
    app.clock.set(pressed + chrono::Duration::seconds(60));
    let res = claire.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 303);
    let last = wait_for_syncs(&app, &tom, 3).await;

    // A sync started elsewhere (`jobrank sync recruiterflow` in another process) counts.
    let elsewhere = last + chrono::Duration::seconds(70);
    app.store
        .write(move |tx| {
            let id = sync_runs::start_run(tx, "recruiterflow", elsewhere)?;
            sync_runs::finish_run(tx, id, true, &RunTotals::default(), elsewhere)
        })
        .await
        .unwrap();
    app.clock.set(elsewhere + chrono::Duration::seconds(5));
    let res = tom.post("/sync/recruiterflow", &[]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("again in 55 seconds"));
    assert_eq!(full_syncs(&app).await, 4);
}
