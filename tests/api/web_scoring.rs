//! The job page and the scoring workflow over real HTTP.

use jobrank::domain::Role;
use reqwest::header::LOCATION;

use crate::helpers::spawn_app;
use crate::web_support::*;

const ALL_FIVES: [(&str, &str); 4] = [
    ("client_engagement", "5"),
    ("search_difficulty", "5"),
    ("time_open", "5"),
    ("fee_size", "5"),
];

#[tokio::test]
async fn job_page_sanitizes_the_description_and_answers_404_and_400() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(
        &app,
        501,
        "Rust Engineer",
        "Kestrel Fintech",
        20,
        true,
        "<p>Great team</p><script>alert('x')</script><img src=x onerror=alert(1)>",
    )
    .await;
    let b = sign_in(&app, "tom@agency.example").await;
    let res = b.get("/jobs/501").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("<script>alert"),
        "raw script must never appear"
    );
    assert!(!html.contains("<img"));
    assert!(
        !html.contains("alert("),
        "the script's text goes too: {html}"
    );
    assert!(
        html.contains("<div class=\"description\" id=\"description\"><p>Great team</p></div>"),
        "the description's own markup shows as formatting: {html}"
    );
    assert!(html.contains("Not scored yet"));
    assert_eq!(b.get("/jobs/999").await.status(), 404);
    assert_eq!(b.get("/jobs/abc").await.status(), 400);
    assert_eq!(b.get("/jobs/abc/score").await.status(), 400);
    assert_eq!(b.get("/jobs/999/score").await.status(), 404);
}

#[tokio::test]
async fn scoring_with_confirmation_changes_the_rank_and_moves_to_the_next_job() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "priya@agency.example", Role::SalesPerson, true).await;
    add_job(&app, 601, "Data Engineer", "Northwind", 5, true, "<p>x</p>").await;
    add_job(
        &app,
        602,
        "Head of Finance",
        "Harbour",
        40,
        true,
        "<p>y</p>",
    )
    .await;
    let tom = sign_in(&app, "tom@agency.example").await;

    let form = tom.get("/jobs/601/score").await.text().await.unwrap();
    assert!(form.contains("Replies within 24 h"), "rubric text is shown");
    assert!(form.contains("(suggested)"));
    assert!(
        form.contains("name=\"time_open\" value=\"5\" checked"),
        "time open preselected from 5 days open"
    );
    assert!(
        form.contains("name=\"fee_size\" value=\"3\" checked"),
        "fee size preselected from 25,000"
    );

    let mut fields = ALL_FIVES.to_vec();
    fields.push(("action", "review"));
    let confirm = tom.post("/jobs/601/score", &fields).await;
    assert_eq!(confirm.status(), 200);
    let page = confirm.text().await.unwrap();
    assert!(page.contains("Confirm and submit"));
    assert!(
        page.contains("overrides the suggestion"),
        "fee size 5 overrides the suggested 3"
    );
    assert_eq!(submission_count(&app).await, 0, "review stores nothing");

    let mut fields = ALL_FIVES.to_vec();
    fields.push(("action", "submit"));
    fields.push(("comment", "keen client"));
    let done = tom.post("/jobs/601/score", &fields).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()[LOCATION],
        "/jobs/602/score",
        "straight to the next job in my queue"
    );
    assert_eq!(submission_count(&app).await, 1);
    let dash = tom.get("/").await.text().await.unwrap();
    assert!(dash.contains("id=\"job-601\" data-rank=\"A\""), "{dash}");
    let stored = app
        .store
        .read(|c| jobrank::store::submissions::list_for_job(c, 601))
        .await
        .unwrap();
    assert!(stored[0].fee_size_overridden && !stored[0].time_open_overridden);

    // A second scorer's low scores bring the team score down to B.
    let priya = sign_in(&app, "priya@agency.example").await;
    let low = [
        ("client_engagement", "1"),
        ("search_difficulty", "1"),
        ("time_open", "1"),
        ("fee_size", "1"),
        ("action", "submit"),
    ];
    assert_eq!(priya.post("/jobs/601/score", &low).await.status(), 303);
    let dash = tom.get("/").await.text().await.unwrap();
    assert!(dash.contains("id=\"job-601\" data-rank=\"B\""), "{dash}");
    assert!(dash.contains("▼ down from A"));
    let job = tom.get("/jobs/601").await.text().await.unwrap();
    assert!(job.contains("<svg class=\"chart\""));
    assert!(job.contains("<polyline"));
    assert!(job.contains("3.00"), "team average of the last round");
}

/// The value of the scoring form's hidden `next` field, if any.
fn next_hint(html: &str) -> Option<String> {
    let m = "name=\"next\" value=\"";
    html.find(m)
        .map(|i| html[i + m.len()..].split('"').next().unwrap().to_string())
}

#[tokio::test]
async fn the_form_names_the_next_job_and_a_stale_or_bad_hint_falls_back_to_the_queue() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "priya@agency.example", Role::SalesPerson, true).await;
    for (id, open) in [(801, true), (802, true), (803, true), (804, false)] {
        add_job(&app, id, &format!("Role {id}"), "Northwind", 10, open, "").await;
    }
    let tom = sign_in(&app, "tom@agency.example").await;
    fn submit(next: &str) -> Vec<(&str, &str)> {
        let mut f = ALL_FIVES.to_vec();
        f.push(("action", "submit"));
        f.push(("next", next));
        f
    }

    // The form and its confirmation page carry the next job of my queue.
    let form = tom.get("/jobs/801/score").await.text().await.unwrap();
    let first = next_hint(&form).expect("the form names the next job");
    assert!(first == "802" || first == "803", "{first}");
    let mut review = ALL_FIVES.to_vec();
    review.push(("action", "review"));
    review.push(("next", &first));
    let confirm = tom
        .post("/jobs/801/score", &review)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(next_hint(&confirm).as_deref(), Some(first.as_str()));
    let done = tom.post("/jobs/801/score", &submit(&first)).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], format!("/jobs/{first}/score"));

    // A stale hint (801 no longer needs my score) is checked and the queue read instead.
    let last = if first == "802" { "803" } else { "802" };
    let done = tom
        .post(&format!("/jobs/{first}/score"), &submit("801"))
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], format!("/jobs/{last}/score"));

    // A closed job is never a destination; with the queue empty, "All caught up".
    let done = tom
        .post(&format!("/jobs/{last}/score"), &submit("804"))
        .await;
    assert_eq!(done.headers()[LOCATION], "/queue");
    assert_eq!(submission_count(&app).await, 3);

    // A malformed hint is ignored, not an error.
    let priya = sign_in(&app, "priya@agency.example").await;
    let done = priya.post("/jobs/801/score", &submit("../admin")).await;
    assert_eq!(done.status(), 303);
    let to = done.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to == "/jobs/802/score" || to == "/jobs/803/score", "{to}");
    assert_eq!(submission_count(&app).await, 4);
}

#[tokio::test]
async fn drafts_are_saved_and_restored() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 701, "Paralegal", "Stonegate", 10, true, "").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let res = tom
        .post(
            "/jobs/701/score",
            &[
                ("client_engagement", "2"),
                ("comment", "half done"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[LOCATION], "/jobs/701/score?saved=1");
    let page = tom.get("/jobs/701/score").await.text().await.unwrap();
    assert!(page.contains("name=\"client_engagement\" value=\"2\" checked"));
    assert!(page.contains("half done"));
    assert!(page.contains("draft"));
    assert_eq!(submission_count(&app).await, 0);
}

#[tokio::test]
async fn bad_scoring_input_is_refused_with_the_right_status_and_nothing_stored() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(&app, 801, "Open job", "Northwind", 10, true, "").await;
    add_job(&app, 802, "Closed job", "Northwind", 10, false, "").await;
    let tom = sign_in(&app, "tom@agency.example").await;

    let missing = tom
        .post(
            "/jobs/801/score",
            &[
                ("client_engagement", "4"),
                ("search_difficulty", "4"),
                ("time_open", "4"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(missing.status(), 422);
    let html = missing.text().await.unwrap();
    assert!(
        html.contains("Fee size: pick a level from 1 to 5"),
        "{html}"
    );
    assert!(html.contains("id=\"err-fee_size\""));
    assert!(
        html.contains("name=\"client_engagement\" value=\"4\" checked"),
        "the form keeps what was entered"
    );

    let out_of_range = tom
        .post(
            "/jobs/801/score",
            &[
                ("client_engagement", "6"),
                ("search_difficulty", "4"),
                ("time_open", "4"),
                ("fee_size", "x"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(out_of_range.status(), 422);
    let html = out_of_range.text().await.unwrap();
    assert!(
        html.contains("client_engagement must be a whole number from 1 to 5, got 6"),
        "{html}"
    );
    assert!(html.contains("fee_size must be a whole number from 1 to 5"));

    let mut fields = ALL_FIVES.to_vec();
    fields.push(("action", "submit"));
    assert_eq!(tom.post("/jobs/802/score", &fields).await.status(), 409);
    assert_eq!(tom.get("/jobs/802/score").await.status(), 409);
    assert_eq!(tom.post("/jobs/999/score", &fields).await.status(), 404);
    assert_eq!(
        tom.post_raw("/jobs/801/score", &fields).await.status(),
        403,
        "no CSRF token"
    );
    let mut wrong = fields.clone();
    wrong.push(("csrf", "not-the-token"));
    assert_eq!(tom.post_raw("/jobs/801/score", &wrong).await.status(), 403);

    let sam = sign_in(&app, "sam@agency.example").await;
    assert_eq!(sam.get("/jobs/801/score").await.status(), 403);
    assert_eq!(sam.post("/jobs/801/score", &fields).await.status(), 403);
    assert_eq!(
        sam.get("/jobs/801").await.status(),
        200,
        "everyone signed in reads"
    );

    assert_eq!(submission_count(&app).await, 0, "nothing was stored");
}
