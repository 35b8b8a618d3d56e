//! A client's engagement over time: the client-engagement factor is the team's view of
//! the client rather than of one job, so the client page shows it week by week across
//! all of the client's jobs.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::week_of;

/// One week of a client's engagement scores.
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementWeek {
    /// The week's Monday.
    pub week: NaiveDate,
    /// The mean client-engagement level (1 to 5) of the week's submissions.
    pub mean: f64,
    /// How many submissions it is the mean of.
    pub scores: usize,
}

/// The client-engagement levels of the submissions on a client's jobs, `(submitted
/// at, level)`, as one mean per week with a score, oldest first.
pub fn engagement_by_week(scores: &[(DateTime<Utc>, u8)]) -> Vec<EngagementWeek> {
    let mut weeks: BTreeMap<NaiveDate, (u64, usize)> = BTreeMap::new();
    for (at, level) in scores {
        let w = weeks.entry(week_of(*at)).or_default();
        w.0 += u64::from(*level);
        w.1 += 1;
    }
    weeks
        .into_iter()
        .map(|(week, (sum, n))| EngagementWeek {
            week,
            mean: sum as f64 / n as f64,
            scores: n,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_is_averaged_per_week_oldest_first() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let weeks = engagement_by_week(&[
            (at("2026-11-24T10:00:00Z"), 4),
            (at("2026-11-16T10:00:00Z"), 2),
            (at("2026-11-29T23:00:00Z"), 3), // Sunday: the week of 23 November
            (at("2026-11-17T10:00:00Z"), 5),
        ]);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            weeks,
            vec![
                EngagementWeek {
                    week: d("2026-11-16"),
                    mean: 3.5,
                    scores: 2
                },
                EngagementWeek {
                    week: d("2026-11-23"),
                    mean: 3.5,
                    scores: 2
                },
            ]
        );
        assert!(engagement_by_week(&[]).is_empty());
    }
}
