//! Current ranks (`job_ranks`) and rank history (`rank_history`): reads, and the writes
//! the store commands make when they recompute a rank (see `store::commands`). A
//! history row is written only when the team score or the rank changes; its id and
//! time derive from its inputs, so replicas that compute the same rank write the same
//! row.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, outbox, ts};
use crate::domain::{Rank, ScorerComposite, TeamScore};

pub use crate::domain::JobRank;

/// One row of rank history: a rank as it came to be.
#[derive(Debug, Clone, PartialEq)]
pub struct RankHistoryRow {
    pub id: String,
    pub job_id: i64,
    pub at: DateTime<Utc>,
    pub team: TeamScore,
    pub rank: Rank,
    pub composites: Vec<ScorerComposite>,
    pub settings_version: i64,
}

fn parse_rank(s: &str) -> rusqlite::Result<Rank> {
    Rank::parse(s).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(0, "rank".into(), rusqlite::types::Type::Text)
    })
}

pub fn find_job_rank(conn: &Connection, job_id: i64) -> Result<Option<JobRank>> {
    let row = conn
        .prepare_cached(
            "SELECT job_id, score_sum, scorer_count, rank, previous_sum, previous_count, previous_rank,
                    settings_version, last_scored_at
             FROM job_ranks WHERE job_id = ?1",
        )?
        .query_row([job_id], |r| {
            let prev_rank: Option<String> = r.get(6)?;
            Ok(JobRank {
                job_id: r.get(0)?,
                team: TeamScore::from_parts(r.get(1)?, r.get(2)?).ok_or(rusqlite::Error::InvalidQuery)?,
                rank: parse_rank(&r.get::<_, String>(3)?)?,
                previous: match (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<i64>>(5)?, prev_rank) {
                    (Some(s), Some(c), Some(p)) => TeamScore::from_parts(s, c).zip(Rank::parse(&p)),
                    _ => None,
                },
                settings_version: r.get(7)?,
                last_scored_at: col_ts(r, 8)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// Stores a job's current rank (with the one before it, for movement), replacing the
/// row there was. Only the store commands call this, through their recomputation.
pub(in crate::store) fn save_job_rank(
    tx: &Tx<'_>,
    rank: &JobRank,
    computed_at: DateTime<Utc>,
) -> Result<()> {
    let (prev_sum, prev_count, prev_rank) = match &rank.previous {
        Some((t, r)) => (
            Some(t.sum() as i64),
            Some(i64::from(t.count())),
            Some(r.as_str()),
        ),
        None => (None, None, None),
    };
    tx.prepare_cached(
        "INSERT INTO job_ranks (job_id, score_sum, scorer_count, rank, previous_rank, previous_sum, previous_count,
            settings_version, last_scored_at, computed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (job_id) DO UPDATE SET score_sum = excluded.score_sum, scorer_count = excluded.scorer_count,
            rank = excluded.rank, previous_rank = excluded.previous_rank, previous_sum = excluded.previous_sum,
            previous_count = excluded.previous_count, settings_version = excluded.settings_version,
            last_scored_at = excluded.last_scored_at, computed_at = excluded.computed_at",
    )?
    .execute(rusqlite::params![
        rank.job_id,
        rank.team.sum() as i64,
        rank.team.count(),
        rank.rank.as_str(),
        prev_rank,
        prev_sum,
        prev_count,
        rank.settings_version,
        ts(&rank.last_scored_at),
        ts(&computed_at)
    ])?;
    Ok(())
}

/// Removes a job's current rank (nobody who counts has scored it any more).
pub(in crate::store) fn delete_job_rank(tx: &Tx<'_>, job_id: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM job_ranks WHERE job_id = ?1")?
        .execute([job_id])?;
    Ok(())
}

/// Writes a rank history row, written by `origin`, and queues it for replication;
/// a row that is already there (same id: the same inputs) is left alone. Returns
/// whether it was new.
pub(in crate::store) fn insert_history_row(
    tx: &Tx<'_>,
    row: &RankHistoryRow,
    origin: &str,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO rank_history (id, job_id, at, score_sum, scorer_count, rank, composites, settings_version, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(rusqlite::params![
            row.id,
            row.job_id,
            ts(&row.at),
            row.team.sum() as i64,
            row.team.count(),
            row.rank.as_str(),
            serde_json::to_string(&row.composites).map_err(|e| StoreError::Data(e.to_string()))?,
            row.settings_version,
            origin
        ])?;
    if n == 1 {
        outbox::enqueue(tx, "rank_history", &row.id)?;
    }
    Ok(n == 1)
}

/// A job's rank history, oldest first.
pub fn history_for_job(conn: &Connection, job_id: i64) -> Result<Vec<RankHistoryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, job_id, at, score_sum, scorer_count, rank, composites, settings_version
         FROM rank_history WHERE job_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map([job_id], |r| {
            let composites: String = r.get(6)?;
            Ok(RankHistoryRow {
                id: r.get(0)?,
                job_id: r.get(1)?,
                at: col_ts(r, 2)?,
                team: TeamScore::from_parts(r.get(3)?, r.get(4)?)
                    .ok_or(rusqlite::Error::InvalidQuery)?,
                rank: parse_rank(&r.get::<_, String>(5)?)?,
                composites: serde_json::from_str(&composites).unwrap_or_default(),
                settings_version: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A job's current rank in brief: (job id, rank, team score, last scored at).
pub type RankSummary = (i64, Rank, TeamScore, Option<DateTime<Utc>>);

/// Current ranks of all jobs.
pub fn all_job_ranks(conn: &Connection) -> Result<Vec<RankSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT job_id, rank, score_sum, scorer_count, last_scored_at FROM job_ranks",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                parse_rank(&r.get::<_, String>(1)?)?,
                TeamScore::from_parts(r.get(2)?, r.get(3)?).ok_or(rusqlite::Error::InvalidQuery)?,
                col_ts_opt(r, 4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
