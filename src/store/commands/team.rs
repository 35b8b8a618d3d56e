//! Commands on the team: who is active and who scores decide whose submissions count,
//! so both recompute every rank; a password reset ends the user's other sessions.

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::store::users::{self, User};
use crate::store::{Result, Tx, sessions};

/// Activates or deactivates a user and recomputes every job's rank: a deactivated
/// scorer's submissions stop counting, a reactivated one's count again. (The store
/// revokes the user's API tokens either way, by trigger.)
pub fn set_user_active(
    tx: &Tx<'_>,
    id: &str,
    active: bool,
    at: DateTime<Utc>,
) -> Result<Outcome<User>> {
    rerank_after(tx, users::set_active(tx, id, active, at)?)
}

/// Switches a user's scoring on or off and recomputes every job's rank.
pub fn set_user_scores(
    tx: &Tx<'_>,
    id: &str,
    scores: bool,
    at: DateTime<Utc>,
) -> Result<Outcome<User>> {
    rerank_after(tx, users::set_scores(tx, id, scores, at)?)
}

/// Recomputes every job's rank after a change to `user` decided whose submissions
/// count (the ranks stored until now are the "before").
fn rerank_after(tx: &Tx<'_>, user: User) -> Result<Outcome<User>> {
    let mut rerank = Reranker::new(tx)?;
    rerank.all(tx)?;
    rerank.outcome(tx, user)
}

/// Sets a user's password hash and ends every session of theirs except `keep_session`
/// (the id hash of the session making the change, when it is theirs): whoever resets a
/// password, and however (admin page, `jobrank user set-password`), the other devices
/// are signed out. Changes no rank.
pub fn reset_password(
    tx: &Tx<'_>,
    id: &str,
    hash: &str,
    at: DateTime<Utc>,
    keep_session: Option<&str>,
) -> Result<User> {
    let user = users::set_password_hash(tx, id, hash, at)?;
    match keep_session {
        Some(keep) => sessions::delete_other_sessions_of_user(tx, id, keep)?,
        None => sessions::delete_sessions_of_user(tx, id)?,
    };
    Ok(user)
}
