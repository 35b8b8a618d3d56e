//! Pipeline snapshots: per job and stage, candidates and average days in the stage.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{Result, Tx, col_ts, outbox, ts};

pub use crate::domain::{PipelineSnapshot, StageCount};

/// Stores a snapshot when it differs from the job's latest one, or when the latest is
/// from an earlier day (a daily snapshot). Returns whether it was stored.
pub fn record_snapshot(
    tx: &Tx<'_>,
    job_id: i64,
    stages: &[StageCount],
    at: DateTime<Utc>,
) -> Result<bool> {
    if let Some(last) = latest_snapshot(tx, job_id)? {
        let same = last.stages.len() == stages.len()
            && last.stages.iter().zip(stages).all(|(a, b)| {
                a.stage == b.stage
                    && a.candidates == b.candidates
                    && a.avg_days_in_stage.map(|d| (d * 10.0).round())
                        == b.avg_days_in_stage.map(|d| (d * 10.0).round())
            });
        if same && last.taken_at.date_naive() == at.date_naive() {
            return Ok(false);
        }
    }
    let taken = ts(&at);
    for s in stages {
        // Derived from the content, so the same snapshot never appears twice.
        let id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("pipeline|{job_id}|{taken}|{}", s.stage).as_bytes(),
        )
        .to_string();
        tx.execute(
            "INSERT OR IGNORE INTO pipeline_snapshots (id, job_id, taken_at, stage, stage_order, candidates, avg_days_in_stage, origin)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![id, job_id, taken, s.stage, s.stage_order, s.candidates, s.avg_days_in_stage, tx.origin()],
        )?;
        outbox::enqueue(tx, "pipeline_snapshots", &id)?;
    }
    Ok(true)
}

/// The job's latest snapshot.
pub fn latest_snapshot(conn: &Connection, job_id: i64) -> Result<Option<PipelineSnapshot>> {
    let mut stmt = conn.prepare_cached(
        "SELECT taken_at, stage, stage_order, candidates, avg_days_in_stage FROM pipeline_snapshots
         WHERE job_id = ?1 AND taken_at = (SELECT MAX(taken_at) FROM pipeline_snapshots WHERE job_id = ?1)
         ORDER BY stage_order, stage",
    )?;
    let rows = stmt
        .query_map([job_id], |r| {
            Ok((
                col_ts(r, 0)?,
                StageCount {
                    stage: r.get(1)?,
                    stage_order: r.get(2)?,
                    candidates: r.get(3)?,
                    avg_days_in_stage: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let Some(taken_at) = rows.first().map(|r| r.0) else {
        return Ok(None);
    };
    Ok(Some(PipelineSnapshot {
        job_id,
        taken_at,
        stages: rows.into_iter().map(|r| r.1).collect(),
    }))
}
