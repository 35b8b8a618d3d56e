//! The dashboard's "Refresh now" control: starts a full Recruiterflow sync in the
//! background and shows its progress. With htmx the control polls its own status
//! every second and reloads the page when the sync ends; without JavaScript the
//! button is a plain form that starts the sync and returns to the dashboard.
//!
//! Scorers and the CEO may press it (read-only users see the state but no button,
//! and 403); at most once per [`REFRESH_COOLDOWN`] counted from the start of the last
//! full sync recorded in `sync_runs`, whatever started it (the poller, a press, or
//! `jobrank sync recruiterflow` in another process): 409 with the time left otherwise.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::{CurrentUser, Session};
use super::pages::{Query, ago, is_htmx, render};
use super::{AppState, Result, WebError};
use crate::recruiterflow::{Syncer, sync as rf_sync};
use crate::store::audit::{self, Action, Actor};
use crate::store::users::User;
use crate::store::{self, sync_runs};

/// The least time between the start of one full sync and a "Refresh now".
pub const REFRESH_COOLDOWN: chrono::Duration = chrono::Duration::seconds(60);

/// Whether a user may start a sync: scorers and the CEO, not read-only users.
pub fn may_refresh(user: &User) -> bool {
    user.scores || user.role.administers()
}

/// A duration the way a person says it: "40 seconds", "1 minute", "2 minutes 5 seconds".
fn in_words(d: chrono::Duration) -> String {
    let secs = (d.num_milliseconds().max(0) + 999) / 1000;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (secs / 60, secs % 60) {
        (0, s) => plural(s, "second"),
        (m, 0) => plural(m, "minute"),
        (m, s) => format!("{} {}", plural(m, "minute"), plural(s, "second")),
    }
}

/// The reason a refresh is refused at `now`, when the last full sync started less than
/// [`REFRESH_COOLDOWN`] before it.
pub fn cooldown_refusal(last_start: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<String> {
    let started = last_start?;
    let since = (now - started).max(chrono::Duration::zero());
    if since >= REFRESH_COOLDOWN {
        return None;
    }
    Some(format!(
        "A Recruiterflow sync started {} ago; you can refresh again in {}.",
        in_words(since),
        in_words(REFRESH_COOLDOWN - since)
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/recruiterflow", post(refresh))
        .route("/sync/recruiterflow/status", get(status))
}

/// Where the web layer reads the time for rules that depend on it (the refresh
/// cooldown), so that a test moves the time instead of waiting. The system clock
/// unless `Application::state_mut` (in `app`) puts another in the state.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The system's clock ([`store::now`]).
    pub fn system() -> Clock {
        Clock(Arc::new(store::now))
    }

    /// A clock that reads the time from `now`.
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", store::ts(&self.now()))
    }
}

/// What the control shows.
pub struct SyncView {
    /// Recruiterflow is configured (otherwise the control is not shown).
    pub configured: bool,
    pub running: bool,
    /// The viewer may start a sync (otherwise the state shows without the button).
    pub may_refresh: bool,
    /// The progress or the last result, in words.
    pub text: String,
    pub csrf: String,
}

impl SyncView {
    /// The control's state from the syncer (if Recruiterflow is configured), for the
    /// signed-in viewer.
    pub fn from_syncer(syncer: Option<&Syncer>, session: &Session) -> SyncView {
        let csrf = session.csrf.as_str();
        let may_refresh = may_refresh(&session.user);
        let Some(s) = syncer else {
            return SyncView {
                configured: false,
                running: false,
                may_refresh,
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
            may_refresh,
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

/// Starts a sync (one at a time: a second press while one runs changes nothing), for
/// scorers and the CEO, at most once per [`REFRESH_COOLDOWN`].
async fn refresh(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: HeaderMap,
) -> Result<Response> {
    if !may_refresh(&session.user) {
        return Err(WebError::Forbidden(
            "only scorers and the CEO can start a Recruiterflow sync; the dashboard shows the last one"
                .into(),
        ));
    }
    let syncer = state.syncer.as_ref().ok_or_else(|| {
        WebError::Conflict(
            "Recruiterflow is not configured: set RECRUITERFLOW_API_KEY to sync".into(),
        )
    })?;
    let last_start = state
        .store
        .read(|c| sync_runs::latest_run(c, rf_sync::RUN_KIND))
        .await?
        .map(|r| r.started_at);
    if let Some(reason) = cooldown_refusal(last_start, state.clock.now()) {
        if !is_htmx(&headers) {
            return Err(WebError::Conflict(reason));
        }
        // htmx swaps this 409 into the control (static/app.js), so the reason shows
        // where the button was pressed.
        let mut sync = SyncView::from_syncer(Some(syncer), &session);
        sync.text = reason;
        let mut res = render(&SyncFragment { sync })?;
        *res.status_mut() = StatusCode::CONFLICT;
        return Ok(res);
    }
    if syncer.trigger() {
        let actor = Actor::user(&session.user);
        state
            .store
            .write(move |tx| {
                audit::record(
                    tx,
                    &actor,
                    Action::SyncStarted,
                    "Recruiterflow (full sync)",
                    "Refresh now on the dashboard",
                    store::now(),
                )
            })
            .await?;
    }
    if !is_htmx(&headers) {
        return Ok(Redirect::to("/").into_response());
    }
    // The poller picks the request up at once; say so without waiting for it.
    let mut sync = SyncView::from_syncer(Some(syncer), &session);
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
) -> Result<Response> {
    let sync = SyncView::from_syncer(state.syncer.as_ref(), &session);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cooldown_counts_from_the_last_start_and_says_the_time_left() {
        let start = store::parse_ts("2026-03-02T10:00:00Z").unwrap();
        let at = |secs: i64| start + chrono::Duration::milliseconds(secs);
        assert_eq!(cooldown_refusal(None, at(0)), None);
        assert_eq!(
            cooldown_refusal(Some(start), at(20_000)).as_deref(),
            Some(
                "A Recruiterflow sync started 20 seconds ago; you can refresh again in 40 seconds."
            )
        );
        assert!(
            cooldown_refusal(Some(start), at(59_500))
                .unwrap()
                .ends_with("again in 1 second.")
        );
        assert_eq!(cooldown_refusal(Some(start), at(60_000)), None);
        // A start recorded ahead of this clock (another process) waits the full minute.
        assert!(
            cooldown_refusal(Some(start), at(-5_000))
                .unwrap()
                .ends_with("again in 1 minute.")
        );
        assert_eq!(
            in_words(chrono::Duration::seconds(125)),
            "2 minutes 5 seconds"
        );
    }
}
