//! Time as the store keeps it: UTC to the microsecond, as RFC 3339 text with six
//! fractional digits, so text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

use super::{Result, StoreError};

/// The current time as stored: UTC, truncated to microseconds.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// A timestamp as stored: RFC 3339, UTC, six fractional digits, so text order is time order.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses a stored timestamp.
pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Data(format!("bad timestamp {s:?}: {e}")))
}

/// Reads a timestamp column, as a rusqlite error so it fits `query_row` closures.
pub(crate) fn col_ts(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    column_ts(idx, row.get(idx)?)
}

/// Reads an optional timestamp column.
pub(crate) fn col_ts_opt(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| column_ts(idx, s)).transpose()
}

fn column_ts(idx: usize, s: String) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text() {
        let a = parse_ts("2026-01-01T10:00:00.000001Z").unwrap();
        let b = parse_ts("2026-01-01T10:00:00.5+00:00").unwrap();
        assert!(ts(&a) < ts(&b));
        assert_eq!(ts(&a), "2026-01-01T10:00:00.000001Z");
        assert_eq!(parse_ts(&ts(&b)).unwrap(), b);
    }
}
