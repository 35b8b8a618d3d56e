//! Composites, team scores and A/B/C ranks, in exact integer arithmetic.

use chrono::{DateTime, Duration, Utc};

use super::{DomainError, Factor, FactorScores, Settings, Thresholds, Weights};

/// A scorer's composite in ten-thousandths: 10,000 (1.00) to 50,000 (5.00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Composite(u32);

impl Composite {
    pub fn from_ten_thousandths(v: i64) -> Result<Composite, DomainError> {
        if (10_000..=50_000).contains(&v) {
            Ok(Composite(v as u32))
        } else {
            Err(DomainError::Invalid {
                field: "composite",
                reason: format!("must be between 1.00 and 5.00, got {}", v as f64 / 10_000.0),
            })
        }
    }

    pub fn ten_thousandths(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

impl std::fmt::Display for Composite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&two_decimals(u64::from(self.0), 1))
    }
}

/// The composite of one submission: the sum of each factor times its weight.
pub fn composite(scores: &FactorScores, weights: &Weights) -> Composite {
    let total: u32 = Factor::ALL
        .iter()
        .map(|&f| u32::from(scores.get(f).get()) * weights.basis_points(f))
        .sum();
    Composite(total)
}

/// A job's team score: the exact mean of its scorers' composites, kept as sum and count.
///
/// Compared and ordered by value, the mean: 7/2 equals 14/4 (two scorers averaging
/// 3.50 and four averaging 3.50 have the same team score), so equality is not a
/// comparison of the stored sum and count.
#[derive(Debug, Clone, Copy)]
pub struct TeamScore {
    sum: u64,
    count: u32,
}

impl TeamScore {
    /// The mean of these composites, or `None` when there are none.
    pub fn from_composites<I: IntoIterator<Item = Composite>>(items: I) -> Option<TeamScore> {
        let (sum, count) = items
            .into_iter()
            .fold((0u64, 0u32), |(s, c), x| (s + u64::from(x.0), c + 1));
        (count > 0).then_some(TeamScore { sum, count })
    }

    /// Rebuilds a team score from its stored sum (ten-thousandths) and count.
    pub fn from_parts(sum: i64, count: i64) -> Option<TeamScore> {
        (sum > 0 && count > 0).then_some(TeamScore {
            sum: sum as u64,
            count: count as u32,
        })
    }

    pub fn sum(&self) -> u64 {
        self.sum
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// For display and charts only; ranks never use it.
    pub fn as_f64(&self) -> f64 {
        self.sum as f64 / f64::from(self.count) / 10_000.0
    }

    /// The rank this team score earns: at or above a threshold is the higher rank.
    pub fn rank(&self, t: &Thresholds) -> Rank {
        // sum / count / 10_000 >= a / 100  <=>  sum >= a * 100 * count
        let at_least = |h: u32| self.sum >= u64::from(h) * 100 * u64::from(self.count);
        if at_least(t.a_hundredths()) {
            Rank::A
        } else if at_least(t.b_hundredths()) {
            Rank::B
        } else {
            Rank::C
        }
    }
}

impl PartialEq for TeamScore {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for TeamScore {}

impl PartialOrd for TeamScore {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TeamScore {
    /// Lower mean first. `a/n` against `b/m` as `a*m` against `b*n`, exact in u128.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let left = u128::from(self.sum) * u128::from(other.count);
        let right = u128::from(other.sum) * u128::from(self.count);
        left.cmp(&right)
    }
}

impl std::fmt::Display for TeamScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&two_decimals(self.sum, u64::from(self.count)))
    }
}

/// `sum / count / 10_000` rounded half up to two decimals, without floating point.
fn two_decimals(sum: u64, count: u64) -> String {
    let hundredths = (sum * 2 + count * 100) / (count * 200);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// A job's rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rank {
    A,
    B,
    C,
}

impl Rank {
    pub fn as_str(self) -> &'static str {
        match self {
            Rank::A => "A",
            Rank::B => "B",
            Rank::C => "C",
        }
    }

    pub fn parse(s: &str) -> Option<Rank> {
        match s.trim() {
            "A" | "a" => Some(Rank::A),
            "B" | "b" => Some(Rank::B),
            "C" | "c" => Some(Rank::C),
            _ => None,
        }
    }
}

impl std::fmt::Display for Rank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's current rank with the one before it (for movement).
#[derive(Debug, Clone, PartialEq)]
pub struct JobRank {
    pub job_id: i64,
    pub team: TeamScore,
    pub rank: Rank,
    pub previous: Option<(TeamScore, Rank)>,
    pub settings_version: i64,
    pub last_scored_at: DateTime<Utc>,
}

impl JobRank {
    /// Where the job stands now.
    pub fn standing(&self) -> Standing {
        Standing {
            rank: self.rank,
            team: self.team,
        }
    }
}

/// Where a job stands: its rank and the team score that earned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub rank: Rank,
    pub team: TeamScore,
}

/// A change of one job's standing caused by a store command: before and after (either
/// `None` when the job had, or has, no rank, as when nobody who counts scored it).
/// Never `old == new`; team scores compare by value, so 7/2 to 14/4 is no change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankChange {
    pub job_id: i64,
    pub old: Option<Standing>,
    pub new: Option<Standing>,
}

/// What [`latest_per_scorer`] reads of a submission.
pub trait Submitted {
    fn scorer_id(&self) -> &str;
    fn submission_id(&self) -> &str;
    fn submitted_at(&self) -> DateTime<Utc>;
}

impl<T: Submitted + ?Sized> Submitted for &T {
    fn scorer_id(&self) -> &str {
        (**self).scorer_id()
    }
    fn submission_id(&self) -> &str {
        (**self).submission_id()
    }
    fn submitted_at(&self) -> DateTime<Utc> {
        (**self).submitted_at()
    }
}

/// One submission as the ranking sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerInput {
    pub scorer_id: String,
    pub submission_id: String,
    pub submitted_at: DateTime<Utc>,
    pub scores: FactorScores,
}

/// One scorer's part in a rank.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScorerComposite {
    pub scorer_id: String,
    pub submission_id: String,
    /// Ten-thousandths.
    pub composite: u32,
}

/// The rank of a job computed from its scorers' latest submissions.
#[derive(Debug, Clone, PartialEq)]
pub struct RankOutcome {
    pub team: TeamScore,
    pub rank: Rank,
    /// Sorted by scorer id, so the outcome does not depend on input order.
    pub composites: Vec<ScorerComposite>,
    /// When the latest input was submitted: the moment this rank came to be.
    pub at: DateTime<Utc>,
}

impl Submitted for ScorerInput {
    fn scorer_id(&self) -> &str {
        &self.scorer_id
    }
    fn submission_id(&self) -> &str {
        &self.submission_id
    }
    fn submitted_at(&self) -> DateTime<Utc> {
        self.submitted_at
    }
}

/// Keeps each scorer's latest submission, latest by (submitted at, submission id),
/// sorted by scorer id.
pub fn latest_per_scorer<T: Submitted, I: IntoIterator<Item = T>>(items: I) -> Vec<T> {
    let mut by_scorer: std::collections::BTreeMap<String, T> = Default::default();
    for s in items {
        match by_scorer.get(s.scorer_id()) {
            Some(cur)
                if (cur.submitted_at(), cur.submission_id())
                    >= (s.submitted_at(), s.submission_id()) => {}
            _ => {
                by_scorer.insert(s.scorer_id().to_owned(), s);
            }
        }
    }
    by_scorer.into_values().collect()
}

/// Ranks a job from submissions of its scoring users (all of them or only the latest
/// per scorer; only the latest per scorer counts). `None` when nobody scored it.
pub fn rank_job(submissions: &[ScorerInput], settings: &Settings) -> Option<RankOutcome> {
    let latest = latest_per_scorer(submissions.iter().cloned());
    let composites: Vec<ScorerComposite> = latest
        .iter()
        .map(|s| ScorerComposite {
            scorer_id: s.scorer_id.clone(),
            submission_id: s.submission_id.clone(),
            composite: composite(&s.scores, &settings.weights).ten_thousandths(),
        })
        .collect();
    let team = TeamScore::from_composites(composites.iter().map(|c| Composite(c.composite)))?;
    let at = latest.iter().map(|s| s.submitted_at).max()?;
    Some(RankOutcome {
        rank: team.rank(&settings.thresholds),
        team,
        composites,
        at,
    })
}

/// Whether a job needs a scorer's score: they never scored it, or their latest
/// submission is at least `cadence_days` days old.
pub fn needs_score(latest: Option<DateTime<Utc>>, now: DateTime<Utc>, cadence_days: u32) -> bool {
    match latest {
        None => true,
        Some(at) => now - at >= Duration::days(i64::from(cadence_days)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;
    use proptest::prelude::*;

    fn scores(v: [i64; 4]) -> FactorScores {
        FactorScores::from_values(v).unwrap()
    }

    fn input(scorer: &str, id: &str, day: i64, v: [i64; 4]) -> ScorerInput {
        ScorerInput {
            scorer_id: scorer.into(),
            submission_id: id.into(),
            submitted_at: DateTime::from_timestamp(1_700_000_000 + day * 86_400, 0).unwrap(),
            scores: scores(v),
        }
    }

    #[test]
    fn composite_with_default_weights_is_the_mean_of_factors() {
        let c = composite(&scores([5, 4, 3, 2]), &Weights::default());
        assert_eq!(c.ten_thousandths(), 35_000);
        assert_eq!(c.to_string(), "3.50");
    }

    #[test]
    fn thresholds_are_exact() {
        let t = Thresholds::default();
        let team = |v: &[u32]| TeamScore::from_composites(v.iter().map(|&x| Composite(x))).unwrap();
        assert_eq!(team(&[40_000]).rank(&t), Rank::A);
        assert_eq!(team(&[39_999]).rank(&t), Rank::B);
        assert_eq!(team(&[25_000]).rank(&t), Rank::B);
        assert_eq!(team(&[24_999]).rank(&t), Rank::C);
        // 4.25, 3.75, 4.00 average exactly 4.00: A, though 12/3 in floats is fine too;
        // (3.7 + 4.3 + 4.0) / 3 is where binary floating point goes wrong.
        assert_eq!(team(&[37_000, 43_000, 40_000]).rank(&t), Rank::A);
        assert_eq!(team(&[10_000, 20_000, 45_000]).rank(&t), Rank::B); // 2.50 exactly
        let weights = Weights::from_fractions([0.1, 0.2, 0.3, 0.4]).unwrap();
        let mut s = Settings {
            weights,
            ..Settings::default()
        };
        // 0.1*4 + 0.2*4 + 0.3*4 + 0.4*4 = 4.0 exactly, which floats compute as 3.9999...
        let out = rank_job(&[input("a", "1", 0, [4, 4, 4, 4])], &s).unwrap();
        assert_eq!(out.rank, Rank::A);
        s.thresholds = Thresholds::new(410, 250).unwrap();
        assert_eq!(
            rank_job(&[input("a", "1", 0, [4, 4, 4, 4])], &s)
                .unwrap()
                .rank,
            Rank::B
        );
    }

    #[test]
    fn team_score_uses_each_scorers_latest_submission() {
        let subs = [
            input("ann", "1", 0, [1, 1, 1, 1]),
            input("ann", "2", 7, [5, 5, 5, 5]),
            input("bob", "3", 1, [3, 3, 3, 3]),
        ];
        let out = rank_job(&subs, &Settings::default()).unwrap();
        assert_eq!(out.team.to_string(), "4.00");
        assert_eq!(out.rank, Rank::A);
        assert_eq!(out.composites.len(), 2);
        assert_eq!(out.at, subs[1].submitted_at);
        assert!(rank_job(&[], &Settings::default()).is_none());
    }

    #[test]
    fn team_scores_compare_by_value_not_by_parts() {
        let from = |sum, count| TeamScore::from_parts(sum, count).unwrap();
        assert_eq!(from(70_000, 2), from(140_000, 4), "7/2 equals 14/4");
        assert!(from(70_001, 2) > from(140_000, 4));
        assert!(from(30_000, 1) < from(70_000, 2));
        assert_eq!(
            from(70_000, 2).cmp(&from(105_000, 3)),
            std::cmp::Ordering::Equal
        );
        assert_eq!(
            [from(40_000, 1), from(30_000, 1), from(70_000, 2)]
                .iter()
                .max(),
            Some(&from(40_000, 1))
        );
    }

    #[test]
    fn latest_per_scorer_keeps_the_newest_of_each_and_works_on_references() {
        let subs = [
            input("bob", "2", 3, [1, 1, 1, 1]),
            input("ann", "1", 5, [2, 2, 2, 2]),
            input("bob", "4", 3, [3, 3, 3, 3]),
            input("ann", "3", 1, [4, 4, 4, 4]),
        ];
        let latest = latest_per_scorer(subs.iter());
        let ids: Vec<&str> = latest.iter().map(|s| s.submission_id.as_str()).collect();
        // Sorted by scorer; bob's two on the same day: the higher id wins.
        assert_eq!(ids, ["1", "4"]);
    }

    #[test]
    fn display_rounds_half_up() {
        let t =
            TeamScore::from_composites([Composite(33_333), Composite(33_334), Composite(33_383)])
                .unwrap();
        assert_eq!(t.to_string(), "3.34");
        assert_eq!(
            TeamScore::from_composites([Composite(26_250)])
                .unwrap()
                .to_string(),
            "2.63"
        );
    }

    #[test]
    fn cadence_decides_what_needs_a_score() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert!(needs_score(None, now, 7));
        assert!(!needs_score(Some(now - Duration::days(6)), now, 7));
        assert!(needs_score(Some(now - Duration::days(7)), now, 7));
    }

    fn arb_scores() -> impl Strategy<Value = [i64; 4]> {
        prop::array::uniform4(1i64..=5)
    }

    fn arb_weights() -> impl Strategy<Value = Weights> {
        (0u32..=10_000, 0u32..=10_000, 0u32..=10_000).prop_map(|(a, b, c)| {
            let mut cuts = [a, b, c];
            cuts.sort();
            let bp = [
                cuts[0],
                cuts[1] - cuts[0],
                cuts[2] - cuts[1],
                10_000 - cuts[2],
            ];
            Weights::from_basis_points(bp.map(i64::from)).unwrap()
        })
    }

    proptest! {
        #[test]
        fn composites_stay_between_one_and_five(v in arb_scores(), w in arb_weights()) {
            let c = composite(&scores(v), &w).ten_thousandths();
            prop_assert!((10_000..=50_000).contains(&c));
        }

        #[test]
        fn raising_a_factor_never_lowers_a_composite(v in arb_scores(), w in arb_weights(), which in 0usize..4) {
            prop_assume!(v[which] < 5);
            let mut up = v;
            up[which] += 1;
            prop_assert!(composite(&scores(up), &w) >= composite(&scores(v), &w));
        }

        /// The rank and team score agree with the weighted mean computed independently:
        /// exact rationals (`num_rational`) straight from the levels and the weights as
        /// fractions, sharing nothing with `composite`, `TeamScore` or `Thresholds`.
        /// With `at_threshold` the A threshold is put exactly on the mean when the mean
        /// is a whole number of hundredths, so "at or above" is tested at the edge.
        #[test]
        fn rank_matches_an_independent_rational_mean(
            levels in prop::collection::vec(arb_scores(), 1..8),
            w in prop_oneof![Just(Weights::default()), arb_weights()],
            a in 101i64..=500,
            b in 100i64..=499,
            at_threshold in any::<bool>(),
        ) {
            use num_rational::Ratio;
            let bp = w.as_basis_points();
            let weighted = |v: &[i64; 4]| -> Ratio<i128> {
                v.iter()
                    .zip(bp)
                    .map(|(&l, w)| Ratio::from_integer(i128::from(l)) * Ratio::new(i128::from(w), 10_000))
                    .sum()
            };
            let mean: Ratio<i128> = levels.iter().map(weighted).sum::<Ratio<i128>>()
                / Ratio::from_integer(levels.len() as i128);
            let hundredths = mean * Ratio::from_integer(100);
            let (a, b) = match hundredths.is_integer().then(|| hundredths.to_integer() as i64) {
                Some(m) if at_threshold && m > 100 => (m, m - 1),
                _ => (a, b),
            };
            prop_assume!(b < a);
            let settings = Settings {
                weights: w,
                thresholds: Thresholds::new(a, b).unwrap(),
                ..Settings::default()
            };
            let inputs: Vec<ScorerInput> = levels.iter().enumerate()
                .map(|(i, v)| input(&format!("scorer{i}"), &format!("{i:04}"), i as i64, *v))
                .collect();
            let out = rank_job(&inputs, &settings).unwrap();
            let expect = if mean >= Ratio::new(i128::from(a), 100) {
                Rank::A
            } else if mean >= Ratio::new(i128::from(b), 100) {
                Rank::B
            } else {
                Rank::C
            };
            prop_assert_eq!(out.rank, expect);
            let team = Ratio::new(i128::from(out.team.sum()), i128::from(out.team.count()) * 10_000);
            prop_assert_eq!(team, mean);
        }

        /// Team scores order as their exact means do, whatever the number of scorers.
        #[test]
        fn team_scores_order_by_their_means(
            x in prop::collection::vec(10_000u32..=50_000, 1..8),
            y in prop::collection::vec(10_000u32..=50_000, 1..8),
            k in 1usize..4,
        ) {
            use num_rational::Ratio;
            let team = |v: &[u32]| TeamScore::from_composites(v.iter().map(|&c| Composite(c))).unwrap();
            let mean = |v: &[u32]| Ratio::new(v.iter().map(|&c| i128::from(c)).sum::<i128>(), v.len() as i128);
            prop_assert_eq!(team(&x).cmp(&team(&y)), mean(&x).cmp(&mean(&y)));
            prop_assert_eq!(team(&x) == team(&y), mean(&x) == mean(&y));
            // The same composites repeated k times: the same mean, so an equal score.
            let repeated: Vec<u32> = x.iter().copied().cycle().take(x.len() * k).collect();
            prop_assert_eq!(team(&repeated), team(&x));
        }

        #[test]
        fn result_is_independent_of_scorer_order(
            subs in prop::collection::vec((0usize..4, 0i64..30, arb_scores()), 1..12),
            seed in any::<u64>(),
        ) {
            let names = ["ann", "bob", "cat", "dan"];
            let inputs: Vec<ScorerInput> = subs.iter().enumerate()
                .map(|(i, (s, d, v))| input(names[*s], &format!("{i:04}"), *d, *v)).collect();
            let mut shuffled = inputs.clone();
            // a deterministic shuffle driven by the seed
            let n = shuffled.len();
            for i in (1..n).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                shuffled.swap(i, j);
            }
            let s = Settings::default();
            prop_assert_eq!(rank_job(&inputs, &s), rank_job(&shuffled, &s));
        }

        #[test]
        fn levels_round_trip(v in 1i64..=5) {
            prop_assert_eq!(i64::from(Level::new("f", v).unwrap().get()), v);
        }
    }
}
