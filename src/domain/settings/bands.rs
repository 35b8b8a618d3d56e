//! The suggestion bands of the scoring settings: [`TimeOpenBands`] (days a job has been
//! open) and [`FeeBands`] (its expected fee), each four limits checked to run the right
//! way and mapping a value to the level 1-5 the scoring form suggests, with
//! [`days_between`], the whole days a job has been open.

use chrono::{DateTime, Utc};

use crate::domain::{DomainError, Level, Money};

/// Time-open bands: the most days open that still earn levels 5, 4, 3 and 2;
/// anything longer is 1. Default 14, 30, 60, 90.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOpenBands([u32; 4]);

impl Default for TimeOpenBands {
    fn default() -> Self {
        TimeOpenBands([14, 30, 60, 90])
    }
}

impl TimeOpenBands {
    pub fn new(days: [i64; 4]) -> Result<TimeOpenBands, DomainError> {
        check_monotonic("time_open_bands", &days, true)?;
        Ok(TimeOpenBands(days.map(|d| d as u32)))
    }

    pub fn days(&self) -> [u32; 4] {
        self.0
    }

    /// The suggested level for a job open this many whole days.
    pub fn suggest(&self, days_open: i64) -> Level {
        let days = days_open.max(0);
        band_level(
            "time_open",
            self.0.iter().position(|&max| days <= i64::from(max)),
        )
    }

    /// The suggested level from a job's open date.
    pub fn suggest_from_dates(&self, opened_at: DateTime<Utc>, now: DateTime<Utc>) -> Level {
        self.suggest(days_between(opened_at, now))
    }
}

/// Whole days from `from` to `to`, never negative.
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_days().max(0)
}

/// Fee bands: the least expected fee, in whole units of the bands' currency (the
/// `fee_currency` setting: pounds, yen, dinars, as the admin page enters them), that
/// earns levels 5, 4, 3 and 2; anything less is 1. Default 40,000, 30,000, 20,000,
/// 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeBands([u64; 4]);

impl Default for FeeBands {
    fn default() -> Self {
        FeeBands([40_000, 30_000, 20_000, 10_000])
    }
}

impl FeeBands {
    pub fn new(fees: [i64; 4]) -> Result<FeeBands, DomainError> {
        check_monotonic("fee_bands", &fees, false)?;
        Ok(FeeBands(fees.map(|f| f as u64)))
    }

    pub fn fees(&self) -> [u64; 4] {
        self.0
    }

    /// The suggested level for a fee: the first band whose whole units the fee
    /// reaches, by the fee's own minor-unit exponent (100 pence, 1 yen, 1,000 fils).
    pub fn suggest(&self, fee: &Money) -> Level {
        band_level(
            "fee_size",
            self.0.iter().position(|&min| fee.at_least_whole(min)),
        )
    }
}

/// The level a band gives: bands run from level 5 down, so the first band a value
/// falls in (`band`, from 0) is level 5; past the last band it is 1.
fn band_level(field: &'static str, band: Option<usize>) -> Level {
    let level = band.map_or(1, |i| 5 - i as i64);
    Level::new(field, level).unwrap_or(Level::ALL_DESC[4])
}

fn check_monotonic(field: &'static str, v: &[i64; 4], increasing: bool) -> Result<(), DomainError> {
    if v.iter().any(|&x| x < 0) {
        return Err(DomainError::Invalid {
            field,
            reason: "values must not be negative".into(),
        });
    }
    let ok = v
        .windows(2)
        .all(|w| if increasing { w[0] < w[1] } else { w[0] > w[1] });
    if !ok {
        return Err(DomainError::Invalid {
            field,
            reason: if increasing {
                "each band must be longer than the one before (e.g. 14, 30, 60, 90)".into()
            } else {
                "each band must be smaller than the one before (e.g. 40000, 30000, 20000, 10000)"
                    .into()
            },
        });
    }
    Ok(())
}
