//! API tokens: bearer secrets for the JSON API. The store keeps only each token's
//! SHA-256; the token itself is shown once, when it is created. Each token records
//! who created it.
//!
//! A token authenticates only while it is not revoked and its user is active. A
//! user's tokens are revoked whenever the user is deactivated or reactivated, by
//! whatever path the change arrives (a trigger of schema V7): reactivating a user
//! revives none of their tokens, including any stored while they were inactive.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::audit::Actor;
use super::users::{self, User};
use super::{Result, StoreError, Tx, col_ts, col_ts_opt, new_id, query_all, query_opt, ts};

/// A stored API token (never the secret itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who created it, as the admin page shows it; `None` for tokens made before
    /// jobrank recorded it.
    pub created_by: Option<String>,
}

/// The longest label accepted.
pub const MAX_LABEL_CHARS: usize = 100;

/// The last-used time is written at most this often per token.
pub const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

const COLUMNS: &str = "id, user_id, label, created_at, last_used_at, revoked_at, created_by";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        label: r.get(2)?,
        created_at: col_ts(r, 3)?,
        last_used_at: col_ts_opt(r, 4)?,
        revoked_at: col_ts_opt(r, 5)?,
        created_by: r.get(6)?,
    })
}

/// Stores a new token for a user, given the SHA-256 of its secret, and who made it.
pub fn insert_token(
    tx: &Tx<'_>,
    user_id: &str,
    label: &str,
    token_hash: &str,
    created_by: &Actor,
    at: DateTime<Utc>,
) -> Result<ApiToken> {
    let label = label.trim();
    crate::domain::check_text("label", label)?;
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(StoreError::Invalid(crate::domain::DomainError::Invalid {
            field: "label",
            reason: format!("must be 1 to {MAX_LABEL_CHARS} characters"),
        }));
    }
    let user = users::find_user(tx, user_id)?
        .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
    if !user.active {
        return Err(StoreError::Conflict(format!(
            "{} is deactivated and cannot be given an API token",
            user.email
        )));
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO api_tokens (id, user_id, label, token_hash, created_at, created_by, created_by_user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            &id,
            user_id,
            label,
            token_hash,
            ts(&at),
            created_by.describe(),
            created_by.user_id(),
        ),
    )?;
    find_token(tx, &id)?.ok_or_else(|| StoreError::NotFound(format!("API token {id}")))
}

/// One token by id.
pub fn find_token(conn: &Connection, id: &str) -> Result<Option<ApiToken>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// The token with this hash and its user, when the token is not revoked and the user
/// is active: what a bearer request authenticates as.
pub fn find_active_by_hash(
    conn: &Connection,
    token_hash: &str,
) -> Result<Option<(ApiToken, User)>> {
    let token = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = ?1 AND revoked_at IS NULL"
        ))?
        .query_row([token_hash], from_row)
        .optional()?;
    let Some(token) = token else {
        return Ok(None);
    };
    match users::find_user(conn, &token.user_id)? {
        Some(u) if u.active => Ok(Some((token, u))),
        _ => Ok(None),
    }
}

/// Records that a token was used.
pub fn touch_token(tx: &Tx<'_>, id: &str, at: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
        (id, ts(&at)),
    )?;
    Ok(())
}

/// Every token with its user's email, newest first.
pub fn list_tokens(conn: &Connection) -> Result<Vec<(ApiToken, String)>> {
    query_all(conn, "SELECT t.id, t.user_id, t.label, t.created_at, t.last_used_at, t.revoked_at, t.created_by, u.email
         FROM api_tokens t JOIN users u ON u.id = t.user_id
         ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id", [], |r| Ok((from_row(r)?, r.get(7)?)))
}

/// How many of a user's tokens are not revoked.
pub fn count_unrevoked(conn: &Connection, user_id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL",
        )?
        .query_row([user_id], |r| r.get(0))?)
}

/// Revokes a token; revoking a revoked token is a no-op. Unknown ids are not found.
pub fn revoke_token(tx: &Tx<'_>, id: &str, at: DateTime<Utc>) -> Result<ApiToken> {
    let n = tx.execute(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        (id, ts(&at)),
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("API token {id}")));
    }
    find_token(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("API token {id}")))
}
