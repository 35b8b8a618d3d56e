//! A job's candidate pipeline: candidates per stage, the bottleneck stage and whether
//! the pipeline is empty, moving or stalled.

use chrono::{DateTime, Utc};

/// One stage of a job's pipeline at a moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StageCount {
    pub stage: String,
    pub stage_order: i64,
    pub candidates: i64,
    pub avg_days_in_stage: Option<f64>,
}

/// A job's pipeline at one moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PipelineSnapshot {
    pub job_id: i64,
    pub taken_at: DateTime<Utc>,
    pub stages: Vec<StageCount>,
}

impl PipelineSnapshot {
    pub fn total_candidates(&self) -> i64 {
        self.stages.iter().map(|s| s.candidates).sum()
    }

    /// The stage where candidates wait longest on average (the bottleneck), if any.
    pub fn bottleneck(&self) -> Option<&StageCount> {
        self.stages
            .iter()
            .filter(|s| s.candidates > 0 && s.avg_days_in_stage.is_some())
            .max_by(|a, b| {
                a.avg_days_in_stage
                    .partial_cmp(&b.avg_days_in_stage)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }

    /// Empty without candidates, stalled when the bottleneck stage averages at least
    /// `stalled_after_days` (the setting of that name), moving otherwise.
    pub fn status(&self, stalled_after_days: u32) -> PipelineStatus {
        if self.total_candidates() <= 0 {
            return PipelineStatus::Empty;
        }
        match self.stalled_stage(stalled_after_days) {
            Some(_) => PipelineStatus::Stalled,
            None => PipelineStatus::Moving,
        }
    }

    /// The stage that makes the pipeline stalled under `stalled_after_days`: the
    /// bottleneck, when its candidates have waited that long or longer on average.
    /// Pages mark a stage only then, never a merely slowest one.
    pub fn stalled_stage(&self, stalled_after_days: u32) -> Option<&StageCount> {
        self.bottleneck()
            .filter(|b| b.avg_days_in_stage.unwrap_or(0.0) >= f64::from(stalled_after_days))
    }
}

/// A pipeline's state, for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineStatus {
    /// No snapshot or no candidates.
    Empty,
    /// Candidates and no stage waiting too long.
    Moving,
    /// The bottleneck stage averages at least the `stalled_after_days` setting.
    Stalled,
}

impl PipelineStatus {
    pub fn parse(s: &str) -> Option<PipelineStatus> {
        match s {
            "empty" => Some(PipelineStatus::Empty),
            "moving" => Some(PipelineStatus::Moving),
            "stalled" => Some(PipelineStatus::Stalled),
            _ => None,
        }
    }

    /// The state of a job's latest pipeline snapshot, if it has one, under the
    /// `stalled_after_days` setting.
    pub fn of(snapshot: Option<&PipelineSnapshot>, stalled_after_days: u32) -> PipelineStatus {
        snapshot.map_or(PipelineStatus::Empty, |p| p.status(stalled_after_days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Settings;

    fn snapshot(stages: &[(&str, i64, Option<f64>)]) -> PipelineSnapshot {
        PipelineSnapshot {
            job_id: 1,
            taken_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            stages: stages
                .iter()
                .enumerate()
                .map(|(i, (name, n, days))| StageCount {
                    stage: (*name).into(),
                    stage_order: i as i64,
                    candidates: *n,
                    avg_days_in_stage: *days,
                })
                .collect(),
        }
    }

    #[test]
    fn the_bottleneck_is_the_longest_wait_among_stages_with_candidates() {
        let p = snapshot(&[
            ("Applied", 5, Some(3.0)),
            ("Interview", 2, Some(9.5)),
            ("Offer", 0, Some(40.0)),
            ("Screen", 3, None),
        ]);
        assert_eq!(p.total_candidates(), 10);
        assert_eq!(p.bottleneck().map(|b| b.stage.as_str()), Some("Interview"));
        assert_eq!(p.status(14), PipelineStatus::Moving);
    }

    #[test]
    fn the_stalled_rule_follows_the_setting() {
        let p = snapshot(&[("Applied", 3, Some(4.0)), ("Interview", 2, Some(20.5))]);
        assert_eq!(
            p.status(Settings::DEFAULT_STALLED_AFTER_DAYS),
            PipelineStatus::Stalled
        );
        assert_eq!(p.status(20), PipelineStatus::Stalled);
        assert_eq!(p.status(21), PipelineStatus::Moving);
        assert_eq!(PipelineStatus::of(Some(&p), 30), PipelineStatus::Moving);
        assert_eq!(
            p.stalled_stage(20).map(|s| s.stage.as_str()),
            Some("Interview")
        );
        assert_eq!(
            p.stalled_stage(21),
            None,
            "the slowest stage, but not stalled"
        );
    }

    #[test]
    fn status_is_empty_moving_or_stalled() {
        assert_eq!(PipelineStatus::of(None, 14), PipelineStatus::Empty);
        let empty = snapshot(&[("Applied", 0, Some(30.0))]);
        assert_eq!(PipelineStatus::of(Some(&empty), 14), PipelineStatus::Empty);
        let stalled = snapshot(&[("Applied", 1, Some(14.0))]);
        assert_eq!(stalled.status(14), PipelineStatus::Stalled);
        let moving = snapshot(&[("Applied", 1, Some(13.9))]);
        assert_eq!(moving.status(14), PipelineStatus::Moving);
        let unknown_waits = snapshot(&[("Applied", 4, None)]);
        assert_eq!(unknown_waits.status(14), PipelineStatus::Moving);
        assert_eq!(
            PipelineStatus::parse("stalled"),
            Some(PipelineStatus::Stalled)
        );
        assert_eq!(PipelineStatus::parse("Stalled"), None);
    }
}
