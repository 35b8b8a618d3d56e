//! The CEO's admin page `/admin`: scoring settings (each save a new version that
//! recomputes ranks), users, API tokens, the state of the Recruiterflow sync, its
//! webhook inbox and the Supabase outbox, and the latest entries of the audit log
//! (all of it, a page at a time, on `/admin/audit`). Every act here is recorded in the
//! audit log ([`crate::store::audit`]) in the transaction that does it.
//!
//! One page, one file per feature: [`settings`], [`users`], [`tokens`], [`audit`],
//! [`sync_state`], [`dead_letters`] and [`write_back`] (the rank written back to
//! Recruiterflow) each hold their part of the page and the forms that change it; this
//! module reads the store once and puts the page together.
//!
//! Every form is a plain POST with the CSRF field. A refused form re-renders the page
//! with 422 and the errors next to the fields they name; a success redirects (303)
//! back to `/admin` with a notice, except a new API token, which is shown once on
//! the page the POST answers and never again.

mod audit;
mod dead_letters;
mod notifications;
mod settings;
mod sync_state;
mod tokens;
mod users;
mod write_back;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use self::audit::AuditRow;
use self::dead_letters::DeadRow;
use self::settings::{GroupView, PreviewView, SettingsForm, VersionRow};
use self::sync_state::RunRow;
use self::tokens::TokenRow;
use self::users::{NewUserForm, RecruiterflowMatches, UserRow};
use super::auth::{RequireCeo, Session};
use super::pages::{Chrome, Query, render_with};
use super::{AppState, FieldError, Result};
use crate::domain::Role;
use crate::store::audit::{Action, Actor};
use crate::store::settings::SettingsVersion;
use crate::store::{self, api_tokens, inbox, outbox, sync_runs};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .merge(settings::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(dead_letters::router())
        .merge(notifications::router())
        .merge(write_back::router())
        .merge(audit::router())
}

/// How many sync runs, dead letters and audit log entries the page lists.
const RECENT: i64 = 20;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    notice: String,
    errors: Vec<FieldError>,
    groups: Vec<GroupView>,
    /// What the settings as typed would do, shown before saving (`action=preview`).
    settings_preview: Option<PreviewView>,
    versions: Vec<VersionRow>,
    users: Vec<UserRow>,
    /// The Recruiterflow user list in one line; empty when there is none to speak of.
    recruiterflow_users: String,
    roles: Vec<(&'static str, &'static str)>,
    new_user: NewUserForm,
    user_errors: HashMap<String, String>,
    tokens: Vec<TokenRow>,
    token_users: Vec<(String, String)>,
    new_token: Option<(String, String)>,
    token_error: Option<String>,
    runs: Vec<RunRow>,
    inbox: Vec<(String, i64)>,
    dead: Vec<DeadRow>,
    outbox_pending: i64,
    outbox_dead: i64,
    audit: Vec<AuditRow>,
    /// The link to older audit log entries, when there are any.
    audit_older: Option<String>,
    /// The data directory's free space in words, or why the disk counts as full.
    disk: String,
    disk_full: bool,
    notifications: notifications::View,
    write_back: write_back::WriteBackView,
}

impl AdminPage {
    fn user_error(&self, field: &str) -> String {
        self.user_errors.get(field).cloned().unwrap_or_default()
    }
}

/// What one render of the page adds to the stored state: a notice, or a refused form
/// with its errors, or the new API token shown once.
#[derive(Default)]
struct Extras {
    notice: String,
    settings_form: Option<SettingsForm>,
    settings_errors: Vec<FieldError>,
    settings_preview: Option<PreviewView>,
    new_user: NewUserForm,
    user_errors: Vec<FieldError>,
    password_for: Option<(String, String)>,
    new_token: Option<(String, String)>,
    token_error: Option<String>,
}

/// Everything the page shows from the store, read at once.
struct Stored {
    current: SettingsVersion,
    versions: Vec<SettingsVersion>,
    users: Vec<store::users::User>,
    tokens: Vec<(api_tokens::ApiToken, String)>,
    runs: Vec<sync_runs::SyncRun>,
    inbox: Vec<(String, i64)>,
    dead: Vec<inbox::InboxEvent>,
    outbox_pending: i64,
    outbox_dead: i64,
    recruiterflow: Option<RecruiterflowMatches>,
    audit: (Vec<AuditRow>, Option<String>),
    notifications: notifications::Stored,
    write_back: write_back::Stored,
}

impl Stored {
    fn read(c: &rusqlite::Connection, recruiterflow_on: bool) -> store::Result<Stored> {
        Ok(Stored {
            current: store::settings::current_settings(c)?,
            versions: store::settings::list_settings(c)?,
            users: store::users::list_users(c)?,
            tokens: api_tokens::list_tokens(c)?,
            runs: sync_runs::recent_runs(c, RECENT)?,
            inbox: inbox::count_by_status(c)?,
            dead: inbox::list_dead(c, RECENT)?,
            outbox_pending: outbox::pending_count(c)?,
            outbox_dead: outbox::dead_count(c)?,
            recruiterflow: users::recruiterflow_matches(c, recruiterflow_on)?,
            audit: audit::audit_rows(c, None, RECENT)?,
            notifications: notifications::Stored::read(c, store::now())?,
            write_back: write_back::Stored::read(c)?,
        })
    }
}

/// Renders the page: one store read, then each feature's part.
async fn render_admin(
    state: &AppState,
    session: &Session,
    extras: Extras,
    status: StatusCode,
) -> Result<Response> {
    let recruiterflow_on = state.config.recruiterflow.api_key.is_some();
    let stored = state
        .store
        .read(move |c| Stored::read(c, recruiterflow_on))
        .await?;
    let page = admin_page_of(state, session, stored, extras, store::now());
    render_with(status, &page)
}

fn admin_page_of(
    state: &AppState,
    session: &Session,
    stored: Stored,
    extras: Extras,
    now: DateTime<Utc>,
) -> AdminPage {
    let names: HashMap<&str, &str> = stored
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str()))
        .collect();
    let form = extras
        .settings_form
        .unwrap_or_else(|| SettingsForm::from_settings(&stored.current.settings));
    let (audit, audit_older) = stored.audit;
    let rf = stored.recruiterflow.as_ref();
    AdminPage {
        chrome: Chrome::for_session(session, "admin"),
        notice: extras.notice,
        groups: form.groups(&extras.settings_errors),
        settings_preview: extras.settings_preview,
        errors: [&extras.settings_errors[..], &extras.user_errors[..]].concat(),
        versions: settings::version_rows(&stored.versions, &stored.current, &names),
        users: users::user_rows(&stored.users, session, extras.password_for.as_ref(), rf),
        recruiterflow_users: users::recruiterflow_line(rf, now),
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        new_user: extras.new_user,
        user_errors: extras
            .user_errors
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect(),
        tokens: tokens::token_rows(&stored.tokens, now),
        token_users: tokens::token_users(&stored.users),
        new_token: extras.new_token,
        token_error: extras.token_error,
        runs: sync_state::run_rows(&stored.runs, now),
        inbox: stored.inbox,
        dead: dead_letters::dead_rows(&stored.dead, now),
        outbox_pending: stored.outbox_pending,
        outbox_dead: stored.outbox_dead,
        audit,
        audit_older,
        disk: sync_state::disk_line(state),
        disk_full: state.store.disk_full().is_some(),
        notifications: notifications::view(state, stored.notifications, &stored.users, now),
        write_back: write_back::view(&state.config, stored.write_back, now),
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The acts whose success the page announces: the act, its key in the redirect
/// (`/admin?done=...`) and the notice shown.
const NOTICES: [(Action, &str, &str); 10] = [
    (
        Action::SettingsSaved,
        "settings",
        "Settings saved as a new version; every job's rank was recomputed.",
    ),
    (Action::UserAdded, "user", "User added."),
    (
        Action::UserDeactivated,
        "deactivated",
        "User deactivated; their sessions were ended, their API tokens revoked and ranks recomputed.",
    ),
    (
        Action::UserReactivated,
        "activated",
        "User reactivated; ranks recomputed. Their old API tokens stay revoked: create new ones if needed.",
    ),
    (Action::PasswordReset, "password", "Password reset."),
    (
        Action::ScoringChanged,
        "scores",
        "Who scores was changed; ranks recomputed.",
    ),
    (Action::TokenRevoked, "revoked", "API token revoked."),
    (
        Action::DeadLetterRetried,
        "retried",
        "The webhook event is queued again.",
    ),
    (
        Action::DeadLetterRetried,
        "message",
        "The message is queued again and goes out within a minute.",
    ),
    (
        Action::WriteBackRetried,
        "write_back_retried",
        "The rank write-back is queued again.",
    ),
];

/// The notice of `/admin?done=...`; none for an unknown key.
fn notice_for(done: &str) -> &'static str {
    NOTICES
        .iter()
        .find(|(_, key, _)| *key == done)
        .map_or("", |(_, _, notice)| notice)
}

/// The redirect after an act succeeded: back to the page with its notice.
fn done(action: Action) -> Response {
    let key = NOTICES
        .iter()
        .find(|(a, _, _)| *a == action)
        .map_or("", |(_, key, _)| key);
    Redirect::to(&format!("/admin?done={key}")).into_response()
}

/// Does an act of the admin page and records it in the audit log in the same write
/// transaction (`act` returns the entry's target and details), then goes back to the
/// page with the act's notice.
async fn record_act<F>(
    state: &AppState,
    session: &Session,
    action: Action,
    act: F,
) -> Result<Response>
where
    F: FnOnce(&store::Tx<'_>, DateTime<Utc>) -> store::Result<(String, String)> + Send + 'static,
{
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let (target, details) = act(tx, now)?;
            store::audit::record(tx, &actor, action, &target, &details, now)
        })
        .await?;
    Ok(done(action))
}

async fn admin_page(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Query(q): Query<DoneQuery>,
) -> Result<Response> {
    let extras = Extras {
        notice: notice_for(q.done.as_deref().unwrap_or("")).to_string(),
        ..Extras::default()
    };
    render_admin(&state, &session, extras, StatusCode::OK).await
}
