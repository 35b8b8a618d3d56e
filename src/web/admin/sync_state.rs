//! The state of the outside world on the admin page: the latest sync runs (the
//! Recruiterflow sync, Supabase pushes and reconciliations) and the data directory's
//! free space.

use chrono::{DateTime, Utc};

use crate::store::sync_runs::SyncRun;
use crate::web::AppState;
use crate::web::health::{disk_full_problem, human_bytes};
use crate::web::pages::ago;

/// One sync run in the page's list.
pub struct RunRow {
    pub kind: String,
    pub started: String,
    pub status: String,
    pub summary: String,
}

/// The runs as listed: the run's own message, else its counts.
pub fn run_rows(runs: &[SyncRun], now: DateTime<Utc>) -> Vec<RunRow> {
    runs.iter()
        .map(|r| RunRow {
            kind: r.kind.clone(),
            started: ago(r.started_at, now),
            status: r.status.clone(),
            summary: match &r.message {
                Some(m) if !m.is_empty() => m.clone(),
                _ => format!(
                    "{} seen, {} changed, {} closed, {} errors",
                    r.jobs_seen, r.jobs_changed, r.jobs_closed, r.errors
                ),
            },
        })
        .collect()
}

/// The admin page's disk line: the free space, or that the disk is full.
pub fn disk_line(state: &AppState) -> String {
    let free = state.store.free_bytes().ok();
    match state.store.disk_full() {
        Some(full) => disk_full_problem(&full, free),
        None => match free {
            Some(n) => format!("Disk: {} free in the data directory.", human_bytes(n)),
            None => "Disk: the free space in the data directory cannot be read.".into(),
        },
    }
}
