//! Health endpoints for the process supervisor and load balancers.

use axum::Router;
use axum::routing::get;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Alive: the process serves HTTP. Does not touch the store.
async fn healthz() -> &'static str {
    "ok\n"
}
