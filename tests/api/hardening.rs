//! Hardening against made-up input: metrics labels stay bounded whatever clients send.

use reqwest::Method;

use crate::helpers::{TestApp, spawn_app};

/// The request series `/metrics` exposes now, and the size of the whole text.
async fn request_series(app: &TestApp) -> (usize, usize) {
    let text = app.get("/metrics").await.text().await.unwrap();
    let series = text
        .lines()
        .filter(|l| l.starts_with("jobrank_http_requests_total{"))
        .count();
    (series, text.len())
}

/// Sends `n` requests with made-up methods (and some with standard ones) to real
/// routes and to random paths.
async fn scan(app: &TestApp, round: usize, n: usize) {
    for i in 0..n {
        let method = Method::from_bytes(format!("X{round}M{i}").as_bytes()).unwrap();
        let path = match i % 3 {
            0 => "/".to_string(),
            1 => "/healthz".to_string(),
            _ => format!("/scan/{round}/{i}/{}", uuid::Uuid::new_v4()),
        };
        let res = app
            .client
            .request(method, app.url(&path))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        if i % 50 == 0 {
            let res = app
                .client
                .get(app.url(&format!("/r{round}x{i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404);
        }
    }
}

#[tokio::test]
async fn made_up_methods_and_random_paths_leave_the_metrics_bounded() {
    let app = spawn_app().await;
    scan(&app, 1, 1500).await;
    let (series1, size1) = request_series(&app).await;
    scan(&app, 2, 1500).await;
    let (series2, size2) = request_series(&app).await;
    // A second round of 1,500 new methods and paths adds no series (only the
    // `/metrics` scrape itself, counted once).
    assert!(series2 <= series1 + 1, "series {series1} -> {series2}");
    assert!(series1 < 20, "{series1} request series after 1,500 scans");
    // The text grows only by digits of the counts.
    assert!(
        size2 < size1 + 2_000,
        "metrics text {size1} -> {size2} bytes"
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains(r#"method="other""#), "{text}");
    assert!(!text.contains("X1M"), "a made-up method became a label");
    assert!(!text.contains("/scan/"), "a raw path became a label");
    app.stop().await;
}
