//! The "My settings" page and its email choices: whether the user gets the weekly
//! digest and alerts by email (both on until they switch one off). The page says what
//! each carries for this user, and whether email is set up at all.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::store::notification_prefs::{self, Prefs};
use crate::store::users::User;
use crate::web::auth::{CurrentUser, Session};
use crate::web::pages::{Chrome, Form, Query, render_with};
use crate::web::{AppState, FieldError, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me_page))
        .route("/me/notifications", post(save_notifications))
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    chrome: Chrome,
    notice: String,
    errors: Vec<FieldError>,
    email_on: bool,
    slack_on: bool,
    digest: bool,
    alerts: bool,
    digest_what: String,
    alerts_what: String,
}

impl MePage {
    fn error_for(&self, field: &str) -> String {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
            .unwrap_or_default()
    }
}

/// What a render adds to the stored state: a notice, or a refused form's errors.
#[derive(Default)]
pub(super) struct Extras {
    pub notice: String,
    pub errors: Vec<FieldError>,
}

/// The notices of `/me?done=...`.
const NOTICES: [(&str, &str); 2] = [
    ("notifications", "Your email settings were saved."),
    (
        "password",
        "Your password was changed; every other session of yours was signed out.",
    ),
];

/// The redirect after a change on the page: back to it with the change's notice.
pub(super) fn done(key: &str) -> Response {
    let mut res = Redirect::to(&format!("/me?done={key}")).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res
}

/// "Monday at 08:30": when the digest goes out, in words.
fn digest_time(state: &AppState) -> String {
    state
        .notifier
        .as_ref()
        .map_or(state.config.notify.digest_at, |n| n.digest_at())
        .in_words()
}

/// What the digest and alerts carry for `user`, in words.
fn what_they_get(state: &AppState, user: &User) -> (String, String) {
    let when = digest_time(state);
    let ceo = user.role.administers();
    let digest = match (user.scores, ceo) {
        (true, true) => format!(
            "Every {when}: the jobs that need your score, each scorer's participation last week and the jobs whose rank changed."
        ),
        (false, true) => format!(
            "Every {when}: each scorer's participation last week and the jobs whose rank changed."
        ),
        (true, false) => format!(
            "Every {when}: the jobs that need your score, with links. Nothing comes when you are up to date."
        ),
        (false, false) => "You do not score jobs, so there is no digest for you.".to_string(),
    };
    let about = if ceo {
        "every job"
    } else {
        "jobs whose hiring team you are on (and, while you score, jobs whose hiring team has nobody on jobrank)"
    };
    let alerts = format!(
        "At most once an hour, about {about}: a job dropped to C, a new job nobody has scored after 2 days, a pipeline newly stalled."
    );
    (digest, alerts)
}

/// Renders the page for the signed-in user.
pub(super) async fn render_me(
    state: &AppState,
    session: &Session,
    extras: Extras,
    status: StatusCode,
) -> Result<Response> {
    let uid = session.user.id.clone();
    let prefs: Prefs = state
        .store
        .read(move |c| notification_prefs::find_prefs(c, &uid))
        .await?;
    let (digest_what, alerts_what) = what_they_get(state, &session.user);
    let channels = state.notifier.as_ref().map(|n| n.channels());
    render_with(
        status,
        &MePage {
            chrome: Chrome::for_session(session, "me"),
            notice: extras.notice,
            errors: extras.errors,
            email_on: channels.is_some_and(|c| c.email_on()),
            slack_on: channels.is_some_and(|c| c.slack_on()),
            digest: prefs.digest_email,
            alerts: prefs.alerts_email,
            digest_what,
            alerts_what,
        },
    )
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn me_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response> {
    let notice = NOTICES
        .iter()
        .find(|(key, _)| Some(*key) == q.done.as_deref())
        .map_or("", |(_, notice)| notice);
    let extras = Extras {
        notice: notice.to_string(),
        ..Extras::default()
    };
    render_me(&state, &session, extras, StatusCode::OK).await
}

/// The email choices: a ticked box is sent, an unticked one is not.
#[derive(Deserialize)]
struct ChoicesForm {
    digest: Option<String>,
    alerts: Option<String>,
}

async fn save_notifications(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Form(form): Form<ChoicesForm>,
) -> Result<Response> {
    let prefs = Prefs {
        digest_email: form.digest.is_some(),
        alerts_email: form.alerts.is_some(),
    };
    let uid = session.user.id.clone();
    let now = state.clock.now();
    state
        .store
        .write(move |tx| notification_prefs::save_prefs(tx, &uid, prefs, now))
        .await?;
    Ok(done("notifications"))
}
