//! The rank write-back queue (schema V10, local to this replica): what jobrank still has
//! to write into each job's rank field in Recruiterflow, what Recruiterflow last
//! acknowledged, and whether the job reported it back at the latest sync.
//!
//! The store commands queue their rank changes here themselves, in the transaction of
//! the change ([`enqueue_changes`], called once by the commands' recomputation), while
//! write-back is on ([`set_enabled`], written by `serve` at its start from its
//! configuration). Only open jobs are queued; a job keeps one row, its latest standing
//! (a newer one replaces it under a new sequence number), so the latest value wins and
//! older values are never sent after it. The sender (`recruiterflow::write_back`)
//! removes a row only after Recruiterflow acknowledged it, and only if the row still
//! holds the value it sent ([`mark_sent`] with its `seq`): a crash between the two
//! leaves the row to be sent again, which is harmless since the value is the same. A
//! value that cannot be written after the sender's bound, or that Recruiterflow refuses
//! for good, stays as a dead letter until someone retries it ([`retry_dead`]) or a
//! newer standing replaces it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, query_all, query_opt, ts};
use crate::domain::{Rank, RankChange, Standing, TeamScore};

/// A value in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub job_id: i64,
    /// Sequence number of this value: a newer value of the job takes a greater one.
    pub seq: i64,
    /// What to write; `None` when the job has no rank any more (its fields are
    /// cleared).
    pub standing: Option<Standing>,
    pub queued_at: DateTime<Utc>,
    /// Attempts that failed so far.
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// Set for a dead letter: when it became one.
    pub dead_at: Option<DateTime<Utc>>,
    /// Whether the job is open now: a closed job is never written.
    pub job_open: bool,
    pub job_title: String,
}

/// What Recruiterflow last acknowledged for a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub job_id: i64,
    pub job_title: String,
    pub standing: Option<Standing>,
    /// The custom fields sent, as JSON: `[{"id", "value"}]`.
    pub fields: String,
    pub sent_at: DateTime<Utc>,
    /// When a sync last compared it with what the job reports.
    pub checked_at: Option<DateTime<Utc>>,
    /// What the job reported instead, when that differed at the last comparison.
    pub mismatch: Option<String>,
}

const QUEUED: &str =
    "q.job_id, q.seq, q.rank, q.score_sum, q.scorer_count, q.queued_at, q.attempts,
    q.next_attempt_at, q.last_error, q.dead_at, j.is_open, j.title
    FROM write_back_queue q JOIN jobs j ON j.id = q.job_id";

fn standing_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Standing>> {
    let rank: Option<String> = r.get(i)?;
    let (sum, count): (Option<i64>, Option<i64>) = (r.get(i + 1)?, r.get(i + 2)?);
    match (rank, sum, count) {
        (Some(rank), Some(sum), Some(count)) => Ok(Some(Standing {
            rank: Rank::parse(&rank).ok_or(rusqlite::Error::InvalidQuery)?,
            team: TeamScore::from_parts(sum, count).ok_or(rusqlite::Error::InvalidQuery)?,
        })),
        _ => Ok(None),
    }
}

fn queued_from_row(r: &Row<'_>) -> rusqlite::Result<Queued> {
    Ok(Queued {
        job_id: r.get(0)?,
        seq: r.get(1)?,
        standing: standing_at(r, 2)?,
        queued_at: col_ts(r, 5)?,
        attempts: r.get(6)?,
        next_attempt_at: col_ts(r, 7)?,
        last_error: r.get(8)?,
        dead_at: col_ts_opt(r, 9)?,
        job_open: r.get(10)?,
        job_title: r.get(11)?,
    })
}

/// The standing as its three columns (rank, score sum, scorer count).
fn columns(s: Option<&Standing>) -> (Option<&'static str>, Option<i64>, Option<i64>) {
    match s {
        Some(s) => (
            Some(s.rank.as_str()),
            Some(s.team.sum() as i64),
            Some(i64::from(s.team.count())),
        ),
        None => (None, None, None),
    }
}

/// Whether write-back is on: rank changes are queued only then.
pub fn is_enabled(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT enabled FROM write_back_state WHERE singleton = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Switches write-back on or off (`serve` at its start, from its configuration).
/// Switching it off discards the whole queue, dead letters included: nobody would
/// send those values, and they would be stale by the time it is switched on again
/// (`jobrank sync recruiterflow --write-back` then queues every open job afresh).
/// Returns how many queued values were discarded.
pub fn set_enabled(tx: &Tx<'_>, on: bool) -> Result<usize> {
    tx.prepare_cached("UPDATE write_back_state SET enabled = ?1 WHERE singleton = 1")?
        .execute([on])?;
    if on { Ok(0) } else { clear(tx) }
}

/// Discards every queued value, dead letters included. Returns how many.
pub fn clear(tx: &Tx<'_>) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM write_back_queue")?
        .execute([])?)
}

/// Queues `standing` for job `job_id` if the job is open, replacing any value queued
/// for it (a dead letter too: the new value gets a fresh round of attempts). Returns
/// whether it was queued. The new value's `seq` is one more than the one it replaces
/// (1 for a job with none): a sequence number is only ever compared with the same
/// job's, and a row is removed only by the sender that sent its value, so a number
/// met again after a removal can never be taken for a value in flight. (No shared
/// counter: queueing writes the job's own row alone.)
fn enqueue(
    tx: &Tx<'_>,
    job_id: i64,
    standing: Option<&Standing>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let (rank, sum, count) = columns(standing);
    let n = tx
        .prepare_cached(
            "INSERT INTO write_back_queue (job_id, seq, rank, score_sum, scorer_count, queued_at, attempts,
                next_attempt_at, last_error, dead_at)
             SELECT id, 1, ?2, ?3, ?4, ?5, 0, ?5, NULL, NULL FROM jobs WHERE id = ?1 AND is_open = 1
             ON CONFLICT (job_id) DO UPDATE SET seq = write_back_queue.seq + 1, rank = excluded.rank,
                score_sum = excluded.score_sum, scorer_count = excluded.scorer_count,
                queued_at = excluded.queued_at, attempts = 0, next_attempt_at = excluded.next_attempt_at,
                last_error = NULL, dead_at = NULL",
        )?
        .execute(rusqlite::params![job_id, rank, sum, count, ts(&at)])?;
    if n > 0 {
        tx.write_back_queued();
    }
    Ok(n > 0)
}

/// Queues the new standing of every open job among `changes`, while write-back is on
/// (nothing otherwise). The store commands call this with the changes they return, in
/// their own transaction. Returns how many values were queued.
pub(in crate::store) fn enqueue_changes(tx: &Tx<'_>, changes: &[RankChange]) -> Result<usize> {
    if changes.is_empty() || !is_enabled(tx)? {
        return Ok(0);
    }
    let at = super::now();
    let mut queued = 0;
    for c in changes {
        if enqueue(tx, c.job_id, c.new.as_ref(), at)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues every open job's current standing (`jobrank sync recruiterflow
/// --write-back`: first enabling, or after the field changed), whether write-back is
/// on or not: a ranked job its rank, and a job without a rank whose fields jobrank
/// wrote before the empty value that clears them (a job never written and never ranked
/// is left alone). Returns how many values were queued.
pub fn enqueue_open_jobs(tx: &Tx<'_>, at: DateTime<Utc>) -> Result<usize> {
    let rows: Vec<(i64, Option<Standing>)> = query_all(
        tx,
        "SELECT j.id, r.rank, r.score_sum, r.scorer_count FROM jobs j
         LEFT JOIN job_ranks r ON r.job_id = j.id
         LEFT JOIN write_back_sent s ON s.job_id = j.id
         WHERE j.is_open = 1 AND (r.job_id IS NOT NULL OR s.rank IS NOT NULL)
         ORDER BY j.id",
        [],
        |r| Ok((r.get(0)?, standing_at(r, 1)?)),
    )?;
    let mut queued = 0;
    for (job_id, standing) in &rows {
        if enqueue(tx, *job_id, standing.as_ref(), at)? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Values due to be sent at `now` (not dead letters), oldest first, with whether
/// their job is still open.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Queued>> {
    query_all(
        conn,
        &format!(
            "SELECT {QUEUED} WHERE q.dead_at IS NULL AND q.next_attempt_at <= ?1
             ORDER BY q.next_attempt_at, q.job_id LIMIT ?2"
        ),
        (ts(&now), limit),
        queued_from_row,
    )
}

/// When the next queued value falls due, if one is waiting (dead letters aside).
pub fn next_due_at(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let s: Option<String> = conn
        .prepare_cached("SELECT MIN(next_attempt_at) FROM write_back_queue WHERE dead_at IS NULL")?
        .query_row([], |r| r.get(0))?;
    s.map(|s| super::parse_ts(&s)).transpose()
}

/// The value queued for a job, dead or not.
pub fn find(conn: &Connection, job_id: i64) -> Result<Option<Queued>> {
    query_opt(
        conn,
        &format!("SELECT {QUEUED} WHERE q.job_id = ?1"),
        [job_id],
        queued_from_row,
    )
}

/// Every queued value, dead letters included, by job id (tests and diagnostics).
pub fn list_queued(conn: &Connection) -> Result<Vec<Queued>> {
    query_all(
        conn,
        &format!("SELECT {QUEUED} ORDER BY q.job_id"),
        [],
        queued_from_row,
    )
}

/// (Values waiting to be sent, dead letters.)
pub fn counts(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) - COUNT(dead_at), COUNT(dead_at) FROM write_back_queue")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Dead letters, the latest first.
pub fn list_dead(conn: &Connection, limit: i64) -> Result<Vec<Queued>> {
    query_all(
        conn,
        &format!(
            "SELECT {QUEUED} WHERE q.dead_at IS NOT NULL ORDER BY q.dead_at DESC, q.job_id LIMIT ?1"
        ),
        [limit],
        queued_from_row,
    )
}

/// Records that Recruiterflow acknowledged `fields` (JSON) for the job, as the value
/// `seq` held (`standing`), and removes that value from the queue unless a newer one
/// replaced it meanwhile (that one is sent next). Returns whether the row was removed.
pub fn mark_sent(
    tx: &Tx<'_>,
    job_id: i64,
    seq: i64,
    standing: Option<&Standing>,
    fields: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let (rank, sum, count) = columns(standing);
    tx.prepare_cached(
        "INSERT INTO write_back_sent (job_id, rank, score_sum, scorer_count, fields, sent_at, checked_at, mismatch)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL)
         ON CONFLICT (job_id) DO UPDATE SET rank = excluded.rank, score_sum = excluded.score_sum,
            scorer_count = excluded.scorer_count, fields = excluded.fields, sent_at = excluded.sent_at,
            checked_at = NULL, mismatch = NULL",
    )?
    .execute(rusqlite::params![job_id, rank, sum, count, fields, ts(&at)])?;
    remove(tx, job_id, seq)
}

/// Removes the value `seq` of a job without sending it (the job closed). Returns
/// whether it was still queued.
pub fn remove(tx: &Tx<'_>, job_id: i64, seq: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached("DELETE FROM write_back_queue WHERE job_id = ?1 AND seq = ?2")?
        .execute((job_id, seq))?
        > 0)
}

/// Records a failed attempt at the value `seq` of a job: tried again at `retry_at`,
/// or a dead letter when `retry_at` is `None`. A value replaced meanwhile is left as
/// it is (the newer one has its own attempts). Returns whether the row was updated.
pub fn mark_failed(
    tx: &Tx<'_>,
    job_id: i64,
    seq: i64,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE write_back_queue SET attempts = attempts + 1, last_error = ?3,
                next_attempt_at = COALESCE(?4, next_attempt_at),
                dead_at = CASE WHEN ?4 IS NULL THEN ?5 END
             WHERE job_id = ?1 AND seq = ?2 AND dead_at IS NULL",
        )?
        .execute(rusqlite::params![
            job_id,
            seq,
            error,
            retry_at.as_ref().map(ts),
            ts(&at)
        ])?;
    Ok(n > 0)
}

/// Puts a job's dead letter back in the queue for a fresh round of attempts, due at
/// `at`. Returns it as it was (for the audit log).
pub fn retry_dead(tx: &Tx<'_>, job_id: i64, at: DateTime<Utc>) -> Result<Queued> {
    let dead = find(tx, job_id)?
        .filter(|q| q.dead_at.is_some())
        .ok_or_else(|| StoreError::NotFound(format!("a dead rank write-back for job {job_id}")))?;
    tx.prepare_cached(
        "UPDATE write_back_queue SET attempts = 0, next_attempt_at = ?2, dead_at = NULL
         WHERE job_id = ?1 AND dead_at IS NOT NULL",
    )?
    .execute((job_id, ts(&at)))?;
    tx.write_back_queued();
    Ok(dead)
}

const SENT: &str = "s.job_id, j.title, s.rank, s.score_sum, s.scorer_count, s.fields, s.sent_at,
    s.checked_at, s.mismatch FROM write_back_sent s JOIN jobs j ON j.id = s.job_id";

fn sent_from_row(r: &Row<'_>) -> rusqlite::Result<Sent> {
    Ok(Sent {
        job_id: r.get(0)?,
        job_title: r.get(1)?,
        standing: standing_at(r, 2)?,
        fields: r.get(5)?,
        sent_at: col_ts(r, 6)?,
        checked_at: col_ts_opt(r, 7)?,
        mismatch: r.get(8)?,
    })
}

/// What was last sent for each open job with nothing newer queued: the values a sync
/// compares with what the jobs report.
pub fn list_comparable(conn: &Connection) -> Result<Vec<Sent>> {
    query_all(
        conn,
        &format!(
            "SELECT {SENT} WHERE j.is_open = 1
               AND NOT EXISTS (SELECT 1 FROM write_back_queue q WHERE q.job_id = s.job_id)
             ORDER BY s.job_id"
        ),
        [],
        sent_from_row,
    )
}

/// What was last sent for a job.
pub fn find_sent(conn: &Connection, job_id: i64) -> Result<Option<Sent>> {
    query_opt(
        conn,
        &format!("SELECT {SENT} WHERE s.job_id = ?1"),
        [job_id],
        sent_from_row,
    )
}

/// Records a sync's comparison for a job: `mismatch` is what the job reported
/// instead of what was sent (its fields sent as `fields`), `None` when it matched. A
/// value sent after `fields` was read is left alone.
pub fn record_check(
    tx: &Tx<'_>,
    job_id: i64,
    fields: &str,
    mismatch: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE write_back_sent SET checked_at = ?3, mismatch = ?4 WHERE job_id = ?1 AND fields = ?2",
    )?
    .execute(rusqlite::params![job_id, fields, ts(&at), mismatch])?;
    Ok(())
}

/// Open jobs whose field showed something else than jobrank wrote at the latest sync,
/// the latest checked first.
pub fn list_mismatches(conn: &Connection, limit: i64) -> Result<Vec<Sent>> {
    query_all(
        conn,
        &format!(
            "SELECT {SENT} WHERE s.mismatch IS NOT NULL AND j.is_open = 1
             ORDER BY s.checked_at DESC, s.job_id LIMIT ?1"
        ),
        [limit],
        sent_from_row,
    )
}

/// Why the last round could not write at all, and since when; `None` once a round
/// succeeded.
pub fn problem(conn: &Connection) -> Result<Option<(String, DateTime<Utc>)>> {
    query_opt(
        conn,
        "SELECT problem, problem_at FROM write_back_state WHERE singleton = 1 AND problem IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, col_ts(r, 1)?)),
    )
}

/// Records (or, with `None`, clears) why write-back cannot write at all. The time of a
/// problem that persists is kept from its first record.
pub fn set_problem(tx: &Tx<'_>, problem: Option<&str>, at: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE write_back_state SET
            problem_at = CASE WHEN ?1 IS NULL THEN NULL WHEN problem IS ?1 THEN problem_at ELSE ?2 END,
            problem = ?1
         WHERE singleton = 1",
    )?
    .execute(rusqlite::params![problem, ts(&at)])?;
    Ok(())
}
