//! "Forgot password": single-use reset links and the throttle on asking for them.
//!
//! A link carries a random token; the store keeps only its SHA-256
//! ([`crate::credentials::hash_token`]), when it expires and when it was used. A new
//! link for a user ends the links sent before it, using one ends every link of the
//! user, and so does any change of their password (`commands::reset_password`).
//!
//! Requests are throttled like sign-in (per typed address, whether or not a user has
//! it, and per client address within a window), counted and recorded in one step of
//! the caller's write transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::sessions::AttemptLimits;
use super::{Result, Tx, query_opt, ts};

/// Records a new link for `user_id`, valid until `expires_at`, and ends the links sent
/// to them before.
pub fn issue_reset(
    tx: &Tx<'_>,
    user_id: &str,
    token_hash: &str,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    delete_resets_of_user(tx, user_id)?;
    tx.prepare_cached(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute((token_hash, user_id, ts(&at), ts(&expires_at)))?;
    Ok(())
}

/// The user a link is for, while it is unused and not expired at `now`.
pub fn find_valid_reset(
    conn: &Connection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    query_opt(
        conn,
        "SELECT user_id FROM password_resets
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        (token_hash, ts(&now)),
        |r| r.get(0),
    )
}

/// Uses a link: marks it used when it is unused and not expired at `now`, and returns
/// the user it is for; `None` for a link that is unknown, used or expired. In the
/// caller's transaction, so two uses of one link never both succeed.
pub fn use_reset(tx: &Tx<'_>, token_hash: &str, now: DateTime<Utc>) -> Result<Option<String>> {
    query_opt(
        tx,
        "UPDATE password_resets SET used_at = ?2
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
         RETURNING user_id",
        (token_hash, ts(&now)),
        |r| r.get(0),
    )
}

/// Ends every link of a user (their password changed, or a new link was sent).
pub fn delete_resets_of_user(tx: &Tx<'_>, user_id: &str) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM password_resets WHERE user_id = ?1")?
        .execute([user_id])?)
}

/// Counts the requests for this address and from this client since `limits.since`
/// and, when both are under their limits, records this one; all in the caller's write
/// transaction. Returns whether the request may go on. Every request counts, whether
/// or not a user has the address, so the throttle says nothing about who exists.
pub fn reserve_reset_request(
    tx: &Tx<'_>,
    email: &str,
    client_ip: &str,
    at: DateTime<Utc>,
    limits: AttemptLimits,
) -> Result<bool> {
    tx.prepare_cached("DELETE FROM reset_requests WHERE at < ?1")?
        .execute([ts(&(at - chrono::Duration::days(1)))])?;
    let (by_email, by_ip) = count_reset_requests(tx, email, client_ip, limits.since)?;
    if by_email >= limits.per_email || by_ip >= limits.per_address {
        return Ok(false);
    }
    tx.prepare_cached("INSERT INTO reset_requests (email, client_ip, at) VALUES (?1, ?2, ?3)")?
        .execute((email.trim(), client_ip, ts(&at)))?;
    Ok(true)
}

/// Requests since `since`: (for this address, from this client).
pub fn count_reset_requests(
    conn: &Connection,
    email: &str,
    client_ip: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64)> {
    let since = ts(&since);
    let by_email: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM reset_requests WHERE email = ?1 AND at >= ?2")?
        .query_row((email.trim(), &since), |r| r.get(0))?;
    let by_ip: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM reset_requests WHERE client_ip = ?1 AND at >= ?2")?
        .query_row((client_ip, &since), |r| r.get(0))?;
    Ok((by_email, by_ip))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::Role;
    use crate::store::Store;
    use crate::store::users::{self, NewUser};

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    #[test]
    fn a_link_works_once_before_it_expires_and_a_new_one_ends_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let new = NewUser {
            email: "tom@agency.example".into(),
            name: "Tom".into(),
            role: Role::AccountManager,
            scores: true,
            password_hash: "x".into(),
        };
        let tom = store
            .write_blocking(|tx| users::insert_user(tx, &new, at(0)))
            .unwrap();
        let issue = |hash: &str, now: i64| {
            store
                .write_blocking(|tx| issue_reset(tx, &tom.id, hash, at(now), at(now + 30)))
                .unwrap()
        };
        let valid = |hash: &str, now: i64| {
            store
                .read_blocking(|c| find_valid_reset(c, hash, at(now)))
                .unwrap()
        };
        issue("first", 0);
        assert_eq!(valid("first", 29).as_deref(), Some(tom.id.as_str()));
        assert_eq!(valid("first", 30), None, "expired at 30 minutes");
        issue("second", 10);
        assert_eq!(valid("first", 11), None, "the new link ends the last");
        let used = store
            .write_blocking(|tx| use_reset(tx, "second", at(12)))
            .unwrap();
        assert_eq!(used.as_deref(), Some(tom.id.as_str()));
        assert_eq!(
            store
                .write_blocking(|tx| use_reset(tx, "second", at(13)))
                .unwrap(),
            None,
            "once"
        );
        issue("third", 20);
        assert_eq!(
            store
                .write_blocking(|tx| use_reset(tx, "third", at(50)))
                .unwrap(),
            None,
            "too late"
        );
    }

    #[test]
    fn requests_are_counted_per_address_and_per_client_within_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let limits = |now: i64| AttemptLimits {
            since: at(now) - Duration::minutes(15),
            per_email: 2,
            per_address: 3,
        };
        let ask = |email: &str, ip: &str, now: i64| {
            store
                .write_blocking(|tx| reserve_reset_request(tx, email, ip, at(now), limits(now)))
                .unwrap()
        };
        assert!(ask("tom@agency.example", "10.0.0.1", 0));
        assert!(ask("TOM@agency.example", "10.0.0.2", 1));
        assert!(!ask("tom@agency.example", "10.0.0.3", 2), "two per address");
        assert!(ask("a@agency.example", "10.0.0.9", 2));
        assert!(ask("b@agency.example", "10.0.0.9", 2));
        assert!(ask("c@agency.example", "10.0.0.9", 2));
        assert!(!ask("d@agency.example", "10.0.0.9", 2), "three per client");
        assert!(
            ask("tom@agency.example", "10.0.0.3", 16),
            "the window moved on"
        );
    }
}
