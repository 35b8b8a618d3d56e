//! Scalars as Recruiterflow sends them: whole numbers as numbers or numeric strings,
//! flags in several spellings, timestamps with either offset style, and decimal
//! amounts kept as text so that their conversion to minor units is exact.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads a whole number from a JSON number or a numeric string.
pub fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }
}

/// Reads a flag from a JSON boolean, 0/1, or a string such as "true" or "1".
pub fn value_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Parses the timestamp styles Recruiterflow sends: RFC 3339 (`+05:30`, `Z`),
/// `+0000` without a colon, a naive date-time (taken as UTC) or a bare date.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.to_utc());
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// A decimal amount kept as text so that conversion to minor units is exact.
#[derive(Debug, Clone, PartialEq)]
pub struct Amount(String);

impl Amount {
    /// The amount as given, e.g. `"35000"` or `"1250.50"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount in minor units (cents, pence) for a currency with `exponent` decimal
    /// places, rounded half away from zero. `None` when it does not fit.
    pub fn to_minor(&self, exponent: u32) -> Option<i64> {
        let s = self.0.trim();
        if s.contains(['e', 'E']) {
            let f: f64 = s.parse().ok()?;
            let m = (f * 10f64.powi(exponent as i32)).round();
            return (m.is_finite() && m.abs() < 9.0e18).then_some(m as i64);
        }
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let scale = 10i64.checked_pow(exponent)?;
        let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut minor = whole.checked_mul(scale)?;
        let digits: Vec<i64> = frac.bytes().map(|b| i64::from(b - b'0')).collect();
        let mut place = scale;
        for (i, d) in digits.iter().enumerate() {
            if i as u32 >= exponent {
                if *d >= 5 {
                    minor = minor.checked_add(1)?;
                }
                break;
            }
            place /= 10;
            minor = minor.checked_add(d * place)?;
        }
        Some(if neg { -minor } else { minor })
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(Amount(n.to_string())),
            Value::String(s) if Amount(s.clone()).to_minor(0).is_some() => {
                Ok(Amount(s.trim().to_string()))
            }
            other => Err(serde::de::Error::custom(format!(
                "an amount must be a number, got {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_offset_styles_parse() {
        let a = parse_timestamp("2025-05-26T13:13:33+05:30").unwrap();
        assert_eq!(a.to_rfc3339(), "2025-05-26T07:43:33+00:00");
        let b = parse_timestamp("2023-03-22T10:01:10+0000").unwrap();
        assert_eq!(b.to_rfc3339(), "2023-03-22T10:01:10+00:00");
        let c = parse_timestamp("2023-03-22T10:01:10+0530").unwrap();
        assert_eq!(c.to_rfc3339(), "2023-03-22T04:31:10+00:00");
        assert!(parse_timestamp("2022-08-31").is_some());
        assert!(parse_timestamp("2023-04-30T10:30:00").is_some());
        assert!(parse_timestamp("next tuesday").is_none());
    }

    #[test]
    fn amounts_convert_exactly_to_minor_units() {
        let a = |s: &str| Amount(s.into());
        assert_eq!(a("35000").to_minor(2), Some(3_500_000));
        assert_eq!(a("1250.5").to_minor(2), Some(125_050));
        assert_eq!(a("0.125").to_minor(2), Some(13));
        assert_eq!(a("700000").to_minor(0), Some(700_000));
        assert_eq!(a("-3.10").to_minor(2), Some(-310));
        assert_eq!(a("abc").to_minor(2), None);
        assert_eq!(a("").to_minor(2), None);
        assert_eq!(a("99999999999999999999").to_minor(2), None);
    }
}
