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
    assert!(
        ann_row.contains("<td data-label=\"Average composite\">5.00</td>"),
        "{ann_row}"
    );
    assert!(
        ann_row.contains("+2.00 over 1 score"),
        "ann is two points above the others: {ann_row}"
    );
    assert!(
        ann_row.contains("href=\"/jobs/1\""),
        "her 5.00 is far from the team: {ann_row}"
    );
    assert!(ann_row.contains("1 of 1 (100%)"), "{ann_row}");
    let bob_row = row("bob@agency.example");
    assert!(
        bob_row.contains("<td data-label=\"Scores\">2</td>"),
        "two submissions: {bob_row}"
    );
    assert!(
        bob_row.contains("<td data-label=\"Average composite\">2.50</td>"),
        "mean of 3.00 and 2.00: {bob_row}"
    );
    assert!(
        bob_row.contains("<td data-label=\"Spread\">0.50</td>"),
        "spread: {bob_row}"
    );
    // Job 1: 3.00 against (5.00 + 3.00) / 2 = 4.00; job 2 has no other scorer.
    assert!(bob_row.contains(">-1.00 over 1 score</td>"), "{bob_row}");
    // Nobody has 8 scores compared with the team: nobody is pointed at.
    assert!(html.contains("id=\"no-flags\""), "{html}");
    assert!(!html.contains("id=\"flagged\""));

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

/// Issue 13 item 16: the review points at a scorer whose scores stand apart, says which
/// rule fired in words, breaks the difference down by factor, and draws each scorer's
/// difference week by week.
#[tokio::test]
async fn review_points_at_the_scorer_who_stands_apart_and_says_why() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    let ann = add_user(&app, "ann@agency.example", Role::SalesPerson, true).await;
    let bob = add_user(&app, "bob@agency.example", Role::AccountManager, true).await;
    let cat = add_user(&app, "cat@agency.example", Role::AccountManager, true).await;
    // Ann rates client engagement two levels above the others on nine jobs: +0.50 on
    // her composite, never 1.00 away.
    for job in 1..=9 {
        add_job(&app, job, &format!("Job {job}"), "Acme", 10, true, "").await;
        submit(&app, job, &ann.id, [5, 3, 3, 3]).await;
        submit(&app, job, &bob.id, [3, 3, 3, 3]).await;
        submit(&app, job, &cat.id, [3, 3, 3, 3]).await;
    }
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let html = ceo.get("/review").await.text().await.unwrap();

    let flagged = &html[html.find("id=\"flagged\"").expect("a scorer is pointed at")..];
    let flagged = &flagged[..flagged.find("</div>").unwrap()];
    assert!(
        flagged.contains("<strong>User ann@agency.example</strong>"),
        "{flagged}"
    );
    assert!(
        flagged.contains("Scores 0.50 higher than the rest of the team on average, over 9 scores compared with the team&#39;s (the review points at 0.50 or more either way)."),
        "the rule in words: {flagged}"
    );
    assert!(
        flagged.contains(
            "Differs most on client engagement (5 = very responsive client) (+2.00 levels)."
        ),
        "{flagged}"
    );
    // Each factor's column says which end of its scale is 5.
    let factors = &html[html.find("id=\"factor-deviation\"").unwrap()..];
    assert!(
        factors.contains("Search difficulty — 5 = easy to fill"),
        "{factors}"
    );
    assert!(!flagged.contains("bob@"), "bob is 0.25 below: {flagged}");
    assert!(
        !flagged.contains("Far from the rest"),
        "no outlier rule: {flagged}"
    );
    // Jargon the page no longer uses.
    for word in ["ISO week", "round", "SD)"] {
        assert!(!html.contains(word), "{word:?} on the review page");
    }
    assert!(
        html.contains("standard deviation"),
        "the spread is explained"
    );

    let ann_row = {
        let i = html
            .find("<th scope=\"row\">User ann@agency.example")
            .unwrap();
        html[..i]
            .rfind("<tr ")
            .map(|s| &html[s..])
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
    };
    assert!(ann_row.contains("class=\"flagged\""), "{ann_row}");
    assert!(ann_row.contains("Look at this"));
    // The weekly chart: one bar up this week, in the SVG, with its figure in words.
    assert!(ann_row.contains("<svg class=\"spark\""), "{ann_row}");
    assert!(
        ann_row.contains(
            "<rect class=\"up\" x=\"224\" y=\"32\" width=\"12\" height=\"8\"><title>week of "
        ),
        "{ann_row}"
    );
    assert!(
        ann_row.contains(": +0.50 over 9 scores</title>"),
        "{ann_row}"
    );
    assert!(!html.contains("style="), "the CSP allows no inline style");

    let factors = &html[html.find("id=\"factor-deviation\"").unwrap()..];
    let ann_factors = factors
        .split("<th scope=\"row\">User ann@agency.example</th>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert_eq!(
        ann_factors,
        "<td data-label=\"Client engagement — 5 = very responsive client\"><strong>+2.00</strong></td><td data-label=\"Search difficulty — 5 = easy to fill\">0.00</td><td data-label=\"Time open — 5 = newly opened\">0.00</td><td data-label=\"Fee size — 5 = largest fee\">0.00</td>"
    );
}
