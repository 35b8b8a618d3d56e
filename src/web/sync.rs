//! The dashboard's "Refresh now" control: starts a full Recruiterflow sync in the
//! background and shows its progress. With htmx the control polls its own status
//! every second and reloads the page when the sync ends; without JavaScript the
//! button is a plain form that starts the sync and returns to the dashboard.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::pages::{Query, ago, is_htmx, render};
use super::{AppState, WebError};
use crate::recruiterflow::Syncer;
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/recruiterflow", post(refresh))
        .route("/sync/recruiterflow/status", get(status))
}

/// What the control shows.
pub struct SyncView {
    /// Recruiterflow is configured (otherwise the control is not shown).
    pub configured: bool,
    pub running: bool,
    /// The progress or the last result, in words.
    pub text: String,
    pub csrf: String,
}

impl SyncView {
    /// The control's state from the syncer (if Recruiterflow is configured).
    pub fn from_syncer(syncer: Option<&Syncer>, csrf: &str) -> SyncView {
        let Some(s) = syncer else {
            return SyncView {
                configured: false,
                running: false,
                text: String::new(),
                csrf: csrf.into(),
            };
        };
        let st = s.status();
        let now = store::now();
        let text = match (&st.progress, st.running) {
            (Some(p), true) => match p.total {
                Some(total) => format!("Syncing: {} {} of {total}", p.phase, p.done),
                None => format!("Syncing: {} ({})", p.phase, p.done),
            },
            (None, true) => "Syncing with Recruiterflow…".into(),
            _ => match (st.last_ok, st.last_finished_at) {
                (Some(false), Some(at)) => format!(
                    "Last refresh failed {}: {}",
                    ago(at, now),
                    st.last_message.unwrap_or_default()
                ),
                (Some(true), Some(at)) => format!("Last refresh {}", ago(at, now)),
                _ => String::new(),
            },
        };
        SyncView {
            configured: true,
            running: st.running,
            text,
            csrf: csrf.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "partials/sync_status.html")]
struct SyncFragment {
    sync: SyncView,
}

/// Starts a sync (one at a time: a second press while one runs changes nothing).
async fn refresh(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let syncer = state.syncer.as_ref().ok_or_else(|| {
        WebError::Conflict(
            "Recruiterflow is not configured: set RECRUITERFLOW_API_KEY to sync".into(),
        )
    })?;
    syncer.trigger();
    if !is_htmx(&headers) {
        return Ok(Redirect::to("/").into_response());
    }
    // The poller picks the request up at once; say so without waiting for it.
    let mut sync = SyncView::from_syncer(Some(syncer), &session.csrf);
    if !sync.running {
        sync.running = true;
        sync.text = "Syncing with Recruiterflow…".into();
    }
    render(&SyncFragment { sync })
}

#[derive(Debug, Default, Deserialize)]
struct StatusParams {
    /// Set by the polling control: the sync was running when it last looked.
    after: Option<String>,
}

/// The control alone, for polling. When a sync the page was watching has ended, tells
/// htmx to reload the page so the new data shows.
async fn status(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<StatusParams>,
) -> Result<Response, WebError> {
    let sync = SyncView::from_syncer(state.syncer.as_ref(), &session.csrf);
    let ended = !sync.running && params.after.as_deref() == Some("running");
    let mut res = render(&SyncFragment { sync })?;
    if ended {
        res.headers_mut()
            .insert("hx-refresh", HeaderValue::from_static("true"));
    }
    if res.status() == StatusCode::OK {
        res.headers_mut()
            .insert("cache-control", HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
