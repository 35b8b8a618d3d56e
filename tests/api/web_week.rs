//! The scorer's week over real HTTP (issue 13): what a read-only user is offered, the
//! confirmation after a submission, one-time form keys, skipping a job, the caught-up
//! state and error pages.

use jobrank::domain::Role;

use crate::helpers::spawn_app;
use crate::web_support::*;

/// Issue 13, item 11: a read-only user is offered nothing that ends in 403: no "Needs
/// my score" filter, no scoring or queue links, and their role reads "Read-only".
#[tokio::test]
async fn a_read_only_user_sees_no_scoring_links_and_a_role_that_means_something() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    for id in [901, 902, 903] {
        add_job(&app, id, &format!("Role {id}"), "Northwind", 10, true, "").await;
    }
    let sam = sign_in(&app, "sam@agency.example").await;
    for path in ["/", "/jobs/902"] {
        let html = sam.get(path).await.text().await.unwrap();
        assert!(!html.contains("Needs my score"), "{path}: {html}");
        assert!(
            !html.contains("/score\""),
            "{path} links a scoring form: {html}"
        );
        assert!(
            !html.contains("data-queue"),
            "{path} has queue links: {html}"
        );
        assert!(html.contains("(Read-only)"), "{path}: {html}");
        assert!(!html.contains("(Other)"), "{path}");
        assert!(!html.contains("You have not scored this job"), "{path}");
    }
    // A scorer keeps all of it.
    let tom = sign_in(&app, "tom@agency.example").await;
    let html = tom.get("/jobs/902").await.text().await.unwrap();
    assert!(html.contains("data-queue"), "{html}");
    assert!(html.contains("/jobs/902/score\""), "{html}");
    assert!(html.contains("(Account manager)"), "{html}");
    let dash = tom.get("/").await.text().await.unwrap();
    assert!(dash.contains("Needs my score"));
}

/// Issue 13, item 17: an error page keeps the navigation and the sign-out button for a
/// signed-in user, and says what happened in a sentence (capital letter, full stop),
/// as the htmx fragment and the JSON API do.
#[tokio::test]
async fn error_pages_keep_the_navigation_and_speak_in_sentences() {
    let app = spawn_app().await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_user(&app, "tom@agency.example", Role::AccountManager, true).await;
    add_job(&app, 911, "Closed role", "Northwind", 10, false, "").await;
    let sam = sign_in(&app, "sam@agency.example").await;
    let tom = sign_in(&app, "tom@agency.example").await;
    let chrome = |html: &str| {
        html.contains("<nav aria-label=\"Main\">") && html.contains("action=\"/logout\"")
    };
    let cases = [
        (sam.get("/jobs/999").await, 404, "Job 999 not found."),
        (sam.get("/no/such/page").await, 404, "Page not found."),
        (
            sam.get("/jobs/911/score").await,
            403,
            "does not score jobs; the CEO can change that on the admin page.",
        ),
        (
            sam.get("/jobs/abc").await,
            400,
            "is not a job id (Recruiterflow job ids are whole numbers).",
        ),
        (
            tom.get("/jobs/911/score").await,
            409,
            "Job 911 (Closed role) is closed; closed jobs keep their scores but take no new ones.",
        ),
        (
            tom.post_raw("/jobs/911/score", &[("action", "submit")])
                .await,
            403,
            "The form's security token is missing (CSRF check failed): reload the page and retry.",
        ),
    ];
    for (res, status, words) in cases {
        assert_eq!(res.status(), status, "{words}");
        let html = res.text().await.unwrap();
        assert!(chrome(&html), "{status} page without navigation: {html}");
        assert!(
            html.contains(&words.replace('\'', "&#39;")),
            "{status}: {html}"
        );
    }
    // Not signed in: the error page has no navigation to offer.
    let anon = app.get("/no/such/page").await.text().await.unwrap();
    assert!(!chrome(&anon));

    // The htmx fragment and the JSON API speak in sentences too.
    let frag = sam.htmx_get("/jobs/999").await.text().await.unwrap();
    assert!(frag.contains("Job 999 not found."), "{frag}");
    let json: serde_json::Value = sam.get("/api/jobs/999").await.json().await.unwrap();
    assert_eq!(json["detail"], "Job 999 not found.");
}
