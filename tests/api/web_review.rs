//! The CEO's review page: scorer patterns with outliers, the weekly rank
//! distribution chart, and rank against outcome for the jobs closed this quarter
//! (the report itself is tested in `outcomes`).

use jobrank::domain::Role;
use jobrank::store::submissions::{self, NewSubmission};

use crate::helpers::{TestApp, spawn_app};
use crate::web_support::*;

async fn submit(app: &TestApp, job: i64, scorer: &str, v: [u8; 4]) {
    let new = NewSubmission {
        job_id: job,
        scorer_id: scorer.to_string(),
        scores: submissions::levels(v).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    app.store
        .write(move |tx| {
            jobrank::store::commands::submit_score(tx, &new, jobrank::store::now()).map(|_| ())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn review_is_for_the_ceo_and_says_when_there_is_nothing_yet() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    let tom = sign_in(&app, "tom@agency.example").await;
    assert_eq!(tom.get("/review").await.status(), 403);
    assert!(app.get("/review").await.status().is_redirection());
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let res = ceo.get("/review").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"no-scores\""));
    assert!(html.contains("id=\"no-ranks\""));
    assert!(html.contains("id=\"no-outcomes\""));
}

#[tokio::test]
async fn review_shows_scorer_patterns_outliers_distribution_and_outcomes() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    let ann = add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    let bob = add_user(&app, "bob@agency.example", Role::SalesPerson, true).await;
    let cat = add_user(&app, "cat@agency.example", Role::SalesPerson, true).await;
    add_job(&app, 1, "Head of Data", "Acme", 10, true, "").await;
    add_job(&app, 2, "Analyst", "Beta", 10, true, "").await;
    submit(&app, 1, &ann.id, [5, 5, 5, 5]).await;
    submit(&app, 1, &bob.id, [3, 3, 3, 3]).await;
    submit(&app, 1, &cat.id, [3, 3, 3, 3]).await;
    submit(&app, 2, &bob.id, [2, 2, 2, 2]).await;
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let html = ceo.get("/review").await.text().await.unwrap();

    let row = |name: &str| {
        let i = html
            .find(&format!("<th scope=\"row\">User {name}"))
            .unwrap();
        html[i..].split("</tr>").next().unwrap().to_string()
    };
    let ann_row = row("ann@agency.example");
    assert!(ann_row.contains("<td>5.00</td>"), "{ann_row}");
    assert!(
        ann_row.contains("+2.00"),
        "ann is two points above the others: {ann_row}"
    );
    assert!(
        ann_row.contains("href=\"/jobs/1\""),
        "her 5.00 is an outlier: {ann_row}"
    );
    let bob_row = row("bob@agency.example");
    assert!(bob_row.contains("<td>2</td>"), "two submissions: {bob_row}");
    assert!(
        bob_row.contains("<td>2.50</td>"),
        "mean of 3.00 and 2.00: {bob_row}"
    );
    assert!(bob_row.contains("<td>0.50</td>"), "spread: {bob_row}");
    // Job 1: 3.00 against (5.00 + 3.00) / 2 = 4.00; job 2 has no other scorer.
    assert!(bob_row.contains("<td>-1.00</td>"), "{bob_row}");

    // Job 1: (5 + 3 + 3) / 3 = 3.67, a B; job 2: 2.00, a C.
    assert!(html.contains("<title id=\"dist-svg-title\">"));
    assert!(html.contains("<desc id=\"dist-svg-desc\">"));
    assert!(html.contains("class=\"seg seg-B\"") && html.contains("class=\"seg seg-C\""));
    assert!(html.contains(": A 0, B 1, C 1</title>"), "{html}");
    assert!(
        html.contains("<td>0</td><td>1</td><td>1</td>"),
        "the figures as a table"
    );
    assert!(html.contains("id=\"no-outcomes\""));

    // Job 2 is filled and closes: this quarter's report counts it under C.
    let now = jobrank::store::now();
    let at = jobrank::store::ts(&now);
    app.store
        .write(move |tx| {
            tx.execute(
                "INSERT INTO placements (id, job_id, candidate, placed_at, fee_minor, fee_currency, synced_at)
                 VALUES (900, 2, 'Jo Bloggs', ?1, 1800000, 'GBP', ?1)",
                [&at],
            )?;
            jobrank::store::commands::close_job(tx, 2, Some("Filled"), now).map(|_| ())
        })
        .await
        .unwrap();
    let html = ceo.get("/review").await.text().await.unwrap();
    assert!(!html.contains("id=\"no-outcomes\""));
    let i = html.find("id=\"outcomes-at-close\"").unwrap();
    let table = &html[i..];
    assert!(
        table.contains("<th scope=\"row\" class=\"wrap\">C</th><td data-label=\"Jobs\">1</td><td data-label=\"Filled\">1 of 1</td><td data-label=\"Median days to fill\">10 days</td><td data-label=\"Fees placed\" class=\"wrap\">GBP 18,000</td>"),
        "{table}"
    );
    assert!(
        table.contains("<th scope=\"row\" class=\"wrap\">B</th><td data-label=\"Jobs\">0</td><td data-label=\"Filled\">0 of 0</td>"),
        "{table}"
    );
}
