//! Current ranks and rank history. Ranks are recomputed on every submission, settings
//! change and job change; a history row is written only when the team score or the
//! rank changes. A history row's id and time derive from its inputs, so replicas that
//! compute the same rank write the same row.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use super::{Result, StoreError, Tx, col_ts, col_ts_opt, outbox, settings, submissions, ts};
use crate::domain::{Rank, ScorerComposite, TeamScore, rank_job};

pub use crate::domain::JobRank;

/// One row of rank history.
#[derive(Debug, Clone, PartialEq)]
pub struct RankChange {
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

/// Recomputes one job's rank from its scorers' latest submissions and the current
/// settings. Returns whether the team score or rank changed.
pub fn recompute_job(tx: &Tx<'_>, job_id: i64) -> Result<bool> {
    let current = settings::current_settings(tx)?;
    let inputs = submissions::ranking_inputs(tx, job_id)?;
    let old = find_job_rank(tx, job_id)?;
    let Some(outcome) = rank_job(&inputs, &current.settings) else {
        if old.is_some() {
            tx.execute("DELETE FROM job_ranks WHERE job_id = ?1", [job_id])?;
        }
        return Ok(old.is_some());
    };
    // Team scores compare by value: 7/2 and 14/4 are the same score, no change.
    let changed = match &old {
        Some(o) => !(o.team == outcome.team && o.rank == outcome.rank),
        None => true,
    };
    // The rank came to be with its latest input: the latest submission, or the settings
    // version when that is newer. Its time and origin are those of that input, so every
    // replica that computes this rank writes the identical row.
    let (at, origin) = if current.created_at > outcome.at {
        (current.created_at, current.origin.clone())
    } else {
        let mut latest: Option<(String, String, String)> = None;
        for c in &outcome.composites {
            let row: (String, String, String) = tx
                .prepare_cached("SELECT submitted_at, id, origin FROM submissions WHERE id = ?1")?
                .query_row([&c.submission_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if latest
                .as_ref()
                .is_none_or(|l| (&row.0, &row.1) > (&l.0, &l.1))
            {
                latest = Some(row);
            }
        }
        (outcome.at, latest.map(|l| l.2).unwrap_or_default())
    };
    if changed {
        let mut ids: Vec<&str> = outcome
            .composites
            .iter()
            .map(|c| c.submission_id.as_str())
            .collect();
        ids.sort_unstable();
        let id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("rank|{job_id}|{}|{}", current.id, ids.join(",")).as_bytes(),
        )
        .to_string();
        let n = tx.execute(
            "INSERT OR IGNORE INTO rank_history (id, job_id, at, score_sum, scorer_count, rank, composites, settings_version, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                id,
                job_id,
                ts(&at),
                outcome.team.sum() as i64,
                outcome.team.count(),
                outcome.rank.as_str(),
                serde_json::to_string(&outcome.composites).map_err(|e| StoreError::Data(e.to_string()))?,
                current.settings.version,
                origin
            ],
        )?;
        if n == 1 {
            outbox::enqueue(tx, "rank_history", &id)?;
        }
    }
    let (prev_sum, prev_count, prev_rank) = match (&old, changed) {
        (Some(o), true) => (
            Some(o.team.sum() as i64),
            Some(i64::from(o.team.count())),
            Some(o.rank.as_str()),
        ),
        (Some(o), false) => match &o.previous {
            Some((t, r)) => (
                Some(t.sum() as i64),
                Some(i64::from(t.count())),
                Some(r.as_str()),
            ),
            None => (None, None, None),
        },
        (None, _) => (None, None, None),
    };
    tx.execute(
        "INSERT INTO job_ranks (job_id, score_sum, scorer_count, rank, previous_rank, previous_sum, previous_count,
            settings_version, last_scored_at, computed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (job_id) DO UPDATE SET score_sum = excluded.score_sum, scorer_count = excluded.scorer_count,
            rank = excluded.rank, previous_rank = excluded.previous_rank, previous_sum = excluded.previous_sum,
            previous_count = excluded.previous_count, settings_version = excluded.settings_version,
            last_scored_at = excluded.last_scored_at, computed_at = excluded.computed_at",
        rusqlite::params![
            job_id,
            outcome.team.sum() as i64,
            outcome.team.count(),
            outcome.rank.as_str(),
            prev_rank,
            prev_sum,
            prev_count,
            current.settings.version,
            ts(&outcome.at),
            ts(&super::now())
        ],
    )?;
    Ok(changed)
}

/// Recomputes every job's rank (after a settings change or a change of who scores).
pub fn recompute_all(tx: &Tx<'_>) -> Result<usize> {
    let ids: Vec<i64> = tx
        .prepare_cached("SELECT id FROM jobs ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for id in ids {
        if recompute_job(tx, id)? {
            changed += 1;
        }
    }
    Ok(changed)
}

/// A job's rank history, oldest first.
pub fn history_for_job(conn: &Connection, job_id: i64) -> Result<Vec<RankChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, job_id, at, score_sum, scorer_count, rank, composites, settings_version
         FROM rank_history WHERE job_id = ?1 ORDER BY at, id",
    )?;
    let rows = stmt
        .query_map([job_id], |r| {
            let composites: String = r.get(6)?;
            Ok(RankChange {
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
