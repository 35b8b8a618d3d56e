//! Rank write-back figures, printed: job updates through the Recruiterflow client
//! against the fake server on 127.0.0.1 (the client's side only: no queue, no request
//! bound), one after another and with the client's 8 requests at once.
//!
//! Run with `scripts/bench write_back` (or, without a release build,
//! `cargo test --bench write_back`).

#[path = "../tests/api/fake_recruiterflow.rs"]
mod fake;

use std::time::Instant;

use fake::{API_KEY, FakeRecruiterflow, select_field};
use futures_util::StreamExt;
use jobrank::domain::{Rank, Standing, TeamScore};
use jobrank::recruiterflow::custom_fields::{self, FieldRole, FieldValue};
use jobrank::recruiterflow::{Client, ClientOptions};
use secrecy::SecretString;

const JOBS: i64 = 2000;

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
    let field = client.check_rank_field("jobrank rank").await.unwrap();
    let value = |id: i64| {
        let rank = [Rank::A, Rank::B, Rank::C][(id % 3) as usize];
        let score = TeamScore::from_parts(20_000 + id % 30_000, 1).unwrap();
        vec![FieldValue {
            id: field.id,
            value: custom_fields::field_value(
                &field,
                FieldRole::Rank,
                Some(Standing { rank, team: score }),
            )
            .unwrap(),
        }]
    };

    let t = Instant::now();
    for id in 1..=JOBS {
        client
            .update_job_custom_fields(id, &value(id))
            .await
            .unwrap();
    }
    report("one after another", t);

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
    report("8 at once (the client's bound)", t);
    assert_eq!(fake.updates().len() as i64, 2 * JOBS);
}

fn report(label: &str, t: Instant) {
    let secs = t.elapsed().as_secs_f64();
    println!(
        "write-back, {JOBS} job updates {label}: {secs:.2} s, {:.0} jobs/s",
        JOBS as f64 / secs
    );
}
