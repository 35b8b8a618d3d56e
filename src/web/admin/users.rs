//! Users on the admin page: the list (with each user's match among Recruiterflow's
//! users), adding a user, deactivating and reactivating, resetting a password and
//! switching scoring on or off. Each act that changes who counts recomputes every open job's rank.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Extras, done, record_act, render_admin};
use crate::credentials;
use crate::domain::Role;
use crate::store::audit::{self, Action, Actor};
use crate::store::users::{self, NewUser, User};
use crate::store::{self, StoreError, api_tokens, commands, recruiterflow_users, sessions};
use crate::web::auth::{PASSWORDS_BUSY, RequireCeo, Session, retry_when_passwords_free};
use crate::web::pages::{Form, ago};
use crate::web::{AppState, FieldError, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", post(add_user))
        .route("/admin/users/{id}/deactivate", post(deactivate_user))
        .route("/admin/users/{id}/activate", post(activate_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/scores", post(set_scores))
}

/// One user in the page's list.
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub scores: bool,
    pub active: bool,
    pub is_me: bool,
    pub password_error: Option<String>,
    /// Whether the user is matched to a Recruiterflow user; empty when Recruiterflow is
    /// not configured or its user list was never read.
    pub recruiterflow: String,
}

/// The add-user form's values, echoed back after an error.
#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    pub scores: Option<String>,
    #[serde(default)]
    pub password: String,
}

/// How jobrank users match the Recruiterflow users the last full sync stored.
pub struct RecruiterflowMatches {
    read_at: DateTime<Utc>,
    stored: i64,
    matched: i64,
    /// Per jobrank user id, the matching Recruiterflow user ids.
    matches: HashMap<String, Vec<i64>>,
}

/// `None` when Recruiterflow is not configured or no sync has read its user list yet.
pub fn recruiterflow_matches(
    c: &rusqlite::Connection,
    configured: bool,
) -> store::Result<Option<RecruiterflowMatches>> {
    if !configured {
        return Ok(None);
    }
    let Some(read_at) = recruiterflow_users::user_list_read_at(c)? else {
        return Ok(None);
    };
    let (stored, matched) = recruiterflow_users::count_matched(c)?;
    Ok(Some(RecruiterflowMatches {
        read_at,
        stored,
        matched,
        matches: recruiterflow_users::match_jobrank_users(c)?,
    }))
}

/// The Recruiterflow user list in one line; empty when there is none to speak of.
pub fn recruiterflow_line(rf: Option<&RecruiterflowMatches>, now: DateTime<Utc>) -> String {
    rf.map(|rf| {
        format!(
            "Recruiterflow users: {} from the list read {}, {} matched to a jobrank user by email.",
            rf.stored,
            ago(rf.read_at, now),
            rf.matched
        )
    })
    .unwrap_or_default()
}

/// A user's match among Recruiterflow's users, in words.
fn match_text(rf: &RecruiterflowMatches, user_id: &str) -> String {
    match rf.matches.get(user_id).map(Vec::as_slice) {
        Some([id]) => format!("Recruiterflow: matched (id {id})"),
        Some(ids) if !ids.is_empty() => format!(
            "Recruiterflow: matched (ids {})",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "not found in Recruiterflow".into(),
    }
}

/// The users as listed; `password_for` is (user id, error) of a refused reset.
pub fn user_rows(
    all: &[User],
    session: &Session,
    password_for: Option<&(String, String)>,
    rf: Option<&RecruiterflowMatches>,
) -> Vec<UserRow> {
    all.iter()
        .map(|u| UserRow {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role.label(),
            scores: u.scores,
            active: u.active,
            is_me: u.id == session.user.id,
            password_error: password_for
                .filter(|(id, _)| *id == u.id)
                .map(|(_, m)| m.clone()),
            recruiterflow: rf.map(|rf| match_text(rf, &u.id)).unwrap_or_default(),
        })
        .collect()
}

/// A store error on a user form as a field error, when the user caused it.
fn user_field_error(e: StoreError) -> Result<FieldError> {
    match e {
        StoreError::Invalid(d) => Ok(d.into()),
        StoreError::Conflict(m) => Ok(FieldError {
            field: "email".into(),
            message: m,
        }),
        other => Err(other.into()),
    }
}

/// The admin page refusing a form, with `Retry-After` when the server was too busy
/// with other password work to hash a new password (503, see
/// [`credentials::PasswordChecks`]).
async fn refuse_form(
    state: &AppState,
    session: &Session,
    extras: Extras,
    status: StatusCode,
) -> Result<Response> {
    let res = render_admin(state, session, extras, status).await?;
    Ok(if status == StatusCode::SERVICE_UNAVAILABLE {
        retry_when_passwords_free(res)
    } else {
        res
    })
}

/// The password field's error when no argon2 turn came free.
fn passwords_busy() -> FieldError {
    FieldError {
        field: "password".into(),
        message: PASSWORDS_BUSY.into(),
    }
}

async fn add_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(form): Form<NewUserForm>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let role = Role::parse(&form.role)
        .map_err(|e| errors.push(FieldError::from(e)))
        .ok();
    if let Err(e) = credentials::check_new_password(&form.password) {
        errors.push(e.into());
    }
    let refuse = |errors: Vec<FieldError>, form: NewUserForm, status: StatusCode| {
        let extras = Extras {
            new_user: NewUserForm {
                password: String::new(),
                ..form
            },
            user_errors: errors,
            ..Extras::default()
        };
        refuse_form(&state, &session, extras, status)
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return refuse(errors, form, unprocessable).await;
    };
    let Some(hash) = state.password_checks.hash(form.password.clone()).await? else {
        let busy = StatusCode::SERVICE_UNAVAILABLE;
        return refuse(vec![passwords_busy()], form, busy).await;
    };
    let new = NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        scores: form.scores.is_some(),
        password_hash: hash,
    };
    let actor = Actor::user(&session.user);
    match state
        .store
        .write(move |tx| {
            let now = store::now();
            let u = users::insert_user(tx, &new, now)?;
            let details = audit::new_user_details(&u);
            audit::record_for_user(tx, &actor, Action::UserAdded, &u, &details, now)
        })
        .await
    {
        Ok(_) => Ok(done(Action::UserAdded)),
        Err(e) => {
            let err = user_field_error(e)?;
            refuse(vec![err], form, unprocessable).await
        }
    }
}

/// Refuses an action on the CEO's own account that would lock them out.
fn not_me(session: &Session, id: &str, what: &str) -> Result<()> {
    if session.user.id == id {
        return Err(WebError::Conflict(format!(
            "you cannot {what} your own account; sign in as another CEO to do that"
        )));
    }
    Ok(())
}

async fn deactivate_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response> {
    not_me(&session, &id, "deactivate")?;
    set_active(&state, &session, id, false).await
}

async fn activate_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response> {
    set_active(&state, &session, id, true).await
}

/// Reactivates or deactivates a user, which recomputes every open job's rank and (by the store)
/// revokes their API tokens either way; deactivating also ends their sessions.
async fn set_active(
    state: &AppState,
    session: &Session,
    id: String,
    active: bool,
) -> Result<Response> {
    let action = if active {
        Action::UserReactivated
    } else {
        Action::UserDeactivated
    };
    record_act(state, session, action, move |tx, now| {
        let tokens = audit::count(api_tokens::count_unrevoked(tx, &id)?, "API token");
        let u = commands::set_user_active(tx, &id, active, now)?.into_result();
        let details = if active {
            format!("their earlier API tokens stay revoked ({tokens} revoked now)")
        } else {
            let ended = sessions::delete_sessions_of_user(tx, &id)?;
            format!(
                "{} ended, {tokens} revoked",
                audit::count(ended as i64, "session")
            )
        };
        Ok((audit::describe_user(&u), details))
    })
    .await
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let uid = id.clone();
    if state
        .store
        .read(move |c| users::find_user(c, &uid))
        .await?
        .is_none()
    {
        return Err(WebError::NotFound(format!("user {id}")));
    }
    let refuse = |error: FieldError, status: StatusCode| {
        let extras = Extras {
            password_for: Some((id.clone(), error.message.clone())),
            user_errors: vec![error],
            ..Extras::default()
        };
        refuse_form(&state, &session, extras, status)
    };
    if let Err(e) = credentials::check_new_password(&form.password) {
        return refuse(e.into(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Some(hash) = state.password_checks.hash(form.password).await? else {
        return refuse(passwords_busy(), StatusCode::SERVICE_UNAVAILABLE).await;
    };
    // Every other session of the user ends; the CEO's own stays when it is theirs.
    let me = session.user.id == id;
    let keep = me.then(|| session.id_hash().to_string());
    record_act(&state, &session, Action::PasswordReset, move |tx, now| {
        let u = commands::reset_password(tx, &id, &hash, now, keep.as_deref())?;
        let details = if me {
            "password changed; their other sessions ended"
        } else {
            "password changed; their sessions ended"
        };
        Ok((audit::describe_user(&u), details.to_string()))
    })
    .await
}

#[derive(Deserialize)]
struct ScoresForm {
    #[serde(default)]
    scores: String,
}

async fn set_scores(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
    Form(form): Form<ScoresForm>,
) -> Result<Response> {
    let scores = match form.scores.as_str() {
        "1" | "yes" | "true" | "on" => true,
        "0" | "no" | "false" | "off" => false,
        other => {
            return Err(WebError::field(
                "scores",
                format!("scores must be 1 or 0, got {other:?}"),
            ));
        }
    };
    record_act(&state, &session, Action::ScoringChanged, move |tx, now| {
        let before = users::find_user(tx, &id)?.map(|u| u.scores);
        let u = commands::set_user_scores(tx, &id, scores, now)?.into_result();
        let details = match (before, scores) {
            (Some(b), s) if b == s => "unchanged",
            (_, true) => "now scores jobs",
            (_, false) => "no longer scores jobs",
        };
        Ok((audit::describe_user(&u), details.to_string()))
    })
    .await
}
