//! Score submissions: immutable; a new submission supersedes a scorer's earlier one.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, new_id, outbox, query_all, ts};
use crate::domain::{FactorScores, Level, ScorerInput, Submitted, check_text};

/// A stored submission.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Submission {
    pub id: String,
    pub job_id: i64,
    pub scorer_id: String,
    pub client_engagement: u8,
    pub search_difficulty: u8,
    pub time_open: u8,
    pub fee_size: u8,
    pub time_open_overridden: bool,
    pub fee_size_overridden: bool,
    pub comment: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub origin: String,
}

impl Submission {
    pub fn scores(&self) -> Result<FactorScores> {
        FactorScores::from_values([
            i64::from(self.client_engagement),
            i64::from(self.search_difficulty),
            i64::from(self.time_open),
            i64::from(self.fee_size),
        ])
        .map_err(|e| StoreError::Data(format!("submission {}: {:?}", self.id, e)))
    }
}

impl Submitted for Submission {
    fn scorer_id(&self) -> &str {
        &self.scorer_id
    }
    fn submission_id(&self) -> &str {
        &self.id
    }
    fn submitted_at(&self) -> DateTime<Utc> {
        self.submitted_at
    }
}

/// A new submission from a scorer.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub job_id: i64,
    pub scorer_id: String,
    pub scores: FactorScores,
    pub time_open_overridden: bool,
    pub fee_size_overridden: bool,
    pub comment: Option<String>,
}

/// The longest comment accepted.
pub const MAX_COMMENT_CHARS: usize = 2000;

pub(crate) const COLUMNS: &str = "id, job_id, scorer_id, client_engagement, search_difficulty, time_open, fee_size, \
    time_open_overridden, fee_size_overridden, comment, submitted_at, origin";

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Submission> {
    Ok(Submission {
        id: r.get(0)?,
        job_id: r.get(1)?,
        scorer_id: r.get(2)?,
        client_engagement: r.get(3)?,
        search_difficulty: r.get(4)?,
        time_open: r.get(5)?,
        fee_size: r.get(6)?,
        time_open_overridden: r.get(7)?,
        fee_size_overridden: r.get(8)?,
        comment: r.get(9)?,
        submitted_at: col_ts(r, 10)?,
        origin: r.get(11)?,
    })
}

/// Records a new submission as it is and queues it for replication, in the caller's
/// transaction; refuses a comment that is too long. Whether the job and the scorer may
/// take it, the draft and the rank are the store command
/// `commands::submit_score`'s business.
pub(in crate::store) fn insert_new(
    tx: &Tx<'_>,
    new: &NewSubmission,
    at: DateTime<Utc>,
) -> Result<Submission> {
    let comment = new
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(c) = comment {
        check_text("comment", c)?;
    }
    if comment.is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
        return Err(StoreError::Invalid(crate::domain::DomainError::Invalid {
            field: "comment",
            reason: format!("must be at most {MAX_COMMENT_CHARS} characters"),
        }));
    }
    let s = Submission {
        id: new_id(),
        job_id: new.job_id,
        scorer_id: new.scorer_id.clone(),
        client_engagement: new.scores.client_engagement.get(),
        search_difficulty: new.scores.search_difficulty.get(),
        time_open: new.scores.time_open.get(),
        fee_size: new.scores.fee_size.get(),
        time_open_overridden: new.time_open_overridden,
        fee_size_overridden: new.fee_size_overridden,
        comment: comment.map(str::to_string),
        submitted_at: at,
        origin: tx.origin().to_string(),
    };
    insert_row(tx, &s)?;
    outbox::enqueue(tx, "submissions", &s.id)?;
    Ok(s)
}

/// Inserts a submission row as it is (the demo, seeded tests and benchmarks); a row
/// that is already there is left alone. Returns whether it was new. Neither queues it
/// for replication nor recomputes ranks: a caller that adds rows outside a store
/// command follows them with `commands::rerank_all_jobs`.
pub fn insert_row(tx: &Tx<'_>, s: &Submission) -> Result<bool> {
    let n = tx.prepare_cached(&format!(
        "INSERT OR IGNORE INTO submissions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(rusqlite::params![
        s.id,
        s.job_id,
        s.scorer_id,
        s.client_engagement,
        s.search_difficulty,
        s.time_open,
        s.fee_size,
        s.time_open_overridden,
        s.fee_size_overridden,
        s.comment,
        ts(&s.submitted_at),
        s.origin
    ])?;
    Ok(n == 1)
}

/// The submissions that count for a job's rank: the latest of each active scoring user.
pub fn ranking_inputs(conn: &Connection, job_id: i64) -> Result<Vec<ScorerInput>> {
    inputs_query(
        conn,
        "SELECT s.id, s.scorer_id, s.submitted_at, s.client_engagement, s.search_difficulty, s.time_open, s.fee_size
         FROM submissions s JOIN users u ON u.id = s.scorer_id
         WHERE s.job_id = ?1 AND u.active = 1 AND u.scores = 1
           AND s.submitted_at = (SELECT MAX(submitted_at) FROM submissions WHERE job_id = s.job_id AND scorer_id = s.scorer_id)",
        (job_id,),
    )
}

/// As [`ranking_inputs`], from the submissions made up to `until` only (a job's rank at
/// its close).
pub fn ranking_inputs_until(
    conn: &Connection,
    job_id: i64,
    until: DateTime<Utc>,
) -> Result<Vec<ScorerInput>> {
    inputs_query(
        conn,
        "SELECT s.id, s.scorer_id, s.submitted_at, s.client_engagement, s.search_difficulty, s.time_open, s.fee_size
         FROM submissions s JOIN users u ON u.id = s.scorer_id
         WHERE s.job_id = ?1 AND u.active = 1 AND u.scores = 1 AND s.submitted_at <= ?2
           AND s.submitted_at = (SELECT MAX(submitted_at) FROM submissions
                                 WHERE job_id = s.job_id AND scorer_id = s.scorer_id AND submitted_at <= ?2)",
        (job_id, ts(&until)),
    )
}

fn inputs_query<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<ScorerInput>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                col_ts(r, 2)?,
                [r.get::<_, i64>(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, scorer, at, v)| {
            let scores = FactorScores::from_values(v)
                .map_err(|e| StoreError::Data(format!("submission {id}: {e:?}")))?;
            Ok(ScorerInput {
                scorer_id: scorer,
                submission_id: id,
                submitted_at: at,
                scores,
            })
        })
        .collect()
}

/// The origin of the latest, by (submitted at, id), of these submissions: the replica
/// whose submission made a rank come to be.
pub fn origin_of_latest(conn: &Connection, ids: &[&str]) -> Result<Option<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT submitted_at, id, origin FROM submissions WHERE id = ?1")?;
    let mut latest: Option<(String, String, String)> = None;
    for id in ids {
        let row: (String, String, String) =
            stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        if latest
            .as_ref()
            .is_none_or(|l| (&row.0, &row.1) > (&l.0, &l.1))
        {
            latest = Some(row);
        }
    }
    Ok(latest.map(|l| l.2))
}

/// A scorer's submissions for a job, newest first.
pub fn list_for_job_and_scorer(
    conn: &Connection,
    job_id: i64,
    scorer_id: &str,
) -> Result<Vec<Submission>> {
    query_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM submissions WHERE job_id = ?1 AND scorer_id = ?2 ORDER BY submitted_at DESC, id DESC"
        ),
        (job_id, scorer_id),
        from_row,
    )
}

/// When a scorer last scored a job, if ever (one index seek).
pub fn latest_for_job_and_scorer(
    conn: &Connection,
    job_id: i64,
    scorer_id: &str,
) -> Result<Option<DateTime<Utc>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT MAX(submitted_at) FROM submissions WHERE job_id = ?1 AND scorer_id = ?2",
    )?;
    Ok(stmt.query_row((job_id, scorer_id), |r| col_ts_opt(r, 0))?)
}

/// How many jobs a scorer submitted a score for from `since` on (each job once, however
/// often it was scored): "N jobs scored this week".
pub fn count_jobs_scored_since(
    conn: &Connection,
    scorer_id: &str,
    since: DateTime<Utc>,
) -> Result<usize> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT COUNT(DISTINCT job_id) FROM submissions WHERE scorer_id = ?1 AND submitted_at >= ?2",
        )?
        .query_row(rusqlite::params![scorer_id, ts(&since)], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Every submission for a job, newest first.
pub fn list_for_job(conn: &Connection, job_id: i64) -> Result<Vec<Submission>> {
    query_all(
        conn,
        &format!(
            "SELECT {COLUMNS} FROM submissions WHERE job_id = ?1 ORDER BY submitted_at DESC, id DESC"
        ),
        [job_id],
        from_row,
    )
}

/// Every submission, oldest first (exports and reviews).
pub fn list_all(conn: &Connection) -> Result<Vec<Submission>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM submissions ORDER BY submitted_at, id"),
        [],
        from_row,
    )
}

pub fn count_submissions(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?)
}

/// When a scorer last scored each job: (job id, latest submitted at).
pub fn latest_by_scorer(conn: &Connection, scorer_id: &str) -> Result<Vec<(i64, DateTime<Utc>)>> {
    query_all(
        conn,
        "SELECT job_id, MAX(submitted_at) FROM submissions WHERE scorer_id = ?1 GROUP BY job_id",
        [scorer_id],
        |r| Ok((r.get(0)?, col_ts(r, 1)?)),
    )
}

/// Helper for building factor scores in callers that hold raw levels.
pub fn levels(v: [u8; 4]) -> Result<FactorScores> {
    let l = |f: &'static str, x: u8| Level::new(f, i64::from(x));
    Ok(FactorScores {
        client_engagement: l("client_engagement", v[0])?,
        search_difficulty: l("search_difficulty", v[1])?,
        time_open: l("time_open", v[2])?,
        fee_size: l("fee_size", v[3])?,
    })
}

/// Each scorer's latest submission time on each open job: (job id, scorer id, at).
/// With the scorers and the cadence this says whose score each job needs.
pub fn latest_on_open_jobs(conn: &Connection) -> Result<Vec<(i64, String, DateTime<Utc>)>> {
    query_all(
        conn,
        "SELECT s.job_id, s.scorer_id, MAX(s.submitted_at)
         FROM submissions s JOIN jobs j ON j.id = s.job_id
         WHERE j.is_open = 1
         GROUP BY s.job_id, s.scorer_id",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, col_ts(r, 2)?)),
    )
}
