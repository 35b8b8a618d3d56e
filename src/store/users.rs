//! Users of jobrank: the agency's team. Passwords are stored as argon2id hashes made by
//! [`crate::credentials::hash_password`].

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, StoreError, Tx, col_ts, new_id, outbox, query_all, query_opt, ts};
use crate::domain::{Role, check_text};

/// A team member.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub scores: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What it takes to add a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub scores: bool,
    pub password_hash: String,
}

const COLUMNS: &str = "id, email, name, role, scores, active, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role: Role::parse(&role).unwrap_or(Role::Other),
        scores: r.get(4)?,
        active: r.get(5)?,
        created_at: col_ts(r, 6)?,
        updated_at: col_ts(r, 7)?,
    })
}

fn check_email(email: &str) -> Result<String> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.chars().any(char::is_whitespace);
    if ok {
        Ok(e.to_string())
    } else {
        Err(StoreError::Invalid(crate::domain::DomainError::Invalid {
            field: "email",
            reason: format!("{email:?} is not an email address"),
        }))
    }
}

/// Adds a user. A duplicate email is a conflict, not a failure.
pub fn insert_user(tx: &Tx<'_>, new: &NewUser, at: DateTime<Utc>) -> Result<User> {
    check_text("email", &new.email)?;
    check_text("name", &new.name)?;
    let email = check_email(&new.email)?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(StoreError::Invalid(crate::domain::DomainError::Invalid {
            field: "name",
            reason: "must be 1 to 200 characters".into(),
        }));
    }
    if find_user_by_email(tx, &email)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a user with email {email} already exists"
        )));
    }
    let id = new_id();
    tx.execute(
        "INSERT INTO users (id, email, name, role, password_hash, scores, active, created_at, updated_at, version, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7, 1, ?8)",
        (&id, &email, name, new.role.as_str(), &new.password_hash, new.scores, ts(&at), tx.origin()),
    )?;
    outbox::enqueue(tx, "users", &id)?;
    find_user(tx, &id)?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

pub fn find_user(conn: &Connection, id: &str) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    )
}

pub fn find_user_by_email(conn: &Connection, email: &str) -> Result<Option<User>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
        [email.trim()],
        from_row,
    )
}

/// A user and their password hash, for sign-in.
pub fn find_credentials(conn: &Connection, email: &str) -> Result<Option<(User, String)>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = ?1"),
        [email.trim()],
        |r| Ok((from_row(r)?, r.get(8)?)),
    )
}

/// Every user, CEO first, then by name.
pub fn list_users(conn: &Connection) -> Result<Vec<User>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM users ORDER BY active DESC, role = 'ceo' DESC, name"),
        [],
        from_row,
    )
}

/// Active users who score, by name.
pub fn list_scorers(conn: &Connection) -> Result<Vec<User>> {
    Ok(list_users(conn)?
        .into_iter()
        .filter(|u| u.active && u.scores)
        .collect())
}

pub fn count_users(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

fn update(
    tx: &Tx<'_>,
    id: &str,
    set: &str,
    value: &dyn rusqlite::ToSql,
    at: DateTime<Utc>,
) -> Result<User> {
    let n = tx.execute(
        &format!("UPDATE users SET {set} = ?1, updated_at = ?2, version = version + 1, origin = ?3 WHERE id = ?4"),
        rusqlite::params![value, ts(&at), tx.origin(), id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    outbox::enqueue(tx, "users", id)?;
    find_user(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// Sets a user's password hash. Ending their other sessions with it is the store
/// command `commands::reset_password`.
pub(in crate::store) fn set_password_hash(
    tx: &Tx<'_>,
    id: &str,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<User> {
    update(tx, id, "password_hash", &hash, at)
}

/// Activates or deactivates a user. Who counts changes team scores, so this is the
/// store command `commands::set_user_active`, which recomputes the ranks.
pub(in crate::store) fn set_active(
    tx: &Tx<'_>,
    id: &str,
    active: bool,
    at: DateTime<Utc>,
) -> Result<User> {
    update(tx, id, "active", &active, at)
}

/// Switches a user's scoring on or off: the store command
/// `commands::set_user_scores` does it and recomputes the ranks.
pub(in crate::store) fn set_scores(
    tx: &Tx<'_>,
    id: &str,
    scores: bool,
    at: DateTime<Utc>,
) -> Result<User> {
    update(tx, id, "scores", &scores, at)
}
