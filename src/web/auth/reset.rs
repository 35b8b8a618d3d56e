//! "Forgot password": asking for a reset link by email, and choosing a new password
//! with it.
//!
//! Only with email set up and `JOBRANK_PUBLIC_URL` (the link never points to the host
//! a request claims). The answer to a request is the same whether or not a user has
//! the address, and requests are throttled like sign-in (per typed address and per
//! client address, the proxy-aware client address of [`client_address`]). A link is
//! random, stored as its SHA-256, works once within [`RESET_LINK_VALID`], and ends the
//! links sent before it; the new password ends every session of the user. The link's
//! token travels in the query string, which jobrank never logs.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::sign_in::{login_token, reset_by_email, set_login_cookie};
use super::{
    MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, PASSWORDS_BUSY, THROTTLE_WINDOW,
    client_address, retry_when_passwords_free,
};
use crate::credentials::{self, hash_token, random_token};
use crate::notify::compose::ResetEmail;
use crate::notify::digest::mailbox;
use crate::notify::sender::RESET_LINK_VALID;
use crate::store::audit::{self, Action, Actor};
use crate::store::notifications::{self, Channel, Kind, NewMessage};
use crate::store::{self, commands, password_resets, sessions, users};
use crate::web::pages::{Chrome, Form, Query, render_with};
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/forgot", get(forgot_page).post(ask_for_link))
        .route("/login/reset", get(reset_page).post(choose_password))
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    available: bool,
    email: String,
    error: Option<String>,
    /// The address a link was asked for (the answer, whoever has it).
    sent_to: Option<String>,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    chrome: Chrome,
    /// Empty when the link is unknown, used or expired.
    token: String,
    error: Option<String>,
}

/// Renders a page of the signed-out forms with the login cookie's CSRF token.
fn signed_out_page<T: Template>(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    page: impl FnOnce(Chrome) -> T,
) -> Result<Response> {
    let (token, fresh) = login_token(headers);
    let mut chrome = Chrome::anonymous();
    chrome.csrf = token.clone();
    let mut res = render_with(status, &page(chrome))?;
    set_login_cookie(state, &mut res, &token, fresh);
    Ok(res)
}

fn forgot(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    error: Option<String>,
    sent_to: Option<String>,
) -> Result<Response> {
    let available = reset_by_email(state);
    let status = if available {
        status
    } else {
        StatusCode::NOT_FOUND
    };
    signed_out_page(state, headers, status, |chrome| ForgotPage {
        chrome,
        available,
        email,
        error,
        sent_to,
    })
}

async fn forgot_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    forgot(&state, &headers, StatusCode::OK, String::new(), None, None)
}

#[derive(Deserialize)]
struct AskForm {
    #[serde(default)]
    email: String,
}

/// Records the request (throttled), and for an active user with that address a new
/// link and its email, in one transaction; answers the same whoever has the address.
async fn ask_for_link(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<AskForm>,
) -> Result<Response> {
    let Some(notifier) = state.notifier.clone().filter(|_| reset_by_email(&state)) else {
        return forgot(
            &state,
            &headers,
            StatusCode::NOT_FOUND,
            String::new(),
            None,
            None,
        );
    };
    let email = form.email.trim().to_string();
    if email.is_empty() || !email.contains('@') || email.chars().any(char::is_control) {
        return forgot(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            email.chars().filter(|c| !c.is_control()).collect(),
            Some("Type the email address you sign in with, such as name@agency.example.".into()),
            None,
        );
    }
    let ip = client_address(peer.ip(), &headers, &state.config.trusted_proxies).to_string();
    let now = state.clock.now();
    let limits = sessions::AttemptLimits {
        since: now - THROTTLE_WINDOW,
        per_email: MAX_FAILURES_PER_ACCOUNT,
        per_address: MAX_FAILURES_PER_ADDRESS,
    };
    let token = random_token();
    let link = notifier
        .channels()
        .link(&format!("/login/reset?token={token}"))
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("no public URL for the reset link")))?;
    let e = email.clone();
    let allowed = state
        .store
        .write(move |tx| {
            if !password_resets::reserve_reset_request(tx, &e, &ip, now, limits)? {
                return Ok(false);
            }
            let Some(user) = users::find_user_by_email(tx, &e)?.filter(|u| u.active) else {
                return Ok(true);
            };
            let Some(to) = mailbox(&user) else {
                return Ok(true);
            };
            let hash = hash_token(&token);
            password_resets::issue_reset(tx, &user.id, &hash, now, now + RESET_LINK_VALID)?;
            let message = ResetEmail {
                name: crate::notify::compose::first_name(&user.name),
                url: link,
                minutes: RESET_LINK_VALID.num_minutes(),
            };
            let html = message
                .html()
                .map_err(|e| store::StoreError::Data(e.to_string()))?;
            notifications::insert_message(
                tx,
                &NewMessage {
                    channel: Channel::Email,
                    recipient: user.id.clone(),
                    kind: Kind::PasswordReset,
                    batch: hash[..16].to_string(),
                    to_address: Some(to),
                    subject: message.subject(),
                    body_text: message.text(),
                    body_html: Some(html),
                    payload: None,
                },
                now,
            )?;
            Ok(true)
        })
        .await?;
    if !allowed {
        tracing::warn!(client = %client_address(peer.ip(), &headers, &state.config.trusted_proxies), "password reset requests throttled");
        return forgot(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            email,
            Some("Too many reset links were asked for; try again later.".into()),
            None,
        );
    }
    notifier.wake_sender();
    forgot(
        &state,
        &headers,
        StatusCode::OK,
        String::new(),
        None,
        Some(email),
    )
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token as the store keys it, when it has the shape of one.
fn token_hash(token: &str) -> Option<String> {
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hash_token(token))
}

async fn reset_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response> {
    let token = q.token.unwrap_or_default();
    let now = state.clock.now();
    let valid = match token_hash(&token) {
        Some(hash) => state
            .store
            .read(move |c| password_resets::find_valid_reset(c, &hash, now))
            .await?
            .is_some(),
        None => false,
    };
    let (status, token) = if valid {
        (StatusCode::OK, token)
    } else {
        (StatusCode::GONE, String::new())
    };
    signed_out_page(&state, &headers, status, |chrome| ResetPage {
        chrome,
        token,
        error: None,
    })
}

#[derive(Deserialize)]
struct ChooseForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// Sets the new password when the link still works: uses the link, changes the
/// password (ending every session of the user and their other links) and records it
/// in the audit log, in one transaction; then the sign-in page.
///
/// The argon2 turn (see [`credentials::PasswordChecks`]) is taken before the link is checked and
/// held until the new hash is stored, so simultaneous posts of one link hash at most
/// [`credentials::PasswordChecks::AT_ONCE`] passwords: a post that gets a turn after the link was
/// used finds it used and hashes nothing.
async fn choose_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChooseForm>,
) -> Result<Response> {
    let now = state.clock.now();
    let expired = |state: &AppState, headers: &HeaderMap| {
        signed_out_page(state, headers, StatusCode::GONE, |chrome| ResetPage {
            chrome,
            token: String::new(),
            error: None,
        })
    };
    let Some(hash) = token_hash(&form.token) else {
        return expired(&state, &headers);
    };
    let link_works = |hash: String| {
        state
            .store
            .read(move |c| password_resets::find_valid_reset(c, &hash, now))
    };
    // No hashing, and no waiting for a turn, for a stranger.
    if link_works(hash.clone()).await?.is_none() {
        return expired(&state, &headers);
    }
    let refuse = |status: StatusCode, error: String| {
        signed_out_page(&state, &headers, status, |chrome| ResetPage {
            chrome,
            token: form.token.clone(),
            error: Some(error),
        })
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if form.password != form.confirm {
        return refuse(
            unprocessable,
            "The two passwords differ; type the same new password twice.".into(),
        );
    }
    if credentials::check_new_password(&form.password).is_err() {
        return refuse(
            unprocessable,
            format!(
                "The new password must be at least {} characters.",
                credentials::MIN_PASSWORD_LEN
            ),
        );
    }
    let Some(turn) = state.password_checks.take_turn().await else {
        let busy = refuse(StatusCode::SERVICE_UNAVAILABLE, PASSWORDS_BUSY.into())?;
        return Ok(retry_when_passwords_free(busy));
    };
    if link_works(hash.clone()).await?.is_none() {
        return expired(&state, &headers);
    }
    let (turn, new_hash) = state
        .password_checks
        .hash_in_turn(turn, form.password.clone())
        .await?;
    let changed = state
        .store
        .write(move |tx| {
            let Some(user_id) = password_resets::use_reset(tx, &hash, now)? else {
                return Ok(false);
            };
            // Deactivated since the link was sent: the link is used up, nothing changes.
            if !users::find_user(tx, &user_id)?.is_some_and(|u| u.active) {
                return Ok(false);
            }
            let user = commands::reset_password(tx, &user_id, &new_hash, now, None)?;
            audit::record_for_user(
                tx,
                &Actor::user(&user),
                Action::PasswordReset,
                &user,
                "chose a new password with an emailed reset link; all their sessions ended",
                now,
            )?;
            Ok(true)
        })
        .await?;
    drop(turn);
    if !changed {
        return expired(&state, &headers);
    }
    let mut res = Redirect::to("/login?reset=done").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    Ok(res)
}
