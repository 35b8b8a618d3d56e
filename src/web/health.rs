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
    store_writable: bool,
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

/// Ready: the store takes writes and its schema is the one this binary expects.
/// Recruiterflow and Supabase are reported but never make jobrank unready: it works
/// on its local store while they are down.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let mut problems = Vec::new();
    let store_writable = match state.store.check_writable().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store is not writable");
            problems.push(format!("the store is not writable: {e}"));
            false
        }
    };
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
