//! The demo agency's past quarter: two dozen jobs opened and closed over the 13 weeks
//! before today, scored week by week while they were open, a little over half of
//! them filled (placements with fees in pounds, some in euros), plus the placements of
//! the open demo's jobs that closed as filled. So the outcome report, the client pages
//! and the participation chart show something on first run. Drawn from its own seed,
//! after the rest of the demo: the same every time, and the rest of the demo is drawn
//! exactly as before.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::{FactorScores, Money, Role, Settings, quarter_of};
use crate::store::commands::{DemoAgency, DemoJob};
use crate::store::jobs::JobUpsert;
use crate::store::pipeline::StageCount;
use crate::store::placements::PlacementUpsert;
use crate::store::submissions::Submission;
use crate::store::{Result, StoreError, users};

/// How far back the past quarter's first submissions go (the demo's users and first
/// settings must be older).
pub const WEEKS_BACK: i64 = 14;

const TITLES: [&str; 24] = [
    "Finance Business Partner",
    "Data Platform Lead",
    "Operations Director",
    "Ward Manager",
    "Graduate Software Engineer",
    "Head of Compliance",
    "Structural Engineer",
    "Area Manager, North",
    "UX Researcher",
    "Electrical Design Engineer",
    "Technical Brewer",
    "SOC Team Lead",
    "Motion Designer",
    "Conveyancing Solicitor",
    "MLOps Engineer",
    "Logistics Analyst",
    "Dental Practice Manager",
    "Open Banking Product Owner",
    "BIM Coordinator",
    "Key Account Manager",
    "Platform Engineer",
    "Carbon Analyst",
    "Implementation Consultant",
    "Head of Legal",
];

const CANDIDATES: [&str; 12] = [
    "Amelia Carter",
    "Rahul Mehta",
    "Chloe Evans",
    "Daniel Osei",
    "Grace Kim",
    "Liam O'Connor",
    "Sofia Rossi",
    "Ethan Brooks",
    "Hannah Novak",
    "Yusuf Demir",
    "Isla Morgan",
    "Mateo García",
];

fn level(x: f64) -> i64 {
    x.round().clamp(1.0, 5.0) as i64
}

/// Adds the past quarter to `agency`: jobs (ids from 4200) at `clients`, their weekly
/// scores by `scorers` (before every week of the open demo, so each job's history
/// reads in order), their closes and placements, and placements for the demo's jobs
/// already set to close as "Filled".
pub fn draw_past_quarter(
    agency: &mut DemoAgency,
    clients: &[&str],
    scorers: &[&users::User],
    origin: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_204);
    let defaults = Settings::default();
    let mut weeks: Vec<Vec<Submission>> = vec![Vec::new(); WEEKS_BACK as usize + 1];
    for (i, title) in TITLES.iter().enumerate() {
        let id = 4200 + i as i64;
        let client = clients[(i * 5 + 3) % clients.len()];
        let mut closed = now
            - Duration::days(rng.random_range(2..=88))
            - Duration::hours(rng.random_range(0..8));
        // Every third job closes in the current calendar quarter, which the outcome
        // report shows by default, so it has something to show on first run (in the
        // first hours of a quarter the report's period picker shows the last one).
        let spread: f64 = rng.random_range(0.05..0.95);
        let this_quarter = quarter_of(now.date_naive())
            .0
            .and_time(NaiveTime::MIN)
            .and_utc();
        let quarter_so_far = now - Duration::hours(2) - this_quarter;
        if i % 3 == 0 && quarter_so_far > Duration::zero() {
            closed = this_quarter
                + Duration::seconds((quarter_so_far.num_seconds() as f64 * spread) as i64);
        }
        let opened = (closed - Duration::days(rng.random_range(18..=75)))
            .max(now - Duration::weeks(WEEKS_BACK) + Duration::days(1));
        let euros = i % 6 == 4;
        let fee_whole: i64 = rng.random_range(10..=55) * 1000;
        let currency = if euros { "EUR" } else { "GBP" };
        let engagement: f64 = rng.random_range(1.3..4.9);
        let difficulty: f64 = rng.random_range(1.3..4.9);
        // Jobs the factors favour fill more often: the ranks should tell, with noise.
        let fee = Money::new(fee_whole * 100, Some(currency));
        let worth = (engagement
            + difficulty
            + f64::from(
                defaults
                    .time_open_bands
                    .suggest_from_dates(opened, closed)
                    .get(),
            )
            + defaults
                .suggest_fee_size(Some(&fee))
                .map_or(3.0, |l| f64::from(l.get())))
            / 4.0;
        let filled = rng.random_bool(((worth - 2.2) / 1.8).clamp(0.1, 0.9));
        agency.jobs.push(DemoJob {
            job: JobUpsert {
                id,
                title: (*title).into(),
                client: client.into(),
                status: "Open".into(),
                is_open: true,
                opened_at: Some(opened),
                fee_minor: Some(fee_whole * 100),
                fee_currency: Some(currency.into()),
                hiring_team: vec!["Tom Okafor".into(), "Priya Shah".into()],
                description_html: Some(format!(
                    "<p>{client} was hiring a <strong>{title}</strong>.</p>"
                )),
            },
            first_seen: opened,
            stages: vec![StageCount {
                stage: "Offer".into(),
                stage_order: 4,
                candidates: i64::from(filled),
                avg_days_in_stage: Some(f64::from(rng.random_range(10..=60u32)) / 10.0),
            }],
            stages_at: closed,
        });
        for (back, batch) in (0..=WEEKS_BACK).rev().zip(weeks.iter_mut()) {
            for scorer in scorers {
                let at = now
                    - Duration::weeks(back)
                    - Duration::hours(rng.random_range(2..60))
                    - Duration::minutes(rng.random_range(0..60));
                if at < opened || at >= closed || rng.random_bool(0.15) {
                    continue;
                }
                let bias = match scorer.role {
                    Role::SalesPerson => 0.45,
                    Role::Ceo => -0.3,
                    _ => 0.0,
                };
                let noise = |rng: &mut StdRng| rng.random_range(-0.9..0.9);
                let ce = level(engagement + bias + noise(&mut rng));
                let sd = level(difficulty + bias + noise(&mut rng));
                let t = i64::from(
                    defaults
                        .time_open_bands
                        .suggest_from_dates(opened, at)
                        .get(),
                );
                let fee = Money::new(fee_whole * 100, Some(currency));
                let f = defaults
                    .suggest_fee_size(Some(&fee))
                    .map_or(3, |l| i64::from(l.get()));
                let scores = FactorScores::from_values([ce, sd, t, f])
                    .map_err(|e| StoreError::Data(format!("demo scores: {e:?}")))?;
                batch.push(Submission {
                    id: uuid::Uuid::now_v7().to_string(),
                    job_id: id,
                    scorer_id: scorer.id.clone(),
                    client_engagement: scores.client_engagement.get(),
                    search_difficulty: scores.search_difficulty.get(),
                    time_open: scores.time_open.get(),
                    fee_size: scores.fee_size.get(),
                    time_open_overridden: false,
                    // A fee in euros gets no suggestion: the scorer picked the level.
                    fee_size_overridden: false,
                    comment: None,
                    submitted_at: at,
                    origin: origin.to_string(),
                });
            }
        }
        let status = if filled {
            "Filled"
        } else {
            ["Closed", "Cancelled by client", "On hold"][rng.random_range(0..3)]
        };
        agency.closed.push((id, status.into(), closed));
        if filled {
            agency.placements.push(PlacementUpsert {
                id: 9200 + i as i64,
                job_id: id,
                candidate: Some(CANDIDATES[rng.random_range(0..CANDIDATES.len())].into()),
                placed_at: Some(closed - Duration::days(rng.random_range(0..=6))),
                fee_minor: Some(fee_whole * 100 * rng.random_range(90..=110) / 100),
                fee_currency: Some(currency.into()),
            });
        }
    }
    // Before the open demo's weeks: each job's scores stay in time order.
    weeks.append(&mut agency.weeks);
    agency.weeks = weeks;
    // The open demo's jobs that close as filled were placed the day before.
    let filled: Vec<(i64, DateTime<Utc>)> = agency
        .closed
        .iter()
        .filter(|(id, status, _)| status == "Filled" && *id < 4200)
        .map(|(id, _, at)| (*id, *at))
        .collect();
    for (k, (job_id, at)) in filled.into_iter().enumerate() {
        let fee = agency
            .jobs
            .iter()
            .find(|j| j.job.id == job_id)
            .and_then(|j| j.job.fee_minor.zip(j.job.fee_currency.clone()));
        agency.placements.push(PlacementUpsert {
            id: 9100 + k as i64,
            job_id,
            candidate: Some(CANDIDATES[(k * 5 + 1) % CANDIDATES.len()].into()),
            placed_at: Some(at - Duration::days(1)),
            fee_minor: fee.as_ref().map(|f| f.0),
            fee_currency: fee.map(|f| f.1),
        });
    }
    Ok(())
}
