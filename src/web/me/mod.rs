//! "My settings" (`/me`): each signed-in user's own page. One file per part:
//! [`settings`] draws the page and saves the email choices (weekly digest, alerts),
//! [`password`] changes one's own password.

mod password;
mod settings;

use axum::Router;

use crate::web::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(settings::router())
        .merge(password::router())
}
