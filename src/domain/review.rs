//! The CEO's review of scoring patterns: per scorer, how they score compared with the
//! rest of the team in the same round (a job in a week, Monday to Sunday), factor by
//! factor and week by week, and the rules that point at a scorer whose scores stand
//! apart ([`Flag`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{Composite, Factor, FactorScores};

/// The Monday of a moment's ISO week (UTC): the week of the round it belongs to.
pub fn week_of(at: DateTime<Utc>) -> NaiveDate {
    let d = at.date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The moment a week (named by its Monday, as [`week_of`] gives it) begins: Monday
/// 00:00 UTC.
pub fn week_start(week: NaiveDate) -> DateTime<Utc> {
    week.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The moment a week (named by its Monday) ends: the next Monday at 00:00 UTC.
pub fn week_end(week: NaiveDate) -> DateTime<Utc> {
    week_start(week) + Duration::weeks(1)
}

/// A submission as the review sees it. `round` is the Monday of its week.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSubmission {
    pub submission_id: String,
    pub scorer_id: String,
    pub job_id: i64,
    pub round: NaiveDate,
    pub composite: Composite,
    /// The four levels, for the deviation factor by factor.
    pub scores: FactorScores,
}

/// An outlier: a composite 1.00 or more away from the others' mean in its round.
#[derive(Debug, Clone, PartialEq)]
pub struct Outlier {
    pub submission_id: String,
    pub job_id: i64,
    pub round: NaiveDate,
    pub composite: f64,
    pub others_mean: f64,
}

/// A scorer's mean deviation from the rest of the team in one week.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekDeviation {
    /// The week's Monday.
    pub week: NaiveDate,
    pub deviation: f64,
    /// The scorer's scores compared with the team that week.
    pub compared: usize,
}

/// A rule of the review that points at a scorer, with the figures that tripped it.
#[derive(Debug, Clone, PartialEq)]
pub enum Flag {
    /// Their mean deviation from the rest of the team is [`FLAG_DEVIATION`] or more,
    /// either way.
    Deviation { deviation: f64 },
    /// Their outlier rate is at least [`FLAG_OUTLIER_RATIO`] times the rest of the
    /// team's: `outliers` of `compared`, against `rest_outliers` of `rest_compared`.
    OutlierRate {
        outliers: usize,
        compared: usize,
        rest_outliers: usize,
        rest_compared: usize,
    },
}

/// Scoring pattern of one scorer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerReview {
    pub scorer_id: String,
    pub submissions: usize,
    pub mean_composite: f64,
    /// Population standard deviation of the scorer's composites.
    pub spread: f64,
    /// The rounds where the scorer's score was compared with the rest of the team's
    /// (others scored the same job in the same week); their latest score in a round
    /// stands for them.
    pub compared: usize,
    /// The distinct jobs among the compared rounds: the review points at nobody on
    /// fewer than [`FLAG_MIN_JOBS`] (rescoring the same two jobs for four weeks says
    /// too little).
    pub compared_jobs: usize,
    /// Mean of (composite - others' mean) over the compared rounds.
    pub mean_deviation: Option<f64>,
    /// Factor by factor (in the order of [`Factor::ALL`]), the mean of (level - the
    /// others' mean level) over the compared rounds: which factor a scorer rates higher
    /// or lower than the team.
    pub factor_deviation: Option<[f64; 4]>,
    /// The mean deviation week by week, oldest first, for the weeks with compared
    /// rounds.
    pub weekly: Vec<WeekDeviation>,
    pub outliers: Vec<Outlier>,
    /// The rules this scorer trips (none below [`FLAG_MIN_JOBS`] compared jobs).
    pub flags: Vec<Flag>,
}

/// The distance from the others' mean that makes a submission an outlier.
pub const OUTLIER_DISTANCE: f64 = 1.0;

/// A mean deviation this far from the team, either way, points at the scorer.
pub const FLAG_DEVIATION: f64 = 0.5;

/// An outlier rate this many times the rest of the team's points at the scorer.
pub const FLAG_OUTLIER_RATIO: usize = 2;

/// The fewest jobs, each scored alongside the rest of the team in the same week, on
/// which a scorer is pointed at: fewer say too little.
pub const FLAG_MIN_JOBS: usize = 8;

/// Whether a distance, rounded to hundredths as pages show it, is at least `limit`:
/// what reads as 0.50 counts as 0.50 despite float noise.
fn at_least(distance: f64, limit: f64) -> bool {
    (distance.abs() * 100.0).round() >= (limit * 100.0).round()
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Reviews every scorer. Within a round (a job in a week) each scorer's last submission
/// (in input order) stands for them; order the input by submission time.
pub fn review_scorers(subs: &[ReviewSubmission]) -> Vec<ScorerReview> {
    let mut rounds: BTreeMap<(NaiveDate, i64), BTreeMap<&str, &ReviewSubmission>> = BTreeMap::new();
    let mut by_scorer: BTreeMap<&str, Vec<&ReviewSubmission>> = BTreeMap::new();
    for s in subs {
        rounds
            .entry((s.round, s.job_id))
            .or_default()
            .insert(&s.scorer_id, s);
        by_scorer.entry(&s.scorer_id).or_default().push(s);
    }
    let mut reviews: Vec<ScorerReview> = by_scorer
        .into_iter()
        .map(|(scorer, list)| {
            let values: Vec<f64> = list.iter().map(|s| s.composite.as_f64()).collect();
            let n = values.len() as f64;
            let mean_composite = values.iter().sum::<f64>() / n;
            let spread = (values
                .iter()
                .map(|v| (v - mean_composite).powi(2))
                .sum::<f64>()
                / n)
                .sqrt();
            let mut deviations: Vec<(NaiveDate, f64)> = Vec::new();
            let mut factor_sums = [0.0; 4];
            let mut outliers = Vec::new();
            let mut jobs = std::collections::BTreeSet::new();
            for ((round, job_id), scored) in &rounds {
                let Some(own) = scored.get(scorer) else {
                    continue;
                };
                let others: Vec<&&ReviewSubmission> = scored
                    .iter()
                    .filter(|(k, _)| **k != scorer)
                    .map(|(_, v)| v)
                    .collect();
                let Some(others_mean) = mean(others.iter().map(|o| o.composite.as_f64())) else {
                    continue;
                };
                let c = own.composite.as_f64();
                deviations.push((*round, c - others_mean));
                jobs.insert(*job_id);
                for (i, f) in Factor::ALL.iter().enumerate() {
                    let theirs = mean(others.iter().map(|o| f64::from(o.scores.get(*f).get())));
                    factor_sums[i] += f64::from(own.scores.get(*f).get()) - theirs.unwrap_or(0.0);
                }
                if at_least(c - others_mean, OUTLIER_DISTANCE) {
                    outliers.push(Outlier {
                        submission_id: own.submission_id.clone(),
                        job_id: own.job_id,
                        round: *round,
                        composite: c,
                        others_mean,
                    });
                }
            }
            let compared = deviations.len();
            let mut weekly: Vec<WeekDeviation> = Vec::new();
            for (week, d) in &deviations {
                match weekly.last_mut() {
                    Some(w) if w.week == *week => {
                        w.deviation += d;
                        w.compared += 1;
                    }
                    _ => weekly.push(WeekDeviation {
                        week: *week,
                        deviation: *d,
                        compared: 1,
                    }),
                }
            }
            for w in &mut weekly {
                w.deviation /= w.compared as f64;
            }
            ScorerReview {
                scorer_id: scorer.to_string(),
                submissions: list.len(),
                mean_composite,
                spread,
                compared,
                compared_jobs: jobs.len(),
                mean_deviation: mean(deviations.iter().map(|(_, d)| *d)),
                factor_deviation: (compared > 0)
                    .then(|| factor_sums.map(|sum| sum / compared as f64)),
                weekly,
                outliers,
                flags: Vec::new(),
            }
        })
        .collect();
    let (all_outliers, all_compared) = reviews
        .iter()
        .fold((0, 0), |(o, c), r| (o + r.outliers.len(), c + r.compared));
    for r in &mut reviews {
        if r.compared_jobs < FLAG_MIN_JOBS {
            continue;
        }
        if let Some(d) = r.mean_deviation.filter(|d| at_least(*d, FLAG_DEVIATION)) {
            r.flags.push(Flag::Deviation { deviation: d });
        }
        let (outliers, compared) = (r.outliers.len(), r.compared);
        let (rest_outliers, rest_compared) = (all_outliers - outliers, all_compared - compared);
        // outliers / compared >= ratio * rest_outliers / rest_compared, in whole numbers;
        // with nobody else compared there is no rate to compare with.
        if outliers > 0
            && rest_compared > 0
            && outliers * rest_compared >= FLAG_OUTLIER_RATIO * rest_outliers * compared
        {
            r.flags.push(Flag::OutlierRate {
                outliers,
                compared,
                rest_outliers,
                rest_compared,
            });
        }
    }
    reviews
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY: (i32, u32, u32) = (2026, 11, 23);

    /// A submission in the week of 23 November 2026 plus `week` weeks, its composite
    /// under equal weights.
    fn scored(id: &str, scorer: &str, job: i64, week: i64, levels: [i64; 4]) -> ReviewSubmission {
        let scores = FactorScores::from_values(levels).unwrap();
        ReviewSubmission {
            submission_id: id.into(),
            scorer_id: scorer.into(),
            job_id: job,
            round: NaiveDate::from_ymd_opt(MONDAY.0, MONDAY.1, MONDAY.2).unwrap()
                + Duration::weeks(week),
            composite: crate::domain::composite(&scores, &crate::domain::Weights::default()),
            scores,
        }
    }

    /// A submission whose four levels are all `level`.
    fn sub(id: &str, scorer: &str, job: i64, level: i64) -> ReviewSubmission {
        scored(id, scorer, job, 0, [level; 4])
    }

    fn of<'a>(r: &'a [ScorerReview], scorer: &str) -> &'a ScorerReview {
        r.iter().find(|s| s.scorer_id == scorer).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weeks_start_on_monday() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(week_of(at("2026-11-29T23:00:00Z")), monday, "Sunday night");
        assert_eq!(week_of(at("2026-11-23T00:00:00Z")), monday);
        assert_eq!(
            week_of(at("2026-11-22T23:59:59Z")),
            monday - Duration::days(7)
        );
        // Across a year end: 1 January 2027 is a Friday.
        assert_eq!(
            week_of(at("2027-01-01T12:00:00Z")),
            NaiveDate::from_ymd_opt(2026, 12, 28).unwrap()
        );
    }

    #[test]
    fn a_week_runs_from_monday_midnight_to_the_next() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(week_start(monday), at("2026-11-23T00:00:00Z"));
        assert_eq!(week_end(monday), at("2026-11-30T00:00:00Z"));
        assert_eq!(
            week_of(week_end(monday) - Duration::microseconds(1)),
            monday
        );
        assert_eq!(week_of(week_end(monday)), monday + Duration::days(7));
    }

    #[test]
    fn outliers_are_a_point_or_more_from_the_others() {
        let r = review_scorers(&[
            sub("1", "ann", 1, 4),
            sub("2", "bob", 1, 3),
            sub("3", "cat", 1, 3),
            sub("4", "ann", 2, 3),
            sub("5", "bob", 2, 3),
        ]);
        let ann = r.iter().find(|s| s.scorer_id == "ann").unwrap();
        assert_eq!(ann.submissions, 2);
        assert_eq!(ann.outliers.len(), 1);
        assert_eq!(ann.outliers[0].submission_id, "1");
        assert!((ann.mean_deviation.unwrap() - 0.5).abs() < 1e-9);
        assert!((ann.mean_composite - 3.5).abs() < 1e-9);
        assert!((ann.spread - 0.5).abs() < 1e-9);
        let bob = r.iter().find(|s| s.scorer_id == "bob").unwrap();
        assert!(bob.outliers.is_empty(), "bob is 0.5 from the others' mean");
    }

    #[test]
    fn the_deviation_is_broken_down_by_factor_and_by_week() {
        // Ann rates client engagement two levels above Bob, search difficulty one level
        // below, and agrees on the rest; in the second week she agrees on everything.
        let r = review_scorers(&[
            scored("1", "ann", 1, 0, [5, 2, 3, 3]),
            scored("2", "bob", 1, 0, [3, 3, 3, 3]),
            scored("3", "ann", 2, 0, [4, 1, 2, 2]),
            scored("4", "bob", 2, 0, [2, 2, 2, 2]),
            scored("5", "ann", 1, 1, [3, 3, 3, 3]),
            scored("6", "bob", 1, 1, [3, 3, 3, 3]),
            // Nobody else scored job 3: not compared.
            scored("7", "ann", 3, 1, [5, 5, 5, 5]),
        ]);
        let ann = of(&r, "ann");
        assert_eq!((ann.submissions, ann.compared), (4, 3));
        let f = ann.factor_deviation.unwrap();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(f[0], 4.0 / 3.0), "client engagement: {f:?}");
        assert!(close(f[1], -2.0 / 3.0), "search difficulty: {f:?}");
        assert!(close(f[2], 0.0) && close(f[3], 0.0), "{f:?}");
        let weeks: Vec<(u32, usize)> = ann
            .weekly
            .iter()
            .map(|w| (w.week.day(), w.compared))
            .collect();
        assert_eq!(weeks, [(23, 2), (30, 1)]);
        assert!(close(ann.weekly[0].deviation, 0.25), "{:?}", ann.weekly);
        assert!(close(ann.weekly[1].deviation, 0.0));
        assert!(close(ann.mean_deviation.unwrap(), 0.5 / 3.0));
        let bob = of(&r, "bob");
        assert!(close(bob.factor_deviation.unwrap()[0], -4.0 / 3.0));
    }

    #[test]
    fn a_scorers_latest_score_in_a_week_stands_for_them() {
        let r = review_scorers(&[
            sub("1", "ann", 1, 5),
            sub("2", "bob", 1, 3),
            sub("3", "ann", 1, 3),
        ]);
        let ann = of(&r, "ann");
        assert_eq!((ann.submissions, ann.compared), (2, 1));
        assert!(
            ann.outliers.is_empty(),
            "her 5 was replaced by a 3 that week"
        );
        assert_eq!(ann.mean_deviation, Some(0.0));
    }

    /// Eight jobs that `scorer` scores with `own` levels and two others with 3s.
    fn eight_rounds(scorer: &str, own: [[i64; 4]; 8]) -> Vec<ReviewSubmission> {
        let mut subs = Vec::new();
        for (i, levels) in own.iter().enumerate() {
            let job = i as i64 + 1;
            subs.push(scored(&format!("{scorer}{i}"), scorer, job, 0, *levels));
            subs.push(scored(&format!("x{i}"), "xav", job, 0, [3; 4]));
            subs.push(scored(&format!("y{i}"), "yan", job, 0, [3; 4]));
        }
        subs
    }

    const HALF_UP: [i64; 4] = [4, 4, 3, 3];
    const SAME: [i64; 4] = [3; 4];

    #[test]
    fn a_mean_deviation_of_half_a_point_either_way_over_eight_rounds_points_at_the_scorer() {
        // 3.50 against the others' 3.00 on every job: +0.50, no outlier.
        let r = review_scorers(&eight_rounds("ann", [HALF_UP; 8]));
        assert!(of(&r, "ann").outliers.is_empty());
        assert_eq!(of(&r, "ann").flags, [Flag::Deviation { deviation: 0.5 }]);
        assert!(
            of(&r, "xav").flags.is_empty(),
            "xav is 0.25 below ann and yan"
        );
        // +0.4375 reads as 0.44: below.
        let mut seven = [HALF_UP; 8];
        seven[7] = SAME;
        let r = review_scorers(&eight_rounds("ann", seven));
        assert!(of(&r, "ann").flags.is_empty());
        // Lower than the team counts too: 2.25 against 3.00.
        let r = review_scorers(&eight_rounds("ann", [[3, 2, 2, 2]; 8]));
        assert!(
            matches!(of(&r, "ann").flags[..], [Flag::Deviation { deviation }] if (deviation + 0.75).abs() < 1e-9),
            "{:?}",
            of(&r, "ann").flags
        );
        // Seven jobs say too little.
        let mut subs = eight_rounds("ann", [[5; 4]; 8]);
        subs.retain(|s| s.job_id != 8);
        let r = review_scorers(&subs);
        assert_eq!(of(&r, "ann").compared, 7);
        assert!(of(&r, "ann").flags.is_empty());
    }

    #[test]
    fn eight_weeks_on_the_same_two_jobs_say_too_little() {
        // Ann rescores jobs 1 and 2 for four weeks, always 4.50 against the others' 3.00:
        // eight compared rounds, but on two jobs only.
        let mut subs = Vec::new();
        for week in 0..4 {
            for job in [1, 2] {
                let id = format!("{week}-{job}");
                subs.push(scored(&format!("a{id}"), "ann", job, week, [5, 5, 4, 4]));
                subs.push(scored(&format!("x{id}"), "xav", job, week, [3; 4]));
            }
        }
        let r = review_scorers(&subs);
        let ann = of(&r, "ann");
        assert_eq!((ann.compared, ann.compared_jobs), (8, 2));
        assert!(ann.flags.is_empty(), "{:?}", ann.flags);
        // The same on eight different jobs points at her.
        let r = review_scorers(&eight_rounds("ann", [[5, 5, 4, 4]; 8]));
        assert_eq!(of(&r, "ann").compared_jobs, 8);
        assert!(!of(&r, "ann").flags.is_empty());
    }

    #[test]
    fn an_outlier_rate_twice_the_rest_of_the_teams_points_at_the_scorer() {
        // Ann: 4.50 twice and 1.50 twice against the others' 3.00 (1.50 away: four
        // outliers in eight) and 3.00 on the rest, so her mean deviation is 0.
        let (high, low) = ([5, 5, 4, 4], [2, 2, 1, 1]);
        let mut subs = eight_rounds("ann", [high, high, low, low, SAME, SAME, SAME, SAME]);
        let r = review_scorers(&subs);
        let ann = of(&r, "ann");
        assert_eq!((ann.outliers.len(), ann.compared), (4, 8));
        assert!(ann.mean_deviation.unwrap().abs() < 1e-9);
        // Xav and yan have no outlier (0.75 from ann and the other): any rate of ann's
        // is at least twice theirs.
        assert_eq!(
            ann.flags,
            [Flag::OutlierRate {
                outliers: 4,
                compared: 8,
                rest_outliers: 0,
                rest_compared: 16
            }]
        );
        // Two more jobs that only yan (5s) and xav (3s) score, each an outlier for both:
        // the rest 4 in 20 (20%) against ann's 50%: still at least twice.
        for job in [20, 21] {
            subs.push(scored(&format!("y{job}"), "yan", job, 0, [5; 4]));
            subs.push(scored(&format!("x{job}"), "xav", job, 0, [3; 4]));
        }
        let r = review_scorers(&subs);
        assert_eq!(
            of(&r, "ann").flags,
            [Flag::OutlierRate {
                outliers: 4,
                compared: 8,
                rest_outliers: 4,
                rest_compared: 20
            }]
        );
        // Two more: the rest 8 in 24 (33%): ann's 50% is no longer twice that.
        for job in [22, 23] {
            subs.push(scored(&format!("y{job}"), "yan", job, 0, [5; 4]));
            subs.push(scored(&format!("x{job}"), "xav", job, 0, [3; 4]));
        }
        let r = review_scorers(&subs);
        assert!(of(&r, "ann").flags.is_empty(), "{:?}", of(&r, "ann").flags);
        // Alone, nobody is compared with anybody.
        let r = review_scorers(&[sub("1", "ann", 1, 5)]);
        assert_eq!(of(&r, "ann").compared, 0);
        assert!(of(&r, "ann").flags.is_empty());
    }
}
