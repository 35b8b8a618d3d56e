//! Money: an amount in its currency's minor units (ISO 4217), shown and compared
//! without floating point.
//!
//! Recruiterflow sends fees as decimal numbers; sync stores them as whole minor units
//! by the currency's exponent (pence for GBP, yen for JPY, fils for KWD), through
//! [`currency_exponent`], the one exponent table of jobrank.

use std::cmp::Ordering;
use std::fmt;

/// Decimal places of a currency's minor unit (ISO 4217): 0 for JPY, KRW and the other
/// currencies listed below without a minor unit, 3 for KWD, BHD, JOD, OMR, TND, IQD and
/// LYD, 4 for the two unidades de fomento (CLF, UYW), and 2 for every other code,
/// known or not (GBP, EUR, USD and most currencies have two).
pub fn currency_exponent(currency: &str) -> u32 {
    const NONE: [&str; 17] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    const FOUR: [&str; 2] = ["CLF", "UYW"];
    // Without allocating: the dashboard's fee sort asks for every comparison.
    let code = currency.trim();
    let listed = |codes: &[&str]| codes.iter().any(|c| c.eq_ignore_ascii_case(code));
    if listed(&NONE) {
        0
    } else if listed(&THREE) {
        3
    } else if listed(&FOUR) {
        4
    } else {
        2
    }
}

/// An amount of money: whole minor units of its currency.
///
/// The currency is an upper-case code as Recruiterflow gave it; `None` when it gave
/// none, and then the amount was stored with two decimals (sync's assumption), so
/// such an amount has exponent 2.
///
/// Shown (`Display`) as the code, a space and the amount in major units with commas
/// between thousands: `GBP 45,000`, `JPY 1,250,000`, `KWD 1,250.500`. The minor part
/// appears, with all of its digits, only when it is not zero (`GBP 35,000.50`), since
/// fees are nearly always whole. Codes rather than symbols: `$` and `¥` name several
/// currencies. Without a currency only the amount is shown (`900`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Option<String>,
}

impl Money {
    /// An amount of `minor` units of `currency` (trimmed and upper-cased; blank is none).
    pub fn new(minor: i64, currency: Option<&str>) -> Money {
        Money {
            minor,
            currency: currency
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_ascii_uppercase),
        }
    }

    /// Money from a stored amount and currency; `None` when there is no amount.
    pub fn from_parts(minor: Option<i64>, currency: Option<&str>) -> Option<Money> {
        minor.map(|m| Money::new(m, currency))
    }

    /// Decimal places of the minor unit: the currency's, or 2 without a currency.
    pub fn exponent(&self) -> u32 {
        self.currency.as_deref().map_or(2, currency_exponent)
    }

    /// Whether the amount is at least `whole` major units of its currency (a fee band).
    pub fn at_least_whole(&self, whole: u64) -> bool {
        i128::from(self.minor) >= i128::from(whole) * 10i128.pow(self.exponent())
    }

    /// Orders two amounts by their value in major units, whatever their currencies
    /// (no exchange rates: 100 JPY is above 99 GBP). Exact.
    pub fn cmp_amount(&self, other: &Money) -> Ordering {
        let (a, b) = (self.exponent(), other.exponent());
        let top = a.max(b);
        let scaled = |m: &Money, e: u32| i128::from(m.minor) * 10i128.pow(top - e);
        scaled(self, a).cmp(&scaled(other, b))
    }

    /// The amount in major units as a plain decimal with the currency's number of
    /// decimals, for CSV: `35000.50`, `700000`, `1250.500`, `-3.10`.
    pub fn amount_text(&self) -> String {
        let (whole, frac) = self.split();
        let sign = if self.minor < 0 { "-" } else { "" };
        match frac {
            Some(f) => format!("{sign}{whole}.{f}"),
            None => format!("{sign}{whole}"),
        }
    }

    /// The absolute amount as whole major units and, for a currency with a minor unit,
    /// the minor digits zero-padded to the exponent.
    fn split(&self) -> (u64, Option<String>) {
        let exp = self.exponent();
        let scale = 10u64.pow(exp);
        let abs = self.minor.unsigned_abs();
        let frac = (exp > 0).then(|| format!("{:0width$}", abs % scale, width = exp as usize));
        (abs / scale, frac)
    }
}

/// `1234567` as `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = self.split();
        if let Some(c) = &self.currency {
            write!(f, "{c} ")?;
        }
        if self.minor < 0 {
            f.write_str("-")?;
        }
        f.write_str(&grouped(whole))?;
        match frac {
            Some(digits) if digits.bytes().any(|b| b != b'0') => write!(f, ".{digits}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64, c: &str) -> Money {
        Money::new(minor, Some(c))
    }

    #[test]
    fn exponents_follow_iso_4217_with_two_by_default() {
        assert_eq!(currency_exponent("GBP"), 2);
        assert_eq!(currency_exponent("eur"), 2);
        assert_eq!(currency_exponent("USD"), 2);
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent(" krw "), 0);
        assert_eq!(currency_exponent("KWD"), 3);
        assert_eq!(currency_exponent("CLF"), 4);
        assert_eq!(
            currency_exponent("XYZ"),
            2,
            "an unknown code has two decimals"
        );
        assert_eq!(Money::new(5, None).exponent(), 2);
    }

    #[test]
    fn display_shows_the_code_and_grouped_major_units() {
        assert_eq!(m(4_500_000, "GBP").to_string(), "GBP 45,000");
        assert_eq!(m(3_500_050, "gbp").to_string(), "GBP 35,000.50");
        assert_eq!(m(123_456_789, "EUR").to_string(), "EUR 1,234,567.89");
        assert_eq!(m(1_250_000, "JPY").to_string(), "JPY 1,250,000");
        assert_eq!(m(1_250_500, "KWD").to_string(), "KWD 1,250.500");
        assert_eq!(m(1_250_000, "KWD").to_string(), "KWD 1,250");
        assert_eq!(m(-310, "USD").to_string(), "USD -3.10");
        assert_eq!(m(999, "GBP").to_string(), "GBP 9.99");
        assert_eq!(Money::new(90_000, None).to_string(), "900");
        assert_eq!(Money::new(90_000, Some(" ")).to_string(), "900");
    }

    #[test]
    fn amount_text_is_a_plain_decimal_with_the_currencys_places() {
        assert_eq!(m(3_500_050, "GBP").amount_text(), "35000.50");
        assert_eq!(m(4_500_000, "GBP").amount_text(), "45000.00");
        assert_eq!(m(700_000, "JPY").amount_text(), "700000");
        assert_eq!(m(1_250_500, "KWD").amount_text(), "1250.500");
        assert_eq!(m(-310, "USD").amount_text(), "-3.10");
        assert_eq!(m(-5, "GBP").amount_text(), "-0.05");
        assert_eq!(Money::new(90_000, None).amount_text(), "900.00");
    }

    #[test]
    fn bands_compare_whole_units_by_exponent() {
        assert!(m(4_000_000, "GBP").at_least_whole(40_000));
        assert!(!m(3_999_999, "GBP").at_least_whole(40_000));
        assert!(m(40_000, "JPY").at_least_whole(40_000));
        assert!(!m(39_999, "JPY").at_least_whole(40_000));
        assert!(m(40_000_000, "KWD").at_least_whole(40_000));
        assert!(!m(39_999_999, "KWD").at_least_whole(40_000));
        assert!(!m(-1, "GBP").at_least_whole(0));
        assert!(m(i64::MAX, "CLF").at_least_whole(u64::MAX / 100_000));
    }

    #[test]
    fn amounts_order_by_major_units() {
        assert_eq!(
            m(100, "JPY").cmp_amount(&m(9_900, "GBP")),
            Ordering::Greater
        );
        assert_eq!(
            m(100_000, "KWD").cmp_amount(&m(10_000, "GBP")),
            Ordering::Equal
        );
        assert_eq!(m(1, "KWD").cmp_amount(&m(1, "GBP")), Ordering::Less);
        assert_eq!(
            m(i64::MIN, "CLF").cmp_amount(&m(i64::MAX, "JPY")),
            Ordering::Less
        );
    }
}
