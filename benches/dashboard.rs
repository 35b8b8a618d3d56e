//! Dashboard benchmark: 500 open jobs and 20,000 submissions; prints the dashboard
//! page's latency over real HTTP on loopback (p50/p99), both from the in-memory copy of
//! the dashboard read (repeated views) and right after a change (the copy is refilled),
//! the store read alone, and the throughput ratio against the trivial `/healthz` route
//! in the same run. Targets (issue 3): p50 <= 5 ms, p99 <= 20 ms, ratio >= 0.5.
//! Also the participation read over the same store (12 weeks). Printed, not asserted.

#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use chrono::Duration as Days;
use helpers::percentile;
use jobrank::app::ServeLimits;
use jobrank::domain::{FactorScores, Role};
use jobrank::store::jobs::JobUpsert;
use jobrank::store::pipeline::StageCount;
use jobrank::store::submissions::Submission;
use jobrank::store::{
    self, Store, commands, dashboard, participation, pipeline, submissions, users,
};

const JOBS: i64 = 500;
const SUBMISSIONS: usize = 20_000;
const PASSWORD: &str = "benchmark password";

fn fill(store: &Store) -> String {
    let hash = jobrank::credentials::hash_password(PASSWORD).unwrap();
    let now = store::now();
    store
        .write_blocking(|tx| {
            let mut scorers = Vec::new();
            for (i, role) in [Role::Ceo, Role::AccountManager, Role::SalesPerson]
                .iter()
                .enumerate()
            {
                scorers.push(users::insert_user(
                    tx,
                    &users::NewUser {
                        email: format!("scorer{i}@bench.example"),
                        name: format!("Scorer {i}"),
                        role: *role,
                        scores: true,
                        password_hash: hash.clone(),
                    },
                    now - Days::weeks(60),
                )?);
            }
            for id in 1..=JOBS {
                let _ = commands::upsert_job(
                    tx,
                    &JobUpsert {
                        id,
                        title: format!("Job {id}"),
                        client: format!("Client {}", id % 60),
                        status: "Open".into(),
                        is_open: true,
                        opened_at: Some(now - Days::days(id % 150)),
                        fee_minor: Some(1_000_000 + id * 10_000),
                        fee_currency: Some("GBP".into()),
                        hiring_team: vec![],
                        description_html: Some("<p>bench</p>".into()),
                    },
                    now - Days::weeks(50),
                )?;
                let stages: Vec<StageCount> = (0..5)
                    .map(|k| StageCount {
                        stage: format!("Stage {k}"),
                        stage_order: k,
                        candidates: (id + k) % 7,
                        avg_days_in_stage: Some(((id * (k + 1)) % 30) as f64),
                    })
                    .collect();
                for d in [30, 20, 10, 0] {
                    pipeline::record_snapshot(
                        tx,
                        id,
                        &stages,
                        now - Days::days(d) - Days::hours(id % 5),
                    )?;
                }
            }
            for n in 0..SUBMISSIONS {
                let job = (n as i64 % JOBS) + 1;
                let scorer = &scorers[n % scorers.len()];
                let v = [(n % 5 + 1) as i64, ((n / 5) % 5 + 1) as i64, 3, 4];
                let s = FactorScores::from_values(v).unwrap();
                submissions::insert_row(
                    tx,
                    &Submission {
                        id: store::new_id(),
                        job_id: job,
                        scorer_id: scorer.id.clone(),
                        client_engagement: s.client_engagement.get(),
                        search_difficulty: s.search_difficulty.get(),
                        time_open: s.time_open.get(),
                        fee_size: s.fee_size.get(),
                        time_open_overridden: false,
                        fee_size_overridden: false,
                        comment: None,
                        submitted_at: now - Days::minutes((SUBMISSIONS - n) as i64 * 20),
                        origin: tx.origin().to_string(),
                    },
                )?;
            }
            let _ = commands::rerank_all_jobs(tx)?;
            Ok(scorers[1].id.clone())
        })
        .unwrap()
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    n: usize,
) -> (Vec<Duration>, Duration) {
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let res = client
            .get(url)
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{url}: {}", res.status());
        res.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    times.sort();
    (times, total)
}

fn main() {
    jobrank::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = Instant::now();
    let viewer = fill(&store);
    println!(
        "filled {JOBS} open jobs and {SUBMISSIONS} submissions in {:.1?}",
        t.elapsed()
    );

    let mut store_times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let rows = store
            .read_blocking(|c| dashboard::dashboard_jobs(c, &viewer, store::now()))
            .unwrap();
        let shown = jobrank::domain::DashboardQuery::default().apply(rows);
        assert_eq!(shown.len() as i64, JOBS);
        store_times.push(t.elapsed());
    }
    store_times.sort();
    println!(
        "store read (dashboard_jobs + sort), 200 runs: p50 {:.2?}, p99 {:.2?}",
        percentile(&store_times, 0.5),
        percentile(&store_times, 0.99)
    );
    // Each scorer's done / due for 12 weeks (the CEO's chart, the weekly digest).
    let mut part_times = Vec::new();
    let mut totals = (0, 0);
    for _ in 0..50 {
        let t = Instant::now();
        let report = store
            .read_blocking(|c| participation::participation(c, 12, store::now()))
            .unwrap();
        part_times.push(t.elapsed());
        assert_eq!(report.weeks.len(), 12);
        totals = report
            .weeks
            .iter()
            .flat_map(|w| &w.scorers)
            .fold((0, 0), |(done, due), s| {
                (done + s.done_count(), due + s.due_count())
            });
    }
    part_times.sort();
    println!(
        "participation read, 12 weeks x {JOBS} jobs ({} done of {} due), 50 runs: p50 {:.2?}, p99 {:.2?}",
        totals.0,
        totals.1,
        percentile(&part_times, 0.5),
        percentile(&part_times, 0.99)
    );
    let cache = dashboard::DashboardCache::default();
    let (mut refill, mut hit) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        // An empty write transaction moves the generation on, as any change does.
        store.write_blocking(|_| Ok(())).unwrap();
        for times in [&mut refill, &mut hit] {
            let t = Instant::now();
            let view = store
                .read_blocking(|c| cache.view(c, &viewer, store::now()))
                .unwrap();
            let shown = jobrank::domain::DashboardQuery::default().select(view.jobs());
            assert_eq!(shown.len() as i64, JOBS);
            times.push(t.elapsed());
        }
    }
    refill.sort();
    hit.sort();
    println!(
        "dashboard read + sort through the in-memory copy, 200 runs: after a change p50 {:.2?} p99 {:.2?}; unchanged p50 {:.2?} p99 {:.2?}",
        percentile(&refill, 0.5),
        percentile(&refill, 0.99),
        percentile(&hit, 0.5),
        percentile(&hit, 0.99)
    );
    let writer = store.clone();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        // The harness's in-process server, on the store this bench keeps writing to.
        let app = helpers::spawn_app_on(dir, store, &[], ServeLimits::DEFAULT).await;
        let base = app.url("");
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie = helpers::sign_in_at(&client, &base, "scorer1@bench.example", PASSWORD)
            .await
            .cookie_header();
        timed(&client, &format!("{base}/"), &cookie, 20).await;
        let (dash, dash_total) = timed(&client, &format!("{base}/"), &cookie, 300).await;
        let (health, health_total) = timed(&client, &format!("{base}/healthz"), &cookie, 300).await;
        let mut changed = Vec::new();
        for _ in 0..100 {
            let w = writer.clone();
            w.write(|_| Ok(())).await.unwrap();
            changed.extend(timed(&client, &format!("{base}/"), &cookie, 1).await.0);
        }
        changed.sort();
        println!(
            "GET / (500 open jobs, first page of 50, full page over HTTP), 300 runs: p50 {:.2?}, p99 {:.2?} (targets 5 ms / 20 ms)",
            percentile(&dash, 0.5),
            percentile(&dash, 0.99)
        );
        println!(
            "GET / right after a change (in-memory copy refilled), 100 runs: p50 {:.2?}, p99 {:.2?}",
            percentile(&changed, 0.5),
            percentile(&changed, 0.99)
        );
        println!(
            "GET /healthz, 300 runs: p50 {:.2?}, p99 {:.2?}",
            percentile(&health, 0.5),
            percentile(&health, 0.99)
        );
        println!(
            "sequential throughput: dashboard {:.0} req/s, healthz {:.0} req/s, ratio {:.2} (target >= 0.5)",
            300.0 / dash_total.as_secs_f64(),
            300.0 / health_total.as_secs_f64(),
            health_total.as_secs_f64() / dash_total.as_secs_f64()
        );
        app.stop().await;
    });
}
