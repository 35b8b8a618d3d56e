//! Scoring settings: weights, rank thresholds, suggestion bands and the cadence.
//! Every change is a new version; history keeps the version each rank used. The
//! suggestion bands (days open, expected fee) are the [`bands`] part.

mod bands;

pub use self::bands::{FeeBands, TimeOpenBands, days_between};

use chrono::{DateTime, Utc};

use super::{DomainError, Factor, Level, Money};

/// Factor weights in basis points (1/10,000); non-negative and summing to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights([u32; 4]);

impl Default for Weights {
    fn default() -> Self {
        Weights([2500; 4])
    }
}

impl Weights {
    /// Weights given in basis points, in the order of [`Factor::ALL`].
    pub fn from_basis_points(bp: [i64; 4]) -> Result<Weights, DomainError> {
        let mut out = [0u32; 4];
        for (i, f) in Factor::ALL.iter().enumerate() {
            if bp[i] < 0 {
                return Err(DomainError::NegativeWeight {
                    field: weight_field(*f),
                    value: format!("{:.4}", bp[i] as f64 / 10_000.0),
                });
            }
            out[i] = u32::try_from(bp[i]).map_err(|_| DomainError::WeightsDoNotSum {
                expected: "1".into(),
                actual: "more than 1".into(),
            })?;
        }
        let sum: u64 = out.iter().map(|&w| u64::from(w)).sum();
        if sum != 10_000 {
            return Err(DomainError::WeightsDoNotSum {
                expected: "1".into(),
                actual: format!("{:.4}", sum as f64 / 10_000.0),
            });
        }
        Ok(Weights(out))
    }

    /// Weights given as fractions (0.25 each by default) with at most four decimals.
    pub fn from_fractions(w: [f64; 4]) -> Result<Weights, DomainError> {
        Self::scaled(w, 10_000.0, 4).and_then(Self::from_basis_points)
    }

    /// Weights given as percentages (25 each by default) with at most two decimals;
    /// they must total 100.
    pub fn from_percentages(p: [f64; 4]) -> Result<Weights, DomainError> {
        let bp = Self::scaled(p, 100.0, 2)?;
        for (i, f) in Factor::ALL.iter().enumerate() {
            if bp[i] < 0 {
                return Err(DomainError::NegativeWeight {
                    field: weight_field(*f),
                    value: format!("{}%", p[i]),
                });
            }
        }
        let sum: i64 = bp.iter().sum();
        if sum != 10_000 {
            return Err(DomainError::WeightsDoNotSum {
                expected: "100%".into(),
                actual: format!("{}%", trim_decimal(sum as f64 / 100.0)),
            });
        }
        Self::from_basis_points(bp)
    }

    fn scaled(values: [f64; 4], scale: f64, decimals: u32) -> Result<[i64; 4], DomainError> {
        let mut out = [0i64; 4];
        for (i, f) in Factor::ALL.iter().enumerate() {
            let v = values[i];
            if !v.is_finite() {
                return Err(DomainError::Invalid {
                    field: weight_field(*f),
                    reason: "must be a number".into(),
                });
            }
            let s = (v * scale).round();
            if (v * scale - s).abs() > 1e-6 {
                return Err(DomainError::TooPrecise {
                    field: weight_field(*f),
                    detail: format!("at most {decimals} decimal places"),
                });
            }
            if s.abs() > 1e9 {
                return Err(DomainError::Invalid {
                    field: weight_field(*f),
                    reason: "is far too large".into(),
                });
            }
            out[i] = s as i64;
        }
        Ok(out)
    }

    /// The weight of a factor in basis points.
    pub fn basis_points(&self, f: Factor) -> u32 {
        self.0[Factor::ALL.iter().position(|x| *x == f).unwrap_or(0)]
    }

    /// All four weights in basis points, in the order of [`Factor::ALL`].
    pub fn as_basis_points(&self) -> [u32; 4] {
        self.0
    }

    /// A weight as a percentage for display, e.g. `25` or `33.33`.
    pub fn percent_text(&self, f: Factor) -> String {
        trim_decimal(f64::from(self.basis_points(f)) / 100.0)
    }
}

/// One weight as typed on the settings form, read exactly: "25", "25%", "0.25",
/// "33.33 %". Whether it is a percentage or a fraction is decided with the other three
/// ([`Weights::from_typed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypedWeight {
    /// The number in millionths: "25" is 25,000,000 and "0.25" is 250,000.
    millionths: i64,
    /// It was typed with `%`: a percentage whatever the others are.
    percent: bool,
    /// It has digits beyond the sixth decimal that are not zero (always too precise).
    too_precise: bool,
}

/// How the four weights of a form were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsScale {
    /// Fractions of 1: "0.25".
    Fractions,
    /// Percentages: "25" or "25%".
    Percentages,
}

impl TypedWeight {
    /// Reads one typed weight, or says in a few words why it is not a number.
    pub fn parse(text: &str) -> Result<TypedWeight, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty: enter a weight such as 25%, 25 or 0.25");
        }
        let (number, percent) = match text.strip_suffix('%') {
            Some(n) => (n.trim_end(), true),
            None => (text, false),
        };
        let (negative, digits) = match number.as_bytes().first() {
            Some(b'-') => (true, &number[1..]),
            Some(b'+') => (false, &number[1..]),
            _ => (false, number),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err("must be a number such as 25%, 25 or 0.25");
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 9 {
            return Err("is far too large");
        }
        let kept = &fraction[..fraction.len().min(6)];
        let too_precise = fraction[kept.len()..].bytes().any(|b| b != b'0');
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().unwrap_or(0)
        };
        let micro: i64 = format!("{kept:0<6}").parse().unwrap_or(0);
        let magnitude = whole * 1_000_000 + micro;
        Ok(TypedWeight {
            millionths: if negative { -magnitude } else { magnitude },
            percent,
            too_precise,
        })
    }

    /// The number as typed, without its `%`, for messages: "25", "0.25".
    fn number_text(self) -> String {
        let sign = if self.millionths < 0 { "-" } else { "" };
        let m = self.millionths.unsigned_abs();
        let fraction = format!("{:06}", m % 1_000_000);
        let fraction = fraction.trim_end_matches('0');
        if fraction.is_empty() {
            format!("{sign}{}", m / 1_000_000)
        } else {
            format!("{sign}{}.{fraction}", m / 1_000_000)
        }
    }

    /// The weight as typed, for messages: "25", "25%", "0.25".
    pub fn text(self) -> String {
        format!(
            "{}{}",
            self.number_text(),
            if self.percent { "%" } else { "" }
        )
    }
}

impl Weights {
    /// The total of four typed weights and the reading that makes it right, if one
    /// does: percentages when they total 100 ("100%"), else fractions when they total 1
    /// ("1"). A total that fits neither is shown as fractions while every value is
    /// unmarked and they total at most 2 ("0.95"), else as a percentage ("120%").
    pub fn total(typed: &[TypedWeight; 4]) -> (String, Option<WeightsScale>) {
        let marked: i64 = typed
            .iter()
            .filter(|t| t.percent)
            .map(|t| t.millionths)
            .sum();
        let unmarked: i64 = typed
            .iter()
            .filter(|t| !t.percent)
            .map(|t| t.millionths)
            .sum();
        let text = |millionths, percent| {
            TypedWeight {
                millionths,
                percent,
                too_precise: false,
            }
            .text()
        };
        // In millionths of a percent: 100% is 100,000,000.
        if marked + unmarked == 100_000_000 {
            (
                text(marked + unmarked, true),
                Some(WeightsScale::Percentages),
            )
        } else if marked + 100 * unmarked == 100_000_000 {
            ("1".into(), Some(WeightsScale::Fractions))
        } else if marked == 0 && unmarked <= 2_000_000 {
            (text(unmarked, false), None)
        } else {
            (text(marked + unmarked, true), None)
        }
    }

    /// Reads the four weights of a form (in the order of [`Factor::ALL`]): a value with
    /// `%` is a percentage; the others are fractions when the four then total 1 and
    /// percentages when they total 100 (both at once only when every unmarked value is
    /// 0, where the two readings agree). Percentages take at most two decimals, fractions
    /// four. Anything else is refused naming the fields.
    pub fn from_typed(typed: [TypedWeight; 4]) -> Result<(Weights, WeightsScale), DomainError> {
        for (f, t) in Factor::ALL.iter().zip(typed) {
            if t.millionths < 0 {
                return Err(DomainError::NegativeWeight {
                    field: weight_field(*f),
                    value: t.text(),
                });
            }
        }
        let (total, scale) = Weights::total(&typed);
        let Some(scale) = scale else {
            let named: Vec<String> = Factor::ALL
                .iter()
                .zip(typed)
                .map(|(f, t)| format!("{} {}", f.label().to_lowercase(), t.text()))
                .collect();
            return Err(DomainError::WeightsDoNotSum {
                expected: "100 as percentages or 1 as fractions".into(),
                actual: format!(
                    "{total} ({}, {}, {} and {})",
                    named[0], named[1], named[2], named[3]
                ),
            });
        };
        let mut bp = [0i64; 4];
        for (i, (f, t)) in Factor::ALL.iter().zip(typed).enumerate() {
            // Basis points: a percentage's millionths / 10,000, a fraction's / 100.
            let (per_bp, detail) = if t.percent || scale == WeightsScale::Percentages {
                (10_000, "at most 2 decimal places as a percentage")
            } else {
                (100, "at most 4 decimal places as a fraction")
            };
            if t.too_precise || t.millionths % per_bp != 0 {
                return Err(DomainError::TooPrecise {
                    field: weight_field(*f),
                    detail: detail.into(),
                });
            }
            bp[i] = t.millionths / per_bp;
        }
        Ok((Weights::from_basis_points(bp)?, scale))
    }
}

fn weight_field(f: Factor) -> &'static str {
    match f {
        Factor::ClientEngagement => "weight_client_engagement",
        Factor::SearchDifficulty => "weight_search_difficulty",
        Factor::TimeOpen => "weight_time_open",
        Factor::FeeSize => "weight_fee_size",
    }
}

fn trim_decimal(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Rank thresholds in hundredths: a team score at or above `a` is A, at or above `b` is B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    a: u32,
    b: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { a: 400, b: 250 }
    }
}

impl Thresholds {
    /// Thresholds in hundredths (400 is 4.00); both within 1.00-5.00 and B below A.
    pub fn new(a: i64, b: i64) -> Result<Thresholds, DomainError> {
        for (field, v) in [("threshold_a", a), ("threshold_b", b)] {
            if !(100..=500).contains(&v) {
                return Err(DomainError::Invalid {
                    field,
                    reason: format!("must be between 1.00 and 5.00, got {:.2}", v as f64 / 100.0),
                });
            }
        }
        if b >= a {
            return Err(DomainError::Invalid {
                field: "threshold_b",
                reason: format!(
                    "must be below the A threshold ({:.2}), got {:.2}",
                    a as f64 / 100.0,
                    b as f64 / 100.0
                ),
            });
        }
        Ok(Thresholds {
            a: a as u32,
            b: b as u32,
        })
    }

    /// Thresholds from decimal text such as `4.00` and `2.5` (at most two decimals).
    pub fn from_decimals(a: f64, b: f64) -> Result<Thresholds, DomainError> {
        let conv = |field: &'static str, v: f64| -> Result<i64, DomainError> {
            let s = (v * 100.0).round();
            if !v.is_finite() || (v * 100.0 - s).abs() > 1e-6 {
                return Err(DomainError::TooPrecise {
                    field,
                    detail: "at most 2 decimal places".into(),
                });
            }
            Ok(s as i64)
        };
        Thresholds::new(conv("threshold_a", a)?, conv("threshold_b", b)?)
    }

    pub fn a_hundredths(&self) -> u32 {
        self.a
    }

    pub fn b_hundredths(&self) -> u32 {
        self.b
    }
}

/// One version of the scoring settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub version: i64,
    pub weights: Weights,
    pub thresholds: Thresholds,
    pub time_open_bands: TimeOpenBands,
    pub fee_bands: FeeBands,
    /// The currency the fee bands are in; fees in another currency get no suggestion.
    pub fee_currency: String,
    /// A job needs a scorer's score again once their latest is this many days old.
    pub cadence_days: u32,
    /// A pipeline is stalled when its slowest stage's candidates have waited this many
    /// days or more on average (1 to 365; 14 by default).
    pub stalled_after_days: u32,
    /// Scores older than this many weeks stop counting toward the team score (1 to
    /// 52); `None`, the default, keeps every scorer's latest score counting.
    pub score_expiry_weeks: Option<u32>,
    /// A ranked job with fewer scorers than this is provisional (2 to 10); 1, the
    /// default, switches the rule off.
    pub min_scorers: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            version: 1,
            weights: Weights::default(),
            thresholds: Thresholds::default(),
            time_open_bands: TimeOpenBands::default(),
            fee_bands: FeeBands::default(),
            fee_currency: "GBP".into(),
            cadence_days: 7,
            stalled_after_days: Self::DEFAULT_STALLED_AFTER_DAYS,
            score_expiry_weeks: None,
            min_scorers: 1,
        }
    }
}

impl Settings {
    /// The stalled rule's days before it was a setting, and its default.
    pub const DEFAULT_STALLED_AFTER_DAYS: u32 = 14;

    /// Validates a cadence in days (1 to 365).
    pub fn check_cadence(days: i64) -> Result<u32, DomainError> {
        if (1..=365).contains(&days) {
            Ok(days as u32)
        } else {
            Err(DomainError::Invalid {
                field: "cadence_days",
                reason: format!("must be from 1 to 365 days, got {days}"),
            })
        }
    }

    /// Validates the days after which a pipeline's slowest stage makes it stalled (1 to
    /// 365).
    pub fn check_stalled_after_days(days: i64) -> Result<u32, DomainError> {
        if (1..=365).contains(&days) {
            Ok(days as u32)
        } else {
            Err(DomainError::Invalid {
                field: "stalled_after_days",
                reason: format!("must be from 1 to 365 days, got {days}"),
            })
        }
    }

    /// Validates the score expiry: `None` (scores never expire) or 1 to 52 weeks.
    pub fn check_score_expiry_weeks(weeks: Option<i64>) -> Result<Option<u32>, DomainError> {
        match weeks {
            None => Ok(None),
            Some(w) if (1..=52).contains(&w) => Ok(Some(w as u32)),
            Some(w) => Err(DomainError::Invalid {
                field: "score_expiry_weeks",
                reason: format!(
                    "must be from 1 to 52 weeks, or empty for scores that never expire, got {w}"
                ),
            }),
        }
    }

    /// Validates the minimum number of scorers: 1 (no minimum) to 10.
    pub fn check_min_scorers(n: i64) -> Result<u32, DomainError> {
        if (1..=10).contains(&n) {
            Ok(n as u32)
        } else {
            Err(DomainError::Invalid {
                field: "min_scorers",
                reason: format!("must be from 1 (no minimum) to 10 scorers, got {n}"),
            })
        }
    }

    /// Checks every field a stored or pulled version carries beyond the typed ones.
    pub fn check(&self) -> Result<(), DomainError> {
        Self::check_cadence(i64::from(self.cadence_days))?;
        Self::check_currency(&self.fee_currency)?;
        Self::check_stalled_after_days(i64::from(self.stalled_after_days))?;
        Self::check_score_expiry_weeks(self.score_expiry_weeks.map(i64::from))?;
        Self::check_min_scorers(i64::from(self.min_scorers))?;
        Ok(())
    }

    /// Validates a fee currency: a three-letter code.
    pub fn check_currency(code: &str) -> Result<String, DomainError> {
        let c = code.trim().to_ascii_uppercase();
        if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            Ok(c)
        } else {
            Err(DomainError::Invalid {
                field: "fee_currency",
                reason: format!("must be a three-letter currency code, got {code:?}"),
            })
        }
    }

    /// The suggested fee-size level, or `None` when the job has no fee or its fee is
    /// in another currency than the bands. A fee without a currency is taken to be in
    /// the bands' currency.
    pub fn suggest_fee_size(&self, fee: Option<&Money>) -> Option<Level> {
        let fee = fee?;
        match &fee.currency {
            Some(c) if !c.eq_ignore_ascii_case(&self.fee_currency) => None,
            _ => Some(self.fee_bands.suggest(fee)),
        }
    }
}

/// Whether a submission made at `submitted_at` still counts toward its job's team
/// score at `now` under the score expiry rule: always while `score_expiry_weeks` is off;
/// otherwise only while it is younger than that many weeks (at exactly that age it has
/// expired). A submission dated after `now` (another replica's clock) counts.
pub fn counts_toward_team(
    submitted_at: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &Settings,
) -> bool {
    match settings.score_expiry_weeks {
        None => true,
        Some(weeks) => now - submitted_at < chrono::Duration::weeks(i64::from(weeks)),
    }
}

/// Whether a job ranked on `scorer_count` scorers is provisional: it keeps its
/// computed rank but rests on fewer scorers than `min_scorers` asks for. With
/// `min_scorers` at 1 (off) a ranked job, which has at least one scorer, never is.
pub fn is_provisional(scorer_count: u32, settings: &Settings) -> bool {
    scorer_count < settings.min_scorers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_weights_are_a_quarter_each() {
        assert_eq!(Weights::default().as_basis_points(), [2500; 4]);
        assert_eq!(
            Weights::from_fractions([0.25; 4]).unwrap(),
            Weights::default()
        );
        assert_eq!(
            Weights::from_percentages([25.0; 4]).unwrap(),
            Weights::default()
        );
    }

    #[test]
    fn weights_that_do_not_sum_to_one_are_refused() {
        let err = Weights::from_fractions([0.3, 0.3, 0.3, 0.3]).unwrap_err();
        assert!(err.to_string().contains("sum to 1"), "{err}");
        let err = Weights::from_percentages([40.0, 30.0, 20.0, 5.0]).unwrap_err();
        assert!(err.to_string().contains("95%"), "{err}");
        let err = Weights::from_fractions([-0.25, 0.5, 0.5, 0.25]).unwrap_err();
        assert!(
            err.to_string().contains("weight_client_engagement"),
            "{err}"
        );
        assert!(Weights::from_fractions([0.12345, 0.3, 0.3, 0.27655]).is_err());
        assert!(Weights::from_fractions([1.0, 0.0, 0.0, 0.0]).is_ok());
        assert!(Weights::from_fractions([f64::NAN, 0.0, 0.0, 1.0]).is_err());
    }

    fn typed(texts: [&str; 4]) -> Result<(Weights, WeightsScale), DomainError> {
        let t = texts.map(|x| TypedWeight::parse(x).unwrap());
        Weights::from_typed(t)
    }

    #[test]
    fn typed_weights_are_fractions_when_they_total_one_and_percentages_at_a_hundred() {
        let bp = |texts| typed(texts).map(|(w, s)| (w.as_basis_points(), s));
        use WeightsScale::{Fractions, Percentages};
        assert_eq!(
            bp(["0.4", "0.2", "0.2", "0.2"]),
            Ok(([4000, 2000, 2000, 2000], Fractions))
        );
        assert_eq!(
            bp(["40", "20", "20", "20"]),
            Ok(([4000, 2000, 2000, 2000], Percentages))
        );
        assert_eq!(
            bp(["40%", "20 %", " 20% ", "20%"]),
            Ok(([4000, 2000, 2000, 2000], Percentages))
        );
        // A value with % is a percentage; the rest follow the total.
        assert_eq!(
            bp(["40%", "20", "20", "20"]),
            Ok(([4000, 2000, 2000, 2000], Percentages))
        );
        assert_eq!(
            bp(["40%", "0.2", "0.2", ".2"]),
            Ok(([4000, 2000, 2000, 2000], Fractions))
        );
        // One factor alone: 1 as a fraction, 100 as a percentage.
        assert_eq!(bp(["1", "0", "0", "0"]), Ok(([10_000, 0, 0, 0], Fractions)));
        assert_eq!(
            bp(["100", "0", "0", "0"]),
            Ok(([10_000, 0, 0, 0], Percentages))
        );
        assert_eq!(
            bp(["100%", "0", "0", "0"]),
            Ok(([10_000, 0, 0, 0], Percentages))
        );
        assert_eq!(
            bp(["33.34", "33.33", "33.33", "0"]).unwrap().0,
            [3334, 3333, 3333, 0]
        );
        assert_eq!(
            bp(["0.3334", "0.3333", "0.3333", "0.0000"]).unwrap().0,
            [3334, 3333, 3333, 0]
        );
        assert_eq!(
            bp(["25.000000000", "25", "25", "+25"]).unwrap().0,
            [2500; 4]
        );
    }

    #[test]
    fn typed_weights_that_fit_neither_reading_are_refused_naming_every_field() {
        let err = typed(["30", "30", "30", "30"]).unwrap_err();
        assert!(matches!(err, DomainError::WeightsDoNotSum { .. }));
        assert_eq!(
            err.to_string(),
            "weights must sum to 100 as percentages or 1 as fractions, but they sum to 120% \
             (client engagement 30, search difficulty 30, time open 30 and fee size 30)"
        );
        let err = typed(["0.3", "0.3", "0.3", "0.05"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("they sum to 0.95 (client engagement 0.3, "),
            "{err}"
        );
        let err = typed(["50%", "0.4", "0", "0"]).unwrap_err().to_string();
        assert!(
            err.contains("sum to 50.4% (client engagement 50%, search difficulty 0.4,"),
            "{err}"
        );
        assert!(typed(["0", "0", "0", "0"]).is_err());
        // 1 as a percentage is not 1 as a fraction once it is marked.
        assert!(typed(["1%", "0", "0", "0"]).is_err());
        let err = typed(["-10", "50", "30", "30"]).unwrap_err();
        assert_eq!(
            err,
            DomainError::NegativeWeight {
                field: "weight_client_engagement",
                value: "-10".into()
            }
        );
    }

    #[test]
    fn typed_weights_keep_to_two_decimals_as_percentages_and_four_as_fractions() {
        let field = |e: DomainError| match e {
            DomainError::TooPrecise { field, detail } => (field, detail),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(typed(["25.005", "24.995", "25", "25"]).unwrap_err()),
            (
                "weight_client_engagement",
                "at most 2 decimal places as a percentage".into()
            )
        );
        assert_eq!(
            field(typed(["0.25", "0.12345", "0.37655", "0.25"]).unwrap_err()),
            (
                "weight_search_difficulty",
                "at most 4 decimal places as a fraction".into()
            )
        );
        assert_eq!(
            field(typed(["0.25", "0.25", "0.25", "0.2500000001"]).unwrap_err()).0,
            "weight_fee_size"
        );
    }

    #[test]
    fn a_typed_weight_that_is_not_a_number_says_so() {
        for bad in [
            "", "  ", "abc", "25%%", "%", "1,5", "0x10", "2 5", ".", "-", "1e2", "∞",
        ] {
            assert!(TypedWeight::parse(bad).is_err(), "{bad:?} read as a number");
        }
        assert_eq!(
            TypedWeight::parse(" ").unwrap_err(),
            "is empty: enter a weight such as 25%, 25 or 0.25"
        );
        assert_eq!(
            TypedWeight::parse("9999999999").unwrap_err(),
            "is far too large"
        );
        assert_eq!(TypedWeight::parse("033.50 %").unwrap().text(), "33.5%");
        assert_eq!(TypedWeight::parse("-0.25").unwrap().text(), "-0.25");
    }

    #[test]
    fn thresholds_must_be_ordered_and_in_range() {
        assert!(Thresholds::new(400, 250).is_ok());
        assert!(Thresholds::new(250, 400).is_err());
        assert!(Thresholds::new(600, 250).is_err());
        assert_eq!(
            Thresholds::from_decimals(4.0, 2.5).unwrap(),
            Thresholds::default()
        );
    }

    #[test]
    fn time_open_suggestion_follows_the_bands() {
        let b = TimeOpenBands::default();
        let lv = |d| b.suggest(d).get();
        assert_eq!((lv(0), lv(14), lv(15), lv(30), lv(31)), (5, 5, 4, 4, 3));
        assert_eq!((lv(60), lv(61), lv(90), lv(91), lv(400)), (3, 2, 2, 1, 1));
        assert_eq!(lv(-3), 5);
        assert!(TimeOpenBands::new([14, 14, 60, 90]).is_err());
    }

    #[test]
    fn fee_suggestion_follows_the_bands_in_minor_units() {
        let s = Settings::default();
        let lv = |gbp: i64| {
            s.suggest_fee_size(Some(&Money::new(gbp * 100, Some("GBP"))))
                .unwrap()
                .get()
        };
        assert_eq!(
            (lv(40_000), lv(39_999), lv(30_000), lv(20_000)),
            (5, 4, 4, 3)
        );
        assert_eq!((lv(19_999), lv(10_000), lv(9_999), lv(0)), (2, 2, 1, 1));
        let usd = Money::new(5_000_000, Some("USD"));
        assert_eq!(s.suggest_fee_size(Some(&usd)), None);
        assert_eq!(s.suggest_fee_size(None), None);
        let no_currency = Money::new(3_500_000, None);
        assert_eq!(s.suggest_fee_size(Some(&no_currency)).unwrap().get(), 4);
        assert!(FeeBands::new([10, 20, 30, 40]).is_err());
    }

    #[test]
    fn new_settings_default_to_what_jobrank_did_before_them() {
        let s = Settings::default();
        assert_eq!(s.stalled_after_days, 14);
        assert_eq!(s.score_expiry_weeks, None);
        assert_eq!(s.min_scorers, 1);
        assert!(s.check().is_ok());
    }

    #[test]
    fn new_settings_are_checked_and_the_error_names_the_field() {
        assert_eq!(Settings::check_stalled_after_days(1), Ok(1));
        assert_eq!(Settings::check_stalled_after_days(365), Ok(365));
        for bad in [0, -1, 366] {
            let e = Settings::check_stalled_after_days(bad).unwrap_err();
            assert!(e.to_string().starts_with("stalled_after_days:"), "{e}");
        }
        assert_eq!(Settings::check_score_expiry_weeks(None), Ok(None));
        assert_eq!(Settings::check_score_expiry_weeks(Some(1)), Ok(Some(1)));
        assert_eq!(Settings::check_score_expiry_weeks(Some(52)), Ok(Some(52)));
        for bad in [0, 53, -2] {
            let e = Settings::check_score_expiry_weeks(Some(bad)).unwrap_err();
            assert!(e.to_string().starts_with("score_expiry_weeks:"), "{e}");
        }
        assert_eq!(Settings::check_min_scorers(1), Ok(1));
        assert_eq!(Settings::check_min_scorers(10), Ok(10));
        for bad in [0, 11] {
            let e = Settings::check_min_scorers(bad).unwrap_err();
            assert!(e.to_string().starts_with("min_scorers:"), "{e}");
        }
        let bad = Settings {
            min_scorers: 0,
            ..Settings::default()
        };
        assert!(bad.check().is_err());
    }

    #[test]
    fn scores_expire_only_when_the_rule_is_on_and_at_its_age() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let weeks_ago = |w: i64| now - chrono::Duration::weeks(w);
        let off = Settings::default();
        assert!(counts_toward_team(weeks_ago(500), now, &off));
        let four = Settings {
            score_expiry_weeks: Some(4),
            ..Settings::default()
        };
        assert!(counts_toward_team(weeks_ago(3), now, &four));
        assert!(counts_toward_team(
            weeks_ago(4) + chrono::Duration::seconds(1),
            now,
            &four
        ));
        assert!(
            !counts_toward_team(weeks_ago(4), now, &four),
            "exactly 4 weeks"
        );
        assert!(!counts_toward_team(weeks_ago(9), now, &four));
        assert!(counts_toward_team(
            now + chrono::Duration::hours(1),
            now,
            &four
        ));
    }

    #[test]
    fn provisional_below_the_minimum_of_scorers_and_never_when_off() {
        let off = Settings::default();
        assert!(!is_provisional(1, &off));
        assert!(!is_provisional(7, &off));
        let three = Settings {
            min_scorers: 3,
            ..Settings::default()
        };
        assert!(is_provisional(1, &three));
        assert!(is_provisional(2, &three));
        assert!(!is_provisional(3, &three));
        assert!(!is_provisional(4, &three));
    }

    #[test]
    fn fee_bands_in_yen_and_dinars_compare_whole_units() {
        let yen = Settings {
            fee_bands: FeeBands::new([4_000_000, 3_000_000, 2_000_000, 1_000_000]).unwrap(),
            fee_currency: "JPY".into(),
            ..Settings::default()
        };
        let lv = |s: &Settings, minor: i64, c: &str| {
            s.suggest_fee_size(Some(&Money::new(minor, Some(c))))
                .map(|l| l.get())
        };
        // 3,500,000 yen is stored as 3,500,000 minor units (yen have no minor unit).
        assert_eq!(lv(&yen, 3_500_000, "JPY"), Some(4));
        assert_eq!(lv(&yen, 4_000_000, "jpy"), Some(5));
        assert_eq!(lv(&yen, 999_999, "JPY"), Some(1));
        assert_eq!(lv(&yen, 3_500_000, "GBP"), None);
        let dinars = Settings {
            fee_currency: "KWD".into(),
            ..Settings::default()
        };
        // 12,500.500 dinars is 12,500,500 fils.
        assert_eq!(lv(&dinars, 12_500_500, "KWD"), Some(2));
        assert_eq!(lv(&dinars, 40_000_000, "KWD"), Some(5));
        assert_eq!(lv(&dinars, 39_999_999, "KWD"), Some(4));
    }
}
