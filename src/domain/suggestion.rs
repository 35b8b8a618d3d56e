//! Suggested levels for the two factors jobrank can read from Recruiterflow (time open
//! and fee size), and when a scorer's choice overrides them.

use chrono::{DateTime, Utc};

use super::{Factor, FactorScores, Level, Money, Settings};

/// The levels suggested for a job under the current settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suggestions {
    /// From the days the job has been open.
    pub time_open: Level,
    /// From the job's fee; `None` when it has no fee or one in another currency than
    /// the fee bands, and then the scorer picks.
    pub fee_size: Option<Level>,
}

/// Whether a submission overrode each suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overrides {
    pub time_open: bool,
    pub fee_size: bool,
}

impl Suggestions {
    /// The suggestions for a job opened at `opened_at` with `fee`, at `now`.
    pub fn for_job(
        settings: &Settings,
        opened_at: DateTime<Utc>,
        fee: Option<&Money>,
        now: DateTime<Utc>,
    ) -> Suggestions {
        Suggestions {
            time_open: settings.time_open_bands.suggest_from_dates(opened_at, now),
            fee_size: settings.suggest_fee_size(fee),
        }
    }

    /// The suggested level of a factor, if jobrank suggests one for it.
    pub fn get(&self, factor: Factor) -> Option<Level> {
        match factor {
            Factor::TimeOpen => Some(self.time_open),
            Factor::FeeSize => self.fee_size,
            Factor::ClientEngagement | Factor::SearchDifficulty => None,
        }
    }

    /// Whether choosing `chosen` for `factor` overrides the suggestion: there is one
    /// and the scorer picked another level.
    pub fn overridden(&self, factor: Factor, chosen: Level) -> bool {
        self.get(factor).is_some_and(|s| s != chosen)
    }

    /// Which suggestions a submission's levels override (stored with it).
    pub fn overrides(&self, scores: &FactorScores) -> Overrides {
        Overrides {
            time_open: self.overridden(Factor::TimeOpen, scores.time_open),
            fee_size: self.overridden(Factor::FeeSize, scores.fee_size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn level(v: i64) -> Level {
        Level::new("x", v).unwrap()
    }

    #[test]
    fn suggestions_come_from_days_open_and_the_fee() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let s = Settings::default();
        let gbp = Money::new(2_500_000, Some("GBP"));
        let got = Suggestions::for_job(&s, now - Duration::days(20), Some(&gbp), now);
        assert_eq!((got.time_open, got.fee_size), (level(4), Some(level(3))));
        let usd = Money::new(2_500_000, Some("USD"));
        let got = Suggestions::for_job(&s, now, Some(&usd), now);
        assert_eq!((got.time_open, got.fee_size), (level(5), None));
        assert_eq!(got.get(Factor::ClientEngagement), None);
    }

    #[test]
    fn only_a_different_level_than_a_suggestion_is_an_override() {
        let with_fee = Suggestions {
            time_open: level(4),
            fee_size: Some(level(3)),
        };
        let scores = FactorScores::from_values([5, 5, 4, 5]).unwrap();
        assert_eq!(
            with_fee.overrides(&scores),
            Overrides {
                time_open: false,
                fee_size: true
            }
        );
        let no_fee = Suggestions {
            fee_size: None,
            ..with_fee
        };
        let scores = FactorScores::from_values([1, 1, 1, 1]).unwrap();
        assert_eq!(
            no_fee.overrides(&scores),
            Overrides {
                time_open: true,
                fee_size: false
            }
        );
        assert!(!no_fee.overridden(Factor::ClientEngagement, level(1)));
    }
}
