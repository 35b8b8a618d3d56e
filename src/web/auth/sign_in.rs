//! Signing in and out: the sign-in page with its own CSRF token (a cookie, before any
//! session exists), the throttle on failed attempts, the rotation of the session id,
//! and the rule for where to go after signing in.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use serde::Deserialize;
use url::Url;

use super::{
    ABSOLUTE, IDLE, LOGIN_COOKIE, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS,
    SESSION_COOKIE, SIGN_IN_FAILED, Session, THROTTLE_WINDOW, client_address, cookie,
    retry_when_passwords_free, set_cookie,
};
use crate::credentials::{hash_token, random_token};
use crate::store::{self, sessions, users};
use crate::web::pages::{Chrome, Form, Query, render_with};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(sign_in))
        .route("/logout", post(sign_out))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<&'static str>,
    /// Said after a password was changed with a reset link.
    notice: Option<&'static str>,
    /// Whether to offer "Forgot password?".
    forgot: bool,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// `done` after choosing a new password with a reset link.
    reset: Option<String>,
}

/// The sign-in page's words after a new password was chosen with a reset link.
pub const PASSWORD_CHANGED: &str =
    "Your password was changed and every session of yours ended. Sign in with the new password.";

/// Where to go after signing in: [`local_path`] of `next`, else the dashboard.
fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_string())
}

/// `next` as a path on this site (percent-encoded, with its query), or `None`: the rule
/// against open redirects.
///
/// It must start with a single `/` followed by neither `/` nor `\`, hold no backslash
/// (browsers read it as `/`) and no control character (browsers drop tabs and newlines,
/// so `/<TAB>/evil.example` would become `//evil.example`); with a leading `/` it has no
/// scheme. It is then resolved by the URL parser as a relative reference against a
/// placeholder origin: the result must keep that origin, and its path must again start
/// with a single `/` (dot segments turn `/.//evil.example` into `//evil.example`).
pub fn local_path(next: &str) -> Option<String> {
    let rest = next.strip_prefix('/')?;
    if rest.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return None;
    }
    let base = Url::parse("http://jobrank.invalid/").expect("constant URL");
    let url = base.join(next).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    let path = &url[url::Position::BeforePath..];
    let single_slash = path.starts_with('/') && !path[1..].starts_with(['/', '\\']);
    single_slash.then(|| path.to_string())
}

/// The CSRF token of the forms used before signing in (sign-in, "forgot password",
/// choosing a new password): the login cookie's, or a new one when it is missing.
/// Returns the token and whether it is new (and so must be set, see
/// [`set_login_cookie`]).
pub(super) fn login_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(t) => (t.to_owned(), false),
        None => (random_token(), true),
    }
}

/// Sets the login cookie to `token` on a response, when it is new.
pub(super) fn set_login_cookie(state: &AppState, res: &mut Response, token: &str, fresh: bool) {
    if fresh {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                LOGIN_COOKIE,
                token,
                7200,
                state.config.secure_cookies(),
                "Strict",
            ),
        );
    }
}

/// Whether "Forgot password" works here: email is set up and links can point to
/// `JOBRANK_PUBLIC_URL` (never to the address a request claims, which anyone can set).
pub(super) fn reset_by_email(state: &AppState) -> bool {
    state
        .notifier
        .as_ref()
        .is_some_and(|n| n.channels().email_on() && n.channels().public_url().is_some())
}

/// What the sign-in page says above the form.
enum Said {
    Nothing,
    Error(&'static str),
    Notice(&'static str),
}

fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    next: String,
    said: Said,
) -> Result<Response> {
    let (error, notice) = match said {
        Said::Nothing => (None, None),
        Said::Error(e) => (Some(e), None),
        Said::Notice(n) => (None, Some(n)),
    };
    let (token, fresh) = login_token(headers);
    let mut chrome = Chrome::anonymous();
    chrome.csrf = token.clone();
    let mut res = render_with(
        status,
        &LoginPage {
            chrome,
            email,
            next,
            error,
            notice,
            forgot: reset_by_email(state),
        },
    )?;
    set_login_cookie(state, &mut res, &token, fresh);
    Ok(res)
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    session: Option<axum::Extension<Session>>,
) -> Result<Response> {
    let next = safe_next(q.next.as_deref());
    if session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let said = match q.reset.as_deref() {
        Some("done") => Said::Notice(PASSWORD_CHANGED),
        _ => Said::Nothing,
    };
    login_form(&state, &headers, StatusCode::OK, String::new(), next, said)
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// Signs in. The throttle's decision and the record of the attempt are one step: an
/// attempt is reserved (and counted as failed) in the write transaction that counts the
/// earlier failures, before any password is checked, so simultaneous guesses at one
/// account cannot all pass the count before the first is recorded. Only a reserved
/// attempt gets a password check, in turn (see [`crate::credentials::PasswordChecks`]); a sign-in that finds
/// no turn withdraws its reservation and is answered 503.
async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Option<axum::Extension<Session>>,
    Form(form): Form<SignIn>,
) -> Result<Response> {
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_string();
    let ip = client_address(peer.ip(), &headers, &state.config.trusted_proxies).to_string();
    let now = store::now();
    let limits = sessions::AttemptLimits {
        since: now - THROTTLE_WINDOW,
        per_email: MAX_FAILURES_PER_ACCOUNT,
        per_address: MAX_FAILURES_PER_ADDRESS,
    };
    let refuse = |status: StatusCode| {
        login_form(
            &state,
            &headers,
            status,
            email.clone(),
            next.clone(),
            Said::Error(SIGN_IN_FAILED),
        )
    };
    // A read first, so a flood of throttled guesses costs no write.
    let (e, i) = (email.clone(), ip.clone());
    let (by_email, by_ip) = state
        .store
        .read(move |c| sessions::count_failed_attempts(c, &e, &i, limits.since))
        .await?;
    let attempt = if by_email >= limits.per_email || by_ip >= limits.per_address {
        None
    } else {
        let (e, i) = (email.clone(), ip.clone());
        state
            .store
            .write(move |tx| {
                sessions::forget_login_attempts(tx, now - Duration::days(1))?;
                sessions::reserve_login_attempt(tx, &e, &i, now, limits)
            })
            .await?
    };
    let Some(attempt) = attempt else {
        tracing::warn!(client = %ip, "sign-in throttled");
        return refuse(StatusCode::TOO_MANY_REQUESTS);
    };
    let e = email.clone();
    let creds = state
        .store
        .read(move |c| users::find_credentials(c, &e))
        .await?;
    let (user, hash) = match creds {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let Some(matched) = state.password_checks.verify(form.password, hash).await? else {
        tracing::warn!(client = %ip, "sign-in refused: every password check is busy");
        state
            .store
            .write(move |tx| sessions::delete_login_attempt(tx, attempt))
            .await?;
        return Ok(retry_when_passwords_free(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
        )?));
    };
    // The attempt already counts as failed; only a success changes it.
    let Some(user) = user.filter(|u| matched && u.active) else {
        return refuse(StatusCode::UNAUTHORIZED);
    };
    let old = session.map(|s| s.0.id_hash.clone());
    let token = random_token();
    let id_hash = hash_token(&token);
    let csrf = random_token();
    let uid = user.id.clone();
    state
        .store
        .write(move |tx| {
            sessions::mark_login_attempt_succeeded(tx, attempt)?;
            if let Some(old) = old {
                sessions::delete_session(tx, &old)?;
            }
            sessions::delete_expired_sessions(tx, now, now - IDLE)?;
            sessions::insert_session(tx, &id_hash, &uid, &csrf, now, now + ABSOLUTE)
        })
        .await?;
    tracing::info!(user = %user.id, "signed in");
    let secure = state.config.secure_cookies();
    let mut res = Redirect::to(&next).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &token,
            ABSOLUTE.num_seconds(),
            secure,
            "Lax",
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", 0, secure, "Strict"),
    );
    Ok(res)
}

async fn sign_out(
    State(state): State<AppState>,
    session: Option<axum::Extension<Session>>,
) -> Result<Response> {
    if let Some(s) = session {
        let h = s.0.id_hash.clone();
        state
            .store
            .write(move |tx| sessions::delete_session(tx, &h))
            .await?;
    }
    let mut res = Redirect::to("/login").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies(), "Lax"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_on_this_site_is_followed_after_sign_in() {
        for (next, expected) in [
            ("/", Some("/")),
            ("/jobs/42?x=1", Some("/jobs/42?x=1")),
            ("/review#week", Some("/review#week")),
            ("/jobs/42?q=café", Some("/jobs/42?q=caf%C3%A9")),
            ("/a/../jobs", Some("/jobs")),
            ("/%2f%2fevil.example", Some("/%2f%2fevil.example")),
            ("/.//evil.example/", None),
            ("/..//evil.example/", None),
            ("//evil.example/", None),
            ("/\\evil.example/", None),
            ("/\t/evil.example/", None),
            ("/x\n", None),
            ("https://evil.example/", None),
            ("javascript:alert(1)", None),
            ("evil.example", None),
            ("", None),
        ] {
            assert_eq!(local_path(next).as_deref(), expected, "{next:?}");
        }
    }
}
