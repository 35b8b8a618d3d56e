//! List and object bodies: a list endpoint answers a bare JSON array or
//! `{"data": [...], "total_items": N}`; an element that cannot be read is reported,
//! not fatal.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::value_i64;

/// A list element that could not be read; the sync counts it as an error.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemError {
    /// Position in the page, from 0.
    pub index: usize,
    /// The element's id when one could be read.
    pub id: Option<i64>,
    pub message: String,
}

/// One page of a list endpoint, in either body shape.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub errors: Vec<ItemError>,
    /// `total_items`, present when `include_count` was honoured.
    pub total: Option<i64>,
    /// How many elements the page held, readable or not.
    pub len: usize,
    /// A hash of the page's elements, to notice a server that ignores `current_page`.
    pub fingerprint: u64,
}

/// Reads a list body: a bare JSON array, or `{"data": [...], "total_items": N}`.
/// Errors describe the shape found instead.
pub fn parse_page<T: DeserializeOwned>(body: Value) -> Result<Page<T>, String> {
    let (items, total) = match body {
        Value::Array(items) => (items, None),
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => (items, map.get("total_items").and_then(value_i64)),
            Some(other) => {
                return Err(format!(
                    "expected \"data\" to be a list, found {}",
                    kind(&other)
                ));
            }
            None => {
                let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
                return Err(format!(
                    "expected a list or an object with a \"data\" list, found an object with keys {keys:?}"
                ));
            }
        },
        other => {
            return Err(format!(
                "expected a list or an object with a \"data\" list, found {}",
                kind(&other)
            ));
        }
    };
    let len = items.len();
    let fingerprint = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for item in &items {
            item.to_string().hash(&mut h);
        }
        h.finish()
    };
    let mut page = Page {
        items: Vec::with_capacity(len),
        errors: Vec::new(),
        total,
        len,
        fingerprint,
    };
    for (index, item) in items.into_iter().enumerate() {
        let id = item.get("id").and_then(value_i64);
        match serde_json::from_value::<T>(item) {
            Ok(t) => page.items.push(t),
            Err(e) => page.errors.push(ItemError {
                index,
                id,
                message: e.to_string(),
            }),
        }
    }
    Ok(page)
}

/// Reads a single object, naming what was found when it is not one.
pub fn parse_object<T: DeserializeOwned>(body: Value) -> Result<T, String> {
    match body {
        v @ Value::Object(_) => serde_json::from_value(v).map_err(|e| e.to_string()),
        // Some endpoints wrap a single record in a one-element list.
        Value::Array(mut items) if items.len() == 1 && items[0].is_object() => {
            serde_json::from_value(items.remove(0)).map_err(|e| e.to_string())
        }
        other => Err(format!("expected an object, found {}", kind(&other))),
    }
}

/// A short name for a JSON value's type, for error messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recruiterflow::model::Job;

    #[test]
    fn wrong_shapes_are_named() {
        let err = parse_page::<Job>(serde_json::json!({"error": "nope"})).unwrap_err();
        assert!(err.contains("\"error\""), "{err}");
        let err = parse_page::<Job>(serde_json::json!("text")).unwrap_err();
        assert!(err.contains("a string"), "{err}");
        let err = parse_object::<Job>(serde_json::json!([1, 2])).unwrap_err();
        assert!(err.contains("a list"), "{err}");
    }
}
