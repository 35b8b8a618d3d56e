//! Changing one's own password on "My settings": the current password is required
//! (checked in turn like a sign-in, and throttled with sign-in's failures for the
//! account and the client address, so a stolen session cannot guess it), the new one
//! twice; every other session of the user then ends (this one stays), as for any
//! password change, and the change is recorded in the audit log.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use super::settings::{Extras, done, render_me};
use crate::credentials;
use crate::store::audit::{self, Action, Actor};
use crate::store::{self, commands, sessions, users};
use crate::web::auth::{
    CurrentUser, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, PASSWORDS_BUSY, Session,
    THROTTLE_WINDOW, client_address, retry_when_passwords_free,
};
use crate::web::pages::Form;
use crate::web::{AppState, FieldError, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/me/password", post(change_password))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn field(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn too_short() -> FieldError {
    field(
        "new_password",
        &format!(
            "The new password must be at least {} characters.",
            credentials::MIN_PASSWORD_LEN
        ),
    )
}

async fn refuse(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    errors: Vec<FieldError>,
) -> Result<Response> {
    let extras = Extras {
        errors,
        ..Extras::default()
    };
    render_me(state, session, extras, status).await
}

/// The answer when no argon2 turn came free: the attempt is withdrawn (it does not
/// count against the account) and the page says so with 503 and `Retry-After`.
async fn busy(
    state: &AppState,
    session: &Session,
    attempt: i64,
    field_name: &str,
) -> Result<Response> {
    state
        .store
        .write(move |tx| sessions::delete_login_attempt(tx, attempt))
        .await?;
    let errors = vec![field(field_name, PASSWORDS_BUSY)];
    let res = refuse(state, session, StatusCode::SERVICE_UNAVAILABLE, errors).await?;
    Ok(retry_when_passwords_free(res))
}

async fn change_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let mut errors = Vec::new();
    if form.current_password.is_empty() {
        errors.push(field("current_password", "Type your current password."));
    }
    if credentials::check_new_password(&form.new_password).is_err() {
        errors.push(too_short());
    } else if form.new_password != form.confirm_password {
        errors.push(field(
            "confirm_password",
            "The two new passwords differ; type the same one twice.",
        ));
    }
    if !errors.is_empty() {
        return refuse(&state, &session, unprocessable, errors).await;
    }
    // The current password is checked like a sign-in: the attempt is reserved (counted
    // as failed) before the check, and only a match turns it into a success.
    let ip = client_address(peer.ip(), &headers, &state.config.trusted_proxies).to_string();
    // Sign-in's clock: the attempts count together with sign-in's.
    let now = store::now();
    let limits = sessions::AttemptLimits {
        since: now - THROTTLE_WINDOW,
        per_email: MAX_FAILURES_PER_ACCOUNT,
        per_address: MAX_FAILURES_PER_ADDRESS,
    };
    let email = session.user.email.clone();
    let attempt = state
        .store
        .write(move |tx| sessions::reserve_login_attempt(tx, &email, &ip, now, limits))
        .await?;
    let Some(attempt) = attempt else {
        return refuse(
            &state,
            &session,
            StatusCode::TOO_MANY_REQUESTS,
            vec![field(
                "current_password",
                "Too many wrong passwords; try again in 15 minutes.",
            )],
        )
        .await;
    };
    let email = session.user.email.clone();
    let hash = state
        .store
        .read(move |c| users::find_credentials(c, &email))
        .await?
        .map(|(_, hash)| hash);
    let Some(matched) = state
        .password_checks
        .verify(form.current_password, hash)
        .await?
    else {
        return busy(&state, &session, attempt, "current_password").await;
    };
    if !matched {
        return refuse(
            &state,
            &session,
            unprocessable,
            vec![field("current_password", "Your current password is wrong.")],
        )
        .await;
    }
    let Some(new_hash) = state.password_checks.hash(form.new_password).await? else {
        return busy(&state, &session, attempt, "new_password").await;
    };
    let (uid, keep) = (session.user.id.clone(), session.id_hash().to_string());
    state
        .store
        .write(move |tx| {
            sessions::mark_login_attempt_succeeded(tx, attempt)?;
            let user = commands::reset_password(tx, &uid, &new_hash, now, Some(&keep))?;
            audit::record_for_user(
                tx,
                &Actor::user(&user),
                Action::PasswordReset,
                &user,
                "changed their own password on My settings; their other sessions ended",
                now,
            )
        })
        .await?;
    Ok(done("password"))
}
