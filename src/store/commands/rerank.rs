//! Rank recomputation: the one place that turns a job's submissions and the settings
//! in force into its current rank and rank history. Used only by the commands.
//!
//! An open job is ranked from the latest submission of each active scorer under the
//! settings in force and the freshness rules at the command's moment. A job ranks for
//! the last time as it closes, from the submissions made up to the close under the
//! settings in force then, and keeps that rank (stored on its row, replicated with the
//! close): afterwards settings changes, deactivations and pulled rows leave it and its
//! history alone, and a closed job's current rank simply follows its row. Reopening
//! ranks it afresh.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Outcome, RankChange, Standing};
use crate::domain::{InForce, JobRank, ScorerInput, rank_job_fresh};
use crate::store::jobs::Job;
use crate::store::ranks::{self, RankHistoryRow};
use crate::store::settings::{self, SettingsVersion};
use crate::store::{Result, Tx, expired, jobs, notifications, now, submissions, write_back};

/// Recomputes ranks within one command and gathers the changes, job by job, from the
/// standing before the command first recomputed a job to its standing after the last.
pub(super) struct Reranker {
    current: SettingsVersion,
    /// Since when `current` and its expiry rule are in force.
    in_force: InForce,
    /// The command's moment: scores expire by it.
    now: DateTime<Utc>,
    seen: BTreeMap<i64, (Option<Standing>, Option<Standing>)>,
}

impl Reranker {
    /// Ready to rank at `now` with the settings in force: make it after the command's
    /// own settings writes.
    pub(super) fn new(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<Reranker> {
        Reranker::with(tx, settings::current_settings(tx)?, now)
    }

    /// As [`Reranker::new`], or `None` while the store holds no settings (only while it
    /// is rebuilt from an empty Postgres: nothing to rank with yet).
    pub(super) fn if_settings(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<Option<Reranker>> {
        settings::find_current_settings(tx)?
            .map(|s| Reranker::with(tx, s, now))
            .transpose()
    }

    fn with(tx: &Tx<'_>, current: SettingsVersion, now: DateTime<Utc>) -> Result<Reranker> {
        Ok(Reranker {
            in_force: settings::in_force(tx, &current)?,
            current,
            now,
            seen: BTreeMap::new(),
        })
    }

    /// Recomputes one job's rank and returns it (`None` when nobody who counts scored
    /// the job): an open job's from its inputs, a closed job's from its rank at close.
    pub(super) fn job(&mut self, tx: &Tx<'_>, job_id: i64) -> Result<Option<JobRank>> {
        match jobs::find_job(tx, job_id)? {
            Some(job) if !job.is_open => self.follow_close(tx, &job),
            _ => {
                let inputs = submissions::ranking_inputs(tx, job_id)?;
                let current = self.current.clone();
                self.rank(tx, job_id, &inputs, &current, self.in_force, self.now)
            }
        }
    }

    /// Ranks an open job for the last time as it closes at `at`: from the submissions
    /// made up to `at`, under the settings in force then, with the scores expired by
    /// then left out. Records it like any recomputation and returns the standing the
    /// job closes with, for its row.
    pub(super) fn closing(
        &mut self,
        tx: &Tx<'_>,
        job_id: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<Standing>> {
        let version = settings::settings_in_force_at(tx, at)?;
        let in_force = settings::in_force(tx, &version)?;
        let inputs = submissions::ranking_inputs_until(tx, job_id, at)?;
        Ok(self
            .rank(tx, job_id, &inputs, &version, in_force, at)?
            .map(|r| r.standing()))
    }

    /// Ranks a job from `inputs` under `settings` (in force as `in_force` says) at
    /// `now`. A history row is written only when the team score or the rank changed.
    fn rank(
        &mut self,
        tx: &Tx<'_>,
        job_id: i64,
        inputs: &[ScorerInput],
        settings: &SettingsVersion,
        in_force: InForce,
        now: DateTime<Utc>,
    ) -> Result<Option<JobRank>> {
        let old = ranks::find_job_rank(tx, job_id)?;
        let before = old.as_ref().map(JobRank::standing);
        let fresh = rank_job_fresh(inputs, &settings.settings, in_force, now);
        expired::replace_for_job(tx, job_id, &fresh.expired)?;
        let Some(outcome) = fresh.outcome else {
            if old.is_some() {
                ranks::delete_job_rank(tx, job_id)?;
            }
            self.record(job_id, before, None);
            return Ok(None);
        };
        let after = Standing {
            rank: outcome.rank,
            team: outcome.team,
        };
        // Team scores compare by value: 7/2 and 14/4 are the same score, no change.
        let changed = before != Some(after);
        if changed {
            // The rank came to be with its latest input: the latest counted submission,
            // the latest expiry, or the settings version when that is newer. Its time
            // and origin are those of that input, and its id derives from the inputs,
            // so every replica that computes this rank writes the identical row.
            let mut ids: Vec<&str> = outcome
                .composites
                .iter()
                .map(|c| c.submission_id.as_str())
                .collect();
            let at = fresh.at.unwrap_or(outcome.at);
            let origin = if at > outcome.at {
                settings.origin.clone()
            } else {
                submissions::origin_of_latest(tx, &ids)?.unwrap_or_default()
            };
            ids.sort_unstable();
            let id = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("rank|{job_id}|{}|{}", settings.id, ids.join(",")).as_bytes(),
            )
            .to_string();
            let row = RankHistoryRow {
                id,
                job_id,
                at,
                team: outcome.team,
                rank: outcome.rank,
                composites: outcome.composites,
                settings_version: settings.settings.version,
            };
            ranks::insert_history_row(tx, &row, &origin)?;
        }
        let previous = match (&old, changed) {
            (Some(o), true) => Some((o.team, o.rank)),
            (Some(o), false) => o.previous,
            (None, _) => None,
        };
        let rank = JobRank {
            job_id,
            team: outcome.team,
            rank: outcome.rank,
            previous,
            settings_version: settings.settings.version,
            last_scored_at: outcome.at,
        };
        ranks::save_job_rank(tx, &rank, crate::store::now())?;
        self.record(job_id, before, Some(after));
        Ok(Some(rank))
    }

    /// A closed job's current rank is the rank it closed with, as its row says (written
    /// here, or pulled from the replica that closed it). Writes no history.
    fn follow_close(&mut self, tx: &Tx<'_>, job: &Job) -> Result<Option<JobRank>> {
        let old = ranks::find_job_rank(tx, job.id)?;
        let before = old.as_ref().map(JobRank::standing);
        if before == job.rank_at_close {
            return Ok(old);
        }
        self.record(job.id, before, job.rank_at_close);
        let Some(at_close) = job.rank_at_close else {
            ranks::delete_job_rank(tx, job.id)?;
            return Ok(None);
        };
        let closed_at = job.closed_at.unwrap_or(job.updated_at);
        let rank = JobRank {
            job_id: job.id,
            team: at_close.team,
            rank: at_close.rank,
            previous: before.map(|b| (b.team, b.rank)),
            settings_version: settings::settings_in_force_at(tx, closed_at)?
                .settings
                .version,
            last_scored_at: old.map_or(closed_at, |o| o.last_scored_at),
        };
        ranks::save_job_rank(tx, &rank, now())?;
        Ok(Some(rank))
    }

    /// Recomputes these jobs' ranks.
    pub(super) fn jobs(&mut self, tx: &Tx<'_>, ids: impl IntoIterator<Item = i64>) -> Result<()> {
        for id in ids {
            self.job(tx, id)?;
        }
        Ok(())
    }

    /// Recomputes every open job's rank (after a settings change, a change of who
    /// scores, or as scores expire); closed jobs keep theirs.
    pub(super) fn all(&mut self, tx: &Tx<'_>) -> Result<()> {
        self.jobs(tx, jobs::list_open_job_ids(tx)?)
    }

    fn record(&mut self, job_id: i64, before: Option<Standing>, after: Option<Standing>) {
        self.seen.entry(job_id).or_insert((before, after)).1 = after;
    }

    /// The changes: jobs whose standing now differs from before the command. In the
    /// command's transaction, those that alert (an open job dropped to C) are recorded
    /// ([`notifications::record_rank_drops`]) and those of open jobs are queued for the
    /// rank write-back while it is on ([`write_back::enqueue_changes`]).
    pub(super) fn changes(self, tx: &Tx<'_>) -> Result<Vec<RankChange>> {
        let changes: Vec<RankChange> = self
            .seen
            .into_iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(job_id, (old, new))| RankChange { job_id, old, new })
            .collect();
        notifications::record_rank_drops(tx, &changes, &self.current.settings, self.now)?;
        write_back::enqueue_changes(tx, &changes)?;
        Ok(changes)
    }

    /// The command's outcome: `result` and the changes (see [`Reranker::changes`]).
    pub(super) fn outcome<T>(self, tx: &Tx<'_>, result: T) -> Result<Outcome<T>> {
        Ok(Outcome {
            result,
            rank_changes: self.changes(tx)?,
        })
    }
}

/// Recomputes every job's rank from its inputs (a closed job's from its rank at
/// close). On a consistent store this changes nothing and returns no change; it is for
/// checks after a restore or a repair.
pub fn rerank_all_jobs(tx: &Tx<'_>) -> Result<Outcome<()>> {
    let mut rerank = Reranker::new(tx, now())?;
    rerank.jobs(tx, jobs::list_job_ids(tx)?)?;
    rerank.outcome(tx, ())
}

/// Applies the score expiry rule at `now`, as the clock moves (the `score_expiry`
/// task, at start and hourly): recomputes every open job's rank when
/// `score_expiry_weeks` is on, so scores that expired since stop counting; their
/// history rows carry the moment each score expired. Nothing to do, and no change,
/// while the rule is off.
pub fn expire_scores(tx: &Tx<'_>, now: DateTime<Utc>) -> Result<Outcome<()>> {
    let mut rerank = Reranker::new(tx, now)?;
    if rerank.current.settings.score_expiry_weeks.is_some() {
        rerank.all(tx)?;
    }
    rerank.outcome(tx, ())
}

/// Each open job with the submissions its rank is computed from, read as
/// [`Reranker::job`] reads them: what the preview of a settings change ranks under the
/// settings in force and the proposed ones (`domain::preview_settings`), so that the
/// preview shows what saving would do.
pub fn open_jobs_ranking_inputs(conn: &Connection) -> Result<Vec<(i64, Vec<ScorerInput>)>> {
    jobs::list_open_job_ids(conn)?
        .into_iter()
        .map(|id| Ok((id, submissions::ranking_inputs(conn, id)?)))
        .collect()
}
