//! `POST /webhooks/recruiterflow`: verified Recruiterflow events go into the durable
//! inbox before they are acknowledged; the inbox worker processes them. Unverified
//! requests are refused and nothing is stored.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use secrecy::ExposeSecret;

use super::{AppState, WebError};
use crate::recruiterflow::webhook::{self, WebhookRejection};
use crate::store;

/// The webhook routes, with the 1 MiB body limit (413 beyond it).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/recruiterflow", post(receive))
        .route("/webhooks/recruiterflow/{token}", post(receive_with_token))
        .layer(DefaultBodyLimit::max(webhook::MAX_BODY))
}

/// What a webhook's sender is told: `{"status", "detail"}`.
#[derive(serde::Serialize)]
struct Answer<'a> {
    /// `queued`, `ignored`, `duplicate` or `refused`.
    status: &'a str,
    detail: &'a str,
}

fn answer(status: StatusCode, outcome: &str, detail: &str) -> Response {
    let body = Answer {
        status: outcome,
        detail,
    };
    (status, axum::Json(body)).into_response()
}

fn refuse(r: &WebhookRejection) -> Response {
    let status = if r.is_unauthorized() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    tracing::info!(reason = %r, "Recruiterflow webhook refused");
    answer(status, "refused", &r.to_string())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.config.recruiterflow.webhook_secret.as_ref() else {
        return refuse(&WebhookRejection::NoSecret);
    };
    if let Err(r) = webhook::verify_signature(
        secret.expose_secret().as_bytes(),
        header(&headers, webhook::SIGNATURE_HEADER),
        header(&headers, webhook::TIMESTAMP_HEADER),
        &body,
        store::now(),
    ) {
        return refuse(&r);
    }
    ingest(&state, &body).await
}

async fn receive_with_token(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(expected) = state.config.recruiterflow.webhook_token.as_ref() else {
        return answer(
            StatusCode::NOT_FOUND,
            "refused",
            "no webhook path token is configured (RECRUITERFLOW_WEBHOOK_TOKEN)",
        );
    };
    if !webhook::token_matches(expected.expose_secret(), &token) {
        return refuse(&WebhookRejection::BadToken);
    }
    // A sender that can sign still has its signature checked.
    if let (Some(secret), Some(sig)) = (
        state.config.recruiterflow.webhook_secret.as_ref(),
        header(&headers, webhook::SIGNATURE_HEADER),
    ) && let Err(r) = webhook::verify_signature(
        secret.expose_secret().as_bytes(),
        Some(sig),
        header(&headers, webhook::TIMESTAMP_HEADER),
        &body,
        store::now(),
    ) {
        return refuse(&r);
    }
    ingest(&state, &body).await
}

/// Stores a verified event (durably: the commit is fsynced, shared with events arriving
/// at the same time) and answers: 202 for a new event (queued, or recorded only when
/// unknown), 200 for a duplicate.
async fn ingest(state: &AppState, body: &Bytes) -> Response {
    let parsed = match webhook::parse_event(body) {
        Ok(p) => p,
        Err(r) => return refuse(&r),
    };
    let event = parsed.to_new_event(body);
    let inserted = match state.inbox_writer.insert(event).await {
        Ok(i) => i,
        Err(e) => return WebError::from(e).into_response(),
    };
    if !inserted {
        return answer(
            StatusCode::OK,
            "duplicate",
            "this event was already received",
        );
    }
    if parsed.is_actionable() {
        if let Some(s) = &state.syncer {
            s.notify_inbox();
        }
        answer(StatusCode::ACCEPTED, "queued", &parsed.event_type)
    } else if parsed.known {
        answer(StatusCode::ACCEPTED, "ignored", "the event names no job")
    } else {
        answer(
            StatusCode::ACCEPTED,
            "ignored",
            &format!("unknown event type {:?} recorded", parsed.event_type),
        )
    }
}
