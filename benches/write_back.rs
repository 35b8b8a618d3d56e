//! Rank write-back figures, printed, against the fake Recruiterflow on 127.0.0.1:
//! - the client alone: job updates one after another and with the client's 8 at once;
//! - the write-back itself, with the bound on updates off: every open job's rank queued
//!   in the store, then sent and acknowledged (each outcome recorded in SQLite), in
//!   jobs per second;
//! - scoring latency (a submission through the store command, fsynced) with
//!   write-back off and on, measured in one run in alternating blocks; with it on, each
//!   submission moves a rank, queues it in its transaction and wakes the running sender,
//!   which writes it to the fake while the next submissions go on. The ratio of the
//!   medians (off / on) has a target of at least 0.9. Printed, not asserted.
//!
//! Run with `scripts/bench write_back` (or, without a release build,
//! `cargo test --bench write_back`).

#[path = "../tests/api/fake_recruiterflow.rs"]
mod fake;
#[path = "../tests/api/helpers.rs"]
mod helpers;

use std::time::{Duration, Instant};

use fake::{API_KEY, FakeRecruiterflow, select_field};
use futures_util::StreamExt;
use jobrank::domain::{FactorScores, Rank, Role, Standing, TeamScore};
use jobrank::recruiterflow::custom_fields::{self, FieldRole, FieldValue};
use jobrank::recruiterflow::write_back::{self, WriteBackOptions};
use jobrank::recruiterflow::{Client, ClientOptions, WriteBack, sync};
use jobrank::store::submissions::NewSubmission;
use jobrank::store::users::{self, NewUser, User};
use jobrank::store::{self, Store, commands, write_back as queue};
use jobrank::tasks::Shutdown;
use secrecy::SecretString;

const JOBS: i64 = 2000;
/// Jobs scored in the latency part, and submissions per block of each mode.
const SCORED_JOBS: i64 = 200;
const BLOCK: usize = 400;
const BLOCKS: usize = 4;
/// The pause between two submissions of the latency part (500 a second at most, far
/// above the team's pace), so each block with write-back on lasts about a second and
/// the sender's rounds (each after its gathering wait) run while submissions go on.
const PACE: Duration = Duration::from_millis(2);
/// A fixed argon2 hash: nobody signs in here.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn main() {
    jobrank::install_crypto();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run());
}

async fn run() {
    let fake = FakeRecruiterflow::with_jobs(JOBS).await;
    fake.put_custom_field(select_field(
        900,
        "jobrank rank",
        &[(901, "A"), (902, "B"), (903, "C")],
    ));
    let client = Client::new(
        url::Url::parse(&fake.base_url()).unwrap(),
        SecretString::from(API_KEY),
        ClientOptions::default(),
    )
    .unwrap();
    client_alone(&fake, &client).await;
    let (_dir, store, scorers) = synced_store(&client).await;
    queue_throughput(&store, &client).await;
    scoring_latency(&store, &client, &scorers).await;
}

/// Job updates through the client, without the queue.
async fn client_alone(fake: &FakeRecruiterflow, client: &Client) {
    let field = client.check_rank_field("jobrank rank").await.unwrap();
    let value = |id: i64| {
        let rank = [Rank::A, Rank::B, Rank::C][(id % 3) as usize];
        let team = TeamScore::from_parts(20_000 + id % 30_000, 1).unwrap();
        vec![FieldValue {
            id: field.id,
            value: custom_fields::field_value(
                &field,
                FieldRole::Rank,
                Some(Standing { rank, team }),
            )
            .unwrap(),
        }]
    };
    let before = fake.updates().len();
    let t = Instant::now();
    for id in 1..=JOBS {
        client
            .update_job_custom_fields(id, &value(id))
            .await
            .unwrap();
    }
    report("client alone, one after another", JOBS, t);

    let t = Instant::now();
    let results: Vec<_> = futures_util::stream::iter(1..=JOBS)
        .map(|id| {
            let client = client.clone();
            let values = value(id);
            async move { client.update_job_custom_fields(id, &values).await }
        })
        .buffer_unordered(ClientOptions::default().concurrency)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok));
    report("client alone, 8 at once (the client's bound)", JOBS, t);
    assert_eq!((fake.updates().len() - before) as i64, 2 * JOBS);
}

/// A store holding the fake's jobs, every one ranked by one of three scorers.
async fn synced_store(client: &Client) -> (tempfile::TempDir, Store, Vec<User>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .unwrap()
        .unwrap();
    sync::full_sync(&store, client, &|_| {}).await.unwrap();
    let scorers = store
        .write(|tx| {
            let mut out = Vec::new();
            for i in 0..3 {
                out.push(users::insert_user(
                    tx,
                    &NewUser {
                        email: format!("scorer{i}@bench.example"),
                        name: format!("Scorer {i}"),
                        role: Role::AccountManager,
                        scores: true,
                        password_hash: HASH.into(),
                    },
                    store::now(),
                )?);
            }
            for job in 1..=JOBS {
                let v = [1 + job % 5, 1 + job % 4, 1 + job % 3, 1 + job % 2];
                let _ = commands::submit_score(tx, &submission(job, &out[0], v), store::now())?;
            }
            Ok(out)
        })
        .await
        .unwrap();
    (dir, store, scorers)
}

fn submission(job_id: i64, scorer: &User, v: [i64; 4]) -> NewSubmission {
    NewSubmission {
        job_id,
        scorer_id: scorer.id.clone(),
        scores: FactorScores::from_values(v).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    }
}

fn sender(store: &Store, client: &Client) -> WriteBack {
    WriteBack::new(
        store.clone(),
        client.clone(),
        "jobrank rank",
        None,
        WriteBackOptions {
            per_minute: 0,
            ..WriteBackOptions::default()
        },
    )
}

/// Every open job queued, then sent with the bound off.
async fn queue_throughput(store: &Store, client: &Client) {
    let w = sender(store, client);
    w.check_fields().await.unwrap();
    let queued = store
        .write(|tx| queue::enqueue_open_jobs(tx, store::now()))
        .await
        .unwrap();
    assert_eq!(queued as i64, JOBS);
    let t = Instant::now();
    let round = w.send_all(&|_| {}).await.unwrap();
    assert_eq!(round.sent as i64, JOBS);
    report(
        "write-back (queue, update, acknowledgement recorded), bound off",
        JOBS,
        t,
    );
    assert_eq!(store.read(queue::counts).await.unwrap(), (0, 0));
}

/// Submission latency with write-back off and on, in alternating blocks.
async fn scoring_latency(store: &Store, client: &Client, scorers: &[User]) {
    let shutdown = Shutdown::new();
    let w = sender(store, client);
    let task = w.spawn(&shutdown.signal());
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut n = 0usize;
    for block in 0..2 * BLOCKS {
        let writes_back = block % 2 == 1;
        write_back::switch(store, writes_back).await.unwrap();
        for _ in 0..BLOCK {
            n += 1;
            let job = 1 + (n as i64 % SCORED_JOBS);
            let scorer = &scorers[1 + n % 2];
            // Alternately high and low: every submission moves its job's rank.
            let v = if (n / SCORED_JOBS as usize).is_multiple_of(2) {
                [5, 5, 5, 5]
            } else {
                [1, 1, 1, 1]
            };
            let new = submission(job, scorer, v);
            let t = Instant::now();
            let changes = store
                .write(move |tx| commands::submit_score(tx, &new, store::now()))
                .await
                .unwrap()
                .rank_changes;
            let took = t.elapsed();
            tokio::time::sleep(PACE).await;
            assert!(!changes.is_empty() || n <= SCORED_JOBS as usize);
            if writes_back { &mut on } else { &mut off }.push(took);
        }
    }
    // Let the sender finish what the last block queued.
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.read(queue::counts).await.unwrap().0 > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.stop();
    let _ = task.await;
    let (p50_off, p99_off) = percentiles(&mut off);
    let (p50_on, p99_on) = percentiles(&mut on);
    println!(
        "scoring latency (store command, fsynced), {} submissions each, alternating blocks of {BLOCK}:",
        off.len()
    );
    println!("  write-back off: p50 {p50_off:.2?}, p99 {p99_off:.2?}");
    println!("  write-back on:  p50 {p50_on:.2?}, p99 {p99_on:.2?}");
    println!(
        "  ratio of medians (off / on): {:.2} (target >= 0.9)",
        p50_off.as_secs_f64() / p50_on.as_secs_f64()
    );
}

fn percentiles(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort_unstable();
    (helpers::percentile(v, 0.5), helpers::percentile(v, 0.99))
}

fn report(label: &str, jobs: i64, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{label}: {jobs} jobs in {secs:.2} s, {:.0} jobs/s",
        jobs as f64 / secs
    );
}
