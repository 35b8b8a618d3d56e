//! Reads for the CEO's review and the exports: every submission with its job and
//! scorer, rank distributions per week, and placements (job outcomes).

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::submissions::{self, Submission};
use super::{Result, col_ts, col_ts_opt};

/// A submission with the names people recognise.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSubmission {
    pub submission: Submission,
    pub job_title: String,
    pub client: String,
    pub scorer_name: String,
    pub scorer_email: String,
}

/// Every submission with its job and scorer, oldest first.
pub fn named_submissions(conn: &Connection) -> Result<Vec<NamedSubmission>> {
    let cols = submissions::COLUMNS
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols}, COALESCE(j.title, ''), COALESCE(j.client, ''), COALESCE(u.name, ''), COALESCE(u.email, '')
         FROM submissions s LEFT JOIN jobs j ON j.id = s.job_id LEFT JOIN users u ON u.id = s.scorer_id
         ORDER BY s.submitted_at, s.id"
    ))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(NamedSubmission {
                submission: submissions::from_row(r)?,
                job_title: r.get(12)?,
                client: r.get(13)?,
                scorer_name: r.get(14)?,
                scorer_email: r.get(15)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One rank-history row in brief, with when its job closed. The distribution per
/// week takes each job's latest rank at the end of the week.
#[derive(Debug, Clone, PartialEq)]
pub struct RankMark {
    pub job_id: i64,
    pub at: DateTime<Utc>,
    /// "A", "B" or "C".
    pub rank: String,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Every rank-history row, oldest first.
pub fn rank_changes(conn: &Connection) -> Result<Vec<RankMark>> {
    let mut stmt = conn.prepare_cached(
        "SELECT h.job_id, h.at, h.rank, j.closed_at FROM rank_history h JOIN jobs j ON j.id = h.job_id
         ORDER BY h.at, h.id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RankMark {
                job_id: r.get(0)?,
                at: col_ts(r, 1)?,
                rank: r.get(2)?,
                closed_at: col_ts_opt(r, 3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A job's outcome as far as placements tell it, with its current rank.
#[derive(Debug, Clone, PartialEq)]
pub struct JobOutcome {
    pub job_id: i64,
    pub title: String,
    pub client: String,
    /// "A", "B", "C", or None while unscored.
    pub rank: Option<String>,
    pub is_open: bool,
    pub opened: DateTime<Utc>,
    /// The first placement, if any: the job was filled.
    pub first_placed_at: Option<DateTime<Utc>>,
    pub placements: i64,
    /// Total placement fees in minor units, and their currency (when one).
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
}

/// How many placements are stored.
pub fn count_placements(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM placements", [], |r| r.get(0))?)
}

/// Every job that was ever scored or placed, with its placements summed.
pub fn job_outcomes(conn: &Connection) -> Result<Vec<JobOutcome>> {
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, j.title, j.client, r.rank, j.is_open, COALESCE(j.opened_at, j.first_seen_at),
                MIN(p.placed_at), COUNT(p.id), SUM(p.fee_minor), MAX(p.fee_currency)
         FROM jobs j
         LEFT JOIN job_ranks r ON r.job_id = j.id
         LEFT JOIN placements p ON p.job_id = j.id
         WHERE r.job_id IS NOT NULL OR p.id IS NOT NULL
         GROUP BY j.id
         ORDER BY j.id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(JobOutcome {
                job_id: r.get(0)?,
                title: r.get(1)?,
                client: r.get(2)?,
                rank: r.get(3)?,
                is_open: r.get(4)?,
                opened: col_ts(r, 5)?,
                first_placed_at: col_ts_opt(r, 6)?,
                placements: r.get(7)?,
                fee_minor: r.get(8)?,
                fee_currency: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
