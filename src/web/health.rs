//! Health endpoints for the process supervisor, the upgrade script and monitoring.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use crate::store::{self, sync_runs};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Alive: the process serves HTTP. Does not touch the store.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The state of one outside service, from its latest logged run.
#[derive(Debug, Serialize)]
struct Upstream {
    /// `not_configured`, `never_ran` (none finished yet), `ok` or `failing` (the
    /// latest finished run).
    state: &'static str,
    /// A run is in progress now.
    running: bool,
    last_run_at: Option<String>,
    last_ok_at: Option<String>,
    message: Option<String>,
}

#[derive(Debug, Serialize)]
struct Readiness {
    ready: bool,
    /// False while the store refuses writes, including for lack of space (see
    /// [`crate::store::Store::disk_full`]).
    store_writable: bool,
    /// Free bytes in the data directory's filesystem.
    data_dir_free_bytes: Option<u64>,
    schema_version: Option<i64>,
    schema_expected: i64,
    problems: Vec<String>,
    recruiterflow: Upstream,
    supabase: Upstream,
}

/// The latest run, the latest finished run and the latest successful run of a kind.
type Runs = (
    Option<sync_runs::SyncRun>,
    Option<sync_runs::SyncRun>,
    Option<sync_runs::SyncRun>,
);

fn read_runs(c: &rusqlite::Connection, kind: &str) -> store::Result<Runs> {
    Ok((
        sync_runs::latest_run(c, kind)?,
        sync_runs::latest_finished_run(c, kind)?,
        sync_runs::latest_ok_run(c, kind)?,
    ))
}

fn upstream(configured: bool, (latest, finished, ok): Runs) -> Upstream {
    let state = match (&finished, configured) {
        (_, false) => "not_configured",
        (None, true) => "never_ran",
        (Some(r), true) if r.status == "ok" => "ok",
        (Some(_), true) => "failing",
    };
    Upstream {
        state,
        running: latest.as_ref().is_some_and(|r| r.finished_at.is_none()),
        last_run_at: latest.as_ref().map(|r| store::ts(&r.started_at)),
        last_ok_at: ok
            .as_ref()
            .map(|r| store::ts(&r.finished_at.unwrap_or(r.started_at))),
        message: finished
            .filter(|r| r.status != "ok")
            .and_then(|r| r.message),
    }
}

/// The words for a full disk, on `/readyz` and the admin page.
pub fn disk_full_problem(full: &store::DiskFull, free_now: Option<u64>) -> String {
    format!(
        "the server's disk is full: a write was refused at {} ({} free now in the data directory); new scores and changes are refused until space is freed on the server, then writes resume by themselves",
        store::ts(&full.since),
        free_now.map_or_else(|| "unknown".to_string(), human_bytes)
    )
}

/// A byte count in words ("1.4 MB").
pub fn human_bytes(n: u64) -> String {
    const MB: f64 = 1_000_000.0;
    if n >= 1_000_000_000 {
        format!("{:.1} GB", n as f64 / (1000.0 * MB))
    } else if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / MB)
    } else if n >= 1000 {
        format!("{} kB", n / 1000)
    } else {
        format!("{n} bytes")
    }
}

/// Ready: the store takes writes and its schema is the one this binary expects.
/// Recruiterflow and Supabase are reported but never make jobrank unready: it works
/// on its local store while they are down.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let mut problems = Vec::new();
    let mut store_writable = match state.store.check_writable().await {
        Ok(()) => true,
        // Reported below, in the words of a full disk.
        Err(store::StoreError::DiskFull { .. }) => false,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store is not writable");
            problems.push(format!("the store is not writable: {e}"));
            false
        }
    };
    let free = state.store.free_bytes().ok();
    if let Some(full) = state.store.disk_full() {
        store_writable = false;
        problems.push(disk_full_problem(&full, free));
    }
    let expected = store::supported_schema_version();
    let read = state
        .store
        .read(|c| {
            Ok((
                store::schema_version(c)?,
                read_runs(c, "recruiterflow")?,
                read_runs(c, "supabase_push")?,
            ))
        })
        .await;
    let (schema_version, rf, push) = match read {
        Ok((v, rf, push)) => (Some(v), rf, push),
        Err(e) => {
            problems.push(format!("the store cannot be read: {e}"));
            (None, (None, None, None), (None, None, None))
        }
    };
    if let Some(v) = schema_version.filter(|v| *v != expected) {
        problems.push(format!(
            "the store's schema is version {v}, this binary expects {expected}"
        ));
    }
    let ready = problems.is_empty();
    let body = Readiness {
        ready,
        store_writable,
        data_dir_free_bytes: free,
        schema_version,
        schema_expected: expected,
        problems,
        recruiterflow: upstream(state.config.recruiterflow.api_key.is_some(), rf),
        supabase: upstream(state.config.supabase_db_url.is_some(), push),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
