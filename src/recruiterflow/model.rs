//! Recruiterflow's payloads, parsed tolerantly: numbers may arrive as strings, any
//! field may be null or missing, unknown fields are ignored, and timestamps come with
//! either `+05:30` or `+0000` offsets. A field that cannot be read as its type is
//! treated as absent rather than failing the whole payload; only a job without an id
//! is refused.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::custom_fields::JobCustomField;
use crate::domain::currency_exponent;

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

pub(super) fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| value_i64(&v)))
}

fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.and_then(|v| value_bool(&v)))
}

pub(super) fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

fn de_opt_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => parse_timestamp(&s),
        _ => None,
    })
}

/// Any optional object: null, missing or of the wrong shape all read as `None`.
fn de_opt_lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(v) => serde_json::from_value(v).ok(),
    })
}

/// A list whose elements are each read leniently; unreadable elements are dropped.
pub(super) fn de_lenient_vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// The required id of a record: a whole number, possibly sent as a string.
pub(super) fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    value_i64(&v)
        .ok_or_else(|| serde::de::Error::custom(format!("id must be a whole number, got {v}")))
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

/// Money as Recruiterflow sends it: `{"currency": "USD", "number": 35000}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Money {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub number: Option<Amount>,
}

impl Money {
    /// The amount in minor units (by [`currency_exponent`], the one exponent table)
    /// with its upper-case currency, when the amount is known (a missing currency
    /// leaves the currency `None` and assumes two decimals).
    pub fn to_minor(&self) -> Option<(i64, Option<String>)> {
        let currency = self
            .currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase);
        let exp = currency.as_deref().map(currency_exponent).unwrap_or(2);
        let minor = self.number.as_ref()?.to_minor(exp)?;
        Some((minor, currency))
    }
}

/// Any `{"id", "name"}` pair (job status, job type, company, prospect).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Named {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
}

/// One member of a job's hiring team.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HiringTeamMember {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub user_id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub role: Option<String>,
}

impl HiringTeamMember {
    /// The name to show: the full name, else first and last, else the email.
    pub fn display_name(&self) -> Option<String> {
        person_name(&self.name, &self.first_name, &self.last_name).or_else(|| nonempty(&self.email))
    }
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The full name, else first and last joined, when any is given.
fn person_name(
    name: &Option<String>,
    first: &Option<String>,
    last: &Option<String>,
) -> Option<String> {
    nonempty(name).or_else(|| {
        let joined = [nonempty(first), nonempty(last)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    })
}

/// A stage of a job (single-job endpoint with `include_stages=1`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Stage {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub rank: Option<i64>,
}

/// A job, from the open-job list or the single-job endpoint (which adds `company`
/// and, with `include_stages=1`, `stages`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Job {
    #[serde(deserialize_with = "de_id")]
    pub id: i64,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub is_open: Option<bool>,
    /// Not in the reference; honoured when a payload carries it.
    #[serde(default, deserialize_with = "de_opt_bool")]
    pub is_archived: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub job_status: Option<Named>,
    #[serde(default, deserialize_with = "de_opt_ts")]
    pub last_opened: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub expected_fee: Option<Money>,
    #[serde(default, deserialize_with = "de_opt_company")]
    pub company: Option<Named>,
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub hiring_team: Vec<HiringTeamMember>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub about_position: Option<String>,
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub stages: Vec<Stage>,
    /// The job's custom field values (fields without a value are left out).
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub custom_fields: Vec<JobCustomField>,
}

/// `company` is an object on the single-job endpoint; a bare name is accepted too.
fn de_opt_company<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Named>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(Named {
            id: None,
            name: Some(s),
        }),
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

impl Job {
    /// The company (client) name, when the payload carries a non-empty one.
    pub fn company_name(&self) -> Option<&str> {
        self.company
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// One stage in a job's pipeline summary.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PipelineStage {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub count: Option<i64>,
}

/// A job's pipeline: candidates per stage, plus the per-stage detail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Pipeline {
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub summary: Vec<PipelineStage>,
    /// Per-stage detail; its shape is not documented, so it is kept as JSON and
    /// candidate ids are looked for in it by [`Pipeline::candidate_ids`].
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub detail: Vec<Value>,
}

impl Pipeline {
    /// Candidate ids named in the detail: objects with `id`, `prospect_id` or
    /// `candidate_id` inside a `candidates`/`prospects`/`data` list of a stage, or the
    /// detail entries themselves when they carry `prospect_id`/`candidate_id`.
    pub fn candidate_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.detail_candidates().map(|(id, _, _)| id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Candidates whose current stage and time of entering it the detail already
    /// gives (`stage_moved`, as on the candidate endpoints): their stage movements need
    /// not be fetched.
    pub fn known_stage_times(&self) -> std::collections::HashMap<i64, (String, DateTime<Utc>)> {
        self.detail_candidates()
            .filter_map(|(id, stage, since)| Some((id, (stage?, since?))))
            .collect()
    }

    /// (candidate id, stage name, entered the stage) for each candidate in the detail.
    fn detail_candidates(
        &self,
    ) -> impl Iterator<Item = (i64, Option<String>, Option<DateTime<Utc>>)> + '_ {
        let id_of =
            |v: &Value, keys: &[&str]| keys.iter().find_map(|k| v.get(*k).and_then(value_i64));
        let text = |v: &Value, keys: &[&str]| {
            keys.iter().find_map(|k| {
                v.get(*k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
        };
        let since = move |v: &Value| {
            text(
                v,
                &["stage_moved", "stage_entered_at", "entered", "moved_at"],
            )
            .and_then(|t| parse_timestamp(&t))
        };
        self.detail.iter().flat_map(move |entry| {
            let stage = text(entry, &["name", "stage_name", "stage"]);
            let mut found = Vec::new();
            if let Some(id) = id_of(entry, &["prospect_id", "candidate_id"]) {
                found.push((id, stage.clone(), since(entry)));
            } else {
                for list in ["candidates", "prospects", "data"] {
                    if let Some(Value::Array(items)) = entry.get(list) {
                        for c in items {
                            if let Some(id) = id_of(c, &["prospect_id", "candidate_id", "id"]) {
                                let st =
                                    text(c, &["stage_name", "stage"]).or_else(|| stage.clone());
                                found.push((id, st, since(c)));
                            }
                        }
                    }
                }
            }
            found
        })
    }
}

/// One move of a candidate between stages of a job; `left: None` means the candidate
/// is still in `to`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Transition {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub from: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "de_opt_ts")]
    pub entered: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de_opt_ts")]
    pub left: Option<DateTime<Utc>>,
}

/// A candidate's stage movements in one job.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JobMovements {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub transitions: Vec<Transition>,
}

/// A candidate's stage movements across jobs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CandidateMovements {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub jobs: Vec<JobMovements>,
}

impl CandidateMovements {
    /// The stage the candidate is in now for `job_id` and since when.
    pub fn current_stage(&self, job_id: i64) -> Option<(&str, DateTime<Utc>)> {
        self.jobs
            .iter()
            .filter(|j| j.id == Some(job_id))
            .flat_map(|j| j.transitions.iter())
            .filter(|t| t.left.is_none())
            .filter_map(|t| Some((t.to.as_deref()?, t.entered?)))
            .max_by_key(|(_, entered)| *entered)
    }
}

/// A Recruiterflow user (matched to jobrank users by email).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct User {
    #[serde(deserialize_with = "de_id")]
    pub id: i64,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub last_name: Option<String>,
}

impl User {
    /// The user's name: the full name, else first and last; never the email.
    pub fn full_name(&self) -> Option<String> {
        person_name(&self.name, &self.first_name, &self.last_name)
    }
}

/// The job a placement record belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PlacementJob {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub client_company: Option<Named>,
}

/// A placement record: a job's outcome (a hire, with fee and revenue).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PlacementRecord {
    #[serde(deserialize_with = "de_id")]
    pub id: i64,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub job: Option<PlacementJob>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub prospect: Option<Named>,
    #[serde(default, deserialize_with = "de_opt_ts")]
    pub job_start_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de_opt_ts")]
    pub billing_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub success_fee: Option<Money>,
    #[serde(default, deserialize_with = "de_opt_lenient")]
    pub revenue: Option<Money>,
}

impl PlacementRecord {
    /// The fee earned: the success fee when it has an amount, else the revenue.
    pub fn fee(&self) -> Option<(i64, Option<String>)> {
        [&self.success_fee, &self.revenue]
            .into_iter()
            .flatten()
            .find_map(Money::to_minor)
    }
}

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

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/recruiterflow/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

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

    #[test]
    fn money_accepts_numbers_as_strings_and_nulls() {
        let m: Money = serde_json::from_str(r#"{"currency":"usd","number":"5000"}"#).unwrap();
        assert_eq!(m.to_minor(), Some((500_000, Some("USD".into()))));
        let m: Money = serde_json::from_str(r#"{"currency":"JPY","number":700000}"#).unwrap();
        assert_eq!(m.to_minor(), Some((700_000, Some("JPY".into()))));
        let m: Money = serde_json::from_str(r#"{"currency":"kwd","number":"1250.5"}"#).unwrap();
        assert_eq!(m.to_minor(), Some((1_250_500, Some("KWD".into()))));
        let m: Money = serde_json::from_str(r#"{"currency":"USD","number":null}"#).unwrap();
        assert_eq!(m.to_minor(), None);
    }

    #[test]
    fn the_reference_job_list_parses() {
        let page: Page<Job> = parse_page(fixture("job-list")).unwrap();
        assert!(page.errors.is_empty(), "{:?}", page.errors);
        let job = &page.items[0];
        assert_eq!(job.id, 1);
        assert_eq!(job.title.as_deref(), Some("Staging Job 1"));
        assert_eq!(job.is_open, Some(true));
        assert!(job.company.is_none(), "the list example has no company");
        let status = job.custom_fields.iter().find(|f| f.id == Some(52)).unwrap();
        assert_eq!(status.value, serde_json::json!("Lead"));
        assert_eq!(job.custom_fields.len(), 4);
        assert_eq!(
            job.last_opened.unwrap().to_rfc3339(),
            "2025-05-26T07:43:33+00:00"
        );
        assert_eq!(
            job.hiring_team[0].display_name().as_deref(),
            Some("Chérôme Shenoy")
        );
    }

    #[test]
    fn the_counted_body_shape_parses_and_bad_items_are_reported() {
        let body = serde_json::json!({
            "data": [fixture("job"), {"id": "x"}, {"id": "7", "unknown": {"deep": [1]}}],
            "total_items": "3",
            "total_current_openings": 2
        });
        let page: Page<Job> = parse_page(body).unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(page.len, 3);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[1].id, 7);
        assert_eq!(page.errors.len(), 1);
        assert_eq!(page.errors[0].index, 1);
        assert!(page.errors[0].message.contains("id"));
        assert_eq!(page.items[0].company_name(), Some("Guarented I"));
    }

    #[test]
    fn wrong_shapes_are_named() {
        let err = parse_page::<Job>(serde_json::json!({"error": "nope"})).unwrap_err();
        assert!(err.contains("\"error\""), "{err}");
        let err = parse_page::<Job>(serde_json::json!("text")).unwrap_err();
        assert!(err.contains("a string"), "{err}");
        let err = parse_object::<Job>(serde_json::json!([1, 2])).unwrap_err();
        assert!(err.contains("a list"), "{err}");
    }

    #[test]
    fn missing_and_null_optional_objects_are_tolerated() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "id": 9, "name": "Only a name", "company": null, "expected_fee": "lots",
            "hiring_team": null, "job_status": 5, "is_open": "0", "last_opened": null
        }))
        .unwrap();
        assert_eq!(job.title, None);
        assert_eq!(job.name.as_deref(), Some("Only a name"));
        assert_eq!(job.is_open, Some(false));
        assert!(job.company.is_none() && job.expected_fee.is_none() && job.job_status.is_none());
        assert!(job.hiring_team.is_empty());
    }

    #[test]
    fn stage_movements_give_the_current_stage() {
        let body = fixture("stage-movements");
        let m: CandidateMovements = serde_json::from_value(body["data"].clone()).unwrap();
        assert_eq!(m.id, Some(24));
        let (stage, since) = m.current_stage(3).unwrap();
        assert_eq!(stage, "Client Interview");
        assert_eq!(since.to_rfc3339(), "2023-03-29T14:26:46+00:00");
        assert_eq!(m.current_stage(1).unwrap().0, "Sourced");
        assert!(m.current_stage(99).is_none());
    }

    #[test]
    fn placement_records_and_pipelines_parse() {
        let page: Page<PlacementRecord> = parse_page(fixture("placement-records")).unwrap();
        let p = &page.items[0];
        assert_eq!(p.id, 418);
        assert_eq!(p.job.as_ref().unwrap().id, Some(17114));
        assert_eq!(p.fee(), Some((0, Some("USD".into()))));
        let pipe: Pipeline = parse_object(fixture("job-pipeline")).unwrap();
        assert_eq!(pipe.summary.len(), 7);
        assert_eq!(pipe.summary[6].name.as_deref(), Some("Hired"));
        assert!(pipe.candidate_ids().is_empty());
        let users: Page<User> = parse_page(fixture("users")).unwrap();
        assert_eq!(users.total, Some(2));
        assert_eq!(users.items[1].id, 40626);
        assert_eq!(users.items[1].full_name().as_deref(), Some("Manish Kotian"));
        let unnamed: User = serde_json::from_value(
            serde_json::json!({"id": "5", "name": " ", "last_name": "Ng", "email": "ng@x.example"}),
        )
        .unwrap();
        assert_eq!(unnamed.full_name().as_deref(), Some("Ng"));
    }
}
