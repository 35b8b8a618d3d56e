//! The audit log: who did which administrative act (a user added, deactivated or
//! reactivated, who scores changed, a password reset, an API token created or
//! revoked, scoring settings saved, a dead letter retried (a webhook event or a rank
//! write-back), a sync started), when, on what, and what changed, in words. Never a
//! secret: no password, hash or token.
//!
//! Each act is recorded in the write transaction that does it, so there is no act
//! without its record and no record of an act that was refused. The log is local
//! (not replicated: each replica records the acts done on it) and lives in the store,
//! so the backups keep it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::users::User;
use super::{Result, Tx, col_ts, query_all, ts};

/// Who did an administrative act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in jobrank user.
    User {
        id: String,
        name: String,
        email: String,
    },
    /// Someone at the server's command line, named by their unix account (and the
    /// account that ran `sudo`, when there is one).
    CommandLine { unix_user: String },
}

impl Actor {
    /// A signed-in user.
    pub fn user(u: &User) -> Actor {
        Actor::User {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }

    /// The jobrank user, when the actor is one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::CommandLine { .. } => None,
        }
    }

    /// The actor as pages show it: "Claire Dupont <claire@agency.example>" or
    /// "command line (unix user root)".
    pub fn describe(&self) -> String {
        match self {
            Actor::User { name, email, .. } => format!("{name} <{email}>"),
            Actor::CommandLine { unix_user } => format!("command line (unix user {unix_user})"),
        }
    }
}

/// A user as the log names them: "Priya Shah <priya@agency.example>".
pub fn describe_user(u: &User) -> String {
    format!("{} <{}>", u.name, u.email)
}

/// The details of a new user's entry: "role Sales person, scores jobs".
pub fn new_user_details(u: &User) -> String {
    format!(
        "role {}, {}",
        u.role.label(),
        if u.scores {
            "scores jobs"
        } else {
            "does not score"
        }
    )
}

/// "1 session", "2 sessions": a count in words for the details of an entry.
pub fn count(n: i64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The administrative acts the log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    UserAdded,
    UserDeactivated,
    UserReactivated,
    /// Whether a user scores jobs.
    ScoringChanged,
    PasswordReset,
    TokenCreated,
    TokenRevoked,
    /// Scoring settings saved as a new version.
    SettingsSaved,
    /// A webhook event in the dead letters queued again.
    DeadLetterRetried,
    /// A rank write-back to Recruiterflow in the dead letters queued again.
    WriteBackRetried,
    /// A full Recruiterflow sync started by hand ("Refresh now", `jobrank sync`).
    SyncStarted,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::UserAdded,
        Action::UserDeactivated,
        Action::UserReactivated,
        Action::ScoringChanged,
        Action::PasswordReset,
        Action::TokenCreated,
        Action::TokenRevoked,
        Action::SettingsSaved,
        Action::DeadLetterRetried,
        Action::WriteBackRetried,
        Action::SyncStarted,
    ];

    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserAdded => "user_added",
            Action::UserDeactivated => "user_deactivated",
            Action::UserReactivated => "user_reactivated",
            Action::ScoringChanged => "scoring_changed",
            Action::PasswordReset => "password_reset",
            Action::TokenCreated => "token_created",
            Action::TokenRevoked => "token_revoked",
            Action::SettingsSaved => "settings_saved",
            Action::DeadLetterRetried => "dead_letter_retried",
            Action::WriteBackRetried => "write_back_retried",
            Action::SyncStarted => "sync_started",
        }
    }

    /// The act in words, as the admin page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Action::UserAdded => "User added",
            Action::UserDeactivated => "User deactivated",
            Action::UserReactivated => "User reactivated",
            Action::ScoringChanged => "Scoring changed",
            Action::PasswordReset => "Password reset",
            Action::TokenCreated => "API token created",
            Action::TokenRevoked => "API token revoked",
            Action::SettingsSaved => "Settings saved",
            Action::DeadLetterRetried => "Dead letter retried",
            Action::WriteBackRetried => "Rank write-back retried",
            Action::SyncStarted => "Sync started",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One act as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who, as [`Actor::describe`] put it at the time.
    pub actor: String,
    pub actor_user_id: Option<String>,
    /// The stored action name (see [`Action::parse`]).
    pub action: String,
    pub target: String,
    pub details: String,
}

impl Entry {
    /// The act in words ("User added"); the stored name for one this binary does not
    /// know (written by a newer version).
    pub fn label(&self) -> &str {
        match Action::parse(&self.action) {
            Some(a) => a.label(),
            None => &self.action,
        }
    }
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: col_ts(r, 1)?,
        actor: r.get(2)?,
        actor_user_id: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        details: r.get(6)?,
    })
}

/// Records an act on a user, named as [`describe_user`] names them.
pub fn record_for_user(
    tx: &Tx<'_>,
    by: &Actor,
    action: Action,
    user: &User,
    details: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    record(tx, by, action, &describe_user(user), details, at)
}

/// Records an act in the transaction that does it. `target` and `details` are words
/// for people and must never hold a secret.
pub fn record(
    tx: &Tx<'_>,
    by: &Actor,
    action: Action,
    target: &str,
    details: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, actor_user_id, action, target, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        ts(&at),
        by.describe(),
        by.user_id(),
        action.as_str(),
        target,
        details,
    ))?;
    Ok(())
}

/// Up to `limit` entries, newest first, older than the entry `before` when given.
pub fn list_entries(conn: &Connection, before: Option<i64>, limit: i64) -> Result<Vec<Entry>> {
    query_all(
        conn,
        "SELECT id, at, actor, actor_user_id, action, target, details FROM audit_log
         WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        (before.unwrap_or(i64::MAX), limit),
        from_row,
    )
}

/// Whether there are entries older than the entry `id`.
pub fn has_entries_before(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM audit_log WHERE id < ?1)")?
        .query_row([id], |r| r.get(0))?)
}
