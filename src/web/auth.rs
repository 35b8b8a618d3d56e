//! Sign-in, sessions and CSRF protection.
//!
//! A session is a random 256-bit cookie value (`jobrank_session`, HttpOnly,
//! SameSite=Lax, Secure when the public URL is https); the store keeps only its
//! SHA-256. Sessions end after [`IDLE`] without activity, after [`ABSOLUTE`] whatever
//! the activity, at sign-out, and as soon as the user is deactivated.
//!
//! [`session_and_csrf`] runs before every handler: it resolves the cookie into a
//! [`Session`] request extension, and refuses (403) any POST/PUT/PATCH/DELETE whose
//! `Origin` is foreign or whose CSRF token (form field `csrf` or header
//! `X-CSRF-Token`, which htmx sends from `hx-headers` on `<body>`) is missing or wrong.
//! Paths under [`CSRF_EXEMPT`] never accept the session cookie and are exempt; so is
//! an API request that carries an `Authorization` header (a bearer token, never the
//! cookie). A cookie-authenticated API request is checked like any other.
//!
//! Handlers ask for a signed-in user with the [`CurrentUser`], [`RequireScorer`] and
//! [`RequireCeo`] extractors.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::pages::{Chrome, Form, Query, is_htmx, render_with};
use super::{AppState, FORM_LIMIT, WebError};
use crate::store::users::{self, User};
use crate::store::{self, sessions};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "jobrank_session";
/// The cookie holding the sign-in form's CSRF token (before any session exists).
pub const LOGIN_COOKIE: &str = "jobrank_login";
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::hours(12);
/// A session ends this long after sign-in, whatever the activity.
pub const ABSOLUTE: Duration = Duration::days(7);
/// Failed sign-ins counted over this window.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed sign-ins allowed per account within the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed sign-ins allowed per client address within the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;
/// The one message for every failed sign-in: it never says whether the email exists.
pub const SIGN_IN_FAILED: &str =
    "Email or password is wrong, or too many attempts; try again later.";
/// Path prefixes that authenticate by bearer token or signature, never by the session
/// cookie, and so need no CSRF token.
pub const CSRF_EXEMPT: [&str; 1] = ["/webhooks/"];
/// The JSON API's prefix: requests there with an `Authorization` header authenticate
/// by bearer token only (the session cookie is ignored), so they need no CSRF token.
pub const API_PREFIX: &str = "/api/";
/// How often a session's last-seen time is written (not on every request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A signed-in user's session, put in the request extensions by [`session_and_csrf`].
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// This session's CSRF token.
    pub csrf: String,
    id_hash: String,
}

/// A random 256-bit value as 64 hex digits.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The SHA-256 of a secret as hex: what the store keeps instead of the secret.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of a cookie in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool, same_site: &str) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are hex")
}

/// Middleware: resolves the session cookie and enforces CSRF protection.
pub async fn session_and_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match resolve(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn resolve(state: &AppState, mut req: Request) -> Result<Request, WebError> {
    let path = req.uri().path().to_owned();
    let bearer = path.starts_with(API_PREFIX) && req.headers().contains_key(header::AUTHORIZATION);
    let exempt = bearer || CSRF_EXEMPT.iter().any(|p| path.starts_with(p));
    if !exempt && let Some(token) = cookie(req.headers(), SESSION_COOKIE) {
        let id_hash = hash_token(token);
        if let Some(s) = current_session(state, id_hash).await? {
            req.extensions_mut().insert(s);
        }
    }
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !unsafe_method || exempt {
        return Ok(req);
    }
    check_origin(state, req.headers())?;
    let expected = if path == "/login" {
        cookie(req.headers(), LOGIN_COOKIE).map(str::to_owned)
    } else {
        req.extensions().get::<Session>().map(|s| s.csrf.clone())
    };
    let Some(expected) = expected else {
        return Err(WebError::Forbidden(
            "your session has expired or this form is stale: reload the page, sign in again and retry".into(),
        ));
    };
    let (provided, req) = match req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        Some(t) => (Some(t.to_owned()), req),
        None => csrf_from_form(req).await?,
    };
    match provided {
        Some(p) if same_secret(&p, &expected) => Ok(req),
        Some(_) => Err(WebError::Forbidden(
            "the form's security token is wrong (CSRF check failed): reload the page and retry"
                .into(),
        )),
        None => Err(WebError::Forbidden(
            "the form's security token is missing (CSRF check failed): reload the page and retry"
                .into(),
        )),
    }
}

/// Sessions the store returned, reused without a store read (a trip to the blocking
/// pool) under the rule of [`store::ReadStamp`]: signing out, deactivating a user,
/// resetting a password or touching a session is a write of this process and shows at
/// once; a change made by a command-line tool within [`store::TRUST_READ_FOR`]. Unknown
/// ids are never kept, so random cookies cannot grow it; it is emptied when it reaches
/// [`SessionCache::MAX`] entries.
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, CachedSession>>,
}

struct CachedSession {
    session: sessions::StoredSession,
    stamp: store::ReadStamp,
}

impl SessionCache {
    pub const MAX: usize = 1_000;

    fn get(&self, id_hash: &str, local_writes: u64) -> Option<sessions::StoredSession> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id_hash)
            .filter(|c| c.stamp.still_current(local_writes))
            .map(|c| c.session.clone())
    }

    fn put(&self, session: &sessions::StoredSession, stamp: store::ReadStamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(
            session.id_hash.clone(),
            CachedSession {
                session: session.clone(),
                stamp,
            },
        );
    }
}

/// Looks a session up, applies the idle and absolute expiry and records activity.
async fn current_session(state: &AppState, id_hash: String) -> Result<Option<Session>, WebError> {
    // Taken before the read: a write committed during it makes the entry stale.
    let stamp = state.store.read_stamp();
    let s = match state.sessions.get(&id_hash, state.store.local_writes()) {
        Some(s) => s,
        None => {
            let h = id_hash.clone();
            let Some(s) = state
                .store
                .read(move |c| sessions::find_session(c, &h))
                .await?
            else {
                return Ok(None);
            };
            state.sessions.put(&s, stamp);
            s
        }
    };
    let now = store::now();
    if now >= s.expires_at || now - s.last_seen_at > IDLE {
        let h = id_hash.clone();
        state
            .store
            .write(move |tx| sessions::delete_session(tx, &h))
            .await?;
        return Ok(None);
    }
    if now - s.last_seen_at > TOUCH_EVERY {
        let h = id_hash.clone();
        match state
            .store
            .write(move |tx| sessions::touch_session(tx, &h, now))
            .await
        {
            // A full disk refuses writes, not reads: pages still show.
            Ok(()) | Err(store::StoreError::DiskFull { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(Session {
        user: s.user,
        csrf: s.csrf_token,
        id_hash,
    }))
}

/// Refuses a request whose `Origin` (or `Sec-Fetch-Site`) shows it came from another
/// site. A request without either header (not from a browser) passes to the token check.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), WebError> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return Err(WebError::Forbidden(
            "cross-site requests are refused (CSRF check failed)".into(),
        ));
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = origin
        .split_once("://")
        .is_some_and(|(_, authority)| !host.is_empty() && authority == host);
    let public = state
        .config
        .public_url
        .as_ref()
        .is_some_and(|u| u.origin().ascii_serialization() == origin);
    if own || public {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "requests from {origin} are refused (CSRF check failed)"
        )))
    }
}

/// Reads the `csrf` field of a urlencoded form body and puts the body back.
async fn csrf_from_form(req: Request) -> Result<(Option<String>, Request), WebError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| WebError::PayloadTooLarge(FORM_LIMIT / 1024))?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// The signed-in user. Without a session: a redirect to the sign-in page for pages,
/// 401 (with `HX-Redirect`) for htmx requests, 401 JSON under `/api/`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(s) = parts.extensions.get::<Session>() {
            return Ok(CurrentUser(s.clone()));
        }
        let path = parts.uri.path();
        if path.starts_with("/api/") {
            return Err(WebError::Unauthorized.into_response());
        }
        let here = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to = if here == "/" {
            "/login".to_string()
        } else {
            format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
            )
        };
        if is_htmx(&parts.headers) {
            let mut res = WebError::Unauthorized.into_response();
            if let Ok(v) = HeaderValue::from_str(&to) {
                res.headers_mut().insert("hx-redirect", v);
            }
            return Err(res);
        }
        Err(Redirect::to(&to).into_response())
    }
}

/// A signed-in user who scores jobs; 403 for anyone else.
#[derive(Debug, Clone)]
pub struct RequireScorer(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for RequireScorer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(s) = CurrentUser::from_request_parts(parts, state).await?;
        if !s.user.scores {
            return Err(WebError::Forbidden(format!(
                "{} does not score jobs; the CEO can change that on the admin page",
                s.user.name
            ))
            .into_response());
        }
        Ok(RequireScorer(s))
    }
}

/// The signed-in CEO; 403 for anyone else.
#[derive(Debug, Clone)]
pub struct RequireCeo(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for RequireCeo {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let CurrentUser(s) = CurrentUser::from_request_parts(parts, state).await?;
        if !s.user.role.administers() {
            return Err(
                WebError::Forbidden("only the CEO can open this page".into()).into_response(),
            );
        }
        Ok(RequireCeo(s))
    }
}

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
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only a local path is followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    next: String,
    error: Option<&'static str>,
) -> Result<Response, WebError> {
    let token = cookie(headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let fresh = token.is_none();
    let token = token.unwrap_or_else(random_token);
    let mut chrome = Chrome::anonymous();
    chrome.csrf = token.clone();
    let mut res = render_with(
        status,
        &LoginPage {
            chrome,
            email,
            next,
            error,
        },
    )?;
    if fresh {
        res.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                LOGIN_COOKIE,
                &token,
                7200,
                state.config.secure_cookies(),
                "Strict",
            ),
        );
    }
    Ok(res)
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
    session: Option<axum::Extension<Session>>,
) -> Result<Response, WebError> {
    let next = safe_next(q.next.as_deref());
    if session.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_form(&state, &headers, StatusCode::OK, String::new(), next, None)
}

#[derive(Deserialize)]
struct SignIn {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Option<axum::Extension<Session>>,
    Form(form): Form<SignIn>,
) -> Result<Response, WebError> {
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_string();
    let ip = peer.ip().to_string();
    let now = store::now();
    let (e, i) = (email.clone(), ip.clone());
    let (by_email, by_ip) = state
        .store
        .read(move |c| sessions::count_failed_attempts(c, &e, &i, now - THROTTLE_WINDOW))
        .await?;
    if by_email >= MAX_FAILURES_PER_ACCOUNT || by_ip >= MAX_FAILURES_PER_ADDRESS {
        tracing::warn!(client = %ip, "sign-in throttled");
        return login_form(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            email,
            next,
            Some(SIGN_IN_FAILED),
        );
    }
    let e = email.clone();
    let creds = state
        .store
        .read(move |c| users::find_credentials(c, &e))
        .await?;
    let password = form.password;
    let (user, ok) = tokio::task::spawn_blocking(move || match creds {
        Some((user, hash)) => {
            let ok = users::verify_password(&password, &hash) && user.active;
            (Some(user), ok)
        }
        None => {
            users::verify_password(&password, users::dummy_hash());
            (None, false)
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?;
    let user = user.filter(|_| ok);
    let old = session.map(|s| s.0.id_hash.clone());
    let token = random_token();
    let id_hash = hash_token(&token);
    let csrf = random_token();
    let (e, i, uid) = (
        email.clone(),
        ip.clone(),
        user.as_ref().map(|u| u.id.clone()),
    );
    state
        .store
        .write(move |tx| {
            sessions::record_login_attempt(
                tx,
                &e,
                &i,
                now,
                uid.is_some(),
                now - Duration::days(1),
            )?;
            if let Some(uid) = uid {
                if let Some(old) = old {
                    sessions::delete_session(tx, &old)?;
                }
                sessions::delete_expired_sessions(tx, now, now - IDLE)?;
                sessions::insert_session(tx, &id_hash, &uid, &csrf, now, now + ABSOLUTE)?;
            }
            Ok(())
        })
        .await?;
    let Some(user) = user else {
        return login_form(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            email,
            next,
            Some(SIGN_IN_FAILED),
        );
    };
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
) -> Result<Response, WebError> {
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
