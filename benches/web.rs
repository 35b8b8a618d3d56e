//! Web benchmark: prints figures against the targets, asserts nothing.
//!
//! Builds a store with 500 open jobs and 20,000 submissions, starts the built
//! `jobrank serve` as a child process on loopback (so its resident memory can be
//! read from /proc), and measures over keep-alive connections from a few concurrent
//! clients:
//!   - the dashboard page's latency (client-side on loopback: an upper bound of the
//!     server time; target p50 <= 5 ms, p99 <= 20 ms),
//!   - dashboard throughput against `/healthz` in the same run (target ratio >= 0.5),
//!   - score submission latency including the fsync of the commit (p99 <= 10 ms), for
//!     one scorer alone and for three submitting at once,
//!   - the server's resident memory under that load (target <= 64 MB).
//!
//! Run with `cargo bench --bench web` (or `scripts/bench web`).

#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Duration as Days;
use jobrank::domain::{FactorScores, Role};
use jobrank::store::jobs::JobUpsert;
use jobrank::store::pipeline::StageCount;
use jobrank::store::submissions::Submission;
use jobrank::store::users::NewUser;
use jobrank::store::{self, Store, commands, pipeline, submissions, users};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_TYPE, COOKIE};

use helpers::{ServeProcess, form_body, serve_process, sign_in_at};

const JOBS: i64 = 500;
const SUBMISSIONS: usize = 20_000;
const CLIENTS: usize = 3;
const PAGE_REQUESTS: usize = 1_500;
const SUBMIT_REQUESTS: usize = 600;
/// Submissions by one scorer alone (each scorer's queue holds 249 jobs with a next).
const SUBMIT_ALONE: usize = 200;
const PASSWORD: &str = "bench password 123";
const SCORERS: [(&str, Role); 4] = [
    ("ceo@bench.example", Role::Ceo),
    ("am@bench.example", Role::AccountManager),
    ("sales@bench.example", Role::SalesPerson),
    ("ops@bench.example", Role::AccountManager),
];

fn main() {
    jobrank::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENTS)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

/// Seeds the store directly through the store functions, in one transaction.
fn seed(dir: &Path) {
    let t = Instant::now();
    let store = Store::open(dir).expect("store opens");
    let hash = jobrank::credentials::hash_password(PASSWORD).expect("hash");
    let now = store::now();
    store
        .write_blocking(|tx| {
            let mut scorers = Vec::new();
            for (i, (email, role)) in SCORERS.iter().enumerate() {
                scorers.push(users::insert_user(
                    tx,
                    &NewUser {
                        email: (*email).into(),
                        name: format!("Scorer {i}"),
                        role: *role,
                        scores: true,
                        password_hash: hash.clone(),
                    },
                    now - Days::weeks(30),
                )?);
            }
            let per_job = SUBMISSIONS / JOBS as usize;
            let mut n = 0usize;
            for j in 0..JOBS {
                let id = 10_000 + j;
                let days_open = 5 + (j * 37) % 200;
                let _ = commands::upsert_job(
                    tx,
                    &JobUpsert {
                        id,
                        title: format!("Role {j} engineer"),
                        client: format!("Client {}", j % 60),
                        status: "Open".into(),
                        is_open: true,
                        opened_at: Some(now - Days::days(days_open)),
                        fee_minor: Some((8 + (j * 13) % 50) * 100_000),
                        fee_currency: Some("GBP".into()),
                        hiring_team: vec!["Bench Hiring".into()],
                        description_html: Some("<p>A benchmark job.</p>".into()),
                    },
                    now - Days::days(days_open),
                )?;
                for snap in 0..3 {
                    let stages: Vec<StageCount> = ["Applied", "Screening", "Interview", "Offer"]
                        .iter()
                        .enumerate()
                        .map(|(k, s)| StageCount {
                            stage: (*s).into(),
                            stage_order: k as i64,
                            candidates: (j + k as i64 + snap) % 9,
                            avg_days_in_stage: Some(((j + k as i64) % 20) as f64),
                        })
                        .collect();
                    pipeline::record_snapshot(tx, id, &stages, now - Days::days(3 - snap))?;
                }
                for k in 0..per_job {
                    let scorer = &scorers[k % scorers.len()];
                    let week = (k / scorers.len()) as i64;
                    let v = |x: usize| 1 + ((x + j as usize) % 5) as i64;
                    let scores = FactorScores::from_values([v(k), v(k * 3 + 1), v(2), v(k + 4)])
                        .expect("levels 1-5");
                    submissions::insert_row(
                        tx,
                        &Submission {
                            id: uuid::Uuid::now_v7().to_string(),
                            job_id: id,
                            scorer_id: scorer.id.clone(),
                            client_engagement: scores.client_engagement.get(),
                            search_difficulty: scores.search_difficulty.get(),
                            time_open: scores.time_open.get(),
                            fee_size: scores.fee_size.get(),
                            time_open_overridden: false,
                            fee_size_overridden: false,
                            comment: (k % 7 == 0).then(|| "seeded".to_string()),
                            // Half of the jobs were scored by everyone this week.
                            submitted_at: now - Days::weeks(week + (j % 2)) - Days::hours(3),
                            origin: tx.origin().to_string(),
                        },
                    )?;
                    n += 1;
                }
            }
            let _ = commands::rerank_all_jobs(tx)?;
            assert_eq!(n, SUBMISSIONS);
            Ok(())
        })
        .expect("seeding");
    store.checkpoint().expect("checkpoint");
    println!(
        "seeded {JOBS} open jobs, {SUBMISSIONS} submissions, {} scorers in {:.1} s",
        SCORERS.len(),
        t.elapsed().as_secs_f64()
    );
}

/// Where the dashboard's time goes inside the store, measured in-process: the read
/// the page makes per request, and the filter/sort applied to it.
fn store_breakdown(dir: &Path) {
    use jobrank::domain::DashboardQuery;
    use jobrank::store::dashboard;
    let store = Store::open(dir).expect("store opens");
    let viewer = store
        .read_blocking(|c| users::find_user_by_email(c, SCORERS[0].0))
        .expect("read")
        .expect("scorer")
        .id;
    let runs = 50;
    let time = |f: &dyn Fn()| {
        f();
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        t.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
    };
    let read = time(&|| {
        store
            .read_blocking(|c| dashboard::dashboard_jobs(c, &viewer, store::now()))
            .expect("dashboard read");
    });
    let jobs = store
        .read_blocking(|c| dashboard::dashboard_jobs(c, &viewer, store::now()))
        .expect("dashboard read");
    let apply = time(&|| {
        DashboardQuery::default().apply(jobs.clone());
    });
    let fresh = time(&|| {
        store
            .read_blocking(dashboard::freshness)
            .expect("freshness");
    });
    println!(
        "in-process breakdown: dashboard_jobs {read:.2} ms, filter+sort {apply:.2} ms, freshness {fresh:.2} ms (mean of {runs})"
    );
}

/// The built `jobrank serve` on `dir`, on a port of its choosing (helpers::serve_process).
fn start_server(dir: &Path) -> ServeProcess {
    serve_process(
        dir,
        &[
            ("RUST_LOG", "warn"),
            // As the systemd unit runs it (deploy/jobrank.service): mimalloc hands freed
            // memory back at once and commits arena memory as it is used.
            ("MIMALLOC_PURGE_DELAY", "0"),
            ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
        ],
    )
}

/// A signed-in client with its own keep-alive connection.
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

async fn sign_in(addr: SocketAddr, email: &str) -> Session {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let helpers::Session { cookie, csrf } =
        sign_in_at(&http, &format!("http://{addr}"), email, PASSWORD).await;
    Session { http, cookie, csrf }
}

/// Latencies of a fixed number of requests spread over the sessions, and the wall time.
async fn run_load<F, Fut>(sessions: &[Session], total: usize, one: F) -> (Vec<Duration>, Duration)
where
    F: Fn(Session, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, s) in sessions.iter().enumerate() {
        let s = s.clone();
        let one = one.clone();
        let n = sessions.len();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in (c..total).step_by(n) {
                let t = Instant::now();
                one(s.clone(), i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

fn pct(lat: &mut [Duration], p: f64) -> f64 {
    lat.sort_unstable();
    let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
    lat[i].as_secs_f64() * 1000.0
}

fn vm_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets target" } else { "MISSES target" }
}

async fn get_ok(s: &Session, url: &str) -> usize {
    let res = s
        .http
        .get(url)
        .header(COOKIE, format!("jobrank_session={}", s.cookie))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.bytes().await.unwrap().len()
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let d = dir.path().to_owned();
        tokio::task::spawn_blocking(move || seed(&d)).await.unwrap();
    }
    {
        let d = dir.path().to_owned();
        tokio::task::spawn_blocking(move || store_breakdown(&d))
            .await
            .unwrap();
    }
    let mut server = start_server(dir.path());
    let addr = server.addr;
    let pid = server.pid();
    println!(
        "jobrank serve (release build, mimalloc purging at once as in the unit) pid {pid} on {addr}; {CLIENTS} keep-alive clients; idle RSS {:.1} MB",
        vm_kb(pid, "VmRSS:") as f64 / 1024.0
    );

    let mut sessions = Vec::new();
    for (email, _) in SCORERS.iter().take(CLIENTS) {
        sessions.push(sign_in(addr, email).await);
    }

    // Resident memory sampled every 20 ms while the load runs.
    let peak = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(vm_kb(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let dash_url = format!("http://{addr}/");
    let health_url = format!("http://{addr}/healthz");
    let page_bytes = get_ok(&sessions[0], &dash_url).await;
    // Warm-up: connections, statement caches, page cache.
    for s in &sessions {
        for _ in 0..20 {
            get_ok(s, &dash_url).await;
            get_ok(s, &health_url).await;
        }
    }

    let u = dash_url.clone();
    let (mut dash, dash_wall) = run_load(&sessions, PAGE_REQUESTS, move |s, _| {
        let u = u.clone();
        async move {
            get_ok(&s, &u).await;
        }
    })
    .await;
    let u = health_url.clone();
    let (mut health, health_wall) = run_load(&sessions, PAGE_REQUESTS, move |s, _| {
        let u = u.clone();
        async move {
            get_ok(&s, &u).await;
        }
    })
    .await;
    // A filtered, re-sorted htmx request (only the list) for comparison.
    let u = format!("http://{addr}/?rank=B&sort=days&needs=1");
    let (mut frag, _) = run_load(&sessions, PAGE_REQUESTS / 3, move |s, _| {
        let u = u.clone();
        async move {
            let res = s
                .http
                .get(&u)
                .header(COOKIE, format!("jobrank_session={}", s.cookie))
                .header(ACCEPT_ENCODING, "gzip")
                .header("HX-Request", "true")
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
            res.bytes().await.unwrap();
        }
    })
    .await;

    // Each scorer works down its own queue as the scoring page does: submit a job that
    // needs the scorer's score (the odd-numbered ones were last scored a week ago),
    // carrying the form's hint of the next one. First one scorer alone (the latency a
    // user sees), then three at once (submissions serialize on the single writer).
    let submit_one = |base: String, scorers: usize| {
        move |s: Session, i: usize| {
            let base = base.clone();
            async move {
                let k = i / scorers;
                let job = 10_000 + 2 * k as i64 + 1;
                let next = (job + 2).to_string();
                let l = |x: usize| (1 + x % 5).to_string();
                let (a, b, c, d) = (l(i), l(i / 5), l(i / 25), l(i + 2));
                // Each form carries its one-time key (checked and recorded with the
                // submission).
                let key = format!("bench-{scorers}-{i}-{job}");
                let body = form_body(&[
                    ("form_key", &key),
                    ("client_engagement", &a),
                    ("search_difficulty", &b),
                    ("time_open", &c),
                    ("fee_size", &d),
                    ("action", "submit"),
                    ("next", &next),
                    ("csrf", &s.csrf),
                ]);
                let res = s
                    .http
                    .post(format!("{base}/jobs/{job}/score"))
                    .header(COOKIE, format!("jobrank_session={}", s.cookie))
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 303, "submission answered {}", res.status());
                let to = res.headers()[reqwest::header::LOCATION].to_str().unwrap();
                assert_eq!(
                    to,
                    format!("/jobs/{next}/score"),
                    "the next job of the queue"
                );
            }
        }
    };
    let rss_pages = vm_kb(pid, "VmHWM:") as f64 / 1024.0;
    let base = format!("http://{addr}");
    // The lone scorer is the fourth one, whose queue the concurrent phase leaves alone.
    let lone = [sign_in(addr, SCORERS[CLIENTS].0).await];
    let (mut alone, _) = run_load(&lone, SUBMIT_ALONE, submit_one(base.clone(), 1)).await;
    let (mut submit, submit_wall) =
        run_load(&sessions, SUBMIT_REQUESTS, submit_one(base, CLIENTS)).await;

    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let rss_peak = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    let hwm = vm_kb(pid, "VmHWM:") as f64 / 1024.0;

    let dash_rps = PAGE_REQUESTS as f64 / dash_wall.as_secs_f64();
    let health_rps = PAGE_REQUESTS as f64 / health_wall.as_secs_f64();
    let ratio = dash_rps / health_rps;
    let (d50, d99) = (pct(&mut dash, 0.50), pct(&mut dash, 0.99));
    let (h50, h99) = (pct(&mut health, 0.50), pct(&mut health, 0.99));
    let (f50, f99) = (pct(&mut frag, 0.50), pct(&mut frag, 0.99));
    let (s50, s99) = (pct(&mut submit, 0.50), pct(&mut submit, 0.99));
    let (a50, a99) = (pct(&mut alone, 0.50), pct(&mut alone, 0.99));
    println!();
    println!(
        "dashboard page `/` (first page of 50 jobs, {page_bytes} bytes gzip, {PAGE_REQUESTS} requests):"
    );
    println!(
        "  p50 {d50:.2} ms ({}: <= 5 ms)   p99 {d99:.2} ms ({}: <= 20 ms)   [client-side on loopback: an upper bound of server time]",
        verdict(d50 <= 5.0),
        verdict(d99 <= 20.0)
    );
    println!("  throughput {dash_rps:.0} req/s");
    println!("htmx list swap `/?rank=B&sort=days&needs=1`: p50 {f50:.2} ms  p99 {f99:.2} ms");
    println!("`/healthz`: p50 {h50:.2} ms  p99 {h99:.2} ms  throughput {health_rps:.0} req/s");
    println!(
        "dashboard / healthz throughput ratio {ratio:.2} ({}: >= 0.5)",
        verdict(ratio >= 0.5)
    );
    println!(
        "score submission, one scorer ({SUBMIT_ALONE} POSTs, commit fsynced, redirect to the next job): p50 {a50:.2} ms  p99 {a99:.2} ms ({}: <= 10 ms)",
        verdict(a99 <= 10.0)
    );
    println!(
        "score submission, {CLIENTS} scorers at once ({SUBMIT_REQUESTS} POSTs): p50 {s50:.2} ms  p99 {s99:.2} ms ({}: <= 10 ms)  {:.0} req/s",
        verdict(s99 <= 10.0),
        SUBMIT_REQUESTS as f64 / submit_wall.as_secs_f64()
    );
    println!(
        "resident memory under load: peak sampled VmRSS {rss_peak:.1} MB, VmHWM {hwm:.1} MB ({}: <= 64 MB; {rss_pages:.1} MB after the page phases)",
        verdict(hwm <= 64.0)
    );
    server.sigterm();
    server.wait_exit();
}
