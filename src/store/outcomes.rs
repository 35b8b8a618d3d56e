//! The outcome report's read: the jobs closed in a period with the rank they closed
//! with, their rank history up to the close and their placements, in three queries
//! whatever the number of jobs. What the figures mean is [`crate::domain::outcome_report`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::jobs::standing_from_columns;
use super::{Result, col_ts, col_ts_opt, query_all, ts};
use crate::domain::{ClosedJob, Money, PlacedFee, Rank, rank_held_longest};

/// A rank history row in brief: when, and the rank it gave.
type RankAt = (DateTime<Utc>, Option<Rank>);

/// The jobs closed from `from` (included) to `until` (excluded), latest close first,
/// each with its rank at close, the rank it held longest while open, and its
/// placements. Jobs closed and then reopened are open, and not among them.
pub fn closed_between(
    conn: &Connection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<ClosedJob>> {
    let tx = conn.unchecked_transaction()?;
    let (from, until) = (ts(&from), ts(&until));
    const CLOSED: &str = "j.is_open = 0 AND j.closed_at >= ?1 AND j.closed_at < ?2";
    let mut jobs = query_all(
        &tx,
        &format!(
            "SELECT j.id, j.title, j.client, COALESCE(j.opened_at, j.first_seen_at), j.closed_at,
                    j.rank_at_close, j.score_sum_at_close, j.scorer_count_at_close
             FROM jobs j WHERE {CLOSED} ORDER BY j.closed_at DESC, j.id DESC"
        ),
        (&from, &until),
        |r| {
            let at_close = standing_from_columns(r.get(5)?, r.get(6)?, r.get(7)?);
            Ok(ClosedJob {
                job_id: r.get(0)?,
                title: r.get(1)?,
                client: r.get(2)?,
                opened: col_ts(r, 3)?,
                closed: col_ts(r, 4)?,
                rank_at_close: at_close.map(|s| s.rank),
                team_at_close: at_close.map(|s| s.team),
                rank_held_longest: None,
                placements: Vec::new(),
            })
        },
    )?;
    let mut history: HashMap<i64, Vec<RankAt>> = HashMap::new();
    for (job, at, rank) in query_all(
        &tx,
        &format!(
            "SELECT h.job_id, h.at, h.rank FROM rank_history h JOIN jobs j ON j.id = h.job_id
             WHERE {CLOSED} AND h.at <= j.closed_at ORDER BY h.job_id, h.at, h.id"
        ),
        (&from, &until),
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                col_ts(r, 1)?,
                Rank::parse(&r.get::<_, String>(2)?),
            ))
        },
    )? {
        history.entry(job).or_default().push((at, rank));
    }
    let mut placed: HashMap<i64, Vec<PlacedFee>> = HashMap::new();
    for (job, fee) in query_all(
        &tx,
        &format!(
            "SELECT p.job_id, p.placed_at, p.fee_minor, p.fee_currency FROM placements p
             JOIN jobs j ON j.id = p.job_id WHERE {CLOSED} ORDER BY p.job_id, p.placed_at, p.id"
        ),
        (&from, &until),
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                PlacedFee {
                    placed_at: col_ts_opt(r, 1)?,
                    fee: Money::from_parts(r.get(2)?, r.get::<_, Option<String>>(3)?.as_deref()),
                },
            ))
        },
    )? {
        placed.entry(job).or_default().push(fee);
    }
    tx.finish()?;
    for j in &mut jobs {
        let h = history.remove(&j.job_id).unwrap_or_default();
        j.rank_held_longest = rank_held_longest(&h, j.opened, j.closed);
        j.placements = placed.remove(&j.job_id).unwrap_or_default();
    }
    Ok(jobs)
}
