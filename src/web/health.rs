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
    /// `not_configured`, `never_ran`, `ok` or `failing`.
    state: &'static str,
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

/// The state comes from the latest *finished* run, so a run in progress does not hide
/// that the one before it failed.
fn upstream(
    configured: bool,
    started: Option<sync_runs::SyncRun>,
    latest: Option<sync_runs::SyncRun>,
    latest_ok: Option<sync_runs::SyncRun>,
) -> Upstream {
    let state = match (&latest, configured) {
        (_, false) => "not_configured",
        (None, true) => "never_ran",
        (Some(r), true) if r.status == "failed" => "failing",
        (Some(_), true) => "ok",
    };
    Upstream {
        state,
        last_run_at: started.or(latest.clone()).map(|r| store::ts(&r.started_at)),
        last_ok_at: latest_ok
            .as_ref()
            .map(|r| store::ts(&r.finished_at.unwrap_or(r.started_at))),
        message: latest
            .filter(|r| r.status == "failed")
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
                [
                    sync_runs::latest_run(c, "recruiterflow")?,
                    sync_runs::latest_finished_run(c, "recruiterflow")?,
                    sync_runs::latest_ok_run(c, "recruiterflow")?,
                ],
                [
                    sync_runs::latest_run(c, "supabase_push")?,
                    sync_runs::latest_finished_run(c, "supabase_push")?,
                    sync_runs::latest_ok_run(c, "supabase_push")?,
                ],
            ))
        })
        .await;
    let (schema_version, [rf, rf_done, rf_ok], [push, push_done, push_ok]) = match read {
        Ok((v, rf, push)) => (Some(v), rf, push),
        Err(e) => {
            problems.push(format!("the store cannot be read: {e}"));
            (None, [None, None, None], [None, None, None])
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
        recruiterflow: upstream(
            state.config.recruiterflow.api_key.is_some(),
            rf,
            rf_done,
            rf_ok,
        ),
        supabase: upstream(
            state.config.supabase_db_url.is_some(),
            push,
            push_done,
            push_ok,
        ),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
