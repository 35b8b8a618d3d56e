//! CSV exports: the dashboard view with its query string, every submission, proper
//! quoting and no formula injection.

use jobrank::domain::Role;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};

use crate::helpers::spawn_app;
use crate::web_support::*;

fn parse(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn jobs_csv_follows_the_dashboard_query_and_defuses_formulas() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_job(
        &app,
        1,
        "=HYPERLINK(\"http://evil\")",
        "Acme, \"Ltd\"",
        5,
        true,
        "",
    )
    .await;
    add_job(&app, 2, "Data Engineer", "+Beta", 50, true, "").await;
    add_job(&app, 3, "Closed role", "Gamma", 50, false, "").await;
    let b = sign_in(&app, "ceo@agency.example").await;
    // Score job 1 to an A, leave job 2 unscored.
    let res = b
        .post(
            "/jobs/1/score",
            &[
                ("client_engagement", "5"),
                ("search_difficulty", "5"),
                ("time_open", "5"),
                ("fee_size", "3"),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());

    let res = b.get("/export/jobs.csv").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let cd = res.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.starts_with("attachment;") && cd.contains(".csv"), "{cd}");
    let rows = parse(&res.text().await.unwrap());
    assert_eq!(rows[0][0], "job_id");
    assert_eq!(rows.len(), 3, "header and the two open jobs: {rows:?}");
    assert_eq!(rows[1][0], "1", "ranked by rank like the dashboard");
    assert_eq!(rows[1][1], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(
        rows[1][2], "Acme, \"Ltd\"",
        "commas and quotes survive quoting"
    );
    assert_eq!(rows[1][4], "A");
    assert_eq!(rows[2][2], "'+Beta");
    assert_eq!(rows[2][4], "", "unscored");

    let rows = parse(&b.get("/export/jobs.csv?rank=A").await.text().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "1");
    let rows = parse(
        &b.get("/export/jobs.csv?rank=unscored")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], "2");

    // The page's link exports the view it shows, with or without JavaScript; so does
    // the list htmx swaps in.
    let dashboard = b.get("/?rank=A").await.text().await.unwrap();
    assert!(
        dashboard.contains("id=\"export-view\" href=\"/export/jobs.csv?rank=A\""),
        "{dashboard}"
    );
    let fragment = b.htmx_get("/?rank=unscored").await.text().await.unwrap();
    assert!(
        fragment.contains("id=\"export-view\" href=\"/export/jobs.csv?rank=unscored\""),
        "{fragment}"
    );
    let plain = b.get("/").await.text().await.unwrap();
    assert!(plain.contains("id=\"export-view\" href=\"/export/jobs.csv\""));

    let res = b.get("/export/jobs.csv?rank=Q").await;
    assert_eq!(res.status(), 400);
    let res = app.get("/export/jobs.csv").await;
    assert!(
        res.status().is_redirection(),
        "signed-out users go to sign in"
    );
}

#[tokio::test]
async fn submissions_csv_lists_every_submission() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, false).await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    add_job(&app, 7, "Head of Data", "Acme", 5, true, "").await;
    let b = sign_in(&app, "ann@agency.example").await;
    for (level, comment) in [("4", "@SUM(A1:A9)"), ("2", "-1 looks weak, but fine")] {
        let res = b
            .post(
                "/jobs/7/score",
                &[
                    ("client_engagement", level),
                    ("search_difficulty", "3"),
                    ("time_open", "5"),
                    ("fee_size", "3"),
                    ("comment", comment),
                    ("action", "submit"),
                ],
            )
            .await;
        assert!(res.status().is_redirection(), "{}", res.status());
    }
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let res = ceo.get("/export/submissions.csv").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    let rows = parse(&res.text().await.unwrap());
    assert_eq!(rows.len(), 3);
    let h = &rows[0];
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    assert_eq!(rows[1][col("client_engagement")], "4");
    assert_eq!(rows[1][col("comment")], "'@SUM(A1:A9)");
    assert_eq!(rows[2][col("comment")], "'-1 looks weak, but fine");
    assert_eq!(rows[2][col("scorer_email")], "ann@agency.example");
    assert_eq!(rows[2][col("job_title")], "Head of Data");
    // 0.25 * (2 + 3 + 5 + 3) = 3.25
    assert_eq!(rows[2][col("composite")], "3.25");
}

/// Every scorer's email and comments are in the submissions export: the CEO's alone.
/// The jobs export (the dashboard's view) stays open to every signed-in user.
#[tokio::test]
async fn submissions_csv_is_for_the_ceo_only() {
    let app = spawn_app().await;
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(&app, 7, "Head of Data", "Acme", 5, true, "").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let res = tom
        .post(
            "/jobs/7/score",
            &[
                ("client_engagement", "4"),
                ("search_difficulty", "3"),
                ("time_open", "5"),
                ("fee_size", "3"),
                ("comment", "private remark"),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());

    let sam = sign_in(&app, "sam@agency.example").await;
    for who in [&tom, &sam] {
        let res = who.get("/export/submissions.csv").await;
        assert_eq!(res.status(), 403, "only the CEO exports submissions");
        let body = res.text().await.unwrap();
        assert!(body.contains("Only the CEO"), "{body}");
        assert!(!body.contains("private remark"));
        // The error page names the signed-in user (here "User tom@agency.example") in
        // its header; no export column or other scorer's email is there.
        assert!(!body.contains("scorer_email"));
        assert_eq!(
            body.matches("tom@agency.example").count(),
            usize::from(who.cookie == tom.cookie)
        );
        assert_eq!(who.get("/export/jobs.csv").await.status(), 200);
    }
    assert!(
        app.get("/export/submissions.csv")
            .await
            .status()
            .is_redirection(),
        "signed-out users go to sign in"
    );
    let ceo = sign_in(&app, "ceo@agency.example").await;
    let res = ceo.get("/export/submissions.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("private remark"));
}
