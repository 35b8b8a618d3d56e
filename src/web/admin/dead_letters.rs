//! Webhook events that failed every attempt (dead letters): listed on the admin page
//! with a Retry button that queues them again.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};

use super::record_act;
use crate::store::audit::{self, Action};
use crate::store::inbox;
use crate::web::auth::RequireCeo;
use crate::web::pages::ago;
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/inbox/{id}/retry", post(retry_dead_letter))
}

/// One dead letter in the page's list.
pub struct DeadRow {
    pub id: i64,
    pub event_type: String,
    pub job: String,
    pub received: String,
    pub attempts: i64,
    pub error: String,
}

pub fn dead_rows(dead: &[inbox::InboxEvent], now: DateTime<Utc>) -> Vec<DeadRow> {
    dead.iter()
        .map(|d| DeadRow {
            id: d.id,
            event_type: d.event_type.clone(),
            job: d.job_id.map(|j| j.to_string()).unwrap_or_default(),
            received: ago(d.received_at, now),
            attempts: d.attempts,
            error: d.last_error.clone().unwrap_or_default(),
        })
        .collect()
}

async fn retry_dead_letter(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(raw): Path<String>,
) -> Result<Response> {
    let id = raw
        .parse::<i64>()
        .map_err(|_| WebError::BadRequest(format!("{raw:?} is not a webhook event id")))?;
    record_act(
        &state,
        &session,
        Action::DeadLetterRetried,
        move |tx, now| {
            let event = inbox::find_event(tx, id)?;
            inbox::retry_dead(tx, id, now)?;
            Ok(match event {
                Some(e) => (
                    format!(
                        "webhook event {id} ({}{})",
                        e.event_type,
                        e.job_id.map(|j| format!(", job {j}")).unwrap_or_default()
                    ),
                    format!(
                        "queued again after {}",
                        audit::count(e.attempts, "failed attempt")
                    ),
                ),
                None => (format!("webhook event {id}"), "queued again".to_string()),
            })
        },
    )
    .await
}
