//! Each user's notification choices, set on "My settings" (`/me`): whether they get
//! the weekly digest and alerts by email. A user who never chose gets both. Local to
//! the replica (not replicated), like the messages they govern.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Result, Tx, query_all, query_opt, ts};

/// What a user receives by email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    pub digest_email: bool,
    pub alerts_email: bool,
}

impl Default for Prefs {
    /// Both on: the team is told unless they switch it off.
    fn default() -> Self {
        Prefs {
            digest_email: true,
            alerts_email: true,
        }
    }
}

/// A user's choices (both on when they never chose).
pub fn find_prefs(conn: &Connection, user_id: &str) -> Result<Prefs> {
    Ok(query_opt(
        conn,
        "SELECT digest_email, alerts_email FROM notification_prefs WHERE user_id = ?1",
        [user_id],
        |r| {
            Ok(Prefs {
                digest_email: r.get(0)?,
                alerts_email: r.get(1)?,
            })
        },
    )?
    .unwrap_or_default())
}

/// Every user's choices, by user id; users who never chose are absent (both on).
pub fn list_prefs(conn: &Connection) -> Result<std::collections::HashMap<String, Prefs>> {
    Ok(query_all(
        conn,
        "SELECT user_id, digest_email, alerts_email FROM notification_prefs",
        [],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                Prefs {
                    digest_email: r.get(1)?,
                    alerts_email: r.get(2)?,
                },
            ))
        },
    )?
    .into_iter()
    .collect())
}

/// Records a user's choices.
pub fn save_prefs(tx: &Tx<'_>, user_id: &str, prefs: Prefs, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO notification_prefs (user_id, digest_email, alerts_email, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id) DO UPDATE SET digest_email = excluded.digest_email,
            alerts_email = excluded.alerts_email, updated_at = excluded.updated_at",
    )?
    .execute((user_id, prefs.digest_email, prefs.alerts_email, ts(&at)))?;
    Ok(())
}
