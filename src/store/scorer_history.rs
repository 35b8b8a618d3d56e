//! A scorer's own history: every submission they made, newest first, with its job and
//! the job's rank now (for "My scores" and `GET /api/scores`).

use rusqlite::Connection;

use super::jobs::standing_from_columns;
use super::submissions::{self, Submission};
use super::{Result, query_all};
use crate::domain::Standing;

/// A submission with its job as it stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredJob {
    pub submission: Submission,
    pub job_title: String,
    pub client: String,
    pub job_is_open: bool,
    /// The job's rank now (a closed job's is the rank it closed with); `None` while
    /// it has none.
    pub job_rank: Option<Standing>,
}

/// Every submission of `scorer_id`, newest first.
pub fn scorer_history(conn: &Connection, scorer_id: &str) -> Result<Vec<ScoredJob>> {
    let cols = submissions::COLUMNS
        .split(',')
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    query_all(
        conn,
        &format!(
            "SELECT {cols}, j.title, j.client, j.is_open, r.rank, r.score_sum, r.scorer_count
             FROM submissions s JOIN jobs j ON j.id = s.job_id LEFT JOIN job_ranks r ON r.job_id = s.job_id
             WHERE s.scorer_id = ?1 ORDER BY s.submitted_at DESC, s.id DESC"
        ),
        [scorer_id],
        |r| {
            Ok(ScoredJob {
                submission: submissions::from_row(r)?,
                job_title: r.get(12)?,
                client: r.get(13)?,
                job_is_open: r.get(14)?,
                job_rank: standing_from_columns(r.get(15)?, r.get(16)?, r.get(17)?),
            })
        },
    )
}
