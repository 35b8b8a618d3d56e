//! The web layer's error type: every error becomes a response with the right status
//! and a plain message; internal causes are logged, never shown.
//!
//! A handler returns `Err(WebError)`; [`WebError::into_response`] answers plain text and
//! attaches an [`ErrorInfo`] to the response. The [`render_errors`] middleware then
//! turns it into the form the client asked for: JSON `{"error", "detail"}` under
//! `/api/`, the error page (`templates/error.html`) for page requests, and a fragment
//! (`templates/partials/error.html`) for htmx requests. Bare error responses from
//! layers (413 from the body limit, 404 from the router) get the same treatment.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::auth::Session;
use super::pages::Chrome;
use crate::domain::DomainError;
use crate::store::StoreError;

/// What handlers return: the answer, or the error the client gets.
pub type Result<T, E = WebError> = std::result::Result<T, E>;

/// One field of a form or JSON body that was refused, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    /// Not authenticated, with the reason (a missing, malformed or revoked API token).
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    /// Not found, with the whole explanation as the message ("No job in jobrank is for
    /// a client named …").
    #[error("{0}")]
    NotFoundBecause(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    /// Validation failed; each bad field is named.
    #[error("{}", join_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("the request body is too large (at most {0} KiB)")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("the service is not ready: {0}")]
    Unavailable(String),
    /// A write refused because the server's disk is full: 503 with `Retry-After`.
    /// The words say what was lost ("your score was not saved"), see
    /// [`WebError::not_saved`].
    #[error(
        "the server's disk is full; {0}. Please try again later: writes resume as soon as space is freed on the server"
    )]
    DiskFull(&'static str),
    #[error("something went wrong on our side; it has been logged")]
    Internal(#[source] anyhow::Error),
}

/// "Please correct: fee_size must be a whole number from 1 to 5, got 9; comment: ...":
/// each field once (a message that already names its field is not prefixed again).
fn join_fields(f: &[FieldError]) -> String {
    let each = f
        .iter()
        .map(|e| {
            if e.message.starts_with(&e.field) {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    format!("Please correct: {each}")
}

/// A message as a sentence, as every error answer words it: the first letter a
/// capital, and a full stop at the end unless it ends with one, `?` or `!`.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out = String::with_capacity(text.len() + 1);
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
    if !out.is_empty() && !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

impl WebError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized | WebError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) | WebError::NotFoundBecause(_) => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Unprocessable(_) | WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Unavailable(_) | WebError::DiskFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable code for JSON answers (`"not_found"`).
    pub fn code(&self) -> &'static str {
        code_for(self.status())
    }

    /// Says what a refused write lost, when the disk was full ("your score was not
    /// saved"); any other error is returned unchanged.
    pub fn not_saved(self, what: &'static str) -> WebError {
        match self {
            WebError::DiskFull(_) => WebError::DiskFull(what),
            other => other,
        }
    }

    /// Builds a validation error naming one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> WebError {
        WebError::Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid",
        429 => "too_many_requests",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    }
}

/// A broken rule of the scoring model as the field it names: the one mapping from
/// [`DomainError`] to a form or JSON field (the sum of the weights belongs to the
/// weights as a group).
impl From<DomainError> for FieldError {
    fn from(e: DomainError) -> Self {
        let field = match &e {
            DomainError::FactorOutOfRange { field, .. }
            | DomainError::NegativeWeight { field, .. }
            | DomainError::TooPrecise { field, .. }
            | DomainError::Invalid { field, .. } => *field,
            DomainError::WeightsDoNotSum { .. } => "weights",
        };
        FieldError {
            field: field.to_string(),
            message: e.to_string(),
        }
    }
}

/// A 422 naming the field of the broken rule.
impl From<DomainError> for WebError {
    fn from(e: DomainError) -> Self {
        WebError::Invalid(vec![e.into()])
    }
}

/// A 422 with one field error per broken rule.
impl From<Vec<DomainError>> for WebError {
    fn from(errors: Vec<DomainError>) -> Self {
        WebError::Invalid(errors.into_iter().map(FieldError::from).collect())
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => WebError::NotFound(what),
            StoreError::Conflict(m) => WebError::Conflict(m),
            StoreError::Forbidden(m) => WebError::Forbidden(m),
            StoreError::DiskFull { .. } => WebError::DiskFull("your change was not saved"),
            StoreError::Invalid(d) => d.into(),
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<crate::credentials::CredentialError> for WebError {
    fn from(e: crate::credentials::CredentialError) -> Self {
        WebError::from(StoreError::from(e))
    }
}

/// Failures that are never the client's doing (a template, a blocking task, writing a
/// CSV or the metrics text): logged with what was being done, answered 500.
fn internal(e: impl Into<anyhow::Error>, doing: &'static str) -> WebError {
    WebError::Internal(e.into().context(doing))
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        internal(e, "rendering a template")
    }
}

impl From<tokio::task::JoinError> for WebError {
    fn from(e: tokio::task::JoinError) -> Self {
        internal(e, "running a blocking task")
    }
}

impl From<csv::Error> for WebError {
    fn from(e: csv::Error) -> Self {
        internal(e, "writing CSV")
    }
}

impl From<std::io::Error> for WebError {
    fn from(e: std::io::Error) -> Self {
        internal(e, "writing a response body")
    }
}

impl From<std::fmt::Error> for WebError {
    fn from(e: std::fmt::Error) -> Self {
        internal(e, "formatting a response body")
    }
}

impl From<axum::http::header::InvalidHeaderValue> for WebError {
    fn from(e: axum::http::header::InvalidHeaderValue) -> Self {
        internal(e, "setting a response header")
    }
}

/// `Retry-After` (seconds) of a write refused for a full disk: space has to be freed
/// by a person first.
const DISK_FULL_RETRY_AFTER: &str = "120";

/// What went wrong, carried on an error response until [`render_errors`] formats it.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub detail: String,
    pub fields: Vec<FieldError>,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let info = ErrorInfo {
            status: self.status(),
            detail: sentence(&self.to_string()),
            fields: match &self {
                WebError::Invalid(f) => f.clone(),
                _ => Vec::new(),
            },
        };
        let mut res = (info.status, info.detail.clone()).into_response();
        if matches!(self, WebError::DiskFull(_)) {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(DISK_FULL_RETRY_AFTER),
            );
        }
        res.extensions_mut().insert(info);
        res
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    detail: String,
}

/// The error fragment for htmx requests.
#[derive(Template)]
#[template(path = "partials/error.html")]
struct ErrorFragment {
    status: u16,
    title: &'static str,
    detail: String,
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        401 => "Please sign in",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Too large",
        422 => "Please correct the form",
        429 => "Too many attempts",
        503 => "Not ready",
        _ => "Something went wrong",
    }
}

fn default_detail(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "There is no page at this address.",
        405 => "This address does not accept that method.",
        413 => "The request body is too large (at most 64 KiB).",
        415 => "The request body has an unsupported content type.",
        _ => "The request could not be handled.",
    }
}

/// An error as the JSON API answers it: `{"error", "detail"}`, and `"fields"` (field ->
/// message) when fields were refused.
#[derive(serde::Serialize)]
struct ApiError<'a> {
    error: &'static str,
    detail: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<&'a str, &'a str>,
}

/// Middleware: formats every error response for its client (JSON under `/api/`,
/// a fragment for htmx, the error page otherwise, plain text when rendering fails).
pub async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let is_api = path.starts_with("/api/") || path == "/api";
    let is_htmx = super::pages::is_htmx(req.headers());
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let info = match res.extensions().get::<ErrorInfo>() {
        Some(i) => i.clone(),
        None => {
            // Only bare responses from layers and the router: handlers that render
            // their own error bodies (a form re-rendered with 422) are left alone.
            let ct = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if ct.starts_with("text/html") || ct.starts_with("application/json") {
                return res;
            }
            ErrorInfo {
                status,
                detail: default_detail(status).to_string(),
                fields: Vec::new(),
            }
        }
    };
    // The session layer (inside this one) leaves the signed-in user's session on an
    // error answer, so the error page keeps the navigation.
    let chrome = match res.extensions().get::<Session>() {
        Some(s) => Chrome::for_session(s, ""),
        None => Chrome::anonymous(),
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(info.clone());
    if is_api {
        let body = ApiError {
            error: code_for(status),
            detail: &info.detail,
            fields: info
                .fields
                .iter()
                .map(|f| (f.field.as_str(), f.message.as_str()))
                .collect(),
        };
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let body = serde_json::to_vec(&body).unwrap_or_else(|_| info.detail.clone().into_bytes());
        return Response::from_parts(parts, axum::body::Body::from(body));
    }
    let rendered = if is_htmx {
        ErrorFragment {
            status: status.as_u16(),
            title: title_for(status),
            detail: info.detail.clone(),
        }
        .render()
    } else {
        ErrorPage {
            chrome,
            status: status.as_u16(),
            title: title_for(status),
            detail: info.detail.clone(),
        }
        .render()
    };
    match rendered {
        Ok(html) => {
            let mut r = Html(html).into_response();
            *r.status_mut() = status;
            for (k, v) in parts.headers.iter() {
                if k != header::CONTENT_TYPE {
                    r.headers_mut().insert(k.clone(), v.clone());
                }
            }
            r.extensions_mut().insert(info);
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Response::from_parts(parts, axum::body::Body::from(info.detail))
        }
    }
}
