//! The webhook inbox: each verified Recruiterflow event is stored here before it is
//! acknowledged, then processed in the background. Failed events are retried with
//! backoff and, after a bound, become dead letters that an admin can retry.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, query_all, query_opt, ts};
use crate::tasks::{Running, StopSignal, Task};

/// An event as it arrives, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The event id, or `sha256:<hex>` of the body when the event has none.
    pub event_key: String,
    pub event_type: String,
    pub job_id: Option<i64>,
    /// The raw body, kept for audit and reprocessing.
    pub body: String,
    /// `pending` for events to process, `ignored` for ones recorded only.
    pub status: &'static str,
    /// Why an event is ignored.
    pub note: Option<String>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InboxEvent {
    pub id: i64,
    pub event_key: String,
    pub event_type: String,
    pub job_id: Option<i64>,
    pub body: String,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, event_key, event_type, job_id, body, received_at, status, attempts, next_attempt_at, last_error, processed_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<InboxEvent> {
    Ok(InboxEvent {
        id: r.get(0)?,
        event_key: r.get(1)?,
        event_type: r.get(2)?,
        job_id: r.get(3)?,
        body: r.get(4)?,
        received_at: col_ts(r, 5)?,
        status: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_at: col_ts(r, 8)?,
        last_error: r.get(9)?,
        processed_at: col_ts_opt(r, 10)?,
    })
}

/// Stores an event unless one with the same key is already stored. Returns whether
/// it was new (a duplicate is not an error: it is answered 200 and processed once).
pub fn insert_event(tx: &Tx<'_>, e: &NewEvent, at: DateTime<Utc>) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT INTO webhook_inbox (event_key, event_type, job_id, body, received_at, status, attempts,
               next_attempt_at, last_error, processed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?5, ?7, CASE WHEN ?6 = 'ignored' THEN ?5 END)
             ON CONFLICT (event_key) DO NOTHING",
        )?
        .execute(rusqlite::params![
            e.event_key,
            e.event_type,
            e.job_id,
            e.body,
            ts(&at),
            e.status,
            e.note
        ])?;
    Ok(n > 0)
}

/// Pending events whose next attempt is due at `at`, oldest first.
pub fn due_events(conn: &Connection, at: DateTime<Utc>, limit: i64) -> Result<Vec<InboxEvent>> {
    query_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at <= ?1
         ORDER BY id LIMIT ?2"
        ),
        (ts(&at), limit),
        from_row,
    )
}

/// When the next pending event falls due, if any is pending.
pub fn next_due_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let s: Option<String> = conn.query_row(
        "SELECT MIN(next_attempt_at) FROM webhook_inbox WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?;
    s.map(|s| super::parse_ts(&s)).transpose()
}

/// Marks an event processed.
pub fn mark_done(tx: &Tx<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE webhook_inbox SET status = 'done', attempts = attempts + 1, processed_at = ?2, last_error = NULL
         WHERE id = ?1 AND status = 'pending'",
    )?
    .execute((id, ts(&at)))?;
    Ok(())
}

/// Records a failed attempt: the event is tried again at `retry_at`, or becomes a dead
/// letter once it has had `max_attempts`. Returns whether it is now dead.
pub fn mark_failed(
    tx: &Tx<'_>,
    id: i64,
    error: &str,
    retry_at: DateTime<Utc>,
    max_attempts: i64,
) -> Result<bool> {
    tx.prepare_cached(
        "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
           status = CASE WHEN attempts + 1 >= ?4 THEN 'dead' ELSE 'pending' END
         WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(rusqlite::params![id, error, ts(&retry_at), max_attempts])?;
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM webhook_inbox WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(status.as_deref() == Some("dead"))
}

/// Puts a dead letter back in the queue for an immediate new round of attempts.
pub fn retry_dead(tx: &Tx<'_>, id: i64, at: DateTime<Utc>) -> Result<()> {
    let n = tx.execute(
        "UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = ?2
         WHERE id = ?1 AND status = 'dead'",
        (id, ts(&at)),
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("dead webhook event {id}")));
    }
    Ok(())
}

/// One stored event.
pub fn find_event(conn: &Connection, id: i64) -> Result<Option<InboxEvent>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM webhook_inbox WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// One stored event by its key (event id or body hash).
pub fn find_event_by_key(conn: &Connection, key: &str) -> Result<Option<InboxEvent>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM webhook_inbox WHERE event_key = ?1"),
        [key],
        from_row,
    )
}

/// Dead letters, newest first (the admin page lists them with a retry button).
pub fn list_dead(conn: &Connection, limit: i64) -> Result<Vec<InboxEvent>> {
    query_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM webhook_inbox WHERE status = 'dead' ORDER BY id DESC LIMIT ?1"
        ),
        [limit],
        from_row,
    )
}

/// How many events are in each status.
pub fn count_by_status(conn: &Connection) -> Result<Vec<(String, i64)>> {
    query_all(
        conn,
        "SELECT status, COUNT(*) FROM webhook_inbox GROUP BY status ORDER BY status",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Every stored event, oldest first (tests and diagnostics).
pub fn list_events(conn: &Connection) -> Result<Vec<InboxEvent>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM webhook_inbox ORDER BY id"),
        [],
        from_row,
    )
}

/// Largest number of events committed together by [`InboxWriter`].
const GROUP_COMMIT_MAX: usize = 256;

type Pending = (NewEvent, tokio::sync::oneshot::Sender<Result<bool>>);

/// Stores webhook events with group commit: events arriving together are inserted in
/// one transaction (one fsync), and each caller is answered once that commit is
/// durable. Cheap to clone. Its writer is the queue task `webhook_inbox_writer`
/// ([`crate::tasks`]): at the stop signal it refuses new events and commits every event
/// already handed to it before it ends.
#[derive(Clone)]
pub struct InboxWriter {
    tx: tokio::sync::mpsc::Sender<Pending>,
}

impl InboxWriter {
    /// Starts the writer task for `store`, until `stop`.
    pub fn spawn(store: super::Store, stop: &StopSignal) -> (InboxWriter, Running) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Pending>(4 * GROUP_COMMIT_MAX);
        let task = Task::new("webhook_inbox_writer").spawn_queue(
            stop,
            rx,
            GROUP_COMMIT_MAX,
            move |batch: Vec<Pending>| {
                let store = store.clone();
                async move {
                    let (events, replies): (Vec<NewEvent>, Vec<_>) = batch.into_iter().unzip();
                    let written = store
                        .write(move |tx| {
                            // Stored, not yet processed: nothing the dashboard shows
                            // changes until processing updates the job.
                            tx.unseen_by_dashboard();
                            let at = super::now();
                            events
                                .iter()
                                .map(|e| insert_event(tx, e, at))
                                .collect::<Result<Vec<bool>>>()
                        })
                        .await;
                    match written {
                        Ok(flags) => {
                            for (reply, inserted) in replies.into_iter().zip(flags) {
                                let _ = reply.send(Ok(inserted));
                            }
                            Ok(())
                        }
                        Err(e) => {
                            let full = matches!(e, StoreError::DiskFull { .. });
                            let why = e.to_string();
                            for reply in replies {
                                let _ = reply.send(Err(if full {
                                    StoreError::DiskFull {
                                        detail: why.clone(),
                                    }
                                } else {
                                    StoreError::Task(why.clone())
                                }));
                            }
                            Err(e.into())
                        }
                    }
                }
            },
        );
        (InboxWriter { tx }, task)
    }

    /// Stores one event durably; returns whether it was new (false for a duplicate).
    pub async fn insert(&self, event: NewEvent) -> Result<bool> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send((event, reply))
            .await
            .map_err(|_| StoreError::Task("the inbox writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Task("the inbox writer has stopped".into()))?
    }
}
