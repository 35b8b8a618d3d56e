//! The web layer: pages, the JSON API and health endpoints. Each feature module
//! exposes `router()`; [`router`] only merges them and adds the layers every response
//! shares (security headers, compression, body limit, sessions and CSRF, error pages).
//! Handlers never write SQL: they call `store` functions and `domain` rules.

mod admin;
mod api;
pub mod assets;
pub mod auth;
mod clients;
mod dashboard;
pub mod dashboard_pages;
mod error;
mod export;
pub mod flash;
mod health;
mod jobs;
mod line_chart;
mod me;
mod metrics;
/// "My scores" (`/me/scores`), a file of the `me/` feature folder.
#[path = "me/scores.rs"]
mod my_scores;
mod outcomes;
pub mod pages;
mod participation;
mod review;
mod sync;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use chrono::{DateTime, Utc};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::{ErrorInfo, FieldError, Result, WebError};
pub use sync::Clock;

use crate::config::Config;
use crate::recruiterflow::Syncer;
use crate::store::Store;

/// The largest request body accepted (forms and JSON): 413 beyond it.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The Content-Security-Policy of every response: no inline script or style.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Everything a handler needs, passed explicitly (no globals).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub started_at: DateTime<Utc>,
    /// The Recruiterflow sync, when RECRUITERFLOW_API_KEY is set ("Refresh now").
    pub syncer: Option<Syncer>,
    /// The dashboard's read, kept in memory while the store is unchanged.
    pub dashboard: Arc<crate::store::dashboard::DashboardCache>,
    /// The dashboard's rendered answers (see [`dashboard_pages`]).
    pub dashboard_pages: Arc<dashboard_pages::RenderedPages>,
    /// Sessions just read from the store (see [`auth::SessionCache`]).
    pub sessions: Arc<auth::SessionCache>,
    /// The time for rules that depend on it (the refresh cooldown); tests move it.
    pub clock: Clock,
    /// Stores webhook events durably, with group commit (the `webhook_inbox_writer`
    /// task, started by `Application::build` in `app`).
    pub inbox_writer: crate::store::inbox::InboxWriter,
    /// Turns for password checks (see [`crate::credentials::PasswordChecks`]).
    pub password_checks: Arc<crate::credentials::PasswordChecks>,
    /// Email and Slack notifications, when either is set up.
    pub notifier: Option<crate::notify::Notifier>,
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    let headers: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
        (header::VARY, "HX-Request"),
    ];
    let mut app = Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(assets::router())
        .merge(auth::router())
        .merge(dashboard::router())
        .merge(jobs::router())
        .merge(clients::router())
        .merge(my_scores::router())
        .merge(sync::router())
        .merge(api::router())
        .merge(admin::router())
        .merge(me::router())
        .merge(review::router())
        .merge(export::router())
        .merge(outcomes::router())
        .fallback(|| async { WebError::NotFound("page".into()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::session_and_csrf,
        ))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(RequestBodyLimitLayer::new(FORM_LIMIT))
        // Outside the body limit, so its bare 413 is formatted like every error.
        .layer(axum::middleware::from_fn(error::render_errors))
        // The fastest gzip level: the dashboard's HTML shrinks nearly as much and costs
        // a fraction of the default level's time on a 1 vCPU VM.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        // Webhooks carry up to 1 MiB and no session: outside the form limit and sessions.
        .merge(webhooks::router());
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    metrics::instrument(app.with_state(state), metrics::HttpMetrics::new())
}
