//! The CEO looking at outcomes on the demo agency, at 390x844 and 1366x900: the review
//! page's outcome report and participation chart, a client page reached from the
//! dashboard, and "My scores". No page scrolls sideways; screenshots are saved as
//! `outcomes-*`, `participation-*`, `client-*` and `my-scores-*`.

use jobrank::domain::Role;
use serde_json::json;

use super::{Browser, account, demo_app};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);

/// Scrolls the element with this id to the top of the viewport.
async fn scroll_to(b: &Browser, id: &str) {
    let found = b
        .js(&format!(
            "const e = document.getElementById('{id}'); if (!e) return false; e.scrollIntoView(); return true"
        ))
        .await;
    assert_eq!(found, json!(true), "the page has #{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ceo_reads_outcomes_participation_and_a_client_page_at_both_sizes() {
    let (app, accounts) = demo_app().await;
    let b = Browser::start().await;
    let (email, password) = account(&accounts, Role::Ceo);
    b.sign_in(&app, &email, &password).await;
    // The demo's past quarter closed over the last 13 weeks: ask for those days, so
    // the report has them whatever the day of the quarter the test runs on.
    let today = jobrank::store::now().date_naive();
    let from = today - chrono::Duration::days(100);
    let review = format!("/review?from={from}&to={today}");
    for (size, label) in [(PHONE, "phone"), (DESKTOP, "desktop")] {
        b.resize(size).await;

        b.goto(&app.url(&review)).await;
        b.assert_no_sideways_scroll(&format!("review at {label}"))
            .await;
        let summary = b
            .js("return document.getElementById('outcome-summary').textContent")
            .await;
        assert!(
            summary.as_str().unwrap().contains("filled"),
            "the report has closed jobs: {summary}"
        );
        // Each rank at close has its row, with counts rather than bare percentages.
        let rows = b
            .js("return Array.from(document.querySelectorAll('#outcomes-at-close tbody tr')).map(r => r.textContent)")
            .await;
        let rows: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(rows.len() >= 3, "{rows:?}");
        assert!(rows.iter().all(|r| r.contains(" of ")), "{rows:?}");
        assert!(
            b.js("return document.body.textContent.includes('EUR ')")
                .await
                == json!(true),
            "fees in euros are summed on their own"
        );
        scroll_to(&b, "outcomes-title").await;
        b.screenshot(&format!("outcomes-review-{label}")).await;
        scroll_to(&b, "outcomes-by-client").await;
        b.screenshot(&format!("outcomes-by-client-{label}")).await;

        scroll_to(&b, "participation-title").await;
        let lines = b
            .js("return document.querySelectorAll('#participation polyline.series-line').length")
            .await;
        assert_eq!(lines, json!(3), "one line per scorer");
        b.screenshot(&format!("participation-{label}")).await;
        scroll_to(&b, "participation-table").await;
        b.screenshot(&format!("participation-table-{label}")).await;

        // From the dashboard to a client's page.
        b.goto(&app.url("/")).await;
        let client = b
            .js("return document.querySelector('#job-list a.client-link').textContent")
            .await;
        b.click("#job-list a.client-link").await;
        b.wait_until(
            "location.pathname.startsWith('/clients/') && document.readyState === 'complete'",
            "the client page opens",
        )
        .await;
        let h1 = b
            .js("return document.querySelector('main h1').textContent")
            .await;
        assert_eq!(h1, client);
        b.assert_no_sideways_scroll(&format!("client page at {label}"))
            .await;
        assert_eq!(
            b.js("return !!document.querySelector('svg.line-chart')")
                .await,
            json!(true),
            "the engagement chart"
        );
        b.screenshot(&format!("client-{label}")).await;
        scroll_to(&b, "engagement-h").await;
        b.screenshot(&format!("client-engagement-{label}")).await;

        b.goto(&app.url("/me/scores")).await;
        b.assert_no_sideways_scroll(&format!("my scores at {label}"))
            .await;
        b.screenshot(&format!("my-scores-{label}")).await;
    }
    drop(b);
    app.stop().await;
}
