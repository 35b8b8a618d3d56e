//! Commands on the team: who is active and who scores decide whose submissions count,
//! so both recompute every open job's rank (closed jobs keep the rank they closed
//! with); a password reset ends the user's other sessions.

use chrono::{DateTime, Utc};

use super::Outcome;
use super::rerank::Reranker;
use crate::store::users::{self, User};
use crate::store::{Result, Tx, password_resets, sessions};

/// Activates or deactivates a user and recomputes every open job's rank: a deactivated
/// scorer's submissions stop counting, a reactivated one's count again. (The store
/// revokes the user's API tokens either way, by trigger.)
pub fn set_user_active(
    tx: &Tx<'_>,
    id: &str,
    active: bool,
    at: DateTime<Utc>,
) -> Result<Outcome<User>> {
    rerank_after(tx, users::set_active(tx, id, active, at)?, at)
}

/// Switches a user's scoring on or off and recomputes every open job's rank.
pub fn set_user_scores(
    tx: &Tx<'_>,
    id: &str,
    scores: bool,
    at: DateTime<Utc>,
) -> Result<Outcome<User>> {
    rerank_after(tx, users::set_scores(tx, id, scores, at)?, at)
}

/// Recomputes every open job's rank after a change to `user` decided whose submissions
/// count (the ranks stored until now are the "before").
fn rerank_after(tx: &Tx<'_>, user: User, at: DateTime<Utc>) -> Result<Outcome<User>> {
    let mut rerank = Reranker::new(tx, at)?;
    rerank.all(tx)?;
    rerank.outcome(tx, user)
}

/// Sets a user's password hash and ends every session of theirs except `keep_session`
/// (the id hash of the session making the change, when it is theirs): whoever resets a
/// password, and however (admin page, `jobrank user set-password`, "My settings", a
/// reset link), the other devices are signed out, and every reset link of theirs ends.
/// Changes no rank.
pub fn reset_password(
    tx: &Tx<'_>,
    id: &str,
    hash: &str,
    at: DateTime<Utc>,
    keep_session: Option<&str>,
) -> Result<User> {
    let user = users::set_password_hash(tx, id, hash, at)?;
    password_resets::delete_resets_of_user(tx, id)?;
    match keep_session {
        Some(keep) => sessions::delete_other_sessions_of_user(tx, id, keep)?,
        None => sessions::delete_sessions_of_user(tx, id)?,
    };
    Ok(user)
}
