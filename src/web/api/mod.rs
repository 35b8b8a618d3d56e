//! The JSON API under `/api/`, for scripts and integrations: the jobs ([`jobs`]),
//! recording a score ([`scores`]) and the dashboard's summary ([`dashboard`]). Every
//! answer is a `Serialize` struct, so its shape is written down once.
//!
//! Requests authenticate with `Authorization: Bearer <token>` (an API token created on
//! the admin page or with `jobrank token create`; the store keeps only its SHA-256).
//! A signed-in browser may call the API with its session cookie too, and then a
//! state-changing request needs the CSRF token like any form. Errors are JSON
//! `{"error", "detail"}` (and `"fields"` naming each bad field) with the right status.

mod dashboard;
mod jobs;
mod my_scores;
mod participation;
mod scores;

use std::collections::HashMap;
use std::fmt::Display;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, header, request::Parts};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::auth::Session;
use super::{AppState, Result, WebError};
use crate::credentials::hash_token;
use crate::domain::needs_score;
use crate::store::dashboard::DashboardView;
use crate::store::users::{self, User};
use crate::store::{self, api_tokens, settings, submissions};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(jobs::router())
        .merge(scores::router())
        .merge(my_scores::router())
        .merge(participation::router())
        .merge(dashboard::router())
}

/// Whoever calls the API: the owner of a valid bearer token, or the signed-in user of
/// a browser session. 401 JSON otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

fn unauthorized(detail: &str) -> Response {
    let mut res = WebError::Unauthenticated(detail.to_string()).into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(auth) = parts.headers.get(header::AUTHORIZATION) else {
            if let Some(s) = parts.extensions.get::<Session>() {
                return Ok(ApiUser(s.user.clone()));
            }
            return Err(unauthorized(
                "send an API token as `Authorization: Bearer <token>`",
            ));
        };
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let hash = hash_token(token);
        let found = state
            .store
            .read(move |c| api_tokens::find_active_by_hash(c, &hash))
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        let Some((t, user)) = found else {
            return Err(unauthorized("the API token is unknown or revoked"));
        };
        let now = store::now();
        if t.last_used_at
            .is_none_or(|at| now - at > api_tokens::TOUCH_EVERY)
        {
            let id = t.id.clone();
            // Noting when a token was last used is bookkeeping: on a full disk the
            // request goes on (its own write, if any, says what was not saved).
            match state
                .store
                .write(move |tx| api_tokens::touch_token(tx, &id, now))
                .await
            {
                Ok(()) | Err(store::StoreError::DiskFull { .. }) => {}
                Err(e) => return Err(WebError::from(e).into_response()),
            }
        }
        Ok(ApiUser(user))
    }
}

/// A score as a number with two decimals, as the pages show it (a team score or a
/// composite).
fn score_number(score: impl Display) -> Option<f64> {
    score.to_string().parse().ok()
}

/// A user as the API names them: the name, else the email.
fn display_name(u: &User) -> String {
    if u.name.trim().is_empty() {
        u.email.clone()
    } else {
        u.name.clone()
    }
}

/// Who owes which open job a score: the scorers, each one's latest submission on each
/// open job, and the cadence.
struct ScoresDue {
    scorers: Vec<User>,
    /// Scorer id -> job id -> latest submission.
    latest: HashMap<String, HashMap<i64, DateTime<Utc>>>,
    cadence: u32,
    now: DateTime<Utc>,
}

/// The caller's dashboard view and whose scores its jobs need, in one store read.
async fn view_and_due(
    state: &AppState,
    viewer: String,
    now: DateTime<Utc>,
) -> Result<(DashboardView, ScoresDue)> {
    let cache = state.dashboard.clone();
    let read = state
        .store
        .read(move |c| {
            let cadence = settings::current_settings(c)?.settings.cadence_days;
            Ok((
                cache.view(c, &viewer, now)?,
                ScoresDue::read(c, cadence, now)?,
            ))
        })
        .await?;
    Ok(read)
}

impl ScoresDue {
    fn read(c: &rusqlite::Connection, cadence: u32, now: DateTime<Utc>) -> store::Result<Self> {
        let mut latest: HashMap<String, HashMap<i64, DateTime<Utc>>> = HashMap::new();
        for (job, scorer, at) in submissions::latest_on_open_jobs(c)? {
            latest.entry(scorer).or_default().insert(job, at);
        }
        Ok(ScoresDue {
            scorers: users::list_scorers(c)?,
            latest,
            cadence,
            now,
        })
    }

    /// Whether `job` needs `scorer`'s score.
    fn needs(&self, job: i64, scorer: &User) -> bool {
        let latest = self
            .latest
            .get(&scorer.id)
            .and_then(|by_job| by_job.get(&job));
        let latest = latest.copied();
        needs_score(latest, self.now, self.cadence)
    }

    /// The scorers whose score `job` needs, by display name.
    fn needed_from(&self, job: i64) -> Vec<String> {
        self.scorers
            .iter()
            .filter(|u| self.needs(job, u))
            .map(display_name)
            .collect()
    }
}
