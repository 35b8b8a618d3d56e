//! The checks against cross-site request forgery: the request's `Origin` must be this
//! site, and the CSRF token is read from a form body when no header carries it.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use url::Url;

use crate::web::{AppState, FORM_LIMIT, Result, WebError};

/// Refuses a request whose `Origin` (or `Sec-Fetch-Site`) shows it came from another
/// site. A request without either header (not from a browser) passes to the token check.
///
/// The Origin must be the site's origin: scheme, host and port. With
/// `JOBRANK_PUBLIC_URL` that is the public URL's origin and nothing else. Without it the
/// site is the `Host` the request was sent to, over http (jobrank serves no TLS itself),
/// or over the scheme a trusted proxy reports in `X-Forwarded-Proto`.
pub(super) fn check_origin(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<()> {
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
pub(super) async fn csrf_from_form(req: Request) -> Result<(Option<String>, Request)> {
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
