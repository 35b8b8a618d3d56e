//! The full sync, and refreshing one job: read everything first, then write it in one transaction, so a
//! Recruiterflow failure part-way leaves the local data exactly as it was.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};

use super::client::{Client, UserList};
use super::custom_fields::JobCustomField;
use super::error::{RecruiterflowError, Result};
use super::mapping::{map_job, map_placement, map_user, pipeline_stages};
use super::model::CandidateMovements;
use crate::store::commands::{self, Outcome, RankChange};
use crate::store::jobs::{self, JobUpsert, Upserted};
use crate::store::pipeline::{self, StageCount};
use crate::store::placements::{self, PlacementUpsert};
use crate::store::recruiterflow_users::{self, RecruiterflowUserUpsert};
use crate::store::sync_runs::{self, RunTotals};
use crate::store::{self, Store};

/// The `sync_runs.kind` of Recruiterflow syncs.
pub const RUN_KIND: &str = "recruiterflow";

/// Where a running sync is, for the "Refresh now" control.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncProgress {
    /// What the sync is doing, in words.
    pub phase: &'static str,
    /// Units of the phase done (pages, jobs, candidates).
    pub done: usize,
    /// Units in the phase, when known.
    pub total: Option<usize>,
}

/// What a finished full sync did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SyncReport {
    pub run_id: i64,
    pub jobs_seen: i64,
    pub jobs_changed: i64,
    pub jobs_closed: i64,
    pub errors: i64,
    pub pipelines_recorded: i64,
    pub placements_changed: i64,
    /// Recruiterflow users in the list read; `None` when it could not be read.
    pub users_seen: Option<i64>,
    /// Stored Recruiterflow users matching a jobrank user by email.
    pub users_matched: Option<i64>,
    /// Stored Recruiterflow users no longer in Recruiterflow, removed.
    pub users_removed: i64,
    pub message: String,
    /// The rank changes the run caused, in the order they happened.
    #[serde(skip)]
    pub rank_changes: Vec<RankChange>,
    /// The custom fields each open job reported, by job id (for the rank write-back's
    /// comparison with what it wrote).
    #[serde(skip)]
    pub reported_fields: Vec<(i64, Vec<JobCustomField>)>,
}

/// The user list as read, before anything is written.
#[derive(Debug, Default)]
struct FetchedUsers {
    users: Vec<RecruiterflowUserUpsert>,
    /// Ids of entries that could not be read: kept as they are.
    unreadable: Vec<i64>,
    /// Why the list cannot be used to remove users, when it cannot.
    incomplete: Option<String>,
}

impl FetchedUsers {
    /// The users read, with a problem for each entry that could not be.
    fn from_list(list: UserList, problems: &mut Vec<String>) -> FetchedUsers {
        let mut out = FetchedUsers {
            users: list.users.iter().map(map_user).collect(),
            incomplete: list.incomplete,
            ..FetchedUsers::default()
        };
        for e in &list.errors {
            match e.id {
                Some(id) => {
                    problems.push(format!(
                        "Recruiterflow user {id} could not be read: {}",
                        e.message
                    ));
                    out.unreadable.push(id);
                }
                None => {
                    problems.push(format!(
                        "a Recruiterflow user list entry could not be read: {}",
                        e.message
                    ));
                    out.incomplete
                        .get_or_insert_with(|| "an entry had no readable id".into());
                }
            }
        }
        out
    }
}

/// A job with its pipeline, as read from Recruiterflow.
#[derive(Debug, Clone)]
pub struct FetchedJob {
    pub job: JobUpsert,
    pub stages: Vec<StageCount>,
    /// The job's custom fields as Recruiterflow reported them (not stored).
    pub custom_fields: Vec<JobCustomField>,
}

/// Everything one full sync read, before anything is written.
#[derive(Debug, Default)]
struct Fetched {
    jobs: Vec<FetchedJob>,
    /// Ids seen in the list whose details could not be used: left as they are.
    keep_open: Vec<i64>,
    problems: Vec<String>,
    incomplete: Option<String>,
    placements: Vec<PlacementUpsert>,
    /// `None` when the user list could not be read: the stored users stay as they are.
    users: Option<FetchedUsers>,
}

/// Reads a job's pipeline and the stage movements of its candidates. A pipeline or
/// candidate Recruiterflow no longer has is skipped; other failures are errors.
pub async fn fetch_pipeline(
    client: &Client,
    job_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<StageCount>> {
    let pipe = match client.job_pipeline(job_id).await {
        Ok(p) => p,
        Err(RecruiterflowError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    // Stage movements only for candidates whose stage time the detail lacks.
    let known = pipe.known_stage_times();
    let missing: Vec<i64> = pipe
        .candidate_ids()
        .into_iter()
        .filter(|c| !known.contains_key(c))
        .collect();
    let movements = fetch_movements(client, missing).await?;
    Ok(pipeline_stages(job_id, &pipe, &movements, now))
}

async fn fetch_movements(
    client: &Client,
    candidates: Vec<i64>,
) -> Result<HashMap<i64, CandidateMovements>> {
    let concurrency = client.options().concurrency.max(1);
    let found: Vec<Option<(i64, CandidateMovements)>> = futures_util::stream::iter(candidates)
        .map(|id| async move {
            match client.stage_movements(id).await {
                Ok(m) => Ok(Some((id, m))),
                Err(RecruiterflowError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn fetch_everything(
    client: &Client,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<Fetched> {
    progress(SyncProgress {
        phase: "reading the open-job list",
        done: 0,
        total: None,
    });
    let listed = client
        .list_open_jobs(|done, total| {
            progress(SyncProgress {
                phase: "reading the open-job list",
                done,
                total,
            })
        })
        .await?;
    let mut out = Fetched {
        incomplete: listed.incomplete.clone(),
        ..Fetched::default()
    };
    for e in &listed.errors {
        out.problems.push(match e.id {
            Some(id) => format!("job {id} could not be read: {}", e.message),
            None => format!("a job list entry could not be read: {}", e.message),
        });
        out.keep_open.extend(e.id);
    }
    let total = listed.jobs.len();
    let concurrency = client.options().concurrency.max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let now = store::now();
    let results: Vec<std::result::Result<FetchedJob, (i64, String)>> =
        futures_util::stream::iter(listed.jobs)
            .map(|listed_job| {
                let done = &done;
                async move {
                    // The list lacks the client company: read the single job then.
                    let job = if listed_job.company_name().is_some() {
                        listed_job
                    } else {
                        match client.get_job(listed_job.id).await {
                            Ok(j) => j,
                            // Gone between the list and now: keep what we have.
                            Err(RecruiterflowError::NotFound { .. }) => {
                                return Ok(Err((
                                    listed_job.id,
                                    format!("job {} vanished while syncing", listed_job.id),
                                )));
                            }
                            Err(e) => return Err(e),
                        }
                    };
                    let mapped = match map_job(&job) {
                        Ok(m) => m,
                        Err(why) => return Ok(Err((job.id, why))),
                    };
                    let stages = if mapped.is_open {
                        fetch_pipeline(client, job.id, now).await?
                    } else {
                        Vec::new()
                    };
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    progress(SyncProgress {
                        phase: "reading jobs and pipelines",
                        done: n,
                        total: Some(total),
                    });
                    Ok(Ok(FetchedJob {
                        job: mapped,
                        stages,
                        custom_fields: job.custom_fields,
                    }))
                }
            })
            .buffer_unordered(concurrency)
            .try_collect()
            .await?;
    for r in results {
        match r {
            Ok(j) => out.jobs.push(j),
            Err((id, why)) => {
                out.keep_open.push(id);
                out.problems.push(why);
            }
        }
    }
    out.jobs.sort_by_key(|j| j.job.id);
    progress(SyncProgress {
        phase: "reading placements",
        done: 0,
        total: None,
    });
    match client.list_placements().await {
        Ok(list) => out.placements = list.iter().filter_map(map_placement).collect(),
        Err(RecruiterflowError::NotFound { endpoint }) => out.problems.push(format!(
            "placements could not be read ({endpoint} is not found)"
        )),
        Err(e) => return Err(e),
    }
    progress(SyncProgress {
        phase: "reading users",
        done: 0,
        total: None,
    });
    // Users only feed the matching with jobrank users: a failure here is a problem of
    // the run, never a reason to drop the jobs read above.
    match client.list_users().await {
        Ok(list) => out.users = Some(FetchedUsers::from_list(list, &mut out.problems)),
        Err(e) => out.problems.push(format!(
            "Recruiterflow users could not be read, so the stored users were kept: {e}"
        )),
    }
    Ok(out)
}

/// Runs one full sync: reads the open-job list (in pages), each job's details and
/// pipeline, the placements and the users, then writes them in one transaction and
/// closes the open jobs that are no longer listed. Recorded in `sync_runs`; on a
/// Recruiterflow failure the run is recorded as failed and nothing else changes, except
/// that a user list that cannot be read is only a problem of the run (the jobs are
/// written, the stored users stay as they were).
pub async fn full_sync(
    store: &Store,
    client: &Client,
    progress: &(dyn Fn(SyncProgress) + Send + Sync),
) -> Result<SyncReport> {
    let started = store::now();
    let run_id = store
        .write(move |tx| sync_runs::start_run(tx, RUN_KIND, started))
        .await?;
    let mut fetched = match fetch_everything(client, progress).await {
        Ok(f) => f,
        Err(e) => {
            record_failure(store, run_id, &e.to_string()).await;
            return Err(e);
        }
    };
    let reported_fields: Vec<(i64, Vec<JobCustomField>)> = fetched
        .jobs
        .iter_mut()
        .map(|j| (j.job.id, std::mem::take(&mut j.custom_fields)))
        .collect();
    progress(SyncProgress {
        phase: "saving",
        done: 0,
        total: None,
    });
    let written = store
        .write(move |tx| write_fetched(tx, run_id, started, fetched))
        .await;
    match written {
        Ok(report) => Ok(SyncReport {
            reported_fields,
            ..report
        }),
        Err(e) => {
            let e = RecruiterflowError::from(e);
            record_failure(store, run_id, &e.to_string()).await;
            Err(e)
        }
    }
}

async fn record_failure(store: &Store, run_id: i64, message: &str) {
    let totals = RunTotals {
        errors: 1,
        message: Some(message.to_string()),
        ..RunTotals::default()
    };
    let res = store
        .write(move |tx| sync_runs::finish_run(tx, run_id, false, &totals, store::now()))
        .await;
    if let Err(e) = res {
        tracing::error!(error = %e, "cannot record the failed Recruiterflow sync");
    }
}

fn write_fetched(
    tx: &store::Tx<'_>,
    run_id: i64,
    started: DateTime<Utc>,
    fetched: Fetched,
) -> store::Result<SyncReport> {
    let at = store::now();
    // Jobs a webhook refreshed while this sync was reading are newer than our view.
    let fresher: HashSet<i64> = jobs::list_jobs_synced_since(tx, started)?
        .into_iter()
        .collect();
    let mut report = SyncReport {
        run_id,
        jobs_seen: (fetched.jobs.len() + fetched.keep_open.len()) as i64,
        errors: fetched.problems.len() as i64,
        ..SyncReport::default()
    };
    let mut keep: Vec<i64> = fetched.keep_open.clone();
    keep.extend(fresher.iter().copied());
    for f in &fetched.jobs {
        keep.push(f.job.id);
        if fresher.contains(&f.job.id) {
            continue;
        }
        let was_open = jobs::find_job(tx, f.job.id)?.map(|j| j.is_open);
        let upserted = commands::upsert_job(tx, &f.job, at)?;
        report.rank_changes.extend(upserted.rank_changes);
        match upserted.result {
            Upserted::Inserted | Upserted::Changed => report.jobs_changed += 1,
            Upserted::Unchanged => {}
        }
        if was_open == Some(true) && !f.job.is_open {
            report.jobs_closed += 1;
        }
        if f.job.is_open
            && !f.stages.is_empty()
            && pipeline::record_snapshot(tx, f.job.id, &f.stages, at)?
        {
            report.pipelines_recorded += 1;
        }
    }
    let mut problems = fetched.problems;
    match &fetched.incomplete {
        None => {
            let closed = commands::close_jobs_not_in(tx, &keep, at)?;
            report.jobs_closed += closed.result;
            report.rank_changes.extend(closed.rank_changes);
        }
        Some(why) => {
            report.errors += 1;
            problems.push(format!(
                "the open-job list changed while it was read ({why}); no job was closed this time"
            ));
        }
    }
    for p in &fetched.placements {
        if placements::upsert_placement(tx, p, at)? {
            report.placements_changed += 1;
        }
    }
    if let Some(u) = &fetched.users {
        let complete = u.incomplete.is_none();
        let stored =
            recruiterflow_users::store_user_list(tx, &u.users, &u.unreadable, complete, at)?;
        if let Some(why) = &u.incomplete {
            report.errors += 1;
            problems.push(format!(
                "the Recruiterflow user list was not read whole ({why}); no user was removed this time"
            ));
        }
        report.users_seen = Some(stored.seen);
        report.users_removed = stored.removed;
        report.users_matched = Some(recruiterflow_users::count_matched(tx)?.1);
    }
    let users = match (report.users_seen, report.users_matched) {
        (Some(seen), Some(matched)) => {
            let mut u =
                format!("{seen} Recruiterflow users seen, {matched} matched to jobrank users");
            if report.users_removed > 0 {
                u.push_str(&format!(", {} removed", report.users_removed));
            }
            u
        }
        _ => "Recruiterflow users not read".to_string(),
    };
    let mut message = format!(
        "{} open jobs seen, {} changed, {} closed, {} pipelines recorded, {} placements changed, {users}",
        report.jobs_seen,
        report.jobs_changed,
        report.jobs_closed,
        report.pipelines_recorded,
        report.placements_changed
    );
    if !problems.is_empty() {
        message.push_str(&format!(
            "; {} problems: {}",
            problems.len(),
            problems
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ));
        if problems.len() > 5 {
            message.push_str("; …");
        }
    }
    report.message = message.clone();
    let totals = RunTotals {
        jobs_seen: report.jobs_seen,
        jobs_changed: report.jobs_changed,
        jobs_closed: report.jobs_closed,
        errors: report.errors,
        message: Some(message),
        report: serde_json::to_string(&serde_json::json!({
            "pipelines_recorded": report.pipelines_recorded,
            "placements_changed": report.placements_changed,
            "recruiterflow_users_seen": report.users_seen,
            "recruiterflow_users_matched": report.users_matched,
            "recruiterflow_users_removed": report.users_removed,
            "problems": problems,
        }))
        .ok(),
    };
    sync_runs::finish_run(tx, run_id, true, &totals, store::now())?;
    Ok(report)
}

/// What refreshing one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRefresh {
    /// Stored (new, changed or unchanged).
    Stored(Upserted),
    /// Recruiterflow no longer has the job: it was marked closed.
    Gone,
}

/// Refreshes one job from Recruiterflow (after a webhook): the job itself and, while it
/// is open, its pipeline. A job Recruiterflow no longer has is marked closed. Returns
/// what happened and the rank changes it caused.
pub async fn refresh_job(
    store: &Store,
    client: &Client,
    job_id: i64,
) -> Result<Outcome<JobRefresh>> {
    // The fetch time, not the write time, dates what we saw (see `write_fetched`).
    let at = store::now();
    let job = match client.get_job(job_id).await {
        Ok(j) => j,
        Err(RecruiterflowError::NotFound { .. }) => {
            let closed = store
                .write(move |tx| {
                    commands::close_job(tx, job_id, Some("Deleted in Recruiterflow"), at)
                })
                .await?;
            return Ok(closed.map(|_| JobRefresh::Gone));
        }
        Err(e) => return Err(e),
    };
    let mapped = map_job(&job).map_err(|detail| RecruiterflowError::WrongShape {
        endpoint: format!("/api/external/job?job_id={job_id}"),
        detail,
    })?;
    let stages = if mapped.is_open {
        fetch_pipeline(client, job_id, at).await?
    } else {
        Vec::new()
    };
    let outcome = store
        .write(move |tx| {
            let upserted = commands::upsert_job(tx, &mapped, at)?;
            if mapped.is_open && !stages.is_empty() {
                pipeline::record_snapshot(tx, mapped.id, &stages, at)?;
            }
            Ok(upserted)
        })
        .await?;
    Ok(outcome.map(JobRefresh::Stored))
}
