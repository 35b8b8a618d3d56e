//! The web layer: pages, the JSON API and health endpoints. Each feature module
//! exposes `router()`; [`router`] only merges them. Handlers never write SQL: they
//! call `store` functions and `domain` rules.

mod error;
mod health;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use chrono::{DateTime, Utc};

pub use error::WebError;

use crate::config::Config;
use crate::recruiterflow::Syncer;
use crate::store::Store;

/// Everything a handler needs, passed explicitly (no globals).
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub started_at: DateTime<Utc>,
    /// The Recruiterflow sync, when RECRUITERFLOW_API_KEY is set ("Refresh now").
    pub syncer: Option<Syncer>,
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(webhooks::router())
        .with_state(state)
}
