//! Outbox payloads (JSON objects) turned into rows of PostgreSQL's COPY text format,
//! decoded straight from the JSON text into the output: no map or value tree per row,
//! and strings without escapes are borrowed from the payload.

use std::borrow::Cow;
use std::fmt::{self, Write};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// One JSON value of a payload.
#[derive(Debug, Default)]
enum Field<'a> {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(Cow<'a, str>),
    /// An array or object (no replicated column holds one): sent as its JSON text.
    Json(serde_json::Value),
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }
    fn visit_none<E>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Field<'de>, E> {
        Ok(Field::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Field<'de>, E> {
        Ok(Field::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Field<'de>, E> {
        Ok(Field::UInt(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Field<'de>, E> {
        Ok(Field::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Field<'de>, E> {
        Ok(Field::Text(Cow::Owned(v)))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        let v = serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Field::Json(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        let v = serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Field::Json(v))
    }
}

impl<'de> DeserializeSeed<'de> for FieldVisitor {
    type Value = Field<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

/// A key of the payload: the index of its column, or `None` for a key that is no column.
struct Key<'c>(&'c [&'c str]);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|c| *c == v))
    }
}

/// The payload object: each column's value into its slot.
struct Object<'c, 'a> {
    cols: &'c [&'c str],
    slots: &'c mut [Field<'a>],
}

impl<'a> Visitor<'a> for Object<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key(self.cols))? {
            match key {
                Some(i) => self.slots[i] = map.next_value_seed(FieldVisitor)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reusable state for encoding many rows of one table.
#[derive(Default)]
pub struct CopyEncoder<'a> {
    slots: Vec<Field<'a>>,
}

impl<'a> CopyEncoder<'a> {
    /// Appends one row of COPY text format from a stored JSON payload, columns in order.
    /// A payload that is not a JSON object becomes a row of NULLs, which Postgres refuses
    /// (so the change goes to the dead letter like any other refused row).
    pub fn push_row(&mut self, out: &mut String, cols: &[&str], payload: &'a str) {
        self.slots.clear();
        self.slots.resize_with(cols.len(), Field::default);
        let mut de = serde_json::Deserializer::from_str(payload);
        let parsed = de
            .deserialize_map(Object {
                cols,
                slots: &mut self.slots,
            })
            .and_then(|()| de.end());
        if parsed.is_err() {
            self.slots.iter_mut().for_each(|s| *s = Field::Null);
        }
        for (i, field) in self.slots.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            match field {
                Field::Null => out.push_str("\\N"),
                Field::Bool(b) => out.push(if *b { '1' } else { '0' }),
                Field::Int(v) => {
                    let _ = write!(out, "{v}");
                }
                Field::UInt(v) => {
                    let _ = write!(out, "{v}");
                }
                Field::Float(v) => {
                    let _ = write!(out, "{v}");
                }
                Field::Text(s) => push_escaped(out, s),
                Field::Json(v) => push_escaped(out, &v.to_string()),
            }
        }
        out.push('\n');
    }
}

/// Text escaped for COPY's text format: backslash, tab, newline and carriage return.
fn push_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cols: &[&str], payload: &str) -> String {
        let mut out = String::new();
        CopyEncoder::default().push_row(&mut out, cols, payload);
        out
    }

    #[test]
    fn copy_lines_escape_text_and_mark_nulls() {
        assert_eq!(
            line(
                &["id", "comment", "n", "gone"],
                r#"{"id":"a\tb","comment":"line\nback\\slash","n":2.5,"gone":null}"#,
            ),
            "a\\tb\tline\\nback\\\\slash\t2.5\t\\N\n"
        );
        assert_eq!(line(&["id", "n"], "not json"), "\\N\t\\N\n");
    }

    #[test]
    fn columns_come_in_schema_order_whatever_the_payload_order() {
        assert_eq!(
            line(
                &["id", "job_id", "missing", "ok", "big"],
                r#"{"extra":{"a":[1,2]},"big":18446744073709551615,"ok":true,"job_id":-7,"id":"caf\u00e9 \"x\""}"#,
            ),
            "caf\u{e9} \"x\"\t-7\t\\N\t1\t18446744073709551615\n"
        );
        // Reals as Postgres parses them back to the same double.
        assert_eq!(line(&["r"], r#"{"r":1.0e-05}"#), "0.00001\n");
        assert_eq!(line(&["r"], r#"{"r":3.0}"#), "3\n");
    }

    #[test]
    fn a_broken_or_trailing_payload_is_a_row_of_nulls() {
        assert_eq!(line(&["id", "n"], r#"{"id":"a","n":1"#), "\\N\t\\N\n");
        assert_eq!(line(&["id"], r#"{"id":"a"} x"#), "\\N\n");
        assert_eq!(line(&["id"], r#"["a"]"#), "\\N\n");
    }

    #[test]
    fn nested_values_are_sent_as_escaped_json_text() {
        assert_eq!(line(&["team"], r#"{"team":["a\nb"]}"#), "[\"a\\\\nb\"]\n");
    }
}
