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
        assert!(!html.contains("/score\""), "{path} links a scoring form: {html}");
        assert!(!html.contains("data-queue"), "{path} has queue links: {html}");
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
