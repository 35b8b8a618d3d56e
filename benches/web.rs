//! Web benchmark: prints figures against the issue's targets, asserts nothing.
//!
//! Builds a store with 500 open jobs and 20,000 submissions, starts the built
//! `jobrank serve` as a child process on loopback (so its resident memory can be
//! read from /proc), and measures over keep-alive connections from a few concurrent
//! clients:
//!   - the dashboard page's latency (client-side on loopback: an upper bound of the
//!     server time; target p50 <= 5 ms, p99 <= 20 ms),
//!   - dashboard throughput against `/healthz` in the same run (target ratio >= 0.5),
//!     absolute req/s of both, over 3 and 8 keep-alive connections, with gzip asked for
//!     and not, for the first page and for a filter, a sort, page 2 and the htmx
//!     fragment (each view measured for 2 s between two 2-s runs of `/healthz`, its
//!     ratio to their mean: the machine drifts within seconds),
//!   - score submission latency including the fsync of the commit (p99 <= 10 ms), for
//!     one scorer alone and for three submitting at once,
//!   - the server's resident memory under that load (target <= 64 MB),
//!   - submissions under a mixed load: the dashboard read at about 2,500 req/s (paced),
//!     about 90 signed webhooks/s, and two scorers each submitting 25 scores a second
//!     down their queues through the form; their p50 / p99 (target p99 <= 10 ms), with
//!     the machine's load average (/proc/loadavg) before and after.
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

use helpers::{FormBody, ServeProcess, load_average, serve_process, sign_in_at, status_kib};

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
/// Scorers with no score yet (every open job is in their queue), for the mixed load.
const MIX_SCORERS: [&str; 2] = ["mix1@bench.example", "mix2@bench.example"];
/// How long each throughput figure is measured.
const THROUGHPUT_FOR: Duration = Duration::from_millis(2_000);
/// The mixed load: its length, the dashboard's and the webhooks' paced rates, and each
/// scorer's submissions per second.
/// `BENCH_MIX_DASHBOARD_RPS`, `BENCH_MIX_WEBHOOKS_PER_S` and `BENCH_MIX_SUBMITS_PER_S`
/// change the rates (0 leaves that part out), to see which part of the mix costs what.
const MIX_FOR: Duration = Duration::from_secs(10);
const MIX_DASHBOARD_RPS: f64 = 2_500.0;
const MIX_WEBHOOKS_PER_S: f64 = 90.0;
const MIX_SUBMITS_PER_S: f64 = 25.0;

/// A rate of the mix: the default, or the environment's `name`.
fn mix_rate(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
/// The webhook secret the bench's server is started with.
const WEBHOOK_SECRET: &str = "bench-webhook-secret-0123456789abcdef";

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
            for (i, email) in MIX_SCORERS.iter().enumerate() {
                users::insert_user(
                    tx,
                    &NewUser {
                        email: (*email).into(),
                        name: format!("Mixed scorer {i}"),
                        role: Role::AccountManager,
                        scores: true,
                        password_hash: hash.clone(),
                    },
                    now - Days::weeks(30),
                )?;
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
            ("RECRUITERFLOW_WEBHOOK_SECRET", WEBHOOK_SECRET),
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

/// The quantile `p` of `lat`, in milliseconds.
fn pct(lat: &mut [Duration], p: f64) -> f64 {
    lat.sort_unstable();
    helpers::percentile(lat, p).as_secs_f64() * 1000.0
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

/// A client with one keep-alive connection.
fn one_connection() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

impl Session {
    /// The same session over a connection of its own.
    fn on_new_connection(&self) -> Session {
        Session {
            http: one_connection(),
            ..self.clone()
        }
    }
}

/// A signed-in GET that must succeed; gzip asked for or not, the htmx fragment or not.
async fn get_as(s: &Session, url: &str, gzip: bool, htmx: bool) -> usize {
    let mut req = s
        .http
        .get(url)
        .header(COOKIE, format!("jobrank_session={}", s.cookie));
    if gzip {
        req = req.header(ACCEPT_ENCODING, "gzip");
    }
    if htmx {
        req = req.header("HX-Request", "true");
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.bytes().await.unwrap().len()
}

/// Requests per second of `url` over the connections of `conns`, each sending it back
/// to back for [`THROUGHPUT_FOR`].
async fn throughput(conns: &[Session], url: &str, gzip: bool, htmx: bool) -> f64 {
    let start = Instant::now();
    let until = start + THROUGHPUT_FOR;
    let mut tasks = Vec::new();
    for s in conns {
        let (s, url) = (s.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                get_as(&s, &url, gzip, htmx).await;
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Calls `one(n)` about `rate` times a second until `until` (catching up when late),
/// and returns each call's latency.
async fn paced<F, Fut>(rate: f64, until: Instant, mut one: F) -> Vec<Duration>
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut next = Instant::now();
    let mut lat = Vec::new();
    let mut n = 0;
    while next < until {
        if next > Instant::now() {
            tokio::time::sleep_until(next.into()).await;
        }
        let t = Instant::now();
        one(n).await;
        lat.push(t.elapsed());
        n += 1;
        next += period;
    }
    lat
}

/// The machine's load averages over 1, 5 and 15 minutes.
/// The ids of the jobs that need `s`'s score, in queue order (`GET /api/jobs?needs=1`).
async fn queue_of(s: &Session, base: &str) -> Vec<i64> {
    let res = s
        .http
        .get(format!("{base}/api/jobs?needs=1"))
        .header(COOKIE, format!("jobrank_session={}", s.cookie))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "/api/jobs: {}", res.status());
    let body: serde_json::Value = res.json().await.unwrap();
    body["jobs"]
        .as_array()
        .expect("a list of jobs")
        .iter()
        .filter_map(|j| j["id"].as_i64())
        .collect()
}

/// One score submitted through the form for `job` with its one-time `key` (checked and
/// recorded with the submission), naming `next` as the form does, levels drawn from
/// `n`; answered 303. Returns where it led.
async fn submit_form(
    s: &Session,
    base: &str,
    job: i64,
    next: Option<i64>,
    n: u64,
    key: &str,
) -> String {
    let l = |x: u64| (1 + x % 5).to_string();
    let (a, b, c, d) = (l(n), l(n / 5), l(n / 25), l(n + 2));
    let next = next.map(|j| j.to_string()).unwrap_or_default();
    let fields = [
        ("form_key", key),
        ("client_engagement", &a),
        ("search_difficulty", &b),
        ("time_open", &c),
        ("fee_size", &d),
        ("action", "submit"),
        ("next", &next),
        ("csrf", &s.csrf),
    ];
    let res = s
        .http
        .post(format!("{base}/jobs/{job}/score"))
        .header(COOKIE, format!("jobrank_session={}", s.cookie))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "submission answered {}", res.status());
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

/// Dashboard throughput against `/healthz` over 3 and 8 connections, gzip on and off,
/// for the first page and a few other views; returns the lowest ratio of `/` and the
/// lowest of every view.
async fn throughput_matrix(sessions: &[Session], base: &str) -> (f64, f64) {
    let conns: Vec<Session> = (0..8)
        .map(|i| sessions[i % sessions.len()].on_new_connection())
        .collect();
    let health = format!("{base}/healthz");
    let views = [
        ("/", "/", false),
        ("filter", "/?rank=B", false),
        ("sort", "/?sort=fee", false),
        ("page 2", "/?page=2", false),
        ("htmx", "/?rank=B&sort=days&needs=1", true),
    ];
    // Warm every connection.
    for s in &conns {
        get_as(s, &health, true, false).await;
        for (_, path, htmx) in views {
            get_as(s, &format!("{base}{path}"), true, htmx).await;
        }
    }
    println!();
    println!(
        "throughput in req/s ({} ms each; `/healthz` the mean of its runs between the views, with their range; in brackets each view's ratio to the mean of the `/healthz` runs just before and just after it; target >= 0.5). Views: / (first page), filter `/?rank=B`, sort `/?sort=fee`, page 2 `/?page=2`, htmx: the list fragment of `/?rank=B&sort=days&needs=1`",
        THROUGHPUT_FOR.as_millis()
    );
    let (mut lowest_first, mut lowest) = (f64::MAX, f64::MAX);
    for n in [3, 8] {
        for gzip in [true, false] {
            // `/healthz` between the views, each view's ratio to the mean of the runs
            // just before and just after it: a machine shared with others drifts
            // within a few seconds.
            let mut health_runs = vec![throughput(&conns[..n], &health, gzip, false).await];
            let mut rates = Vec::new();
            for (label, path, htmx) in views {
                let r = throughput(&conns[..n], &format!("{base}{path}"), gzip, htmx).await;
                health_runs.push(throughput(&conns[..n], &health, gzip, false).await);
                rates.push((label, r));
            }
            let h = health_runs.iter().sum::<f64>() / health_runs.len() as f64;
            let (lo, hi) = health_runs
                .iter()
                .fold((f64::MAX, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
            let mut line = format!(
                "  {n} connections, gzip {}: /healthz {h:.0} ({lo:.0}-{hi:.0})",
                if gzip { "on " } else { "off" }
            );
            for (i, (label, r)) in rates.into_iter().enumerate() {
                let ratio = r / ((health_runs[i] + health_runs[i + 1]) / 2.0);
                if label == "/" {
                    lowest_first = lowest_first.min(ratio);
                }
                lowest = lowest.min(ratio);
                line.push_str(&format!(" | {label} {r:.0} ({ratio:.2})"));
            }
            println!("{line}");
        }
    }
    println!(
        "dashboard / healthz throughput ratio: lowest for `/` {lowest_first:.2}, lowest of every view {lowest:.2} ({}: >= 0.5)",
        verdict(lowest >= 0.5)
    );
    (lowest_first, lowest)
}

/// Submissions under the mixed load (see the module's documentation).
async fn mixed_load(addr: SocketAddr, readers: &[Session]) {
    let base = &format!("http://{addr}");
    let mut scorers = Vec::new();
    for email in MIX_SCORERS {
        scorers.push(sign_in(addr, email).await);
    }
    let dashboard_rps = mix_rate("BENCH_MIX_DASHBOARD_RPS", MIX_DASHBOARD_RPS);
    let webhooks_per_s = mix_rate("BENCH_MIX_WEBHOOKS_PER_S", MIX_WEBHOOKS_PER_S);
    let submits_per_s = mix_rate("BENCH_MIX_SUBMITS_PER_S", MIX_SUBMITS_PER_S);
    let load_before = load_average();
    let until = Instant::now() + MIX_FOR;
    let mut pages = Vec::new();
    for s in readers.iter().filter(|_| dashboard_rps > 0.0) {
        let (s, url) = (s.on_new_connection(), format!("{base}/"));
        let rate = dashboard_rps / readers.len() as f64;
        pages.push(tokio::spawn(async move {
            paced(rate, until, |_| async {
                get_as(&s, &url, true, false).await;
            })
            .await
        }));
    }
    let hooks = {
        let (http, base) = (one_connection(), base.to_string());
        tokio::spawn(async move {
            if webhooks_per_s <= 0.0 {
                return Vec::new();
            }
            paced(webhooks_per_s, until, |n| {
                let (http, base) = (http.clone(), base.clone());
                async move {
                    let job = 10_000 + (n as i64 * 7) % JOBS;
                    let body = format!(
                        r#"{{"id":"evt_bench_mix_{n}","event":"job.updated","data":{{"job_id":{job}}}}}"#
                    );
                    let sig = jobrank::recruiterflow::webhook::sign(
                        WEBHOOK_SECRET.as_bytes(),
                        None,
                        body.as_bytes(),
                    );
                    let res = http
                        .post(format!("{base}/webhooks/recruiterflow"))
                        .header(CONTENT_TYPE, "application/json")
                        .header(jobrank::recruiterflow::webhook::SIGNATURE_HEADER, sig)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 202, "webhook answered {}", res.status());
                }
            })
            .await
        })
    };
    let mut submits = Vec::new();
    for s in scorers {
        let base = base.to_string();
        submits.push(tokio::spawn(async move {
            let queue = std::sync::Mutex::new((queue_of(&s, &base).await, 0usize));
            paced(submits_per_s, until, |n| {
                let (s, base, queue) = (&s, &base, &queue);
                async move {
                    let done = {
                        let q = queue.lock().unwrap();
                        q.1 >= q.0.len()
                    };
                    if done {
                        // The queue is done: read it again (scored jobs come back
                        // after the scoring cadence only, so this is a re-score).
                        let mut fresh = queue_of(s, base).await;
                        if fresh.is_empty() {
                            fresh = (10_000..10_000 + JOBS).collect();
                        }
                        *queue.lock().unwrap() = (fresh, 0);
                    }
                    let (job, next) = {
                        let mut q = queue.lock().unwrap();
                        q.1 += 1;
                        (q.0[q.1 - 1], q.0.get(q.1).copied())
                    };
                    let key = format!("bench-mix-{}-{n}-{job}", &s.cookie[..8]);
                    submit_form(s, base, job, next, n, &key).await;
                }
            })
            .await
        }));
    }
    let mut page_lat = Vec::new();
    for t in pages {
        page_lat.extend(t.await.unwrap());
    }
    let hook_lat = hooks.await.unwrap();
    let mut sub_lat = Vec::new();
    for t in submits {
        sub_lat.extend(t.await.unwrap());
    }
    let load_after = load_average();
    let secs = MIX_FOR.as_secs_f64();
    let (s50, s99) = (pct(&mut sub_lat, 0.50), pct(&mut sub_lat, 0.99));
    let (p50, p99) = if page_lat.is_empty() {
        (0.0, 0.0)
    } else {
        (pct(&mut page_lat, 0.50), pct(&mut page_lat, 0.99))
    };
    println!();
    println!(
        "mixed load for {secs:.0} s: dashboard {:.0} req/s (p50 {p50:.2} ms, p99 {p99:.2} ms), signed webhooks {:.0}/s, two scorers {:.0} submissions/s",
        page_lat.len() as f64 / secs,
        hook_lat.len() as f64 / secs,
        sub_lat.len() as f64 / secs,
    );
    println!(
        "score submission under the mixed load ({} POSTs, commit fsynced): p50 {s50:.2} ms  p99 {s99:.2} ms ({}: <= 10 ms)",
        sub_lat.len(),
        verdict(s99 <= 10.0)
    );
    println!("load average (1, 5, 15 min) before the mixed load {load_before}, after {load_after}");
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
    println!(
        "load average (1, 5, 15 min) at the start: {}",
        load_average()
    );
    let mut server = start_server(dir.path());
    let addr = server.addr;
    let pid = server.pid();
    println!(
        "jobrank serve (release build, mimalloc purging at once as in the unit) pid {pid} on {addr}; {CLIENTS} keep-alive clients; idle RSS {:.1} MB",
        status_kib(pid, "VmRSS:") as f64 / 1024.0
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
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let dash_url = format!("http://{addr}/");
    let health_url = format!("http://{addr}/healthz");
    let page_bytes = get_ok(&sessions[0], &dash_url).await;
    let plain_bytes = get_as(&sessions[0], &dash_url, false, false).await;
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
                let next = job + 2;
                // Each form carries its one-time key (checked and recorded with the
                // submission).
                let key = format!("bench-{scorers}-{i}-{job}");
                let to = submit_form(&s, &base, job, Some(next), i as u64, &key).await;
                assert_eq!(
                    to,
                    format!("/jobs/{next}/score"),
                    "the next job of the queue"
                );
            }
        }
    };
    let rss_pages = status_kib(pid, "VmHWM:") as f64 / 1024.0;
    let base = format!("http://{addr}");
    // The lone scorer is the fourth one, whose queue the concurrent phase leaves alone.
    let lone = [sign_in(addr, SCORERS[CLIENTS].0).await];
    let (mut alone, _) = run_load(&lone, SUBMIT_ALONE, submit_one(base.clone(), 1)).await;
    let (mut submit, submit_wall) =
        run_load(&sessions, SUBMIT_REQUESTS, submit_one(base, CLIENTS)).await;

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
        "dashboard page `/` (first page of 50 jobs, {page_bytes} bytes gzip, {plain_bytes} without, {PAGE_REQUESTS} requests):"
    );
    println!(
        "  p50 {d50:.2} ms ({}: <= 5 ms)   p99 {d99:.2} ms ({}: <= 20 ms)   [client-side on loopback: an upper bound of server time]",
        verdict(d50 <= 5.0),
        verdict(d99 <= 20.0)
    );
    println!("  {dash_rps:.0} req/s over {CLIENTS} connections");
    println!("htmx list swap `/?rank=B&sort=days&needs=1`: p50 {f50:.2} ms  p99 {f99:.2} ms");
    println!(
        "`/healthz`: p50 {h50:.2} ms  p99 {h99:.2} ms  {health_rps:.0} req/s (ratio {ratio:.2})"
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
    throughput_matrix(&sessions, &format!("http://{addr}")).await;
    mixed_load(addr, &sessions).await;

    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let rss_peak = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    let hwm = status_kib(pid, "VmHWM:") as f64 / 1024.0;
    println!(
        "resident memory under load: peak sampled VmRSS {rss_peak:.1} MB, VmHWM {hwm:.1} MB ({}: <= 64 MB; {rss_pages:.1} MB after the first page phases)",
        verdict(hwm <= 64.0)
    );
    server.sigterm();
    server.wait_exit();
}
