//! Store commands: every operation that can change a job's rank, each in the caller's
//! write transaction.
//!
//! The entity modules (`store::jobs`, `store::submissions`, `store::users`,
//! `store::settings`, ...) each write only their own table, plus the outbox and the
//! store generation, and never recompute a rank. A command composes their writes,
//! recomputes the ranks those writes can move (one job, the jobs pulled rows name, or
//! every job) and returns, beside its own result, the rank changes it caused: one
//! [`RankChange`] per job whose rank or team score differs after the command from
//! before it, in job id order. Callers (pages, the API, the command line, the
//! Recruiterflow sync and webhook worker, replication) get the changes without reading
//! the ranks again; alerts build on them. The changes of open jobs are also queued
//! for the rank write-back to Recruiterflow, in the command's own transaction, while
//! write-back is on (`store::write_back`): every command does so in the one place
//! where the changes are gathered.
//!
//! Recomputation itself lives in one place, the private `rerank` module, used only by
//! the commands. The few other acts that write more than one entity (a password reset
//! ends sessions) are commands too, so entity modules never call each other's writes.

mod demo;
mod jobs;
mod replication;
mod rerank;
mod scoring;
mod team;

#[cfg(test)]
mod frozen_tests;
#[cfg(test)]
mod tests;

pub use crate::domain::{RankChange, Standing};
pub use demo::{DemoAgency, DemoJob, fill_demo};
pub use jobs::{close_job, close_jobs_not_in, upsert_job};
pub use replication::{apply_pulled_rows, apply_repairs};
pub use rerank::{expire_scores, open_jobs_ranking_inputs, rerank_all_jobs};
pub use scoring::{save_settings, submit_score};
pub use team::{reset_password, set_user_active, set_user_scores};

/// What a store command did: its own result and the rank changes it caused.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Outcome<T> {
    pub result: T,
    /// One entry per job whose standing moved, in job id order; empty when no rank or
    /// team score changed.
    pub rank_changes: Vec<RankChange>,
}

impl<T> Outcome<T> {
    /// The result alone, for callers with no use for the rank changes.
    pub fn into_result(self) -> T {
        self.result
    }

    /// The same rank changes with the result turned into another.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        Outcome {
            result: f(self.result),
            rank_changes: self.rank_changes,
        }
    }
}
