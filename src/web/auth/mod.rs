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
//! Every response to a request with a session carries `Cache-Control: no-store` (unless
//! the handler chose another, as the content-hashed assets do), so no private page or
//! fragment is kept by a browser or a proxy after signing out.
//!
//! Handlers ask for a signed-in user with the [`CurrentUser`], [`RequireScorer`] and
//! [`RequireCeo`] extractors.

mod client_address;
mod csrf;
mod reset;
mod session_cache;
mod sign_in;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;

pub use self::client_address::client_address;
pub use self::session_cache::SessionCache;
pub use self::sign_in::local_path;
use super::pages::is_htmx;
use super::{AppState, Result, WebError};
use crate::credentials::{PasswordChecks, hash_token, same_secret};
use crate::store::users::User;

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
/// The forms used before signing in (sign-in, "forgot password", choosing a new
/// password with a reset link): their CSRF token is the login cookie's, not a
/// session's.
pub const SIGNED_OUT_FORMS: [&str; 3] = ["/login", "/login/forgot", "/login/reset"];
/// Path prefixes that authenticate by bearer token or signature, never by the session
/// cookie, and so need no CSRF token.
pub const CSRF_EXEMPT: [&str; 1] = ["/webhooks/"];
/// The JSON API's prefix: requests there with an `Authorization` header authenticate
/// by bearer token only (the session cookie is ignored), so they need no CSRF token.
pub const API_PREFIX: &str = "/api/";
/// What a password form says when every argon2 turn stayed taken (see
/// [`PasswordChecks`]); sign-in says [`SIGN_IN_FAILED`] instead.
pub const PASSWORDS_BUSY: &str =
    "The server is busy checking passwords; try again in a few seconds.";
/// How often a session's last-seen time is written (not on every request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A signed-in user's session, put in the request extensions by [`session_and_csrf`].
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// This session's CSRF token.
    pub csrf: String,
    /// The confirmation this request carries from the action before it, shown once
    /// (see [`super::flash`]).
    pub flash: Option<String>,
    id_hash: String,
}

impl Session {
    /// The SHA-256 of this session's cookie value: its key in the store.
    pub fn id_hash(&self) -> &str {
        &self.id_hash
    }
}

/// Marks the 503 answer of a request that found no argon2 turn: `Retry-After`
/// [`PasswordChecks::RETRY_AFTER`] seconds.
pub fn retry_when_passwords_free(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(PasswordChecks::RETRY_AFTER),
    );
    res
}

/// Signing in and out, and resetting a forgotten password.
pub fn router() -> axum::Router<AppState> {
    sign_in::router().merge(reset::router())
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

/// A `Set-Cookie` value: HttpOnly, on the whole site, `Secure` when asked.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
    same_site: &str,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
    ))
    .expect("cookie values are hex")
}

/// Middleware: resolves the session cookie, enforces CSRF protection, and keeps
/// answers to signed-in requests out of every cache.
/// An error answer to a signed-in request carries the [`Session`] in its extensions,
/// so the error page (drawn by `render_errors`, outside this layer) keeps the
/// navigation and the sign-out button.
pub async fn session_and_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut req = req;
    if let Err(e) = attach_session(&state, &mut req).await {
        return e.into_response();
    }
    let session = req.extensions().get::<Session>().cloned();
    let page_request = !is_htmx(req.headers()) && !req.uri().path().starts_with(API_PREFIX);
    let mut res = match check_csrf(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    };
    if let Some(session) = session {
        res.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        let error = res.status().is_client_error() || res.status().is_server_error();
        // A flash is gone once a whole page (or the error page drawn from this
        // answer) has shown it; a redirect passes it on.
        let html = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
        if session.flash.is_some() && page_request && (html || error) {
            res.headers_mut().append(
                header::SET_COOKIE,
                super::flash::clear(state.config.secure_cookies()),
            );
        }
        if error {
            res.extensions_mut().insert(session);
        }
    }
    res
}

/// Whether the request authenticates by bearer token or signature (and so neither reads
/// the session cookie nor needs a CSRF token).
fn exempt_path(req: &Request) -> bool {
    let path = req.uri().path();
    let bearer = path.starts_with(API_PREFIX) && req.headers().contains_key(header::AUTHORIZATION);
    bearer || CSRF_EXEMPT.iter().any(|p| path.starts_with(p))
}

/// Resolves the session cookie into a [`Session`] request extension.
async fn attach_session(state: &AppState, req: &mut Request) -> Result<()> {
    if !exempt_path(req)
        && let Some(token) = cookie(req.headers(), SESSION_COOKIE)
    {
        let id_hash = hash_token(token);
        if let Some(mut s) = session_cache::current_session(state, id_hash).await? {
            s.flash = super::flash::read(req.headers(), &s.csrf, crate::store::now());
            req.extensions_mut().insert(s);
        }
    }
    Ok(())
}

/// Refuses a state-changing request with a foreign `Origin` or without the right CSRF
/// token; passes every other request on.
async fn check_csrf(state: &AppState, req: Request) -> Result<Request> {
    let path = req.uri().path().to_owned();
    let exempt = exempt_path(&req);
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !unsafe_method || exempt {
        return Ok(req);
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    csrf::check_origin(state, req.headers(), peer)?;
    let expected = if SIGNED_OUT_FORMS.contains(&path.as_str()) {
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
        None => csrf::csrf_from_form(req).await?,
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
