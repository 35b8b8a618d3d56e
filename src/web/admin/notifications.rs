//! Notifications on the admin page: whether email and Slack are set up, when the
//! digest goes out, the queue's state, who receives what (each user's digest and
//! alerts by email, after their own choices on "My settings"), and the messages that
//! could not be sent (dead letters) with a Retry button, recorded in the audit log.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use chrono::{DateTime, Duration, Utc};

use crate::domain::Role;
use crate::mail::Security;
use crate::store::audit::{self, Action, Actor};
use crate::store::notification_prefs::{self, Prefs};
use crate::store::notifications::{self, Channel, Message};
use crate::store::users::User;
use crate::store::{self, users};
use crate::web::auth::RequireCeo;
use crate::web::pages::ago;
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/messages/{id}/retry", post(retry_message))
}

/// How many dead letters the page lists.
const DEAD_SHOWN: i64 = 20;

/// What the page shows of notifications, read with the rest of the page.
pub struct Stored {
    prefs: HashMap<String, Prefs>,
    /// Waiting, sent in the last 7 days, dead letters.
    counts: (i64, i64, i64),
    dead: Vec<Message>,
    last_digest: Option<(chrono::NaiveDate, DateTime<Utc>)>,
}

impl Stored {
    pub fn read(c: &rusqlite::Connection, now: DateTime<Utc>) -> store::Result<Stored> {
        let last_digest: Option<(String, String)> = c
            .prepare_cached("SELECT week, made_at FROM digests ORDER BY week DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ok();
        Ok(Stored {
            prefs: notification_prefs::list_prefs(c)?,
            counts: notifications::count_messages(c, now - Duration::days(7))?,
            dead: notifications::list_dead_messages(c, DEAD_SHOWN)?,
            last_digest: last_digest
                .and_then(|(week, at)| Some((week.parse().ok()?, store::parse_ts(&at).ok()?))),
        })
    }
}

/// Who receives what, one user per row.
pub struct Receives {
    pub name: String,
    pub digest: String,
    pub alerts: String,
}

/// One dead letter in the list.
pub struct DeadMessage {
    pub id: i64,
    pub what: String,
    pub to: String,
    pub made: String,
    pub attempts: i64,
    pub error: String,
    /// Whether Retry is offered (not for a reset link, which has expired).
    pub retry: bool,
}

/// The notifications part of the page.
pub struct View {
    pub email: String,
    pub slack: String,
    pub digest: String,
    pub queue: String,
    pub people: Vec<Receives>,
    pub dead: Vec<DeadMessage>,
}

fn count(n: i64, what: &str) -> String {
    audit::count(n, what)
}

pub fn view(state: &AppState, stored: Stored, people: &[User], now: DateTime<Utc>) -> View {
    let channels = state.notifier.as_ref().map(|n| n.channels());
    let email_on = channels.is_some_and(|c| c.email_on());
    let email = match channels.and_then(|c| c.mailer()) {
        Some(m) => {
            let e = m.endpoint();
            let how = match e.security {
                Security::ImplicitTls => "over TLS",
                Security::StartTls => "with STARTTLS",
                Security::Plain => "in plain text on this machine",
            };
            format!(
                "Email: on, through {} {how}, from {}.",
                e.server(),
                state.config.notify.mail_from.as_deref().unwrap_or("")
            )
        }
        None => {
            "Email: off (JOBRANK_SMTP_URL is not set), so nobody gets email from jobrank.".into()
        }
    };
    let slack = if channels.is_some_and(|c| c.slack_on()) {
        "Slack: on; the team's channel gets one post per weekly digest and per alert batch.".into()
    } else {
        "Slack: off (JOBRANK_SLACK_WEBHOOK_URL is not set).".into()
    };
    let at = state.config.notify.digest_at;
    let mut digest = format!(
        "Weekly digest: every {} (the server's local time)",
        at.in_words()
    );
    match stored.last_digest {
        Some((week, made)) => {
            digest += &format!(
                "; the latest, for the week of {}, was made {}.",
                crate::notify::compose::day(week),
                ago(made, now)
            )
        }
        None => digest += "; none was made yet.",
    }
    let (waiting, sent, dead) = stored.counts;
    let queue = format!(
        "Messages: {} waiting, {} sent in the last 7 days, {}.",
        waiting,
        sent,
        count(dead, "dead letter")
    );
    let people_rows = people
        .iter()
        .map(|u| {
            receives(
                u,
                stored.prefs.get(&u.id).copied().unwrap_or_default(),
                email_on,
            )
        })
        .collect();
    let names: HashMap<&str, &User> = people.iter().map(|u| (u.id.as_str(), u)).collect();
    let dead_rows = stored
        .dead
        .iter()
        .map(|m| DeadMessage {
            id: m.id,
            what: format!("{} by {}", capitalised(m.kind.label()), m.channel.as_str()),
            to: match m.channel {
                Channel::Slack => "the team's Slack channel".into(),
                Channel::Email => names
                    .get(m.recipient.as_str())
                    .map_or_else(|| "a former user".into(), |u| audit::describe_user(u)),
            },
            made: ago(m.created_at, now),
            attempts: m.attempts,
            error: m.last_error.clone().unwrap_or_default(),
            retry: m.kind != notifications::Kind::PasswordReset,
        })
        .collect();
    View {
        email,
        slack,
        digest,
        queue,
        people: people_rows,
        dead: dead_rows,
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// What `u` receives by email, in words.
fn receives(u: &User, prefs: Prefs, email_on: bool) -> Receives {
    let name = u.name.clone();
    if !u.active {
        let no = "No: deactivated".to_string();
        return Receives {
            name,
            digest: no.clone(),
            alerts: no,
        };
    }
    if !email_on {
        let no = "No: email is not set up".to_string();
        return Receives {
            name,
            digest: no.clone(),
            alerts: no,
        };
    }
    let ceo = u.role == Role::Ceo;
    let digest = match (prefs.digest_email, u.scores, ceo) {
        (false, ..) => "No: switched off".into(),
        (true, true, true) => "Yes: jobs to score, participation and rank changes".into(),
        (true, false, true) => "Yes: participation and rank changes".into(),
        (true, true, false) => "Yes: jobs to score, when there are any".into(),
        (true, false, false) => "No: does not score".into(),
    };
    let alerts = match (prefs.alerts_email, ceo, u.scores) {
        (false, ..) => "No: switched off".into(),
        (true, true, _) => "Yes: every job".into(),
        (true, false, true) => {
            "Yes: jobs of their hiring teams, and jobs whose hiring team has nobody on jobrank"
                .into()
        }
        (true, false, false) => "Yes: jobs of their hiring teams".into(),
    };
    Receives {
        name,
        digest,
        alerts,
    }
}

async fn retry_message(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(raw): Path<String>,
) -> Result<Response> {
    let id = raw
        .parse::<i64>()
        .map_err(|_| WebError::BadRequest(format!("{raw:?} is not a message id")))?;
    let actor = Actor::user(&session.user);
    let now = state.clock.now();
    state
        .store
        .write(move |tx| {
            let m = notifications::retry_dead_message(tx, id, now)?;
            let to = match m.channel {
                Channel::Slack => "the team's Slack channel".to_string(),
                Channel::Email => users::find_user(tx, &m.recipient)?
                    .map_or_else(|| "a former user".into(), |u| u.name),
            };
            audit::record(
                tx,
                &actor,
                Action::DeadLetterRetried,
                &format!(
                    "message {id} ({} by {} to {to})",
                    m.kind.label(),
                    m.channel.as_str()
                ),
                &format!(
                    "queued again after {}",
                    audit::count(m.attempts, "failed attempt")
                ),
                now,
            )
        })
        .await?;
    if let Some(n) = &state.notifier {
        n.wake_sender();
    }
    let mut res = Redirect::to("/admin?done=message").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    Ok(res)
}
