//! The dashboard's "Refresh now" control, against the fake Recruiterflow server.

use std::time::{Duration, Instant};

use jobrank::domain::Role;

use crate::fake_recruiterflow::{API_KEY, FakeJob, FakeRecruiterflow};
use crate::helpers::{spawn_app, spawn_app_with};
use crate::web_support::{add_user, sign_in};

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
    let deadline = Instant::now() + Duration::from_secs(30);
    while !browser
        .htmx_get("/sync/recruiterflow/status")
        .await
        .text()
        .await
        .unwrap()
        .contains("Refresh now")
    {
        assert!(
            Instant::now() < deadline,
            "the start-up sync never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = browser.get("/").await.text().await.unwrap();
    assert!(page.contains("Refresh now"), "{page}");
    assert!(!page.contains("Head of Data"));

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

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = browser
            .htmx_get("/sync/recruiterflow/status?after=running")
            .await;
        assert_eq!(res.status(), 200);
        let refresh = res.headers().get("hx-refresh").is_some();
        let body = res.text().await.unwrap();
        if refresh {
            assert!(body.contains("Refresh now"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "the sync never finished: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = browser.get("/").await.text().await.unwrap();
    assert!(
        page.contains("Head of Data"),
        "the new job shows after the refresh"
    );

    // Without JavaScript the button is a form that returns to the dashboard.
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
