//! The dashboard: filters and sorts through the query string, htmx fragments, and
//! the freshness strip.

use jobrank::store::sync_runs::{self, RunTotals};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::web_support::*;

/// The rank letters of the listed jobs, in order ("none" while unscored).
fn ranks(html: &str) -> Vec<String> {
    html.match_indices("data-rank=\"")
        .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

/// The listed job ids, in order.
fn job_ids(html: &str) -> Vec<i64> {
    html.match_indices("<li class=\"job\" id=\"job-")
        .map(|(i, m)| {
            html[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

/// The listed clients, in order.
fn clients_of(html: &str) -> Vec<String> {
    html.match_indices("<div class=\"meta\">\n        <span>")
        .map(|(i, m)| html[i + m.len()..].split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn dashboard_filters_and_sorts_from_the_query_string() {
    let app = spawn_app().await;
    let demo = jobrank::cli::fill_demo(&app.store).await.unwrap();
    let (email, _, _, password) = demo.accounts[1].clone();
    let b = sign_in_with(&app, &email, &password).await;

    let all = b.get("/").await.text().await.unwrap();
    let order = ranks(&all);
    let open = app
        .store
        .read(jobrank::store::jobs::list_open_jobs)
        .await
        .unwrap();
    assert_eq!(order.len(), open.len(), "every open demo job is listed");
    let mut sorted = order.clone();
    sorted.sort_by_key(|r| match r.as_str() {
        "A" => 0,
        "B" => 1,
        "C" => 2,
        _ => 3,
    });
    assert_eq!(order, sorted, "sorted by rank by default");
    assert!(all.contains("Recruiterflow not configured"));
    assert!(all.contains("Supabase not configured"));

    let only_c = b.get("/?rank=C").await.text().await.unwrap();
    let c = ranks(&only_c);
    assert!(!c.is_empty() && c.iter().all(|r| r == "C"), "{c:?}");

    let by_client = b.get("/?sort=client").await.text().await.unwrap();
    let clients = clients_of(&by_client);
    let mut sorted = clients.clone();
    sorted.sort_by_key(|c| c.to_lowercase());
    assert_eq!(clients, sorted);
    let reversed = b
        .get("/?sort=client&dir=reverse")
        .await
        .text()
        .await
        .unwrap();
    let mut descending = sorted.clone();
    descending.reverse();
    assert_eq!(clients_of(&reversed), descending);

    let search = b.get("/?q=rust").await.text().await.unwrap();
    let rust: Vec<i64> = open
        .iter()
        .filter(|j| j.title.contains("Rust"))
        .map(|j| j.id)
        .collect();
    assert_eq!(job_ids(&search), rust, "search matches the title");
    let client = b
        .get("/?client=Kestrel+Fintech&min_days=0&max_days=1000")
        .await
        .text()
        .await
        .unwrap();
    assert!(!job_ids(&client).is_empty());
    assert!(!client.contains("Harbour Logistics</span>"));

    let needs = b.get("/?needs=1").await.text().await.unwrap();
    assert!(job_ids(&needs).len() <= open.len());
    assert!(needs.matches("Needs your score").count() >= job_ids(&needs).len());

    let fragment = b.htmx_get("/?rank=A").await;
    assert_eq!(fragment.status(), 200);
    let f = fragment.text().await.unwrap();
    assert!(!f.contains("<html"), "htmx gets only the list");
    assert!(f.contains("id=\"job-count\""));
    assert!(ranks(&f).iter().all(|r| r == "A"));

    for bad in [
        "/?min_days=abc",
        "/?rank=Z",
        "/?sort=colour",
        "/?pipeline=odd",
    ] {
        let res = b.get(bad).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn freshness_strip_shows_sync_failures_and_the_replication_backlog() {
    let app = spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", "test-key".into()),
        ("SUPABASE_DB_URL", "postgres://u:p@127.0.0.1:1/db".into()),
    ])
    .await;
    add_user(
        &app,
        "tom@agency.example",
        jobrank::domain::Role::AccountManager,
        true,
    )
    .await;
    let b = sign_in(&app, "tom@agency.example").await;
    let html = b.get("/").await.text().await.unwrap();
    assert!(html.contains("Recruiterflow not synced yet"), "{html}");
    assert!(html.contains("waiting for Supabase"));
    app.store
        .write(|tx| {
            let now = jobrank::store::now();
            let id = sync_runs::start_run(tx, "recruiterflow", now)?;
            sync_runs::finish_run(tx, id, true, &RunTotals::default(), now)?;
            Ok(())
        })
        .await
        .unwrap();
    let html = b.get("/").await.text().await.unwrap();
    assert!(
        html.contains("class=\"pill ok\" id=\"sync-state\">Recruiterflow synced just now"),
        "{html}"
    );
    app.store
        .write(|tx| {
            let now = jobrank::store::now();
            let id = sync_runs::start_run(tx, "recruiterflow", now)?;
            sync_runs::finish_run(tx, id, false, &RunTotals::default(), now)?;
            Ok(())
        })
        .await
        .unwrap();
    let html = b.get("/").await.text().await.unwrap();
    assert!(
        html.contains("class=\"pill red\" id=\"sync-state\">Recruiterflow sync failed"),
        "{html}"
    );
}
