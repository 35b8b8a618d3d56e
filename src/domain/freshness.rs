//! Score freshness: which of a job's scores count toward its team score at a moment
//! (the expiry rule, `score_expiry_weeks`), which expired and when, and whether a
//! ranked job is provisional (the `min_scorers` rule). Both rules are off by default.
//!
//! A score expires `score_expiry_weeks` after it was submitted, but never before the
//! settings version that switched the rule on (or changed it) came into force: a rule
//! applies only from its version onward, so switching expiry on drops the old scores at
//! that moment, and the rank history says so then, not weeks in the past.

use chrono::{DateTime, Duration, Utc};

use super::{
    RankOutcome, ScorerInput, Settings, counts_toward_team, is_provisional, latest_per_scorer,
    rank_job,
};

/// A scorer's latest score on a job that no longer counts toward its team score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredScore {
    pub scorer_id: String,
    pub submission_id: String,
    pub submitted_at: DateTime<Utc>,
    /// When it stopped counting.
    pub expired_at: DateTime<Utc>,
}

/// When a score submitted at `submitted_at` stops counting under `settings`, in force
/// since `in_force_from`: `None` while expiry is off.
pub fn expiry_instant(
    submitted_at: DateTime<Utc>,
    settings: &Settings,
    in_force_from: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let weeks = settings.score_expiry_weeks?;
    Some((submitted_at + Duration::weeks(i64::from(weeks))).max(in_force_from))
}

/// Since when the settings that rank a job have been in force: the version itself
/// (`from`: a rank change it causes carries that instant) and its expiry rule
/// (`expiry_from`: the version that switched expiry on or last changed its weeks,
/// which a later save of other settings does not move, so a score's expiry instant
/// stays put).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub from: DateTime<Utc>,
    pub expiry_from: DateTime<Utc>,
}

impl InForce {
    /// Settings whose version and expiry rule both came into force at `at`.
    pub fn since(at: DateTime<Utc>) -> InForce {
        InForce {
            from: at,
            expiry_from: at,
        }
    }
}

/// A job's rank under the freshness rules at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct FreshRank {
    /// The rank from the scores that still count; `None` when none does.
    pub outcome: Option<RankOutcome>,
    /// The scorers whose latest score expired, by scorer id.
    pub expired: Vec<ExpiredScore>,
    /// When this state came to be: the latest of the counted scores' submissions, the
    /// expiries and the settings version's start. `None` when the job has no score.
    pub at: Option<DateTime<Utc>>,
}

/// Ranks a job at `now` from its scorers' submissions (only each scorer's latest
/// counts) under `settings`, in force as `in_force` says: the latest scores that have
/// expired by `now` are left out and listed.
pub fn rank_job_fresh(
    submissions: &[ScorerInput],
    settings: &Settings,
    in_force: InForce,
    now: DateTime<Utc>,
) -> FreshRank {
    let latest = latest_per_scorer(submissions.iter().cloned());
    let (counted, stale): (Vec<ScorerInput>, Vec<ScorerInput>) = latest
        .into_iter()
        .partition(|s| counts_toward_team(s.submitted_at, now, settings));
    let expired: Vec<ExpiredScore> = stale
        .into_iter()
        .map(|s| ExpiredScore {
            expired_at: expiry_instant(s.submitted_at, settings, in_force.expiry_from)
                .unwrap_or(s.submitted_at),
            scorer_id: s.scorer_id,
            submission_id: s.submission_id,
            submitted_at: s.submitted_at,
        })
        .collect();
    let outcome = rank_job(&counted, settings);
    let at = outcome
        .as_ref()
        .map(|o| o.at)
        .into_iter()
        .chain(expired.iter().map(|e| e.expired_at))
        .max()
        .map(|t| t.max(in_force.from));
    FreshRank {
        outcome,
        expired,
        at,
    }
}

/// What the freshness rules say about a job's standing, for the pages and exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RankFreshness {
    /// The scorers the team score rests on, when fewer than the `min_scorers` setting
    /// asks for: (scorers, minimum). `None` for a job that is not provisional.
    pub provisional: Option<(u32, u32)>,
    /// How many scorers' latest scores expired and no longer count.
    pub expired: u32,
}

impl RankFreshness {
    /// The freshness of a job ranked on `scorers` scorers (`None`: not ranked) with
    /// `expired` expired scores, under `settings`.
    pub fn of(scorers: Option<u32>, expired: u32, settings: &Settings) -> RankFreshness {
        RankFreshness {
            provisional: scorers
                .filter(|&n| is_provisional(n, settings))
                .map(|n| (n, settings.min_scorers)),
            expired,
        }
    }

    /// Whether the job keeps its computed rank but is flagged provisional.
    pub fn is_provisional(&self) -> bool {
        self.provisional.is_some()
    }

    /// Words for the pages: why the job is provisional and whose scores expired
    /// (`expired_scorers`, their names in the order they expired), or empty when
    /// neither. Without the names (an empty slice) it says how many expired.
    pub fn explain(&self, expired_scorers: &[String]) -> String {
        let mut parts = Vec::new();
        if let Some((n, min)) = self.provisional {
            parts.push(format!(
                "Provisional: ranked on {n} scorer{}, fewer than the {min} needed",
                if n == 1 { "" } else { "s" }
            ));
        }
        match (self.expired, expired_scorers) {
            (0, _) => {}
            (_, [one]) => parts.push(format!("{one}'s score expired")),
            (_, []) => parts.push(format!(
                "{} score{} expired",
                self.expired,
                if self.expired == 1 { "" } else { "s" }
            )),
            (_, names) => parts.push(format!(
                "{} scores expired: {}",
                names.len(),
                names.join(", ")
            )),
        }
        let mut text = parts.join("; ");
        if !text.is_empty() {
            text.push('.');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FactorScores, Rank};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(scorer: &str, id: &str, when: &str, level: i64) -> ScorerInput {
        ScorerInput {
            scorer_id: scorer.into(),
            submission_id: id.into(),
            submitted_at: at(when),
            scores: FactorScores::from_values([level; 4]).unwrap(),
        }
    }

    fn expiring(weeks: u32) -> Settings {
        Settings {
            score_expiry_weeks: Some(weeks),
            ..Settings::default()
        }
    }

    #[test]
    fn with_expiry_off_every_latest_score_counts_however_old() {
        let subs = [
            input("ann", "1", "2025-01-05T10:00:00Z", 5),
            input("bob", "2", "2026-11-30T10:00:00Z", 3),
        ];
        let r = rank_job_fresh(
            &subs,
            &Settings::default(),
            InForce::since(at("2025-01-01T00:00:00Z")),
            at("2026-12-01T00:00:00Z"),
        );
        assert!(r.expired.is_empty());
        assert_eq!(r.outcome.unwrap().team.count(), 2);
        assert_eq!(r.at, Some(at("2026-11-30T10:00:00Z")));
    }

    #[test]
    fn old_scores_stop_counting_and_say_when_they_expired() {
        let subs = [
            input("ann", "1", "2026-10-01T10:00:00Z", 5),
            input("bob", "2", "2026-11-20T10:00:00Z", 2),
        ];
        let since = at("2026-09-01T00:00:00Z");
        let r = rank_job_fresh(
            &subs,
            &expiring(4),
            InForce::since(since),
            at("2026-12-01T00:00:00Z"),
        );
        let out = r.outcome.unwrap();
        assert_eq!((out.team.count(), out.rank), (1, Rank::C));
        assert_eq!(
            r.expired,
            vec![ExpiredScore {
                scorer_id: "ann".into(),
                submission_id: "1".into(),
                submitted_at: at("2026-10-01T10:00:00Z"),
                expired_at: at("2026-10-29T10:00:00Z"),
            }]
        );
        // Bob's score (20 Nov) is the latest input.
        assert_eq!(r.at, Some(at("2026-11-20T10:00:00Z")));
        // A day before Ann's expiry both counted.
        let before = rank_job_fresh(
            &subs,
            &expiring(4),
            InForce::since(since),
            at("2026-10-28T10:00:00Z"),
        );
        assert_eq!(before.outcome.unwrap().team.count(), 2);
        assert!(before.expired.is_empty());
    }

    #[test]
    fn a_rule_switched_on_late_expires_old_scores_from_its_version_on() {
        let subs = [input("ann", "1", "2026-06-01T10:00:00Z", 4)];
        let switched_on = at("2026-11-15T09:00:00Z");
        let r = rank_job_fresh(
            &subs,
            &expiring(4),
            InForce::since(switched_on),
            at("2026-12-01T00:00:00Z"),
        );
        assert!(r.outcome.is_none(), "the only score expired");
        assert_eq!(r.expired[0].expired_at, switched_on, "not back in June");
        assert_eq!(r.at, Some(switched_on));
    }

    #[test]
    fn a_later_version_moves_the_rank_change_but_not_the_expiry_instant() {
        // Expiry of 4 weeks switched on 1 Nov; a weights-only version saved 20 Nov.
        let subs = [
            input("ann", "1", "2026-09-01T10:00:00Z", 5),
            input("bob", "2", "2026-11-10T10:00:00Z", 3),
        ];
        let in_force = InForce {
            from: at("2026-11-20T00:00:00Z"),
            expiry_from: at("2026-11-01T00:00:00Z"),
        };
        let r = rank_job_fresh(&subs, &expiring(4), in_force, at("2026-12-01T00:00:00Z"));
        assert_eq!(r.expired.len(), 1);
        assert_eq!(
            r.expired[0].expired_at,
            at("2026-11-01T00:00:00Z"),
            "ann's score expired when the rule came in, not at the later save"
        );
        assert_eq!(r.at, Some(at("2026-11-20T00:00:00Z")), "the save ranks it");
    }

    #[test]
    fn only_each_scorers_latest_score_is_judged() {
        // Ann's older score would have expired; her latest has not.
        let subs = [
            input("ann", "1", "2026-01-01T10:00:00Z", 1),
            input("ann", "2", "2026-11-25T10:00:00Z", 5),
        ];
        let r = rank_job_fresh(
            &subs,
            &expiring(2),
            InForce::since(at("2026-01-01T00:00:00Z")),
            at("2026-12-01T00:00:00Z"),
        );
        assert!(r.expired.is_empty());
        assert_eq!(r.outcome.unwrap().rank, Rank::A);
    }

    #[test]
    fn provisional_jobs_say_why_and_expiries_are_counted() {
        let s = Settings {
            min_scorers: 3,
            ..Settings::default()
        };
        let f = RankFreshness::of(Some(1), 2, &s);
        assert!(f.is_provisional());
        assert_eq!(
            f.explain(&[]),
            "Provisional: ranked on 1 scorer, fewer than the 3 needed; 2 scores expired."
        );
        assert!(!RankFreshness::of(Some(3), 0, &s).is_provisional());
        assert!(!RankFreshness::of(None, 0, &s).is_provisional(), "unranked");
        assert_eq!(
            RankFreshness::of(Some(1), 0, &Settings::default()).explain(&[]),
            ""
        );
        assert_eq!(
            RankFreshness::of(None, 1, &Settings::default()).explain(&[]),
            "1 score expired."
        );
        let names = ["Ann Lee".to_string(), "Tom Ode".to_string()];
        assert_eq!(
            f.explain(&names),
            "Provisional: ranked on 1 scorer, fewer than the 3 needed; 2 scores expired: Ann Lee, Tom Ode."
        );
        assert_eq!(
            RankFreshness::of(None, 1, &Settings::default()).explain(&names[..1]),
            "Ann Lee's score expired."
        );
    }
}
