//! Reads for the CEO's review and the exports: every submission with its job and
//! scorer, and rank distributions per week. (Outcomes are `store::outcomes`.)

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
