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

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
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
use ipnet::IpNet;
use serde::Deserialize;
use url::Url;

use super::pages::{Chrome, Form, Query, is_htmx, render_with};
use super::{AppState, FORM_LIMIT, WebError};
use crate::credentials::{PasswordChecks, hash_token, random_token, same_secret};
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

impl Session {
    /// The SHA-256 of this session's cookie value: its key in the store.
    pub fn id_hash(&self) -> &str {
        &self.id_hash
    }
}

/// The address of the client behind a request, the one sign-in throttling counts.
///
/// The TCP peer, unless the peer is a trusted proxy (`JOBRANK_TRUSTED_PROXIES`): then
/// `X-Forwarded-For` is believed, and the client is its right-most hop that is not itself
/// a trusted proxy (each proxy appends the address it saw, so hops to the left of an
/// untrusted one could be forged), or the left-most hop when every hop is trusted. A
/// header with a hop that is not an address is ignored (the peer counts), as is a missing
/// one. IPv4 addresses mapped into IPv6 count as IPv4.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for hop in text.split(',') {
            match forwarded_hop(hop.trim()) {
                Some(ip) => hops.push(ip.to_canonical()),
                None => return peer,
            }
        }
    }
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

/// One `X-Forwarded-For` hop: an address, possibly bracketed or with a port.
fn forwarded_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
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

/// Middleware: resolves the session cookie, enforces CSRF protection, and keeps
/// answers to signed-in requests out of every cache.
pub async fn session_and_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let req = match resolve(&state, req).await {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    let signed_in = req.extensions().get::<Session>().is_some();
    let mut res = next.run(req).await;
    if signed_in {
        res.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    res
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
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    check_origin(state, req.headers(), peer)?;
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

    fn get(&self, id_hash: &str, now: &store::ReadStamp) -> Option<sessions::StoredSession> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id_hash)
            .filter(|c| c.stamp.still_current(now))
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
    let s = match state.sessions.get(&id_hash, &stamp) {
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
///
/// The Origin must be the site's origin: scheme, host and port. With
/// `JOBRANK_PUBLIC_URL` that is the public URL's origin and nothing else. Without it the
/// site is the `Host` the request was sent to, over http (jobrank serves no TLS itself),
/// or over the scheme a trusted proxy reports in `X-Forwarded-Proto`.
fn check_origin(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<(), WebError> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site")
    {
        return Err(WebError::Forbidden(
            "cross-site requests are refused (CSRF check failed)".into(),
        ));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let site = match &state.config.public_url {
        Some(u) => Some(u.origin()),
        None => {
            let trusted = &state.config.trusted_proxies;
            let proxied =
                peer.is_some_and(|p| trusted.iter().any(|n| n.contains(&p.to_canonical())));
            let scheme = headers
                .get("x-forwarded-proto")
                .filter(|_| proxied)
                .and_then(|v| v.to_str().ok())
                .filter(|v| *v == "https" || *v == "http")
                .unwrap_or("http");
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .and_then(|host| Url::parse(&format!("{scheme}://{host}")).ok())
                .map(|u| u.origin())
        }
    };
    let theirs = Url::parse(&origin).ok().map(|u| u.origin());
    match (theirs, site) {
        (Some(theirs), Some(site)) if theirs.is_tuple() && theirs == site => Ok(()),
        _ => Err(WebError::Forbidden(format!(
            "requests from {origin} are refused (CSRF check failed)"
        ))),
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

/// Signs in. The throttle's decision and the record of the attempt are one step: an
/// attempt is reserved (and counted as failed) in the write transaction that counts the
/// earlier failures, before any password is checked, so simultaneous guesses at one
/// account cannot all pass the count before the first is recorded. Only a reserved
/// attempt gets a password check, in turn (see [`PasswordChecks`]); a sign-in that finds
/// no turn withdraws its reservation and is answered 503.
async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Option<axum::Extension<Session>>,
    Form(form): Form<SignIn>,
) -> Result<Response, WebError> {
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
            Some(SIGN_IN_FAILED),
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
        let mut res = refuse(StatusCode::SERVICE_UNAVAILABLE)?;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(PasswordChecks::RETRY_AFTER),
        );
        return Ok(res);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_client_address_believes_only_trusted_proxies() {
        let trusted: Vec<IpNet> = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for (peer, headers, expected) in [
            // Not from a proxy: the header is whatever the client wrote.
            ("203.0.113.9", vec!["198.51.100.1"], "203.0.113.9"),
            // From Caddy on loopback.
            ("127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            ("::1", vec!["198.51.100.1"], "198.51.100.1"),
            ("::ffff:127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            // No header, an empty one, or a hop that is not an address: the peer.
            ("127.0.0.1", vec![], "127.0.0.1"),
            ("127.0.0.1", vec![""], "127.0.0.1"),
            ("127.0.0.1", vec!["unknown, 198.51.100.1"], "127.0.0.1"),
            ("127.0.0.1", vec!["198.51.100.1,,10.0.0.2"], "127.0.0.1"),
            // The right-most hop that is not a trusted proxy; forged hops to its left
            // are ignored.
            ("127.0.0.1", vec!["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["198.51.100.1, 10.0.0.2"], "198.51.100.1"),
            (
                "127.0.0.1",
                vec!["1.2.3.4", "198.51.100.1, 10.0.0.2"],
                "198.51.100.1",
            ),
            // Every hop trusted: the left-most.
            ("127.0.0.1", vec!["10.0.0.7, 10.0.0.2"], "10.0.0.7"),
            // Addresses with a port, bracketed IPv6.
            ("127.0.0.1", vec!["[2001:db8::1]:443"], "2001:db8::1"),
            ("127.0.0.1", vec!["[2001:db8::1]"], "2001:db8::1"),
            ("127.0.0.1", vec!["198.51.100.1:5123"], "198.51.100.1"),
        ] {
            assert_eq!(
                client_address(ip(peer), &forwarded(&headers), &trusted),
                ip(expected),
                "peer {peer}, X-Forwarded-For {headers:?}"
            );
        }
        assert_eq!(
            client_address(ip("127.0.0.1"), &forwarded(&["198.51.100.1"]), &[]),
            ip("127.0.0.1"),
            "no trusted proxies: always the peer"
        );
    }

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
