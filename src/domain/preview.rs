//! The effect of a settings change before it is saved: every open job ranked under the
//! settings in force and under the proposed ones, with the same rule the store commands
//! use ([`rank_job_fresh`]: scores that expired by now are left out), so the preview
//! shows exactly what saving would do to the open jobs.

use chrono::{DateTime, Utc};

use super::{InForce, Rank, ScorerInput, Settings, Standing, rank_job_fresh};

/// How many open jobs hold each rank, and how many have none yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RankCounts {
    pub a: usize,
    pub b: usize,
    pub c: usize,
    pub unranked: usize,
}

impl RankCounts {
    fn add(&mut self, standing: Option<Standing>) {
        match standing.map(|s| s.rank) {
            Some(Rank::A) => self.a += 1,
            Some(Rank::B) => self.b += 1,
            Some(Rank::C) => self.c += 1,
            None => self.unranked += 1,
        }
    }
}

/// One open job whose rank the proposed settings would change.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewMove {
    pub job_id: i64,
    pub before: Standing,
    pub after: Standing,
}

/// What saving the proposed settings would do to the open jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsPreview {
    /// The open jobs looked at.
    pub jobs: usize,
    /// The jobs whose rank letter would change, highest new rank and team score first.
    pub moves: Vec<PreviewMove>,
    /// Jobs whose team score would change while their rank stays.
    pub scores_only: usize,
    pub before: RankCounts,
    pub after: RankCounts,
}

/// Ranks each open job (its id and its scorers' submissions, as the store commands
/// read them) at `now` under `current` (in force as `current_in_force` says) and under
/// `proposed` (which saving would put in force at `now`; its expiry rule too, unless it
/// keeps the current one), with the freshness rules of each. Nothing is written: this
/// is the preview of saving `proposed`.
pub fn preview_settings(
    jobs: &[(i64, Vec<ScorerInput>)],
    current: &Settings,
    current_in_force: InForce,
    proposed: &Settings,
    now: DateTime<Utc>,
) -> SettingsPreview {
    let proposed_in_force = InForce {
        from: now,
        expiry_from: if proposed.score_expiry_weeks == current.score_expiry_weeks {
            current_in_force.expiry_from
        } else {
            now
        },
    };
    let standing = |inputs: &[ScorerInput], s: &Settings, in_force: InForce| {
        rank_job_fresh(inputs, s, in_force, now)
            .outcome
            .map(|o| Standing {
                rank: o.rank,
                team: o.team,
            })
    };
    let mut preview = SettingsPreview {
        jobs: jobs.len(),
        moves: Vec::new(),
        scores_only: 0,
        before: RankCounts::default(),
        after: RankCounts::default(),
    };
    for (job_id, inputs) in jobs {
        let before = standing(inputs, current, current_in_force);
        let after = standing(inputs, proposed, proposed_in_force);
        preview.before.add(before);
        preview.after.add(after);
        // A job nobody scored has no rank under any settings.
        if let (Some(before), Some(after)) = (before, after) {
            if before.rank != after.rank {
                preview.moves.push(PreviewMove {
                    job_id: *job_id,
                    before,
                    after,
                });
            } else if before.team != after.team {
                preview.scores_only += 1;
            }
        }
    }
    preview.moves.sort_by(|x, y| {
        (x.after.rank, std::cmp::Reverse(x.after.team), x.job_id).cmp(&(
            y.after.rank,
            std::cmp::Reverse(y.after.team),
            y.job_id,
        ))
    });
    preview
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::{FactorScores, Thresholds, Weights};

    /// The moment of every submission, and of the preview.
    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn input(scorer: &str, v: [i64; 4]) -> ScorerInput {
        ScorerInput {
            scorer_id: scorer.into(),
            submission_id: format!("{scorer}-{v:?}"),
            submitted_at: at(),
            scores: FactorScores::from_values(v).unwrap(),
        }
    }

    #[test]
    fn a_weight_change_moves_the_jobs_its_factors_decide_and_counts_both_sides() {
        let jobs = vec![
            // 0.25 * (5 + 5 + 1 + 1) = 3.00, B; all on engagement: 5.00, A.
            (1, vec![input("ann", [5, 5, 1, 1])]),
            // 3.00 either way: unchanged.
            (
                2,
                vec![input("ann", [3, 3, 3, 3]), input("bob", [3, 3, 3, 3])],
            ),
            // 0.25 * (1 + 1 + 5 + 5) = 3.00, B; all on engagement: 1.00, C.
            (3, vec![input("bob", [1, 1, 5, 5])]),
            // Nobody scored it.
            (4, vec![]),
            // 0.25 * (4 + 4 + 4 + 5) = 4.25, A; all on engagement: 4.00, still A.
            (5, vec![input("ann", [4, 4, 4, 5])]),
        ];
        let current = Settings::default();
        let proposed = Settings {
            weights: Weights::from_basis_points([10_000, 0, 0, 0]).unwrap(),
            ..Settings::default()
        };
        let p = preview_settings(&jobs, &current, InForce::since(at()), &proposed, at());
        assert_eq!(p.jobs, 5);
        let moved: Vec<(i64, Rank, Rank)> = p
            .moves
            .iter()
            .map(|m| (m.job_id, m.before.rank, m.after.rank))
            .collect();
        assert_eq!(moved, [(1, Rank::B, Rank::A), (3, Rank::B, Rank::C)]);
        assert_eq!(p.moves[0].before.team.to_string(), "3.00");
        assert_eq!(p.moves[0].after.team.to_string(), "5.00");
        assert_eq!(p.scores_only, 1, "job 5: 4.25 to 4.00, still an A");
        assert_eq!(
            p.before,
            RankCounts {
                a: 1,
                b: 3,
                c: 0,
                unranked: 1
            }
        );
        assert_eq!(
            p.after,
            RankCounts {
                a: 2,
                b: 1,
                c: 1,
                unranked: 1
            }
        );
    }

    #[test]
    fn the_settings_in_force_preview_no_change_and_thresholds_count_too() {
        let jobs = vec![(7, vec![input("ann", [4, 4, 4, 4])])];
        let s = Settings::default();
        let same = preview_settings(&jobs, &s, InForce::since(at()), &s, at());
        assert!(same.moves.is_empty());
        assert_eq!(same.scores_only, 0);
        assert_eq!(same.before, same.after);
        let stricter = Settings {
            thresholds: Thresholds::new(450, 250).unwrap(),
            ..Settings::default()
        };
        let p = preview_settings(&jobs, &s, InForce::since(at()), &stricter, at());
        assert_eq!(p.moves.len(), 1, "4.00 is a B once A needs 4.50");
        assert_eq!(p.moves[0].after.rank, Rank::B);
    }

    #[test]
    fn switching_score_expiry_on_previews_the_jobs_whose_old_scores_stop_counting() {
        let old = ScorerInput {
            submitted_at: at() - chrono::Duration::weeks(10),
            ..input("bob", [1, 1, 1, 1])
        };
        // Ann's recent 4s and Bob's old 1s: 2.50, B; without Bob's, 4.00, A.
        let jobs = vec![
            (3, vec![input("ann", [4, 4, 4, 4]), old.clone()]),
            (4, vec![old]),
        ];
        let s = Settings::default();
        let expiring = Settings {
            score_expiry_weeks: Some(8),
            ..Settings::default()
        };
        let p = preview_settings(&jobs, &s, InForce::since(at()), &expiring, at());
        assert_eq!(p.moves.len(), 1);
        assert_eq!((p.moves[0].job_id, p.moves[0].after.rank), (3, Rank::A));
        assert_eq!(
            (p.before.unranked, p.after.unranked),
            (0, 1),
            "job 4's only score expires"
        );
    }
}
