//! Sign-in benchmark: prints figures, asserts nothing.
//!
//! Starts the built `jobrank serve` (release, as the systemd unit runs it) as a child
//! process on loopback, so its memory can be read from /proc, and sends:
//!   - 50 simultaneous sign-ins of 50 different users, each from its own loopback
//!     address (so no throttle applies and every password is checked): the server's
//!     peak resident memory (VmHWM; target < 128 MiB, where each argon2 check takes
//!     19 MiB and at most two run at once) and how long the burst took;
//!   - 30 simultaneous wrong passwords for one account: how many were checked (the
//!     throttle allows 5) and how many were answered 429 without a check.
//!
//! Run with `cargo bench --bench signin` (or `scripts/bench signin`).

#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jobrank::domain::Role;
use jobrank::store::users::{self, NewUser};
use jobrank::store::{self, Store};
use reqwest::header::COOKIE;

use helpers::{FormBody, ServeProcess, login_form_at, serve_process, status_kib};

const USERS: usize = 50;
const GUESSES: usize = 30;
const PASSWORD: &str = "bench password 123";
const TARGET_MIB: f64 = 128.0;

fn main() {
    jobrank::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

fn email(i: usize) -> String {
    format!("user{i}@bench.example")
}

/// 50 users sharing one password hash (hashing each would only slow the set-up).
fn seed(dir: &Path) {
    let store = Store::open(dir).expect("store opens");
    let hash = jobrank::credentials::hash_password(PASSWORD).expect("hash");
    let now = store::now();
    store
        .write_blocking(|tx| {
            for i in 0..USERS {
                users::insert_user(
                    tx,
                    &NewUser {
                        email: email(i),
                        name: format!("User {i}"),
                        role: Role::AccountManager,
                        scores: true,
                        password_hash: hash.clone(),
                    },
                    now,
                )?;
            }
            Ok(())
        })
        .expect("seed");
}

/// The built `jobrank serve` on `dir`, on a port of its choosing (helpers::serve_process).
fn start_server(dir: &Path) -> ServeProcess {
    serve_process(
        dir,
        &[
            ("RUST_LOG", "error"),
            // As the systemd unit runs it (deploy/jobrank.service).
            ("MIMALLOC_PURGE_DELAY", "0"),
            ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
        ],
    )
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// A client whose connections leave from `source`, with the sign-in form's cookie and
/// token already fetched.
struct Visitor {
    http: reqwest::Client,
    cookie: String,
    token: String,
}

async fn visitor(addr: SocketAddr, source: Ipv4Addr) -> Visitor {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(source))
        .build()
        .unwrap();
    let (cookie, token) = login_form_at(&http, &format!("http://{addr}")).await;
    Visitor {
        http,
        cookie,
        token,
    }
}

/// Posts the sign-in form; (status, latency).
async fn sign_in(addr: SocketAddr, v: &Visitor, email: &str, password: &str) -> (u16, Duration) {
    let fields = [("email", email), ("password", password), ("csrf", &v.token)];
    let t = Instant::now();
    let res = v
        .http
        .post(format!("http://{addr}/login"))
        .header(COOKIE, format!("jobrank_login={}", v.cookie))
        .form(&fields)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), t.elapsed())
}

fn tally(statuses: &[u16]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for s in statuses {
        *counts.entry(*s).or_insert(0) += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} x {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    seed(dir.path());
    let mut server = start_server(dir.path());
    let pid = server.pid();
    let addr = server.addr;

    // Warm up: one sign-in, so the baseline includes a first argon2 check.
    let warm = visitor(addr, Ipv4Addr::new(127, 0, 2, 1)).await;
    sign_in(addr, &warm, &email(0), PASSWORD).await;
    let idle = status_kib(pid, "VmRSS:");
    let hwm_before = status_kib(pid, "VmHWM:");

    // Sample VmRSS while the burst runs (VmHWM gives the peak too).
    let stop = Arc::new(AtomicBool::new(false));
    let peak_sampled = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak_sampled.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                peak.fetch_max(status_kib(pid, "VmRSS:"), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };

    let mut visitors = Vec::new();
    for i in 0..USERS {
        visitors.push(visitor(addr, Ipv4Addr::new(127, 0, 1, 1 + i as u8)).await);
    }
    let visitors = Arc::new(visitors);
    let start = Instant::now();
    let burst: Vec<_> = (0..USERS)
        .map(|i| {
            let visitors = visitors.clone();
            tokio::spawn(async move { sign_in(addr, &visitors[i], &email(i), PASSWORD).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in burst {
        results.push(t.await.unwrap());
    }
    let wall = start.elapsed();
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let peak = status_kib(pid, "VmHWM:");
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    let mut lat: Vec<Duration> = results.iter().map(|r| r.1).collect();
    lat.sort_unstable();

    println!("sign-in bench: release binary, {USERS} users, MIMALLOC as the unit sets it");
    println!(
        "  {USERS} simultaneous sign-ins (own address each): {} in {:.2} s; latency p50 {:.0} ms, max {:.0} ms",
        tally(&statuses),
        wall.as_secs_f64(),
        lat[lat.len() / 2].as_secs_f64() * 1000.0,
        lat[lat.len() - 1].as_secs_f64() * 1000.0,
    );
    println!(
        "  resident memory: {:.1} MiB idle after one sign-in (peak so far {:.1} MiB); \
         peak during the burst {:.1} MiB sampled, {:.1} MiB VmHWM (target < {TARGET_MIB} MiB: {})",
        mib(idle),
        mib(hwm_before),
        mib(peak_sampled.load(Ordering::SeqCst)),
        mib(peak),
        if mib(peak) < TARGET_MIB {
            "meets target"
        } else {
            "MISSES target"
        }
    );

    // 30 simultaneous guesses at one account, from one address.
    let guesser = Arc::new(visitor(addr, Ipv4Addr::new(127, 0, 3, 1)).await);
    let start = Instant::now();
    let guesses: Vec<_> = (0..GUESSES)
        .map(|i| {
            let guesser = guesser.clone();
            tokio::spawn(async move {
                sign_in(addr, &guesser, &email(1), &format!("wrong guess {i}"))
                    .await
                    .0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in guesses {
        statuses.push(t.await.unwrap());
    }
    println!(
        "  {GUESSES} simultaneous wrong passwords for one account: {} in {:.2} s \
         (401 = checked, 429 = refused without a check; the limit is 5)",
        tally(&statuses),
        start.elapsed().as_secs_f64()
    );
    server.sigterm();
    server.wait_exit();
}
