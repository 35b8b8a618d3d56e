//! Recruiterflow's users as this replica's last full sync read them, and how they match
//! jobrank users: by email, equal case-insensitively after trimming ([`email_key`]).
//! Local to the replica (each replica syncs Recruiterflow itself): nothing here enters
//! the outbox.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::users::{self, User};
use super::{Result, Tx, col_ts, query_all, query_opt, ts};

/// A Recruiterflow user as the sync read it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecruiterflowUserUpsert {
    /// The Recruiterflow user id.
    pub id: i64,
    pub email: Option<String>,
    /// The full name, else first and last.
    pub name: Option<String>,
}

/// A stored Recruiterflow user.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecruiterflowUser {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The last full sync whose user list held this user.
    pub last_seen_at: DateTime<Utc>,
}

/// What storing a user list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserListStored {
    /// Users in the list.
    pub seen: i64,
    /// Stored users no longer in Recruiterflow, removed.
    pub removed: i64,
}

/// The key emails are matched by: trimmed and lower-cased (Unicode lower case, so the
/// rule does not depend on SQLite's ASCII-only `lower()`). `None` for an empty email,
/// which matches nothing.
pub fn email_key(email: &str) -> Option<String> {
    let e = email.trim();
    (!e.is_empty()).then(|| e.to_lowercase())
}

/// Whether two emails are the same address for matching: equal case-insensitively
/// after trimming; an empty email never matches.
pub fn same_email(a: &str, b: &str) -> bool {
    email_key(a).is_some_and(|k| Some(k) == email_key(b))
}

const COLUMNS: &str = "id, email, name, last_seen_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<RecruiterflowUser> {
    Ok(RecruiterflowUser {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        last_seen_at: col_ts(r, 3)?,
    })
}

/// Stores the user list a full sync read: each user inserted or updated and marked seen
/// at `at`. When the list is `complete`, stored users not in it (nor in `keep`: ids
/// whose entries could not be read) are removed. Records when the list was read.
pub fn store_user_list(
    tx: &Tx<'_>,
    list: &[RecruiterflowUserUpsert],
    keep: &[i64],
    complete: bool,
    at: DateTime<Utc>,
) -> Result<UserListStored> {
    let seen_at = ts(&at);
    let mut upsert = tx.prepare_cached(
        "INSERT INTO recruiterflow_users (id, email, email_key, name, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, email_key = excluded.email_key,
           name = excluded.name, last_seen_at = excluded.last_seen_at",
    )?;
    for u in list {
        upsert.execute(rusqlite::params![
            u.id,
            u.email,
            u.email.as_deref().and_then(email_key),
            u.name,
            seen_at
        ])?;
    }
    let mut removed = 0;
    if complete {
        let listed: HashSet<i64> = list
            .iter()
            .map(|u| u.id)
            .chain(keep.iter().copied())
            .collect();
        let stored: Vec<i64> = tx
            .prepare_cached("SELECT id FROM recruiterflow_users")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut delete = tx.prepare_cached("DELETE FROM recruiterflow_users WHERE id = ?1")?;
        for id in stored.into_iter().filter(|id| !listed.contains(id)) {
            removed += delete.execute([id])? as i64;
        }
    }
    tx.execute(
        "INSERT INTO recruiterflow_user_list (singleton, read_at) VALUES (1, ?1)
         ON CONFLICT (singleton) DO UPDATE SET read_at = excluded.read_at",
        [&seen_at],
    )?;
    Ok(UserListStored {
        seen: list.len() as i64,
        removed,
    })
}

/// When a full sync last read and stored the user list; `None` when none has yet.
pub fn user_list_read_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    query_opt(
        conn,
        "SELECT read_at FROM recruiterflow_user_list WHERE singleton = 1",
        [],
        |r| col_ts(r, 0),
    )
}

/// Every stored Recruiterflow user, by id.
pub fn list_recruiterflow_users(conn: &Connection) -> Result<Vec<RecruiterflowUser>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM recruiterflow_users ORDER BY id"),
        [],
        from_row,
    )
}

/// The stored Recruiterflow users whose email matches `email` ([`same_email`]), by id.
pub fn find_recruiterflow_users_by_email(
    conn: &Connection,
    email: &str,
) -> Result<Vec<RecruiterflowUser>> {
    let Some(key) = email_key(email) else {
        return Ok(Vec::new());
    };
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM recruiterflow_users WHERE email_key = ?1 ORDER BY id"),
        [key],
        from_row,
    )
}

/// Each jobrank user's matching Recruiterflow user ids (by id of the jobrank user; an
/// empty list when none matches).
pub fn match_jobrank_users(conn: &Connection) -> Result<HashMap<String, Vec<i64>>> {
    users::list_users(conn)?
        .into_iter()
        .map(|u| {
            let ids = find_recruiterflow_users_by_email(conn, &u.email)?
                .into_iter()
                .map(|r| r.id)
                .collect();
            Ok((u.id, ids))
        })
        .collect()
}

/// How many Recruiterflow users are stored, and how many of them match a jobrank user.
pub fn count_matched(conn: &Connection) -> Result<(i64, i64)> {
    let jobrank: HashSet<String> = users::list_users(conn)?
        .iter()
        .filter_map(|u| email_key(&u.email))
        .collect();
    let stored = list_recruiterflow_users(conn)?;
    let matched = stored
        .iter()
        .filter(|r| {
            r.email
                .as_deref()
                .and_then(email_key)
                .is_some_and(|k| jobrank.contains(&k))
        })
        .count();
    Ok((stored.len() as i64, matched as i64))
}

/// For each hiring-team member of a job (stored as the names Recruiterflow gave: the
/// full name, else first and last, else the email), the jobrank user they are, if any.
/// A name identifies a Recruiterflow user when exactly one stored user has that name
/// (compared case-insensitively after trimming) or that email; that user's email then
/// names the jobrank user. A name two Recruiterflow users share marks nobody.
pub fn match_hiring_team<'a>(
    team: &[String],
    recruiterflow: &[RecruiterflowUser],
    jobrank: &'a [User],
) -> Vec<Option<&'a User>> {
    let fold = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_lowercase())
    };
    team.iter()
        .map(|member| {
            let key = fold(member)?;
            let mut found = recruiterflow.iter().filter(|r| {
                r.name.as_deref().and_then(fold).as_ref() == Some(&key)
                    || r.email.as_deref().and_then(email_key).as_ref() == Some(&key)
            });
            let (Some(one), None) = (found.next(), found.next()) else {
                return None;
            };
            let email = one.email.as_deref()?;
            jobrank.iter().find(|u| same_email(&u.email, email))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    #[test]
    fn emails_match_case_insensitively_after_trimming() {
        assert!(same_email(
            " Manish.Kotian36@Outlook.com ",
            "manish.kotian36@outlook.com"
        ));
        assert!(same_email("ÉLISE@agency.example", "élise@agency.example"));
        assert!(!same_email(
            "manish+1@recruiterflow.com",
            "manish@recruiterflow.com"
        ));
        assert!(!same_email("", ""));
        assert!(!same_email("  ", "  "));
        assert_eq!(
            email_key("\tTom@Agency.Example\n").as_deref(),
            Some("tom@agency.example")
        );
        assert_eq!(email_key(" "), None);
    }

    fn rf(id: i64, name: Option<&str>, email: Option<&str>) -> RecruiterflowUser {
        RecruiterflowUser {
            id,
            email: email.map(str::to_string),
            name: name.map(str::to_string),
            last_seen_at: Utc::now(),
        }
    }

    fn jobrank(email: &str, name: &str) -> User {
        User {
            id: format!("id-{email}"),
            email: email.into(),
            name: name.into(),
            role: Role::AccountManager,
            scores: true,
            active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn hiring_team_names_reach_jobrank_users_through_recruiterflow_emails() {
        let rf_users = [
            rf(1, Some("Chérôme Shenoy"), Some("Admin@RFstaging.xyz")),
            rf(2, Some("Manish Kotian"), Some("manish@a.example")),
            rf(3, Some("Manish Kotian"), Some("manish+1@a.example")),
            rf(4, None, Some("noname@a.example")),
            rf(5, Some("Priya Shah"), Some("priya@elsewhere.example")),
        ];
        let ours = [
            jobrank("admin@rfstaging.xyz", "Chérôme"),
            jobrank("manish@a.example", "Manish"),
            jobrank("NoName@a.example", "No Name"),
            jobrank("priya@agency.example", "Priya Shah"),
        ];
        let team: Vec<String> = [
            " chérôme shenoy",
            "Manish Kotian",
            "noname@a.example",
            "Priya Shah",
            "Nobody Known",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let found: Vec<Option<&str>> = match_hiring_team(&team, &rf_users, &ours)
            .into_iter()
            .map(|u| u.map(|u| u.email.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                Some("admin@rfstaging.xyz"),
                // Two Recruiterflow users share the name: nobody is marked.
                None,
                Some("NoName@a.example"),
                // Same name as a jobrank user, but the Recruiterflow email differs.
                None,
                None,
                None,
            ]
        );
    }
}
