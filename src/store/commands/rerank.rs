//! Rank recomputation: the one place that turns a job's submissions and the settings
//! in force into its current rank and rank history. Used only by the commands.

use std::collections::BTreeMap;

use super::{Outcome, RankChange, Standing};
use crate::domain::{JobRank, rank_job};
use crate::store::ranks::{self, RankHistoryRow};
use crate::store::settings::{self, SettingsVersion};
use crate::store::{Result, Tx, jobs, now, submissions, write_back};

/// Recomputes ranks within one command and gathers the changes, job by job, from the
/// standing before the command first recomputed a job to its standing after the last.
pub(super) struct Reranker {
    current: SettingsVersion,
    seen: BTreeMap<i64, (Option<Standing>, Option<Standing>)>,
}

impl Reranker {
    /// Ready to rank with the settings in force now: make it after the command's own
    /// settings writes.
    pub(super) fn new(tx: &Tx<'_>) -> Result<Reranker> {
        Ok(Reranker::with(settings::current_settings(tx)?))
    }

    /// As [`Reranker::new`], or `None` while the store holds no settings (only while it
    /// is rebuilt from an empty Postgres: nothing to rank with yet).
    pub(super) fn if_settings(tx: &Tx<'_>) -> Result<Option<Reranker>> {
        Ok(settings::find_current_settings(tx)?.map(Reranker::with))
    }

    fn with(current: SettingsVersion) -> Reranker {
        Reranker {
            current,
            seen: BTreeMap::new(),
        }
    }

    /// Recomputes one job's rank from the latest submission of each active scorer and
    /// the settings, and returns it (`None` when nobody who counts scored the job). A
    /// history row is written only when the team score or the rank changed.
    pub(super) fn job(&mut self, tx: &Tx<'_>, job_id: i64) -> Result<Option<JobRank>> {
        let inputs = submissions::ranking_inputs(tx, job_id)?;
        let old = ranks::find_job_rank(tx, job_id)?;
        let before = old.as_ref().map(JobRank::standing);
        let Some(outcome) = rank_job(&inputs, &self.current.settings) else {
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
            // The rank came to be with its latest input: the latest submission, or the
            // settings version when that is newer. Its time and origin are those of that
            // input, and its id derives from the inputs, so every replica that computes
            // this rank writes the identical row.
            let mut ids: Vec<&str> = outcome
                .composites
                .iter()
                .map(|c| c.submission_id.as_str())
                .collect();
            let (at, origin) = if self.current.created_at > outcome.at {
                (self.current.created_at, self.current.origin.clone())
            } else {
                (
                    outcome.at,
                    submissions::origin_of_latest(tx, &ids)?.unwrap_or_default(),
                )
            };
            ids.sort_unstable();
            let id = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("rank|{job_id}|{}|{}", self.current.id, ids.join(",")).as_bytes(),
            )
            .to_string();
            let row = RankHistoryRow {
                id,
                job_id,
                at,
                team: outcome.team,
                rank: outcome.rank,
                composites: outcome.composites,
                settings_version: self.current.settings.version,
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
            settings_version: self.current.settings.version,
            last_scored_at: outcome.at,
        };
        ranks::save_job_rank(tx, &rank, now())?;
        self.record(job_id, before, Some(after));
        Ok(Some(rank))
    }

    /// Recomputes these jobs' ranks.
    pub(super) fn jobs(&mut self, tx: &Tx<'_>, ids: impl IntoIterator<Item = i64>) -> Result<()> {
        for id in ids {
            self.job(tx, id)?;
        }
        Ok(())
    }

    /// Recomputes every job's rank, open or closed (after a settings change or a change
    /// of who scores).
    pub(super) fn all(&mut self, tx: &Tx<'_>) -> Result<()> {
        self.jobs(tx, jobs::list_job_ids(tx)?)
    }

    fn record(&mut self, job_id: i64, before: Option<Standing>, after: Option<Standing>) {
        self.seen.entry(job_id).or_insert((before, after)).1 = after;
    }

    /// The changes: jobs whose standing now differs from before the command. Those of
    /// open jobs are queued for the rank write-back here, in the command's
    /// transaction, while write-back is on (see [`write_back::enqueue_changes`]).
    pub(super) fn changes(self, tx: &Tx<'_>) -> Result<Vec<RankChange>> {
        let changes: Vec<RankChange> = self
            .seen
            .into_iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(job_id, (old, new))| RankChange { job_id, old, new })
            .collect();
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

/// Recomputes every job's rank from its inputs. On a consistent store this changes
/// nothing and returns no change; it is for checks after a restore or a repair.
pub fn rerank_all_jobs(tx: &Tx<'_>) -> Result<Outcome<()>> {
    let mut rerank = Reranker::new(tx)?;
    rerank.all(tx)?;
    rerank.outcome(tx, ())
}
