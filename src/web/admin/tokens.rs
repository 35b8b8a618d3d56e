//! API tokens on the admin page: the list, creating one (shown once, on the page the
//! POST answers, never again) and revoking one.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Extras, record_act, render_admin};
use crate::credentials::{self, hash_token};
use crate::store::audit::{self, Action, Actor};
use crate::store::users::{self, User};
use crate::store::{self, StoreError, api_tokens};
use crate::web::auth::RequireCeo;
use crate::web::pages::{Form, ago, date};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

/// One API token in the page's list.
pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub email: String,
    pub created: String,
    pub created_by: String,
    pub last_used: String,
    pub revoked: bool,
}

/// The tokens with their users' emails, as listed.
pub fn token_rows(tokens: &[(api_tokens::ApiToken, String)], now: DateTime<Utc>) -> Vec<TokenRow> {
    tokens
        .iter()
        .map(|(t, email)| TokenRow {
            id: t.id.clone(),
            label: t.label.clone(),
            email: email.clone(),
            created: date(t.created_at),
            created_by: t
                .created_by
                .clone()
                .unwrap_or_else(|| "not recorded".into()),
            last_used: t
                .last_used_at
                .map(|at| ago(at, now))
                .unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect()
}

/// Whom a new token can be for: the active users, (id, "Name (email)").
pub fn token_users(all: &[User]) -> Vec<(String, String)> {
    all.iter()
        .filter(|u| u.active)
        .map(|u| (u.id.clone(), format!("{} ({})", u.name, u.email)))
        .collect()
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(form): Form<TokenForm>,
) -> Result<Response> {
    let token = credentials::new_api_token();
    let hash = hash_token(&token);
    let by = Actor::user(&session.user);
    let result = state
        .store
        .write(move |tx| {
            let now = store::now();
            let t = api_tokens::insert_token(tx, &form.user_id, &form.label, &hash, &by, now)?;
            let target = token_target(tx, &t)?;
            audit::record(tx, &by, Action::TokenCreated, &target, "new token", now)?;
            Ok(t)
        })
        .await;
    let refused = |why: String| Extras {
        token_error: Some(why),
        ..Extras::default()
    };
    let extras = match result {
        Ok(t) => Extras {
            notice: "API token created. Copy it now: it is shown only this once.".into(),
            new_token: Some((t.label, token)),
            ..Extras::default()
        },
        Err(StoreError::Invalid(d)) => refused(d.to_string()),
        Err(StoreError::NotFound(_)) => refused("user: choose one of the active users".into()),
        Err(StoreError::Conflict(m)) => refused(m),
        Err(e) => return Err(e.into()),
    };
    let status = if extras.token_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CREATED
    };
    let mut res = render_admin(&state, &session, extras, status).await?;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn revoke_token(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response> {
    record_act(&state, &session, Action::TokenRevoked, move |tx, now| {
        let was_live = api_tokens::find_token(tx, &id)?.is_some_and(|t| t.revoked_at.is_none());
        let t = api_tokens::revoke_token(tx, &id, now)?;
        let details = if was_live {
            "revoked"
        } else {
            "was already revoked"
        };
        Ok((token_target(tx, &t)?, details.to_string()))
    })
    .await
}

/// An API token as the audit log names it: by its label and its user.
fn token_target(tx: &store::Tx<'_>, t: &api_tokens::ApiToken) -> store::Result<String> {
    let owner = users::find_user(tx, &t.user_id)?
        .map(|u| u.email)
        .unwrap_or_else(|| "a former user".into());
    Ok(format!("API token \u{201c}{}\u{201d} of {owner}", t.label))
}
