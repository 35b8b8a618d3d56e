//! One-time keys (`idempotency_keys`, local): the scoring form's key and the API's
//! `Idempotency-Key`, each recorded with the submission it produced and the answer
//! given, so a repeated request gets the first answer and stores nothing.
//!
//! The check and the record belong in the same write transaction as the submission
//! (the single writer serializes them), so two requests with one key sent at once
//! still store one submission.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{Result, Tx, ts};

/// How long a key is remembered; older keys are removed as new ones are recorded.
pub const KEEP: Duration = Duration::days(30);

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// What a key was used for: each has its own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The scoring form and its confirmation page.
    ScoreForm,
    /// `POST /api/scores` with an `Idempotency-Key` header.
    ApiScore,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::ScoreForm => "score_form",
            Purpose::ApiScore => "api_score",
        }
    }
}

/// A key already used, with what it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedKey {
    pub submission_id: String,
    /// The first request's answer, as JSON.
    pub answer: String,
    /// The SHA-256 of the first request's body, when recorded (the API).
    pub fingerprint: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Whether a key is acceptable: 1 to [`MAX_KEY_LEN`] printable ASCII characters, no
/// spaces (what a random token, a UUID or a client's own scheme looks like).
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The user's use of a key, if it was used (and is still remembered).
pub fn find_used_key(
    conn: &Connection,
    user_id: &str,
    purpose: Purpose,
    key: &str,
) -> Result<Option<UsedKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT submission_id, answer, fingerprint, created_at FROM idempotency_keys
             WHERE user_id = ?1 AND purpose = ?2 AND key = ?3",
        )?
        .query_row(rusqlite::params![user_id, purpose.as_str(), key], |r| {
            Ok(UsedKey {
                submission_id: r.get(0)?,
                answer: r.get(1)?,
                fingerprint: r.get(2)?,
                created_at: super::col_ts(r, 3)?,
            })
        })
        .optional()?)
}

/// Records that the user's key produced this submission and answer, and forgets keys
/// older than [`KEEP`]. The caller has checked with [`find_used_key`] in the same
/// transaction that the key is new.
#[allow(clippy::too_many_arguments)]
pub fn record_used_key(
    tx: &Tx<'_>,
    user_id: &str,
    purpose: Purpose,
    key: &str,
    fingerprint: Option<&str>,
    submission_id: &str,
    answer: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?
        .execute([ts(&(at - KEEP))])?;
    tx.prepare_cached(
        "INSERT INTO idempotency_keys (user_id, purpose, key, fingerprint, submission_id, answer, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(rusqlite::params![
        user_id,
        purpose.as_str(),
        key,
        fingerprint,
        submission_id,
        answer,
        ts(&at)
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::store::Store;
    use crate::store::test_support;
    use crate::store::users::User;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + day * 86_400, 0).unwrap()
    }

    fn user(store: &Store, name: &str) -> User {
        test_support::add_user(store, name, Role::AccountManager, at(0))
    }

    #[test]
    fn keys_are_each_users_own_per_purpose_and_forgotten_after_thirty_days() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (tom, ann) = (user(&store, "tom"), user(&store, "ann"));
        let record = |u: &User, purpose, key: &str, day| {
            store
                .write_blocking(|tx| {
                    record_used_key(tx, &u.id, purpose, key, None, "sub-1", "{}", at(day))
                })
                .unwrap()
        };
        let find = |u: &User, purpose, key: &str| {
            store
                .read_blocking(|c| find_used_key(c, &u.id, purpose, key))
                .unwrap()
        };
        record(&tom, Purpose::ScoreForm, "k1", 0);
        let used = find(&tom, Purpose::ScoreForm, "k1").expect("recorded");
        assert_eq!(
            (used.submission_id.as_str(), used.answer.as_str()),
            ("sub-1", "{}")
        );
        assert_eq!(used.created_at, at(0));
        assert_eq!(
            find(&ann, Purpose::ScoreForm, "k1"),
            None,
            "another user's key"
        );
        assert_eq!(find(&tom, Purpose::ApiScore, "k1"), None, "another purpose");
        // The same key again in the same purpose is refused by the table.
        let again = store.write_blocking(|tx| {
            record_used_key(
                tx,
                &tom.id,
                Purpose::ScoreForm,
                "k1",
                None,
                "s",
                "{}",
                at(1),
            )
        });
        assert!(again.is_err());
        // Recording a key 30 days and a moment later forgets the old one.
        record(&ann, Purpose::ApiScore, "k2", 30);
        assert!(
            find(&tom, Purpose::ScoreForm, "k1").is_some(),
            "exactly 30 days: kept"
        );
        record(&ann, Purpose::ApiScore, "k3", 31);
        assert_eq!(find(&tom, Purpose::ScoreForm, "k1"), None);
        assert!(find(&ann, Purpose::ApiScore, "k2").is_some());
    }

    #[test]
    fn a_key_is_printable_ascii_without_spaces() {
        assert!(is_valid_key("0f3a-UUID_like.key:1"));
        assert!(is_valid_key(&"k".repeat(MAX_KEY_LEN)));
        for bad in [
            "",
            "has space",
            "tab\there",
            "é",
            &"k".repeat(MAX_KEY_LEN + 1),
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }
}
