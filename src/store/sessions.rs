//! Sign-in sessions and sign-in attempts. A session is stored under the SHA-256 of its
//! cookie value (the value itself is never stored), with its CSRF token and expiry.
//! Attempts are kept briefly, to throttle password guessing per account and address.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::users::User;
use super::{Result, Tx, col_ts, ts};

/// A stored session with its (active) user.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub id_hash: String,
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute expiry, whatever the activity.
    pub expires_at: DateTime<Utc>,
}

/// Stores a new session.
pub fn insert_session(
    tx: &Tx<'_>,
    id_hash: &str,
    user_id: &str,
    csrf_token: &str,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        (id_hash, user_id, csrf_token, ts(&at), ts(&expires_at)),
    )?;
    Ok(())
}

/// The session with this id hash, when its user is still active. Expiry is the
/// caller's rule (see `web::auth`).
pub fn find_session(conn: &Connection, id_hash: &str) -> Result<Option<StoredSession>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.id_hash, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
                    u.id, u.email, u.name, u.role, u.scores, u.active, u.created_at, u.updated_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = ?1 AND u.active = 1",
        )?
        .query_row([id_hash], |r| {
            let role: String = r.get(8)?;
            Ok(StoredSession {
                id_hash: r.get(0)?,
                csrf_token: r.get(1)?,
                created_at: col_ts(r, 2)?,
                last_seen_at: col_ts(r, 3)?,
                expires_at: col_ts(r, 4)?,
                user: User {
                    id: r.get(5)?,
                    email: r.get(6)?,
                    name: r.get(7)?,
                    role: crate::domain::Role::parse(&role).unwrap_or(crate::domain::Role::Other),
                    scores: r.get(9)?,
                    active: r.get(10)?,
                    created_at: col_ts(r, 11)?,
                    updated_at: col_ts(r, 12)?,
                },
            })
        })
        .optional()?)
}

/// Records activity on a session (for the idle expiry).
pub fn touch_session(tx: &Tx<'_>, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
        (id_hash, ts(&at)),
    )?;
    Ok(())
}

/// Ends a session (sign-out, expiry, rotation).
pub fn delete_session(tx: &Tx<'_>, id_hash: &str) -> Result<()> {
    tx.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

/// Ends every session of a user (deactivation, password reset).
pub fn delete_sessions_of_user(tx: &Tx<'_>, user_id: &str) -> Result<usize> {
    Ok(tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?)
}

/// Ends every session of a user except `keep` (the id hash of the session making a
/// change, which stays signed in).
pub fn delete_other_sessions_of_user(tx: &Tx<'_>, user_id: &str, keep: &str) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id_hash <> ?2",
        [user_id, keep],
    )?)
}

/// Removes sessions past their absolute expiry or idle since before `idle_before`.
pub fn delete_expired_sessions(
    tx: &Tx<'_>,
    now: DateTime<Utc>,
    idle_before: DateTime<Utc>,
) -> Result<usize> {
    Ok(tx.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
        (ts(&now), ts(&idle_before)),
    )?)
}

/// Limits of failed sign-in attempts within a window, for [`reserve_login_attempt`].
#[derive(Debug, Clone, Copy)]
pub struct AttemptLimits {
    /// Failures counted from this time on.
    pub since: DateTime<Utc>,
    pub per_email: i64,
    pub per_address: i64,
}

/// Reserves a sign-in attempt when the throttle allows one: counts the failed attempts
/// for this email and from this address since `limits.since` and, when both are under
/// their limits, records this attempt as failed, all in the caller's write transaction.
/// Returns the attempt's id, or `None` when throttled (nothing is written then).
///
/// The store has one writer, so the count and the reservation are atomic with respect to
/// every other sign-in: of many simultaneous guesses at one account only the limit's worth
/// get a reservation, and so a password check. The attempt counts as a failure until
/// [`mark_login_attempt_succeeded`]; a crash in between leaves a failure, never a gap.
pub fn reserve_login_attempt(
    tx: &Tx<'_>,
    email: &str,
    client_ip: &str,
    at: DateTime<Utc>,
    limits: AttemptLimits,
) -> Result<Option<i64>> {
    let (by_email, by_ip) = count_failed_attempts(tx, email, client_ip, limits.since)?;
    if by_email >= limits.per_email || by_ip >= limits.per_address {
        return Ok(None);
    }
    tx.execute(
        "INSERT INTO login_attempts (email, client_ip, at, succeeded) VALUES (?1, ?2, ?3, 0)",
        (email.trim(), client_ip, ts(&at)),
    )?;
    Ok(Some(tx.last_insert_rowid()))
}

/// Records that a reserved attempt signed in.
pub fn mark_login_attempt_succeeded(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.execute(
        "UPDATE login_attempts SET succeeded = 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Withdraws a reserved attempt whose password was never checked (the server was too
/// busy): it must not count against the user.
pub fn delete_login_attempt(tx: &Tx<'_>, id: i64) -> Result<()> {
    tx.execute("DELETE FROM login_attempts WHERE id = ?1", [id])?;
    Ok(())
}

/// Forgets attempts older than `before`.
pub fn forget_login_attempts(tx: &Tx<'_>, before: DateTime<Utc>) -> Result<()> {
    tx.execute("DELETE FROM login_attempts WHERE at < ?1", [ts(&before)])?;
    Ok(())
}

/// Failed sign-in attempts since `since`: (for this email, from this address).
pub fn count_failed_attempts(
    conn: &Connection,
    email: &str,
    client_ip: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64)> {
    let since = ts(&since);
    let by_email: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM login_attempts WHERE email = ?1 AND at >= ?2 AND succeeded = 0",
        )?
        .query_row((email.trim(), &since), |r| r.get(0))?;
    let by_ip: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM login_attempts WHERE client_ip = ?1 AND at >= ?2 AND succeeded = 0",
        )?
        .query_row((client_ip, &since), |r| r.get(0))?;
    Ok((by_email, by_ip))
}
