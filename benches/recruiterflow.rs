//! Recruiterflow sync figures, printed (targets from issue 4):
//! - full sync of 2,000 open jobs in 20 pages from the fake server (target <= 5 s);
//! - verified webhook ingest with fsync, events per second (target >= 1,000/s);
//! - from a webhook request to the job's change visible in the store (target <= 1 s).
//!
//! Run with `cargo bench --bench recruiterflow` (or, without a release build,
//! `cargo test --bench recruiterflow`). Everything runs on 127.0.0.1 with real SQLite.

#[path = "../tests/api/fake_recruiterflow.rs"]
mod fake;
#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use fake::{API_KEY, FakeRecruiterflow};
use futures_util::StreamExt;
use jobrank::recruiterflow::webhook::sign;
use jobrank::recruiterflow::{Client, ClientOptions, sync};
use jobrank::store::{Store, jobs, sync_runs};
use secrecy::SecretString;

const SECRET: &str = "whsec-bench-3c1d9a7e";

async fn open_store(dir: &std::path::Path) -> Store {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .unwrap()
        .unwrap()
}

async fn full_sync_2000() {
    let fake = FakeRecruiterflow::with_jobs(2000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    let client = Client::new(
        url::Url::parse(&fake.base_url()).unwrap(),
        SecretString::from(API_KEY),
        ClientOptions::default(),
    )
    .unwrap();
    for label in ["first (all new)", "second (unchanged)"] {
        let t = Instant::now();
        let last = std::sync::Mutex::new(String::new());
        let report = sync::full_sync(&store, &client, &|p| {
            let mut l = last.lock().unwrap();
            if *l != p.phase {
                if std::env::var("BENCH_PHASES").is_ok() {
                    eprintln!("  {:>6.2} s: {}", t.elapsed().as_secs_f64(), p.phase);
                }
                *l = p.phase.to_string();
            }
        })
        .await
        .unwrap();
        let took = t.elapsed();
        let pages = fake
            .requests()
            .iter()
            .filter(|r| r.starts_with("/api/external/job/list?"))
            .count();
        println!(
            "full sync of 2,000 jobs, {label}: {:.2} s ({} jobs seen, {} changed, {} pipelines; {} list pages requested so far, {} requests in all) [target <= 5 s]",
            took.as_secs_f64(),
            report.jobs_seen,
            report.jobs_changed,
            report.pipelines_recorded,
            pages,
            fake.requests().len()
        );
    }
}

async fn webhook_ingest() {
    // No API key: events are stored and stay queued, so this measures ingest alone.
    let app =
        helpers::spawn_app_with(&[("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string())]).await;
    let url = app.url("/webhooks/recruiterflow");
    let http = reqwest::Client::new();
    let n = 3000;
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            serde_json::to_vec(&serde_json::json!({
                "id": format!("bench-{i}"), "event": "job.updated", "data": {"job_id": i % 500 + 1}
            }))
            .unwrap()
        })
        .collect();
    for concurrency in [1usize, 16, 64] {
        let t = Instant::now();
        let batch: Vec<&Vec<u8>> = bodies
            .iter()
            .skip(match concurrency {
                1 => 0,
                16 => 500,
                _ => 1500,
            })
            .take(if concurrency == 1 { 500 } else { 1000 })
            .collect();
        let count = batch.len();
        let statuses: Vec<u16> = futures_util::stream::iter(batch)
            .map(|body| {
                let http = &http;
                let url = &url;
                async move {
                    http.post(url)
                        .header("content-type", "application/json")
                        .header(
                            "x-recruiterflow-signature",
                            sign(SECRET.as_bytes(), None, body),
                        )
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let took = t.elapsed();
        assert!(statuses.iter().all(|s| *s == 202), "an event was refused");
        println!(
            "verified webhook ingest, {count} events at concurrency {concurrency}: {:.0} events/s (each stored with fsync before the 202) [target >= 1,000/s]",
            count as f64 / took.as_secs_f64()
        );
    }
    app.stop().await;
}

async fn webhook_to_visible() {
    let fake = FakeRecruiterflow::with_jobs(50).await;
    let app = helpers::spawn_app_with(&[
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
        ("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string()),
    ])
    .await;
    let store = app.store.clone();
    let url = app.url("/webhooks/recruiterflow");
    // Let the first full sync finish.
    helpers::eventually("the first full sync finished", || async {
        store
            .read(|c| sync_runs::latest_run(c, sync::RUN_KIND))
            .await
            .unwrap()
            .is_some_and(|r| r.status != "running")
    })
    .await;
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for i in 0..30i64 {
        let id = i % 50 + 1;
        let title = format!("Renamed {i}");
        fake.edit_job(id, |j| j.title = title.clone());
        let body = serde_json::to_vec(&serde_json::json!({
            "id": format!("lat-{i}"), "event": "job.updated", "data": {"job_id": id}
        }))
        .unwrap();
        let t = Instant::now();
        let status = http
            .post(&url)
            .header(
                "x-recruiterflow-signature",
                sign(SECRET.as_bytes(), None, &body),
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
        helpers::eventually_every(Duration::from_millis(1), "the change arrived", || {
            let t2 = title.clone();
            let store = store.clone();
            async move {
                store
                    .read(move |c| Ok(jobs::find_job(c, id)?.is_some_and(|j| j.title == t2)))
                    .await
                    .unwrap()
            }
        })
        .await;
        latencies.push(t.elapsed());
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "webhook request -> change visible in the store, {} events: median {:.1} ms, p95 {:.1} ms, max {:.1} ms [target <= 1 s]",
        latencies.len(),
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 95 / 100]),
        ms(*latencies.last().unwrap())
    );
    app.stop().await;
}

fn main() {
    jobrank::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        full_sync_2000().await;
        webhook_ingest().await;
        webhook_to_visible().await;
    });
}
