//! Load and soak test: starts the real jobrank binary on loopback with a demo store,
//! drives a weighted mix of requests from a few concurrent users for a bounded time,
//! and reports throughput, p50/p99 latency per route, errors and memory growth (VmRSS
//! from /proc). Run through `scripts/loadtest` (`--duration 600` for the soak).
//!
//! The mix: four signed-in users (the demo agency's accounts) browsing the dashboard
//! and job pages and submitting scores, signed Recruiterflow webhooks arriving, and
//! health, readiness and metrics probes. Not yet in it: Supabase pushes (no
//! PostgreSQL is started here).
//!
//! Options: --duration SECS (60), --users N (4), --bin PATH (this build's jobrank).
//! Exits 1 when any request failed.

#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use helpers::{form_body, percentile, serve_command, sign_in_at, status_kib};

/// What a request does; each kind knows its expected status.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Healthz,
    Readyz,
    Metrics,
    Dashboard,
    JobPage,
    ScorePage,
    SubmitScore,
    Webhook,
}

/// One kind of request in the mix, with its relative frequency.
#[derive(Clone, Copy)]
struct Step {
    name: &'static str,
    kind: Kind,
    weight: u32,
}

/// The realistic mix: signed-in users browsing the dashboard and job pages and
/// scoring jobs, Recruiterflow webhooks arriving, and the supervisor and monitoring
/// probing health, readiness and metrics. New pages join as one more `Step`.
fn mix() -> Vec<Step> {
    let step = |name, kind, weight| Step { name, kind, weight };
    vec![
        step("dashboard", Kind::Dashboard, 4),
        step("job_page", Kind::JobPage, 4),
        step("score_page", Kind::ScorePage, 2),
        step("submit", Kind::SubmitScore, 1),
        step("webhook", Kind::Webhook, 1),
        step("healthz", Kind::Healthz, 1),
        step("readyz", Kind::Readyz, 1),
        step("metrics", Kind::Metrics, 1),
    ]
}

/// The webhook secret the load test's jobrank is started with.
const WEBHOOK_SECRET: &str = "loadtest-webhook-secret-0123456789abcdef";

/// A signed-in user: the session cookie, its CSRF token, and whether they score.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
    scores: bool,
}

/// Signs in through the real form (helpers::sign_in_at).
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
    scores: bool,
) -> Session {
    let helpers::Session { cookie, csrf } = sign_in_at(client, base, email, password).await;
    Session {
        cookie,
        csrf,
        scores,
    }
}

/// Sends one request of a kind; returns whether it got the expected answer.
async fn request(
    client: &reqwest::Client,
    base: &str,
    s: &Session,
    kind: Kind,
    job: i64,
    n: u64,
) -> bool {
    let session = format!("jobrank_session={}", s.cookie);
    let (req, expected) = match kind {
        Kind::Healthz => (client.get(format!("{base}/healthz")), 200),
        Kind::Readyz => (client.get(format!("{base}/readyz")), 200),
        Kind::Metrics => (client.get(format!("{base}/metrics")), 200),
        Kind::Dashboard => (
            client.get(format!("{base}/")).header("cookie", session),
            200,
        ),
        Kind::JobPage => (
            client
                .get(format!("{base}/jobs/{job}"))
                .header("cookie", session),
            200,
        ),
        Kind::ScorePage => (
            client
                .get(format!("{base}/jobs/{job}/score"))
                .header("cookie", session),
            200,
        ),
        Kind::SubmitScore => {
            let level = ((n % 5) + 1).to_string();
            let body = form_body(&[
                ("client_engagement", level.as_str()),
                ("search_difficulty", "3"),
                ("time_open", level.as_str()),
                ("fee_size", "2"),
                ("action", "submit"),
                ("comment", "load test"),
                ("csrf", s.csrf.as_str()),
            ]);
            (
                client
                    .post(format!("{base}/jobs/{job}/score"))
                    .header("cookie", session)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
                303,
            )
        }
        Kind::Webhook => {
            let body = format!(
                r#"{{"id":"evt_loadtest_{n}_{job}","event":"job.updated","data":{{"job_id":{job}}}}}"#
            );
            let sig = jobrank::recruiterflow::webhook::sign(
                WEBHOOK_SECRET.as_bytes(),
                None,
                body.as_bytes(),
            );
            (
                client
                    .post(format!("{base}/webhooks/recruiterflow"))
                    .header("content-type", "application/json")
                    .header(jobrank::recruiterflow::webhook::SIGNATURE_HEADER, sig)
                    .body(body),
                202,
            )
        }
    };
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            r.bytes().await.is_ok() && status == expected
        }
        Err(_) => false,
    }
}

struct Options {
    duration: Duration,
    users: usize,
    bin: String,
}

fn options() -> Options {
    let mut o = Options {
        duration: Duration::from_secs(60),
        users: 4,
        bin: std::env::var("JOBRANK_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_jobrank").into()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--duration" => {
                let v = args.next().expect("--duration needs seconds");
                o.duration = Duration::from_secs(v.parse().expect("--duration is whole seconds"));
            }
            "--users" => {
                o.users = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--users needs a number");
            }
            "--bin" => o.bin = args.next().expect("--bin needs a path"),
            // cargo bench passes --bench; filters are not used.
            _ => {}
        }
    }
    assert!(
        o.duration <= Duration::from_secs(3600),
        "--duration is at most 3600 s"
    );
    assert!((1..=64).contains(&o.users), "--users is 1 to 64");
    o
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<&'static str, u64>,
}

fn main() {
    let o = options();
    jobrank::install_crypto();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().unwrap().to_owned();
    let demo = Command::new(&o.bin)
        .args(["--data-dir", &data, "demo"])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .expect("jobrank demo runs");
    assert!(demo.status.success(), "jobrank demo failed");
    // "  email  password   Name, Role" lines follow the heading.
    let accounts: Vec<(String, String)> = String::from_utf8_lossy(&demo.stdout)
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains('@'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect();
    assert!(!accounts.is_empty(), "no demo accounts printed");
    let (job_ids, scorers) = {
        let store = jobrank::store::Store::open(dir.path()).expect("demo store opens");
        store
            .read_blocking(|c| {
                Ok((
                    jobrank::store::jobs::list_open_jobs(c)?
                        .iter()
                        .map(|j| j.id)
                        .collect::<Vec<i64>>(),
                    jobrank::store::users::list_scorers(c)?
                        .into_iter()
                        .map(|u| u.email)
                        .collect::<Vec<String>>(),
                ))
            })
            .expect("demo store reads")
    };
    let mut serve = Command::new(&o.bin);
    serve
        .args(["--data-dir", &data, "serve"])
        .env("RUST_LOG", "warn")
        .env("RECRUITERFLOW_WEBHOOK_SECRET", WEBHOOK_SECRET);
    // On a port of its choosing, read from the line it prints.
    let mut server = serve_command(serve);
    let pid = server.pid();
    let base = server.url("");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tally, elapsed, rss) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(o.users)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let mut sessions = Vec::new();
        for u in 0..o.users {
            let (email, password) = &accounts[u % accounts.len()];
            let scores = scorers.contains(email);
            sessions.push(sign_in(&client, &base, email, password, scores).await);
        }
        let steps: Vec<Step> = mix()
            .into_iter()
            .flat_map(|s| std::iter::repeat_n(s, s.weight as usize))
            .collect();
        let job_ids = Arc::new(job_ids);
        let stop = Arc::new(AtomicBool::new(false));
        let mut users = Vec::new();
        for (u, session) in sessions.into_iter().enumerate() {
            let client = client.clone();
            let base = base.clone();
            let steps = steps.clone();
            let stop = stop.clone();
            let job_ids = job_ids.clone();
            users.push(tokio::spawn(async move {
                let mut t = Tally::default();
                let mut i = u * 7;
                let mut n = (u as u64) << 40;
                while !stop.load(Ordering::Relaxed) {
                    let mut s = steps[i % steps.len()];
                    i += 1;
                    n += 1;
                    if !session.scores && matches!(s.kind, Kind::ScorePage | Kind::SubmitScore) {
                        s = mix()[0];
                    }
                    let job = job_ids[(i * 13 + u) % job_ids.len()];
                    let start = Instant::now();
                    let ok = request(&client, &base, &session, s.kind, job, n).await;
                    t.latencies.entry(s.name).or_default().push(start.elapsed());
                    if !ok {
                        *t.errors.entry(s.name).or_default() += 1;
                    }
                }
                t
            }));
        }
        let started = Instant::now();
        // Memory is measured from after a short warm-up, so allocator start-up is not
        // counted as growth.
        let warmup = (o.duration / 10).min(Duration::from_secs(10));
        tokio::time::sleep(warmup).await;
        let rss_start = status_kib(pid, "VmRSS:");
        let mut series = vec![(started.elapsed().as_secs(), rss_start)];
        while started.elapsed() < o.duration {
            tokio::time::sleep(
                Duration::from_secs(1).min(o.duration.saturating_sub(started.elapsed())),
            )
            .await;
            series.push((started.elapsed().as_secs(), status_kib(pid, "VmRSS:")));
        }
        stop.store(true, Ordering::Relaxed);
        let mut all = Tally::default();
        for u in users {
            let t = u.await.unwrap();
            for (k, v) in t.latencies {
                all.latencies.entry(k).or_default().extend(v);
            }
            for (k, v) in t.errors {
                *all.errors.entry(k).or_default() += v;
            }
        }
        let rss_end = status_kib(pid, "VmRSS:");
        (all, started.elapsed(), (rss_start, rss_end, series))
    });
    server.sigterm();
    let exit = server.wait_exit();

    let mut total: Vec<Duration> = tally.latencies.values().flatten().copied().collect();
    total.sort_unstable();
    let errors: u64 = tally.errors.values().sum();
    println!(
        "loadtest: {} users, {:.0} s, {} requests, {:.0} req/s, errors {errors}",
        o.users,
        elapsed.as_secs_f64(),
        total.len(),
        total.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  all        p50 {}  p99 {}  max {}",
        ms(percentile(&total, 0.5)),
        ms(percentile(&total, 0.99)),
        ms(total.last().copied().unwrap_or_default())
    );
    for (name, lat) in &tally.latencies {
        let mut l = lat.clone();
        l.sort_unstable();
        println!(
            "  {name:<10} n {:>7}  p50 {}  p99 {}  errors {}",
            l.len(),
            ms(percentile(&l, 0.5)),
            ms(percentile(&l, 0.99)),
            tally.errors.get(name).copied().unwrap_or(0)
        );
    }
    let (start, end, series) = rss;
    let max = series.iter().map(|s| s.1).max().unwrap_or(start);
    let half = series[series.len() / 2].1;
    println!(
        "  memory     VmRSS after warm-up {start} KiB, at half time {half} KiB, at end {end} KiB, max {max} KiB; growth {:+} KiB (second half {:+} KiB)",
        end as i64 - start as i64,
        end as i64 - half as i64
    );
    let points: Vec<String> = (0..=10)
        .map(|i| series[(series.len() - 1) * i / 10])
        .map(|(t, kib)| format!("{t}s {}M", kib / 1024))
        .collect();
    println!("  VmRSS over time: {}", points.join(", "));
    let store_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            std::fs::metadata(dir.path().join(format!("jobrank.sqlite3{suffix}"))).ok()
        })
        .map(|m| m.len())
        .sum();
    println!("  store on disk at the end: {} KiB", store_bytes / 1024);
    println!("  jobrank exited with {exit}");
    if errors > 0 || !exit.success() {
        std::process::exit(1);
    }
}
