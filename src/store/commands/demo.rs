//! Filling a fresh store with the demo agency that `jobrank demo` draws.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::store::jobs::{self, JobUpsert};
use crate::store::pipeline::{self, StageCount};
use crate::store::submissions::{self, Submission};
use crate::store::users::{self, NewUser, User};
use crate::store::{Result, Tx, outbox, settings};

/// One demo job: as Recruiterflow would describe it, when it was first seen, and its
/// pipeline.
#[derive(Debug, Clone)]
pub struct DemoJob {
    pub job: JobUpsert,
    pub first_seen: DateTime<Utc>,
    pub stages: Vec<StageCount>,
    pub stages_at: DateTime<Utc>,
}

/// The demo agency's jobs and scores.
#[derive(Debug, Clone, Default)]
pub struct DemoAgency {
    pub jobs: Vec<DemoJob>,
    /// Submissions week by week, oldest week first. Ranks are recomputed after each
    /// week, so every job's history shows how its rank moved.
    pub weeks: Vec<Vec<Submission>>,
    /// Jobs closed along the way: (job id, status, when).
    pub closed: Vec<(i64, String, DateTime<Utc>)>,
}

/// Fills an empty store with the demo: the first settings are backdated to `start`
/// (the demo's history begins before the store was made), the users are added then,
/// and `draw` draws the agency once the users exist (submissions name their scorers;
/// it is given them and this replica's id, the origin of every row written here).
/// Returns the users added.
pub fn fill_demo(
    tx: &Tx<'_>,
    start: DateTime<Utc>,
    new_users: &[NewUser],
    draw: impl FnOnce(&[User], &str) -> Result<DemoAgency>,
) -> Result<Outcome<Vec<User>>> {
    settings::backdate_first_version(tx, start)?;
    let mut added = Vec::with_capacity(new_users.len());
    for u in new_users {
        added.push(users::insert_user(tx, u, start)?);
    }
    let agency = draw(&added, tx.origin())?;
    let mut rerank = Reranker::new(tx)?;
    for j in &agency.jobs {
        jobs::upsert_job(tx, &j.job, j.first_seen)?;
        pipeline::record_snapshot(tx, j.job.id, &j.stages, j.stages_at)?;
        rerank.job(tx, j.job.id)?;
    }
    for week in &agency.weeks {
        let mut touched = BTreeSet::new();
        for s in week {
            if submissions::insert_row(tx, s)? {
                outbox::enqueue(tx, "submissions", &s.id)?;
                touched.insert(s.job_id);
            }
        }
        rerank.jobs(tx, touched)?;
    }
    for (id, status, at) in &agency.closed {
        if jobs::close_job(tx, *id, Some(status), *at)? {
            rerank.job(tx, *id)?;
        }
    }
    rerank.outcome(tx, added)
}
