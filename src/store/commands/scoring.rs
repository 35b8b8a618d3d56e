//! Commands that add scores or change how they count: a scorer's submission, a new
//! settings version.

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::domain::{JobRank, Settings};
use crate::store::settings::{self, SettingsVersion};
use crate::store::submissions::{self, NewSubmission, Submission};
use crate::store::{Result, StoreError, Tx, drafts, jobs, users};

/// Records a scorer's submission: the job must exist and be open, the scorer must be an
/// active user who scores. Clears the scorer's draft for the job, queues the row for
/// replication and recomputes the job's rank (that job only). Returns the submission
/// and the job's new rank.
pub fn submit_score(
    tx: &Tx<'_>,
    new: &NewSubmission,
    at: DateTime<Utc>,
) -> Result<Outcome<(Submission, JobRank)>> {
    let job = jobs::find_job(tx, new.job_id)?
        .ok_or_else(|| StoreError::NotFound(format!("job {}", new.job_id)))?;
    if !job.is_open {
        return Err(StoreError::Conflict(format!(
            "job {} ({}) is closed; closed jobs keep their scores but take no new ones",
            job.id, job.title
        )));
    }
    let scorer = users::find_user(tx, &new.scorer_id)?
        .ok_or_else(|| StoreError::NotFound(format!("user {}", new.scorer_id)))?;
    if !scorer.active || !scorer.scores {
        return Err(StoreError::Forbidden(format!(
            "{} does not score jobs",
            scorer.name
        )));
    }
    let saved = submissions::insert_new(tx, new, at)?;
    drafts::delete_draft(tx, saved.job_id, &saved.scorer_id)?;
    let mut rerank = Reranker::new(tx)?;
    let rank = rerank.job(tx, saved.job_id)?.ok_or_else(|| {
        StoreError::Data(format!(
            "job {} has no rank after a submission",
            saved.job_id
        ))
    })?;
    rerank.outcome(tx, (saved, rank))
}

/// Saves new scoring settings as the next version and recomputes every job's rank
/// with them.
pub fn save_settings(
    tx: &Tx<'_>,
    s: &Settings,
    at: DateTime<Utc>,
    by: Option<&str>,
) -> Result<Outcome<SettingsVersion>> {
    let saved = settings::insert_next_version(tx, s, at, by)?;
    let mut rerank = Reranker::new(tx)?;
    rerank.all(tx)?;
    rerank.outcome(tx, saved)
}
