//! Recruiterflow's payloads, parsed tolerantly: numbers may arrive as strings, any
//! field may be null or missing, unknown fields are ignored, and timestamps come with
//! either `+05:30` or `+0000` offsets. A field that cannot be read as its type is
//! treated as absent rather than failing the whole payload; only a job without an id
//! is refused.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::custom_fields::JobCustomField;
use crate::domain::currency_exponent;

mod page;
mod values;

pub use page::{ItemError, Page, kind, parse_object, parse_page};
pub use values::{Amount, parse_timestamp, value_bool, value_i64};

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

/// A record's fields as Recruiterflow sent them, each read leniently by its type (the
/// readers above, applied here and nowhere else): what is missing, null or of the
/// wrong shape reads as absent, so a record fails only for want of an id. Each record
/// type is read through it once (`#[serde(from = "Fields")]`, or `try_from` when it
/// needs an id), and names its fields in that one conversion.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(super) struct Fields(serde_json::Map<String, Value>);

impl Fields {
    fn take(&mut self, key: &str) -> Value {
        self.0.remove(key).unwrap_or(Value::Null)
    }

    /// Text; a number reads as its digits.
    fn text(&mut self, key: &str) -> Option<String> {
        de_opt_string(self.take(key)).unwrap_or_default()
    }

    /// A whole number, possibly sent as a string.
    fn int(&mut self, key: &str) -> Option<i64> {
        de_opt_i64(self.take(key)).unwrap_or_default()
    }

    /// A flag: a boolean, 0/1, or words such as "true".
    fn flag(&mut self, key: &str) -> Option<bool> {
        de_opt_bool(self.take(key)).unwrap_or_default()
    }

    /// A timestamp in any style [`parse_timestamp`] reads.
    fn time(&mut self, key: &str) -> Option<DateTime<Utc>> {
        de_opt_ts(self.take(key)).unwrap_or_default()
    }

    /// A nested record (or an amount).
    fn object<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        de_opt_lenient(self.take(key)).unwrap_or_default()
    }

    /// A list whose unreadable elements are dropped.
    fn list<T: DeserializeOwned>(&mut self, key: &str) -> Vec<T> {
        de_lenient_vec(self.take(key)).unwrap_or_default()
    }

    /// The record's required id.
    fn id(&mut self) -> Result<i64, String> {
        match self.0.remove("id") {
            None => Err("missing field `id`".into()),
            Some(v) => de_id(v).map_err(|e| e.to_string()),
        }
    }
}

/// Money as Recruiterflow sends it: `{"currency": "USD", "number": 35000}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct Money {
    pub currency: Option<String>,
    pub number: Option<Amount>,
}

impl From<Fields> for Money {
    fn from(mut f: Fields) -> Self {
        Money {
            currency: f.text("currency"),
            number: f.object("number"),
        }
    }
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
#[serde(from = "Fields")]
pub struct Named {
    pub id: Option<i64>,
    pub name: Option<String>,
}

impl From<Fields> for Named {
    fn from(mut f: Fields) -> Self {
        Named {
            id: f.int("id"),
            name: f.text("name"),
        }
    }
}

/// One member of a job's hiring team.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct HiringTeamMember {
    pub user_id: Option<i64>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
}

impl From<Fields> for HiringTeamMember {
    fn from(mut f: Fields) -> Self {
        HiringTeamMember {
            user_id: f.int("user_id"),
            name: f.text("name"),
            first_name: f.text("first_name"),
            last_name: f.text("last_name"),
            email: f.text("email"),
            role: f.text("role"),
        }
    }
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
#[serde(from = "Fields")]
pub struct Stage {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub rank: Option<i64>,
}

impl From<Fields> for Stage {
    fn from(mut f: Fields) -> Self {
        Stage {
            id: f.int("id"),
            name: f.text("name"),
            rank: f.int("rank"),
        }
    }
}

/// A job, from the open-job list or the single-job endpoint (which adds `company`
/// and, with `include_stages=1`, `stages`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Fields")]
pub struct Job {
    pub id: i64,
    pub title: Option<String>,
    pub name: Option<String>,
    pub is_open: Option<bool>,
    /// Not in the reference; honoured when a payload carries it.
    pub is_archived: Option<bool>,
    pub job_status: Option<Named>,
    pub last_opened: Option<DateTime<Utc>>,
    pub expected_fee: Option<Money>,
    /// An object on the single-job endpoint; a bare name is accepted too.
    pub company: Option<Named>,
    pub hiring_team: Vec<HiringTeamMember>,
    pub about_position: Option<String>,
    pub stages: Vec<Stage>,
    /// The job's custom field values (fields without a value are left out).
    pub custom_fields: Vec<JobCustomField>,
}

impl TryFrom<Fields> for Job {
    type Error = String;

    fn try_from(mut f: Fields) -> Result<Self, String> {
        Ok(Job {
            id: f.id()?,
            title: f.text("title"),
            name: f.text("name"),
            is_open: f.flag("is_open"),
            is_archived: f.flag("is_archived"),
            job_status: f.object("job_status"),
            last_opened: f.time("last_opened"),
            expected_fee: f.object("expected_fee"),
            company: match f.take("company") {
                Value::String(name) => Some(Named {
                    id: None,
                    name: Some(name),
                }),
                v => serde_json::from_value(v).ok(),
            },
            hiring_team: f.list("hiring_team"),
            about_position: f.text("about_position"),
            stages: f.list("stages"),
            custom_fields: f.list("custom_fields"),
        })
    }
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
#[serde(from = "Fields")]
pub struct PipelineStage {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub count: Option<i64>,
}

impl From<Fields> for PipelineStage {
    fn from(mut f: Fields) -> Self {
        PipelineStage {
            id: f.int("id"),
            name: f.text("name"),
            count: f.int("count"),
        }
    }
}

/// A job's pipeline: candidates per stage, plus the per-stage detail.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct Pipeline {
    pub summary: Vec<PipelineStage>,
    /// Per-stage detail; its shape is not documented, so it is kept as JSON and
    /// candidate ids are looked for in it by [`Pipeline::candidate_ids`].
    pub detail: Vec<Value>,
}

impl From<Fields> for Pipeline {
    fn from(mut f: Fields) -> Self {
        Pipeline {
            summary: f.list("summary"),
            detail: f.list("detail"),
        }
    }
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
#[serde(from = "Fields")]
pub struct Transition {
    pub from: Option<String>,
    pub to: Option<String>,
    pub entered: Option<DateTime<Utc>>,
    pub left: Option<DateTime<Utc>>,
}

impl From<Fields> for Transition {
    fn from(mut f: Fields) -> Self {
        Transition {
            from: f.text("from"),
            to: f.text("to"),
            entered: f.time("entered"),
            left: f.time("left"),
        }
    }
}

/// A candidate's stage movements in one job.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct JobMovements {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub transitions: Vec<Transition>,
}

impl From<Fields> for JobMovements {
    fn from(mut f: Fields) -> Self {
        JobMovements {
            id: f.int("id"),
            name: f.text("name"),
            transitions: f.list("transitions"),
        }
    }
}

/// A candidate's stage movements across jobs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct CandidateMovements {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub jobs: Vec<JobMovements>,
}

impl From<Fields> for CandidateMovements {
    fn from(mut f: Fields) -> Self {
        CandidateMovements {
            id: f.int("id"),
            name: f.text("name"),
            jobs: f.list("jobs"),
        }
    }
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
#[serde(try_from = "Fields")]
pub struct User {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl TryFrom<Fields> for User {
    type Error = String;

    fn try_from(mut f: Fields) -> Result<Self, String> {
        Ok(User {
            id: f.id()?,
            email: f.text("email"),
            name: f.text("name"),
            first_name: f.text("first_name"),
            last_name: f.text("last_name"),
        })
    }
}

impl User {
    /// The user's name: the full name, else first and last; never the email.
    pub fn full_name(&self) -> Option<String> {
        person_name(&self.name, &self.first_name, &self.last_name)
    }
}

/// The job a placement record belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Fields")]
pub struct PlacementJob {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub client_company: Option<Named>,
}

impl From<Fields> for PlacementJob {
    fn from(mut f: Fields) -> Self {
        PlacementJob {
            id: f.int("id"),
            name: f.text("name"),
            client_company: f.object("client_company"),
        }
    }
}

/// A placement record: a job's outcome (a hire, with fee and revenue).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "Fields")]
pub struct PlacementRecord {
    pub id: i64,
    pub job: Option<PlacementJob>,
    pub prospect: Option<Named>,
    pub job_start_date: Option<DateTime<Utc>>,
    pub billing_date: Option<DateTime<Utc>>,
    pub success_fee: Option<Money>,
    pub revenue: Option<Money>,
}

impl TryFrom<Fields> for PlacementRecord {
    type Error = String;

    fn try_from(mut f: Fields) -> Result<Self, String> {
        Ok(PlacementRecord {
            id: f.id()?,
            job: f.object("job"),
            prospect: f.object("prospect"),
            job_start_date: f.time("job_start_date"),
            billing_date: f.time("billing_date"),
            success_fee: f.object("success_fee"),
            revenue: f.object("revenue"),
        })
    }
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
