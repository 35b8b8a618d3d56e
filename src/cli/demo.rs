//! A realistic demo agency for a fresh store: four users, about 40 jobs at 12
//! clients, pipelines, and 8 weeks of weekly scores with realistic disagreement, plus
//! a past quarter of closed jobs and placements ([`super::demo_history`]).
//! The same seed gives the same agency; only the passwords are random.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::credentials;
use crate::domain::{Factor, FactorScores, Money, Role, Settings};
use crate::store::commands::{self, DemoAgency, DemoJob};
use crate::store::jobs::JobUpsert;
use crate::store::pipeline::StageCount;
use crate::store::submissions::Submission;
use crate::store::{self, Result, Store, StoreError, jobs, users};

/// The demo accounts and their passwords, printed once on a terminal, or written to
/// [`ACCOUNTS_FILE`] when the output goes elsewhere (a service manager's journal).
pub struct DemoAccounts {
    pub accounts: Vec<(String, String, Role, String)>,
}

/// Where `serve --demo` writes the demo passwords, in the data directory, when its
/// output is not a terminal.
pub const ACCOUNTS_FILE: &str = "demo-accounts.txt";

impl DemoAccounts {
    fn lines(&self) -> Vec<String> {
        self.accounts
            .iter()
            .map(|(email, name, role, password)| {
                format!("  {email:<28} {password}   {name}, {}", role.label())
            })
            .collect()
    }

    pub fn print(&self) {
        println!("Demo accounts (passwords are shown only now):");
        for line in self.lines() {
            println!("{line}");
        }
    }

    /// Writes the accounts to [`ACCOUNTS_FILE`] in `data_dir`, readable by this user
    /// only (0600), replacing an older file; returns its path.
    pub fn write_file(&self, data_dir: &Path) -> std::io::Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = data_dir.join(ACCOUNTS_FILE);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        // create_new: made here with mode 0600, never an existing file or a link.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        writeln!(
            file,
            "jobrank demo accounts (email, password, name and role):"
        )?;
        for line in self.lines() {
            writeln!(file, "{line}")?;
        }
        file.sync_all()?;
        Ok(path)
    }
}

const CLIENTS: [&str; 12] = [
    "Northwind Analytics",
    "Harbour Logistics",
    "Brightwater Health",
    "Kestrel Fintech",
    "Oakridge Engineering",
    "Meridian Retail Group",
    "Bluebell Software",
    "Thames Valley Energy",
    "Pennine Foods",
    "Corvid Security",
    "Larkspur Media",
    "Stonegate Legal",
];

const TITLES: [&str; 40] = [
    "Senior Data Engineer",
    "Head of Finance",
    "Warehouse Operations Manager",
    "Clinical Nurse Manager",
    "Backend Engineer (Rust)",
    "Compliance Officer",
    "Principal Mechanical Engineer",
    "Store Manager, Leeds",
    "Product Designer",
    "Grid Connections Engineer",
    "Food Safety Lead",
    "Security Operations Analyst",
    "Video Producer",
    "Commercial Property Solicitor",
    "Machine Learning Engineer",
    "Transport Planner",
    "Practice Manager",
    "Payments Product Manager",
    "CAD Technician",
    "Regional Sales Director",
    "Site Reliability Engineer",
    "Energy Trader",
    "Technical Account Manager",
    "Penetration Tester",
    "Content Strategist",
    "Employment Lawyer",
    "Analytics Manager",
    "Fleet Manager",
    "Physiotherapist",
    "Risk Analyst",
    "Quality Engineer",
    "Buying Manager",
    "Frontend Engineer",
    "Sustainability Consultant",
    "Production Planner",
    "Cloud Security Architect",
    "Social Media Manager",
    "Paralegal",
    "Chief Operating Officer",
    "Customer Success Lead",
];

const STAGES: [&str; 5] = [
    "Applied",
    "Screening",
    "Submitted to client",
    "Interview",
    "Offer",
];

/// How long candidates wait in each of [`STAGES`] relative to the longest waits: a
/// demo pipeline stalls (at the default 14 days) only where a client is slow to give
/// feedback on submitted candidates or interviews.
const STAGE_WAIT_SCALE: [f64; 5] = [0.4, 0.5, 1.0, 0.85, 0.5];

/// Whether the store holds no users and no jobs (the demo may fill it).
pub async fn is_empty(store: &Store) -> Result<bool> {
    store
        .read(|c| Ok(users::count_users(c)? == 0 && jobs::count_jobs(c)? == 0))
        .await
}

fn password(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn clamp_level(x: f64) -> i64 {
    x.round().clamp(1.0, 5.0) as i64
}

/// Fills an empty store with the demo agency and returns the accounts.
pub async fn fill_demo(store: &Store) -> Result<DemoAccounts> {
    if !is_empty(store).await? {
        return Err(StoreError::Conflict(
            "the store is not empty; the demo only fills a fresh data directory".into(),
        ));
    }
    let people = [
        ("claire@agency.example", "Claire Hughes", Role::Ceo),
        ("tom@agency.example", "Tom Okafor", Role::AccountManager),
        ("priya@agency.example", "Priya Shah", Role::SalesPerson),
        ("sam@agency.example", "Sam Lee", Role::Other),
    ];
    let mut os_rng = StdRng::from_os_rng();
    let mut accounts = Vec::new();
    let mut new_users = Vec::new();
    for (email, name, role) in people {
        let pw = password(&mut os_rng);
        let hash = {
            let pw = pw.clone();
            tokio::task::spawn_blocking(move || credentials::hash_password(&pw))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))??
        };
        accounts.push((email.to_string(), name.to_string(), role, pw));
        new_users.push(users::NewUser {
            email: email.into(),
            name: name.into(),
            role,
            scores: role.scores_by_default(),
            password_hash: hash,
        });
    }
    let now = store::now();
    store
        .write(move |tx| {
            // The first settings are backdated to before the demo's history begins.
            let start = now - Duration::weeks(super::demo_history::WEEKS_BACK + 1);
            commands::fill_demo(tx, start, &new_users, |added, origin| {
                let scorers: Vec<&users::User> = added.iter().filter(|u| u.scores).collect();
                draw_agency(&scorers, origin, now)
            })
            .map(|_| ())
        })
        .await?;
    Ok(DemoAccounts { accounts })
}

struct JobTruth {
    id: i64,
    opened: DateTime<Utc>,
    fee_minor: i64,
    /// The job's "true" factor levels the scorers estimate.
    engagement: f64,
    difficulty: f64,
}

/// Draws the demo agency from a fixed seed: the same agency every time.
fn draw_agency(scorers: &[&users::User], origin: &str, now: DateTime<Utc>) -> Result<DemoAgency> {
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let mut agency = DemoAgency::default();
    let mut demo_jobs = Vec::new();
    for (i, title) in TITLES.iter().enumerate() {
        let client = CLIENTS[(i * 7 + i / 12) % CLIENTS.len()];
        let days_open = rng.random_range(0..=150);
        let opened = now - Duration::days(days_open) - Duration::hours(rng.random_range(0..10));
        let fee_gbp: i64 = rng.random_range(8..=60) * 1000 + [0, 500][rng.random_range(0..2)];
        let job = JobUpsert {
            id: 4100 + i as i64,
            title: (*title).into(),
            client: client.into(),
            status: "Open".into(),
            is_open: true,
            opened_at: Some(opened),
            fee_minor: Some(fee_gbp * 100),
            fee_currency: Some("GBP".into()),
            hiring_team: vec!["Tom Okafor".into(), "Priya Shah".into()],
            description_html: Some(format!(
                "<p>{client} is hiring a <strong>{title}</strong>.</p><ul><li>Hybrid, two days on site</li><li>Salary negotiable</li></ul>"
            )),
        };
        let stages: Vec<StageCount> = STAGES
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let base = [14, 7, 4, 2, 1][k];
                let candidates = rng.random_range(0..=base);
                // A draw from 0.5 to 18, scaled by how long candidates usually wait in
                // the stage: days in the early stages, up to a few weeks where the
                // client gives feedback, so a minority of pipelines is stalled.
                let draw = f64::from(rng.random_range(5..=180u32)) / 10.0;
                let scale = STAGE_WAIT_SCALE[k];
                StageCount {
                    stage: (*s).into(),
                    stage_order: k as i64,
                    candidates,
                    avg_days_in_stage: Some((draw * scale * 10.0).round() / 10.0),
                }
            })
            .collect();
        demo_jobs.push(JobTruth {
            id: job.id,
            opened,
            fee_minor: fee_gbp * 100,
            engagement: rng.random_range(1.3..4.9),
            difficulty: rng.random_range(1.3..4.9),
        });
        agency.jobs.push(DemoJob {
            job,
            // jobrank saw them from the open demo's first week of scores, so no week
            // counts them due before anyone could score them.
            first_seen: opened.max(now - Duration::weeks(7) - Duration::hours(60)),
            stages,
            stages_at: now - Duration::hours(2),
        });
    }
    // Scorers' habits: the sales person is optimistic, about client engagement above
    // all (enough for the review to point at her: more than 0.50 above the team on
    // average); the CEO a little harsh.
    let bias = |role: Role, factor: Factor| match (role, factor) {
        (Role::SalesPerson, Factor::ClientEngagement) => 1.5,
        (Role::SalesPerson, _) => 0.6,
        (Role::Ceo, _) => -0.3,
        _ => 0.0,
    };
    let defaults = Settings::default();
    for week in (0..8).rev() {
        let mut submitted = Vec::new();
        for job in &demo_jobs {
            for scorer in scorers {
                let at = now
                    - Duration::weeks(week)
                    - Duration::hours(rng.random_range(2..60))
                    - Duration::minutes(rng.random_range(0..60));
                if at < job.opened || rng.random_bool(0.15) {
                    continue;
                }
                let drift = (7 - week) as f64 * rng.random_range(-0.08..0.08);
                let noise = |rng: &mut StdRng| rng.random_range(-0.9..0.9);
                let ce = clamp_level(
                    job.engagement
                        + drift
                        + bias(scorer.role, Factor::ClientEngagement)
                        + noise(&mut rng),
                );
                let sd = clamp_level(
                    job.difficulty + bias(scorer.role, Factor::SearchDifficulty) + noise(&mut rng),
                );
                let suggested_t = i64::from(
                    defaults
                        .time_open_bands
                        .suggest_from_dates(job.opened, at)
                        .get(),
                );
                let fee = Money::new(job.fee_minor, Some("GBP"));
                let suggested_f = i64::from(defaults.fee_bands.suggest(&fee).get());
                let override_t = rng.random_bool(0.06);
                let t = if override_t {
                    (suggested_t + 1).min(5)
                } else {
                    suggested_t
                };
                let scores = FactorScores::from_values([ce, sd, t, suggested_f])
                    .map_err(|e| StoreError::Data(format!("demo scores: {e:?}")))?;
                let s = Submission {
                    id: uuid::Uuid::now_v7().to_string(),
                    job_id: job.id,
                    scorer_id: scorer.id.clone(),
                    client_engagement: scores.client_engagement.get(),
                    search_difficulty: scores.search_difficulty.get(),
                    time_open: scores.time_open.get(),
                    fee_size: scores.fee_size.get(),
                    time_open_overridden: override_t && t != suggested_t,
                    fee_size_overridden: false,
                    comment: (rng.random_bool(0.1)).then(|| {
                        [
                            "Client slow to feed back this week",
                            "Strong shortlist forming",
                            "Fee under discussion",
                            "Hiring manager on leave",
                        ][rng.random_range(0..4)]
                        .to_string()
                    }),
                    submitted_at: at,
                    origin: origin.to_string(),
                };
                submitted.push(s);
            }
        }
        agency.weeks.push(submitted);
    }
    // A few jobs were filled or closed along the way; their history stays.
    for job in demo_jobs.iter().step_by(13) {
        agency
            .closed
            .push((job.id, "Filled".into(), now - Duration::days(3)));
    }
    super::demo_history::draw_past_quarter(&mut agency, &CLIENTS, scorers, origin, now)?;
    Ok(agency)
}
