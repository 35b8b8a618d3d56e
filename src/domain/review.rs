//! The CEO's review of scoring patterns: per scorer, how they score compared with the
//! rest of the team in the same round (job and ISO week).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::Composite;

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

/// Scoring pattern of one scorer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorerReview {
    pub scorer_id: String,
    pub submissions: usize,
    pub mean_composite: f64,
    /// Population standard deviation of the scorer's composites.
    pub spread: f64,
    /// Mean of (composite - others' mean) over rounds where others scored too.
    pub mean_deviation: Option<f64>,
    pub outliers: Vec<Outlier>,
}

/// The distance from the others' mean that makes a submission an outlier.
pub const OUTLIER_DISTANCE: f64 = 1.0;

/// Reviews every scorer. Within a round each scorer's last submission (in input order)
/// stands for them; order the input by submission time.
pub fn review_scorers(subs: &[ReviewSubmission]) -> Vec<ScorerReview> {
    let mut rounds: HashMap<(i64, NaiveDate), BTreeMap<&str, f64>> = HashMap::new();
    for s in subs {
        rounds
            .entry((s.job_id, s.round))
            .or_default()
            .insert(&s.scorer_id, s.composite.as_f64());
    }
    let mut by_scorer: BTreeMap<&str, Vec<&ReviewSubmission>> = BTreeMap::new();
    for s in subs {
        by_scorer.entry(&s.scorer_id).or_default().push(s);
    }
    by_scorer
        .into_iter()
        .map(|(scorer, list)| {
            let values: Vec<f64> = list.iter().map(|s| s.composite.as_f64()).collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let spread = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            let mut deviations = Vec::new();
            let mut outliers = Vec::new();
            for s in &list {
                let others: Vec<f64> = rounds[&(s.job_id, s.round)]
                    .iter()
                    .filter(|(k, _)| **k != scorer)
                    .map(|(_, v)| *v)
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let others_mean = others.iter().sum::<f64>() / others.len() as f64;
                let c = s.composite.as_f64();
                deviations.push(c - others_mean);
                // Compare in hundredths so 1.00 away counts despite float noise.
                if ((c - others_mean).abs() * 100.0).round() >= OUTLIER_DISTANCE * 100.0 {
                    outliers.push(Outlier {
                        submission_id: s.submission_id.clone(),
                        job_id: s.job_id,
                        round: s.round,
                        composite: c,
                        others_mean,
                    });
                }
            }
            ScorerReview {
                scorer_id: scorer.to_string(),
                submissions: list.len(),
                mean_composite: mean,
                spread,
                mean_deviation: (!deviations.is_empty())
                    .then(|| deviations.iter().sum::<f64>() / deviations.len() as f64),
                outliers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(id: &str, scorer: &str, job: i64, c: i64) -> ReviewSubmission {
        ReviewSubmission {
            submission_id: id.into(),
            scorer_id: scorer.into(),
            job_id: job,
            round: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            composite: Composite::from_ten_thousandths(c).unwrap(),
        }
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
            sub("1", "ann", 1, 40_000),
            sub("2", "bob", 1, 30_000),
            sub("3", "cat", 1, 30_000),
            sub("4", "ann", 2, 30_000),
            sub("5", "bob", 2, 30_000),
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
}
