//! Load and soak test: starts the real jobrank binary on loopback with a demo store,
//! drives a weighted mix of requests from a few concurrent users for a bounded time,
//! and reports throughput, p50/p99 latency per route, errors and memory growth (VmRSS
//! from /proc). Run through `scripts/loadtest` (`--duration 600` for the soak).
//!
//! Options: --duration SECS (60), --users N (4), --bin PATH (this build's jobrank).
//! Exits 1 when any request failed.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One kind of request in the mix.
#[derive(Clone, Copy)]
struct Step {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    /// Relative frequency in the mix.
    weight: u32,
}

/// The realistic mix. Today jobrank serves health, readiness and metrics; the pages
/// (dashboard, job detail), score submissions and Recruiterflow webhooks join here as
/// they land, each as one more `Step` with its share of the traffic.
fn mix() -> Vec<Step> {
    vec![
        Step {
            name: "healthz",
            method: "GET",
            path: "/healthz",
            weight: 5,
        },
        Step {
            name: "readyz",
            method: "GET",
            path: "/readyz",
            weight: 3,
        },
        Step {
            name: "metrics",
            method: "GET",
            path: "/metrics",
            weight: 1,
        },
        Step {
            name: "not_found",
            method: "GET",
            path: "/no-such-page",
            weight: 1,
        },
    ]
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

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
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
        .stdout(Stdio::null())
        .status()
        .expect("jobrank demo runs");
    assert!(demo.success(), "jobrank demo failed");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&o.bin)
        .args([
            "--data-dir",
            &data,
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("jobrank serve starts");
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tally, elapsed, rss) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(o.users)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(Instant::now() < deadline, "jobrank did not start in 20 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Memory is measured from after a short warm-up, so allocator start-up is not
        // counted as growth.
        let steps: Vec<Step> = mix()
            .into_iter()
            .flat_map(|s| std::iter::repeat_n(s, s.weight as usize))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let mut users = Vec::new();
        for u in 0..o.users {
            let client = client.clone();
            let base = base.clone();
            let steps = steps.clone();
            let stop = stop.clone();
            users.push(tokio::spawn(async move {
                let mut t = Tally::default();
                let mut i = u * 7;
                while !stop.load(Ordering::Relaxed) {
                    let s = steps[i % steps.len()];
                    i += 1;
                    let url = format!("{base}{}", s.path);
                    let req = match s.method {
                        "POST" => client.post(url),
                        _ => client.get(url),
                    };
                    let start = Instant::now();
                    let ok = match req.send().await {
                        Ok(r) => {
                            let expected = if s.name == "not_found" { 404 } else { 200 };
                            let status = r.status().as_u16();
                            r.bytes().await.is_ok() && status == expected
                        }
                        Err(_) => false,
                    };
                    t.latencies.entry(s.name).or_default().push(start.elapsed());
                    if !ok {
                        *t.errors.entry(s.name).or_default() += 1;
                    }
                }
                t
            }));
        }
        let started = Instant::now();
        let warmup = (o.duration / 10).min(Duration::from_secs(10));
        tokio::time::sleep(warmup).await;
        let rss_start = rss_kib(pid);
        let mut rss_max = rss_start;
        while started.elapsed() < o.duration {
            tokio::time::sleep(
                Duration::from_secs(1).min(o.duration.saturating_sub(started.elapsed())),
            )
            .await;
            rss_max = rss_max.max(rss_kib(pid));
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
        let rss_end = rss_kib(pid);
        (all, started.elapsed(), (rss_start, rss_end, rss_max))
    });
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let exit = child.wait().expect("jobrank exits");

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
        "  all       p50 {}  p99 {}  max {}",
        ms(percentile(&total, 0.5)),
        ms(percentile(&total, 0.99)),
        ms(total.last().copied().unwrap_or_default())
    );
    for (name, lat) in &tally.latencies {
        let mut l = lat.clone();
        l.sort_unstable();
        println!(
            "  {name:<9} n {:>7}  p50 {}  p99 {}  errors {}",
            l.len(),
            ms(percentile(&l, 0.5)),
            ms(percentile(&l, 0.99)),
            tally.errors.get(name).copied().unwrap_or(0)
        );
    }
    let (start, end, max) = rss;
    println!(
        "  memory    VmRSS after warm-up {} KiB, at end {} KiB, max {} KiB, growth {:+} KiB",
        start,
        end,
        max,
        end as i64 - start as i64
    );
    println!("  jobrank exited with {exit}");
    if errors > 0 || !exit.success() {
        std::process::exit(1);
    }
}
