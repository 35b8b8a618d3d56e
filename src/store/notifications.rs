//! Notifications as the store keeps them (all local to the replica): the durable
//! message queue, the weekly digests made, the alert events waiting for a batch, what
//! the periodic alert check already alerted, and whether this replica sends alerts.
//!
//! **Messages** are recorded before they are sent, at most one per (channel,
//! recipient, kind, batch): making the same digest or alert batch twice records
//! nothing new. A sender claims due rows for a while ([`claim_due`]) so that two
//! processes (the server and `jobrank notify digest`) never send the same one, then
//! marks each sent or failed: a temporary failure is tried again later, a permanent
//! one (or the last allowed attempt) makes it a dead letter, which the admin page
//! lists with Retry. A password reset message's text (it holds a live link) is
//! emptied once it is sent or given up.
//!
//! **Alert events**: a job dropped to C is recorded by the store commands, in the
//! transaction of the rank change ([`record_rank_drops`]), so no drop is lost to a
//! crash; the periodic check records new jobs nobody scored and pipelines newly
//! stalled. Events wait (`batch_id` NULL) until an alert batch takes them.
//!
//! The alerts' part (their kinds, events, batches, switch and the periodic check's
//! watch list) lives in [`alerts`] and is re-exported here; this file holds the
//! message queue, the digests and the digest's read of rank changes.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, Row};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, query_all, query_opt, ts};
use crate::domain::Rank;

mod alerts;

pub use alerts::{
    AlertEvent, AlertKind, alerts_on, insert_alert_event, last_batch_at, record_batch,
    record_rank_drops, set_alerts_on, set_watch_seeded, unwatch_job, waiting_events, watch_job,
    watch_seeded_at, watched_jobs,
};

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    /// The team's Slack channel (one post for everyone).
    Slack,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
        }
    }

    fn parse(s: &str) -> Option<Channel> {
        match s {
            "email" => Some(Channel::Email),
            "slack" => Some(Channel::Slack),
            _ => None,
        }
    }
}

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The weekly digest; its batch is the week.
    Digest,
    /// A batch of alerts; its batch is the alert batch's id.
    Alerts,
    /// A "forgot password" link; its batch is the link's id.
    PasswordReset,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Digest => "digest",
            Kind::Alerts => "alerts",
            Kind::PasswordReset => "password_reset",
        }
    }

    /// The kind in words, for the admin page.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Digest => "weekly digest",
            Kind::Alerts => "alerts",
            Kind::PasswordReset => "password reset link",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "digest" => Some(Kind::Digest),
            "alerts" => Some(Kind::Alerts),
            "password_reset" => Some(Kind::PasswordReset),
            _ => None,
        }
    }
}

/// The recipient of every Slack message: the team's channel.
pub const TEAM: &str = "team";

/// A message to record.
#[derive(Clone)]
pub struct NewMessage {
    pub channel: Channel,
    /// A user id, or [`TEAM`] for Slack.
    pub recipient: String,
    pub kind: Kind,
    /// The week, alert batch or link the message belongs to.
    pub batch: String,
    /// Email: `Name <address>`.
    pub to_address: Option<String>,
    /// The email's subject, or a summary of the Slack post.
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The Slack message as JSON.
    pub payload: Option<String>,
}

impl std::fmt::Debug for NewMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMessage")
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

/// Whether a message still waits, went out, or was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sent,
    Dead,
}

impl Status {
    fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "sent" => Some(Status::Sent),
            "dead" => Some(Status::Dead),
            _ => None,
        }
    }
}

/// A recorded message. Its `Debug` shows neither address nor contents.
#[derive(Clone)]
pub struct Message {
    pub id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub kind: Kind,
    pub batch: String,
    pub to_address: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub payload: Option<String>,
    pub created_at: DateTime<Utc>,
    pub status: Status,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("batch", &self.batch)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

const MESSAGE_COLUMNS: &str = "id, channel, recipient, kind, batch, to_address, subject, body_text, body_html, \
    payload, created_at, status, attempts, next_attempt_at, last_error, sent_at";

fn bad(what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown message {what} {value:?}").into(),
    )
}

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let channel: String = r.get(1)?;
    let kind: String = r.get(3)?;
    let status: String = r.get(11)?;
    Ok(Message {
        id: r.get(0)?,
        channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
        recipient: r.get(2)?,
        kind: Kind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        batch: r.get(4)?,
        to_address: r.get(5)?,
        subject: r.get(6)?,
        body_text: r.get(7)?,
        body_html: r.get(8)?,
        payload: r.get(9)?,
        created_at: col_ts(r, 10)?,
        status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
        attempts: r.get(12)?,
        next_attempt_at: col_ts(r, 13)?,
        last_error: r.get(14)?,
        sent_at: col_ts_opt(r, 15)?,
    })
}

/// Records a message, due at once. Returns `false` (and records nothing) when that
/// recipient already has a message of that kind in that batch.
pub fn insert_message(tx: &Tx<'_>, m: &NewMessage, at: DateTime<Utc>) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO messages (channel, recipient, kind, batch, to_address, subject, body_text,
                body_html, payload, created_at, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        )?
        .execute(rusqlite::params![
            m.channel.as_str(),
            m.recipient,
            m.kind.as_str(),
            m.batch,
            m.to_address,
            m.subject,
            m.body_text,
            m.body_html,
            m.payload,
            ts(&at),
        ])?;
    Ok(n == 1)
}

pub fn find_message(conn: &Connection, id: i64) -> Result<Option<Message>> {
    query_opt(
        conn,
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1"),
        [id],
        message_from_row,
    )
}

/// Every message of one kind, oldest first.
pub fn list_messages(conn: &Connection, kind: Kind) -> Result<Vec<Message>> {
    query_all(
        conn,
        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE kind = ?1 ORDER BY id"),
        [kind.as_str()],
        message_from_row,
    )
}

/// Claims up to `limit` messages due at `now` (pending, their next attempt due, not
/// claimed by another sender or their claim run out) until `until`, oldest first, and
/// returns them.
pub fn claim_due(
    tx: &Tx<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Message>> {
    let now_text = ts(&now);
    let due = query_all(
        tx,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE status = 'pending' AND next_attempt_at <= ?1
               AND (claimed_until IS NULL OR claimed_until <= ?1)
             ORDER BY next_attempt_at, id LIMIT ?2"
        ),
        (&now_text, limit),
        message_from_row,
    )?;
    let mut claim = tx.prepare_cached("UPDATE messages SET claimed_until = ?2 WHERE id = ?1")?;
    for m in &due {
        claim.execute((m.id, ts(&until)))?;
    }
    Ok(due)
}

/// When the next pending message falls due (its next attempt, or the end of another
/// sender's claim), if any.
pub fn next_due_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = conn
        .prepare_cached(
            "SELECT MIN(max(next_attempt_at, COALESCE(claimed_until, ''))) FROM messages WHERE status = 'pending'",
        )?
        .query_row([], |r| r.get(0))?;
    at.map(|s| super::parse_ts(&s)).transpose()
}

/// Records that a message went out. A reset link's text is emptied.
pub fn mark_sent(tx: &Tx<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE messages SET status = 'sent', sent_at = ?2, claimed_until = NULL, last_error = NULL,
            attempts = attempts + 1,
            body_text = CASE WHEN kind = 'password_reset' THEN '' ELSE body_text END,
            body_html = CASE WHEN kind = 'password_reset' THEN NULL ELSE body_html END
         WHERE id = ?1",
    )?
    .execute((id, ts(&at)))?;
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or, with `None`, a dead letter
/// (a reset link's text is then emptied). `error` must hold no address (the mail and
/// Slack errors never do).
pub fn mark_failed(
    tx: &Tx<'_>,
    id: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    match retry_at {
        Some(at) => tx
            .prepare_cached(
                "UPDATE messages SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                    claimed_until = NULL
                 WHERE id = ?1",
            )?
            .execute((id, error, ts(&at)))?,
        None => tx
            .prepare_cached(
                "UPDATE messages SET status = 'dead', attempts = attempts + 1, last_error = ?2,
                    claimed_until = NULL,
                    body_text = CASE WHEN kind = 'password_reset' THEN '' ELSE body_text END,
                    body_html = CASE WHEN kind = 'password_reset' THEN NULL ELSE body_html END
                 WHERE id = ?1",
            )?
            .execute((id, error))?,
    };
    Ok(())
}

/// Puts a dead letter back in the queue, due at `at`, with its attempts counted anew.
/// A reset link is refused (it expired long since: the user asks for a new one).
pub fn retry_dead_message(tx: &Tx<'_>, id: i64, at: DateTime<Utc>) -> Result<Message> {
    let m = find_message(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("message {id}")))?;
    if m.status != Status::Dead {
        return Err(StoreError::Conflict(format!(
            "message {id} is not a dead letter (it is {})",
            match m.status {
                Status::Pending => "still waiting to be sent",
                Status::Sent => "already sent",
                Status::Dead => "dead",
            }
        )));
    }
    if m.kind == Kind::PasswordReset {
        return Err(StoreError::Conflict(
            "a password reset link is valid for 30 minutes only; the user can ask for a new one on the sign-in page".into(),
        ));
    }
    tx.prepare_cached(
        "UPDATE messages SET status = 'pending', attempts = 0, next_attempt_at = ?2, claimed_until = NULL
         WHERE id = ?1",
    )?
    .execute((id, ts(&at)))?;
    Ok(m)
}

/// The latest dead letters, newest first.
pub fn list_dead_messages(conn: &Connection, limit: i64) -> Result<Vec<Message>> {
    query_all(
        conn,
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE status = 'dead' ORDER BY id DESC LIMIT ?1"
        ),
        [limit],
        message_from_row,
    )
}

/// How many messages wait, went out since `since`, and are dead letters.
pub fn count_messages(conn: &Connection, since: DateTime<Utc>) -> Result<(i64, i64, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(status = 'pending'), 0),
                    COALESCE(SUM(status = 'sent' AND sent_at >= ?1), 0),
                    COALESCE(SUM(status = 'dead'), 0)
             FROM messages",
        )?
        .query_row([ts(&since)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

// ---------- digests ----------

/// When the digest of `week` (a Monday) was made and how many messages it recorded.
pub fn find_digest(conn: &Connection, week: NaiveDate) -> Result<Option<(DateTime<Utc>, i64)>> {
    query_opt(
        conn,
        "SELECT made_at, messages FROM digests WHERE week = ?1",
        [week.to_string()],
        |r| Ok((col_ts(r, 0)?, r.get(1)?)),
    )
}

/// Records that the digest of `week` was made; `false` when it already was (nothing
/// is written then).
pub fn record_digest(
    tx: &Tx<'_>,
    week: NaiveDate,
    at: DateTime<Utc>,
    messages: usize,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO digests (week, made_at, messages) VALUES (?1, ?2, ?3)",
        )?
        .execute((week.to_string(), ts(&at), messages as i64))?;
    Ok(n == 1)
}

// ---------- reads for the digest ----------

/// An open job whose rank changed in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankMove {
    pub job_id: i64,
    pub title: String,
    pub client: String,
    /// The rank at the start of the period (`None`: it had none).
    pub from: Option<Rank>,
    /// The rank at its end.
    pub to: Rank,
}

/// The open jobs whose rank at `to` differs from their rank at `from` (by their rank
/// history), by client and title.
pub fn rank_moves_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<RankMove>> {
    let rows: Vec<(i64, String, String, Option<String>, String)> = query_all(
        conn,
        "WITH latest_at_start AS (
             SELECT job_id, rank FROM (
                 SELECT job_id, rank, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY at DESC, id DESC) AS n
                 FROM rank_history WHERE at <= ?1)
             WHERE n = 1),
         latest_at_end AS (
             SELECT job_id, rank FROM (
                 SELECT job_id, rank, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY at DESC, id DESC) AS n
                 FROM rank_history WHERE at <= ?2)
             WHERE n = 1),
         touched AS (SELECT DISTINCT job_id FROM rank_history WHERE at > ?1 AND at <= ?2)
         SELECT j.id, j.title, j.client, s.rank, e.rank
         FROM touched t
         JOIN jobs j ON j.id = t.job_id AND j.is_open = 1
         JOIN latest_at_end e ON e.job_id = t.job_id
         LEFT JOIN latest_at_start s ON s.job_id = t.job_id
         WHERE s.rank IS NULL OR s.rank <> e.rank
         ORDER BY j.client, j.title, j.id",
        (ts(&from), ts(&to)),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    rows.into_iter()
        .map(|(job_id, title, client, from, to)| {
            Ok(RankMove {
                job_id,
                title,
                client,
                from: from.as_deref().and_then(Rank::parse),
                to: Rank::parse(&to)
                    .ok_or_else(|| StoreError::Data(format!("bad rank {to:?} in rank history")))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::store::Store;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn message(recipient: &str, kind: Kind, batch: &str) -> NewMessage {
        NewMessage {
            channel: Channel::Email,
            recipient: recipient.into(),
            kind,
            batch: batch.into(),
            to_address: Some(format!("{recipient} <{recipient}@agency.example>")),
            subject: "Subject".into(),
            body_text: "Text with a link".into(),
            body_html: Some("<p>HTML</p>".into()),
            payload: None,
        }
    }

    #[test]
    fn a_message_is_recorded_once_per_recipient_kind_and_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let insert = |m: NewMessage| store.write_blocking(move |tx| insert_message(tx, &m, at(0)));
        assert!(insert(message("tom", Kind::Digest, "2026-12-07")).unwrap());
        assert!(!insert(message("tom", Kind::Digest, "2026-12-07")).unwrap());
        assert!(insert(message("tom", Kind::Digest, "2026-12-14")).unwrap());
        assert!(insert(message("tom", Kind::Alerts, "2026-12-07")).unwrap());
        assert!(insert(message("priya", Kind::Digest, "2026-12-07")).unwrap());
        assert_eq!(
            store
                .read_blocking(|c| list_messages(c, Kind::Digest))
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn a_claimed_message_waits_for_its_sender_and_comes_back_if_the_sender_dies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = message("tom", Kind::Digest, "w");
        store
            .write_blocking(|tx| insert_message(tx, &m, at(0)))
            .unwrap();
        let claim = |now: i64| {
            store
                .write_blocking(|tx| claim_due(tx, at(now), at(now + 5), 10))
                .unwrap()
                .len()
        };
        assert_eq!(claim(0), 1);
        assert_eq!(claim(1), 0, "claimed by the first sender");
        assert_eq!(
            store.read_blocking(next_due_at).unwrap(),
            Some(at(5)),
            "due again when the claim runs out"
        );
        // The first sender died without a word: the message is taken up again.
        assert_eq!(claim(5), 1);
        let id = store
            .read_blocking(|c| list_messages(c, Kind::Digest))
            .unwrap()[0]
            .id;
        store.write_blocking(|tx| mark_sent(tx, id, at(6))).unwrap();
        assert_eq!(claim(20), 0);
        assert_eq!(store.read_blocking(next_due_at).unwrap(), None);
    }

    #[test]
    fn a_reset_links_text_is_kept_only_until_it_is_sent_or_given_up_and_never_retried() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (batch, sent) in [("a", true), ("b", false)] {
            let m = message("tom", Kind::PasswordReset, batch);
            store
                .write_blocking(|tx| insert_message(tx, &m, at(0)))
                .unwrap();
            let id = store
                .read_blocking(|c| list_messages(c, Kind::PasswordReset))
                .unwrap()
                .iter()
                .find(|m| m.batch == batch)
                .unwrap()
                .id;
            store
                .write_blocking(|tx| {
                    if sent {
                        mark_sent(tx, id, at(1))
                    } else {
                        mark_failed(tx, id, "refused", None)
                    }
                })
                .unwrap();
            let m = store
                .read_blocking(|c| find_message(c, id))
                .unwrap()
                .unwrap();
            assert!(m.body_text.is_empty() && m.body_html.is_none(), "{batch}");
            if !sent {
                assert_eq!(m.status, Status::Dead);
                let err = store
                    .write_blocking(|tx| retry_dead_message(tx, id, at(2)))
                    .unwrap_err();
                assert!(matches!(err, StoreError::Conflict(_)), "{err}");
            }
        }
        // A digest keeps its text when it fails, and only a dead letter is retried.
        let m = message("tom", Kind::Digest, "w");
        store
            .write_blocking(|tx| insert_message(tx, &m, at(0)))
            .unwrap();
        let id = store
            .read_blocking(|c| list_messages(c, Kind::Digest))
            .unwrap()[0]
            .id;
        let err = store
            .write_blocking(|tx| retry_dead_message(tx, id, at(1)))
            .unwrap_err();
        assert!(err.to_string().contains("still waiting"), "{err}");
        store
            .write_blocking(|tx| mark_failed(tx, id, "refused", None))
            .unwrap();
        let back = store
            .write_blocking(|tx| retry_dead_message(tx, id, at(3)))
            .unwrap();
        assert_eq!(back.body_text, "Text with a link");
        let again = store
            .read_blocking(|c| find_message(c, id))
            .unwrap()
            .unwrap();
        assert_eq!((again.status, again.attempts), (Status::Pending, 0));
        assert!(matches!(
            store.write_blocking(|tx| retry_dead_message(tx, 999, at(3))),
            Err(StoreError::NotFound(_))
        ));
    }
}
