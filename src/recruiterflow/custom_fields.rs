//! Job custom fields: the ones jobrank writes its rank (and optionally the team score)
//! into, the value it writes by the field's type, and reading back what Recruiterflow
//! reports for a job to notice when the two differ.
//!
//! Recruiterflow lists the fields with `GET /api/external/job/custom-field/list`
//! (`{"id", "name", "type", "choices"?}`) and takes values with
//! `POST /api/external/job/update` (`{"job_id", "custom_fields": [{"id", "value"}]}`).
//! Its reference shows no select value being written, so the value's shape lives in one
//! function, [`field_value`]. A job reports its fields as `custom_fields: [{"id",
//! "name", "value"}]` on both the job list and the single job, a select's value as the
//! choice's *name* (`"value": "Lead"`) and a field with no value left out; [`compare`]
//! reads either a name or an id. The [`Client`] methods that list the fields, check one
//! and update a job live here too.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::client::{Client, merge_pages, snippet};
use super::error::{RecruiterflowError, Result};
use super::model::{ItemError, Page, de_id, de_lenient_vec, de_opt_i64, de_opt_string, value_i64};
use crate::domain::{Rank, Standing, TeamScore};

/// A choice of a select field.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Choice {
    #[serde(deserialize_with = "de_id")]
    pub id: i64,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
}

/// A job custom field as the field list describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomField {
    #[serde(deserialize_with = "de_id")]
    pub id: i64,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    /// `single_select`, `text`, `long_text`, `number`, `date`, `yes_no`, ...
    #[serde(default, rename = "type", deserialize_with = "de_opt_string")]
    pub field_type: Option<String>,
    #[serde(default, deserialize_with = "de_lenient_vec")]
    pub choices: Vec<Choice>,
}

/// One value to write: `{"id": field id, "value": ...}` in a job update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldValue {
    pub id: i64,
    pub value: Value,
}

/// A custom field's value as a job reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JobCustomField {
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub id: Option<i64>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub name: Option<String>,
    #[serde(default)]
    pub value: Value,
}

/// What jobrank writes into a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRole {
    /// The rank (`RECRUITERFLOW_RANK_FIELD`): a select's choice A/B/C, `"A · 4.10"` in
    /// text, the team score in a number.
    Rank,
    /// The team score (`RECRUITERFLOW_SCORE_FIELD`): `"4.10"` in text, the number in a
    /// number field.
    Score,
}

impl FieldRole {
    /// The setting that names the field.
    pub fn setting(self) -> &'static str {
        match self {
            FieldRole::Rank => "RECRUITERFLOW_RANK_FIELD",
            FieldRole::Score => "RECRUITERFLOW_SCORE_FIELD",
        }
    }
}

/// How jobrank treats a field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SingleSelect,
    Text,
    Number,
    Other,
}

impl CustomField {
    /// The field's name as shown in messages.
    pub fn label(&self) -> String {
        match self.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => format!("{n:?}"),
            _ => format!("#{}", self.id),
        }
    }

    fn type_name(&self) -> &str {
        self.field_type.as_deref().map(str::trim).unwrap_or("")
    }

    fn kind(&self) -> Kind {
        let t = self.type_name().to_ascii_lowercase();
        match t.as_str() {
            "single_select" => Kind::SingleSelect,
            "number" => Kind::Number,
            _ if t.contains("text") => Kind::Text,
            _ => Kind::Other,
        }
    }

    /// The choice named `name` (trimmed, any case).
    fn choice(&self, name: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| {
            c.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
        })
    }

    /// The ranks whose choice is missing, in order.
    fn missing_choices(&self) -> Vec<&'static str> {
        [Rank::A, Rank::B, Rank::C]
            .into_iter()
            .map(Rank::as_str)
            .filter(|r| self.choice(r).is_none())
            .collect()
    }
}

/// A rank or score field that cannot be used as it is set up in Recruiterflow: a
/// configuration error naming the setting and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error(
        "{setting}: Recruiterflow has no job custom field named {name:?}{listed}; create it (a single select with the choices A, B and C, a text field or a number field) or correct the setting"
    )]
    NotFound {
        setting: &'static str,
        name: String,
        /// ", only: ..." with the fields there are, or why the list may be short.
        listed: String,
    },
    #[error(
        "{setting}: Recruiterflow has {count} job custom fields named {name:?} (ids {ids}); rename all but one"
    )]
    Ambiguous {
        setting: &'static str,
        name: String,
        count: usize,
        ids: String,
    },
    #[error(
        "{setting}: the job custom field {field} has no choice named {missing}; add the choices A, B and C to it in Recruiterflow",
        missing = .missing.join(", ")
    )]
    MissingChoices {
        setting: &'static str,
        field: String,
        missing: Vec<&'static str>,
    },
    #[error("{setting}: the job custom field {field} is of type {field_type:?}; {accepted}")]
    UnsupportedType {
        setting: &'static str,
        field: String,
        field_type: String,
        accepted: &'static str,
    },
}

fn unsupported(field: &CustomField, role: FieldRole) -> FieldError {
    FieldError::UnsupportedType {
        setting: role.setting(),
        field: field.label(),
        field_type: field.type_name().to_string(),
        accepted: match role {
            FieldRole::Rank => {
                "jobrank writes the rank into a single select (choices A, B and C), a text field or a number field"
            }
            FieldRole::Score => "jobrank writes the team score into a text or a number field",
        },
    }
}

/// Whether `field` can carry `role`, and how jobrank treats it.
fn usable(field: &CustomField, role: FieldRole) -> Result<Kind, FieldError> {
    match (field.kind(), role) {
        (Kind::SingleSelect, FieldRole::Rank) => {
            let missing = field.missing_choices();
            if missing.is_empty() {
                Ok(Kind::SingleSelect)
            } else {
                Err(FieldError::MissingChoices {
                    setting: role.setting(),
                    field: field.label(),
                    missing,
                })
            }
        }
        (kind @ (Kind::Text | Kind::Number), _) => Ok(kind),
        (Kind::SingleSelect | Kind::Other, _) => Err(unsupported(field, role)),
    }
}

/// The value jobrank writes into `field` for a job standing at `standing` (its rank
/// and team score), by the field's type:
/// - `single_select` (rank only): the id of the choice named `A`, `B` or `C` (any
///   case); a field lacking any of the three is an error naming the missing ones;
/// - `text`, `long_text` and any type whose name says text: `"A · 4.10"` (rank) or
///   `"4.10"` (score);
/// - `number`: the team score rounded half up to hundredths, as a JSON number (`4.1`
///   for 4.10: JSON keeps no trailing zero);
/// - anything else (dates, yes/no, multi-selects): an error.
///
/// A job with no rank (`standing` `None`: nobody who counts has scored it any more,
/// as when its last scorer was deactivated) gets JSON `null` whatever the type: the
/// field is cleared, so Recruiterflow never shows a rank jobrank no longer holds (a
/// job shows a field without a value by leaving it out). The field is still checked,
/// so one set up wrong is an error here too.
pub fn field_value(
    field: &CustomField,
    role: FieldRole,
    standing: Option<Standing>,
) -> Result<Value, FieldError> {
    let kind = usable(field, role)?;
    let Some(Standing { rank, team: score }) = standing else {
        return Ok(Value::Null);
    };
    Ok(match kind {
        Kind::SingleSelect => {
            let choice = field.choice(rank.as_str()).map(|c| c.id);
            choice.map(Value::from).ok_or(FieldError::MissingChoices {
                setting: role.setting(),
                field: field.label(),
                missing: vec![rank.as_str()],
            })?
        }
        Kind::Text => match role {
            FieldRole::Rank => Value::from(format!("{rank} · {score}")),
            FieldRole::Score => Value::from(score.to_string()),
        },
        Kind::Number | Kind::Other => score_number(score),
    })
}

/// The team score as a JSON number, rounded to hundredths exactly as it is shown.
fn score_number(score: TeamScore) -> Value {
    // The two-decimal text is exact; its nearest f64 prints back as the same decimal.
    score
        .to_string()
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or_default()
}

/// The field named `name` (trimmed, any case), checked to carry `role`: it exists
/// once, its type can carry the role and, for a select, it has the choices A, B and C.
/// `incomplete` says why the list may lack fields (pages that did not add up), for the
/// message when the field is not found.
pub fn find_field(
    fields: &[CustomField],
    name: &str,
    role: FieldRole,
    incomplete: Option<&str>,
) -> Result<CustomField, FieldError> {
    let wanted = name.trim();
    let matching: Vec<&CustomField> = fields
        .iter()
        .filter(|f| {
            f.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(wanted))
        })
        .collect();
    let field = match matching.as_slice() {
        [one] => (*one).clone(),
        [] => {
            let names: Vec<String> = fields.iter().map(CustomField::label).take(20).collect();
            let mut listed = if names.is_empty() {
                " (it has no job custom fields)".to_string()
            } else {
                format!(" (it has {})", names.join(", "))
            };
            if let Some(why) = incomplete {
                listed.push_str(&format!("; the list may be short: {why}"));
            }
            return Err(FieldError::NotFound {
                setting: role.setting(),
                name: wanted.to_string(),
                listed,
            });
        }
        many => {
            return Err(FieldError::Ambiguous {
                setting: role.setting(),
                name: wanted.to_string(),
                count: many.len(),
                ids: many
                    .iter()
                    .map(|f| f.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    usable(&field, role)?;
    Ok(field)
}

/// Whether a job's field holds what jobrank wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    /// The job shows something else: its value as text, `None` when it shows none
    /// (Recruiterflow leaves a field without a value out of the job).
    Differs {
        reported: Option<String>,
    },
}

/// The value a job reports for `field`: matched by id, else by name (trimmed, any
/// case).
pub fn reported_value<'a>(job: &'a [JobCustomField], field: &CustomField) -> Option<&'a Value> {
    job.iter()
        .find(|f| f.id == Some(field.id))
        .or_else(|| {
            let name = field.name.as_deref()?.trim();
            job.iter().find(|f| {
                f.id.is_none()
                    && f.name
                        .as_deref()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
            })
        })
        .map(|f| &f.value)
        .filter(|v| !v.is_null())
}

/// Compares what jobrank `written` into `field` (a value from [`field_value`]) with
/// what a job's custom fields report. A select matches when the job shows the chosen
/// choice by name or by id (also inside `{"id", "name"}` or a one-element list); text
/// when equal after trimming; a number when equal to the hundredth (also sent as a
/// string).
/// A cleared field (`null` written) matches a job that shows no value for it.
pub fn compare(field: &CustomField, written: &Value, job: &[JobCustomField]) -> Comparison {
    let Some(reported) = reported_value(job, field) else {
        return if written.is_null() {
            Comparison::Matches
        } else {
            Comparison::Differs { reported: None }
        };
    };
    if written.is_null() {
        return Comparison::Differs {
            reported: Some(shown(reported)),
        };
    }
    let same = match field.kind() {
        Kind::SingleSelect => {
            let chosen = written.as_i64();
            let chosen_name = chosen
                .and_then(|id| field.choices.iter().find(|c| c.id == id))
                .and_then(|c| c.name.as_deref())
                .map(str::trim);
            select_matches(reported, chosen, chosen_name)
        }
        Kind::Number => match (as_number(written), as_number(reported)) {
            (Some(w), Some(r)) => (w - r).abs() < 0.005,
            _ => false,
        },
        Kind::Text | Kind::Other => match (written.as_str(), reported.as_str()) {
            (Some(w), Some(r)) => w.trim() == r.trim(),
            _ => written == reported,
        },
    };
    if same {
        Comparison::Matches
    } else {
        Comparison::Differs {
            reported: Some(shown(reported)),
        }
    }
}

fn select_matches(reported: &Value, id: Option<i64>, name: Option<&str>) -> bool {
    match reported {
        Value::String(s) => {
            name.is_some_and(|n| s.trim().eq_ignore_ascii_case(n))
                || (value_i64(reported).is_some() && value_i64(reported) == id)
        }
        Value::Number(_) => value_i64(reported).is_some() && value_i64(reported) == id,
        Value::Object(o) => {
            o.get("id")
                .and_then(value_i64)
                .is_some_and(|v| Some(v) == id)
                || o.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|s| name.is_some_and(|n| s.trim().eq_ignore_ascii_case(n)))
        }
        Value::Array(items) if items.len() == 1 => select_matches(&items[0], id, name),
        _ => false,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A reported value as short text for a page: strings as they are, numbers as
/// written, a choice by its name, anything else as compact JSON; at most 80
/// characters.
pub fn shown(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Object(o) => match o.get("name").and_then(Value::as_str) {
            Some(name) => name.trim().to_string(),
            None => v.to_string(),
        },
        other => other.to_string(),
    };
    let mut out: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

impl Client {
    /// Every job custom field of the account, read in pages like the other lists (the
    /// reference documents only `include_count`; a server that ignores the paging
    /// answers every page with the whole list, which merges to the same fields).
    pub async fn list_job_custom_fields(&self) -> Result<CustomFieldList> {
        let pages: Vec<Page<CustomField>> = self
            .get_all_pages(CUSTOM_FIELD_LIST, &[], |_, _| {})
            .await?;
        let (fields, errors, incomplete) =
            merge_pages(pages, |f: &CustomField| f.id, "job custom fields");
        Ok(CustomFieldList {
            fields,
            errors,
            incomplete,
        })
    }

    /// The job custom field named `name`, checked to carry `role`: it exists once, its
    /// type can hold the value and a select has the choices A, B and C. Any other
    /// answer is a [`RecruiterflowError::Field`] naming the setting and what to fix.
    pub async fn find_custom_field(&self, name: &str, role: FieldRole) -> Result<CustomField> {
        let list = self.list_job_custom_fields().await?;
        Ok(find_field(
            &list.fields,
            name,
            role,
            list.incomplete.as_deref(),
        )?)
    }

    /// The rank field named by `RECRUITERFLOW_RANK_FIELD`, checked (`jobrank check`).
    pub async fn check_rank_field(&self, name: &str) -> Result<CustomField> {
        self.find_custom_field(name, FieldRole::Rank).await
    }

    /// Sets custom fields of one job (`POST /api/external/job/update` with
    /// `{"job_id", "custom_fields": [{"id", "value"}]}`), with the usual retries:
    /// setting a field to a value twice does no harm. A 404 is
    /// [`RecruiterflowError::JobGone`] at once (the job was deleted: no retry helps);
    /// an answer whose `RESULT` is not `SUCCESS` is refused.
    pub async fn update_job_custom_fields(&self, job_id: i64, values: &[FieldValue]) -> Result<()> {
        let endpoint = format!("POST {JOB_UPDATE} (job {job_id})");
        let body = serde_json::json!({"job_id": job_id, "custom_fields": values});
        let answer = match self.post_json(JOB_UPDATE, &body, endpoint.clone()).await {
            Err(RecruiterflowError::NotFound { endpoint }) => {
                return Err(RecruiterflowError::JobGone { endpoint, job_id });
            }
            other => other?,
        };
        match answer.get("RESULT").or_else(|| answer.get("result")) {
            Some(Value::String(r)) if r.eq_ignore_ascii_case("success") => Ok(()),
            None => Ok(()),
            Some(_) => Err(RecruiterflowError::Refused {
                endpoint,
                status: 200,
                snippet: snippet(&answer.to_string()),
            }),
        }
    }
}

const CUSTOM_FIELD_LIST: &str = "/api/external/job/custom-field/list";
const JOB_UPDATE: &str = "/api/external/job/update";

/// The account's job custom fields as read in full.
#[derive(Debug, Clone, Default)]
pub struct CustomFieldList {
    pub fields: Vec<CustomField>,
    /// Elements that could not be read.
    pub errors: Vec<ItemError>,
    /// Set when the pages did not add up to the reported total.
    pub incomplete: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(v: Value) -> CustomField {
        serde_json::from_value(v).unwrap()
    }

    fn select(choices: &[(i64, &str)]) -> CustomField {
        let choices: Vec<Value> = choices
            .iter()
            .map(|(id, n)| json!({"id": id, "name": n}))
            .collect();
        field(
            json!({"id": 90, "name": "jobrank rank", "type": "single_select", "choices": choices}),
        )
    }

    fn score(hundredths: i64) -> TeamScore {
        // sum in ten-thousandths over one composite.
        TeamScore::from_parts(hundredths * 100, 1).unwrap()
    }

    fn at(rank: Rank, team: TeamScore) -> Option<Standing> {
        Some(Standing { rank, team })
    }

    #[test]
    fn a_select_gets_the_id_of_the_choice_named_after_the_rank() {
        let f = select(&[(11, "A"), (12, "b"), (13, " C ")]);
        let v = |r| field_value(&f, FieldRole::Rank, at(r, score(410))).unwrap();
        assert_eq!(v(Rank::A), json!(11));
        assert_eq!(v(Rank::B), json!(12));
        assert_eq!(v(Rank::C), json!(13));
    }

    #[test]
    fn a_select_missing_choices_is_an_error_naming_the_field_and_the_choices() {
        let f = select(&[(11, "A"), (748, "choice 1")]);
        let e = field_value(&f, FieldRole::Rank, at(Rank::A, score(410))).unwrap_err();
        assert_eq!(
            e,
            FieldError::MissingChoices {
                setting: "RECRUITERFLOW_RANK_FIELD",
                field: "\"jobrank rank\"".into(),
                missing: vec!["B", "C"],
            }
        );
        let msg = e.to_string();
        assert!(msg.contains("RECRUITERFLOW_RANK_FIELD"), "{msg}");
        assert!(msg.contains("\"jobrank rank\""), "{msg}");
        assert!(msg.contains("no choice named B, C"), "{msg}");
        // Even the rank whose choice exists is refused: the field is set up wrong.
        let none = select(&[]);
        let e = field_value(&none, FieldRole::Rank, at(Rank::B, score(300))).unwrap_err();
        assert!(e.to_string().contains("A, B, C"), "{e}");
    }

    #[test]
    fn text_fields_get_rank_and_score_as_words() {
        for t in ["text", "long_text", "rich_text", "Text"] {
            let f = field(json!({"id": 63, "name": "Input field", "type": t}));
            assert_eq!(
                field_value(&f, FieldRole::Rank, at(Rank::A, score(410))).unwrap(),
                json!("A · 4.10"),
                "{t}"
            );
            assert_eq!(
                field_value(&f, FieldRole::Score, at(Rank::A, score(410))).unwrap(),
                json!("4.10")
            );
        }
        let f = field(json!({"id": 63, "name": "Input field", "type": "long_text"}));
        assert_eq!(
            field_value(&f, FieldRole::Rank, at(Rank::C, score(195))).unwrap(),
            json!("C · 1.95")
        );
    }

    #[test]
    fn number_fields_get_the_team_score_to_the_hundredth() {
        let f = field(json!({"id": 64, "name": "Number field", "type": "number"}));
        assert_eq!(
            field_value(&f, FieldRole::Rank, at(Rank::A, score(410))).unwrap(),
            json!(4.1)
        );
        assert_eq!(
            field_value(&f, FieldRole::Score, at(Rank::B, score(333))).unwrap(),
            json!(3.33)
        );
        // 10/3 = 3.3333... and 11/3 = 3.6666...: rounded half up like the pages.
        let thirds = TeamScore::from_parts(100_000, 3).unwrap();
        assert_eq!(
            field_value(&f, FieldRole::Score, at(Rank::B, thirds)).unwrap(),
            json!(3.33)
        );
        let two_thirds = TeamScore::from_parts(110_000, 3).unwrap();
        let v = field_value(&f, FieldRole::Score, at(Rank::B, two_thirds)).unwrap();
        assert_eq!(v.to_string(), "3.67");
        assert_eq!(
            field_value(&f, FieldRole::Score, at(Rank::A, score(500)))
                .unwrap()
                .to_string(),
            "5.0"
        );
    }

    #[test]
    fn a_job_without_a_rank_clears_every_type_of_field_and_a_cleared_field_matches_no_value() {
        let select = select(&[(11, "A"), (12, "B"), (13, "C")]);
        let text = field(json!({"id": 63, "name": "Input field", "type": "long_text"}));
        let number = field(json!({"id": 64, "name": "Number field", "type": "number"}));
        for (f, role) in [
            (&select, FieldRole::Rank),
            (&text, FieldRole::Rank),
            (&text, FieldRole::Score),
            (&number, FieldRole::Rank),
            (&number, FieldRole::Score),
        ] {
            assert_eq!(field_value(f, role, None).unwrap(), Value::Null);
            // Cleared: the job shows no value (left out, or null).
            assert_eq!(compare(f, &Value::Null, &[]), Comparison::Matches);
            let null = vec![JobCustomField {
                id: Some(f.id),
                name: None,
                value: Value::Null,
            }];
            assert_eq!(compare(f, &Value::Null, &null), Comparison::Matches);
        }
        // A job still showing a value for a cleared field differs.
        let shows_b = vec![JobCustomField {
            id: Some(90),
            name: None,
            value: json!("B"),
        }];
        assert_eq!(
            compare(&select, &Value::Null, &shows_b),
            Comparison::Differs {
                reported: Some("B".into())
            }
        );
        // A field set up wrong is still an error with no rank to write.
        let wrong = field(json!({"id": 50, "name": "Active", "type": "yes_no"}));
        assert!(field_value(&wrong, FieldRole::Rank, None).is_err());
        assert!(field_value(&select, FieldRole::Score, None).is_err());
    }

    #[test]
    fn other_types_are_configuration_errors() {
        for t in ["date", "yes_no", "multi_select", ""] {
            let f = field(json!({"id": 50, "name": "Active", "type": t}));
            let e = field_value(&f, FieldRole::Rank, at(Rank::A, score(410))).unwrap_err();
            assert!(
                matches!(e, FieldError::UnsupportedType { .. }),
                "{t}: {e:?}"
            );
            assert!(e.to_string().contains("\"Active\""), "{e}");
        }
        let f = select(&[(1, "A"), (2, "B"), (3, "C")]);
        let e = field_value(&f, FieldRole::Score, at(Rank::A, score(410))).unwrap_err();
        assert!(e.to_string().contains("RECRUITERFLOW_SCORE_FIELD"), "{e}");
    }

    #[test]
    fn the_reference_field_list_parses_and_fields_are_found_by_name() {
        let body: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/recruiterflow/job-custom-fields.json"
        ))
        .unwrap();
        let fields: Vec<CustomField> = serde_json::from_value(body["data"].clone()).unwrap();
        assert_eq!(fields.len(), 5);
        let status = find_field(&fields, " status ", FieldRole::Rank, None).unwrap_err();
        assert!(
            matches!(&status, FieldError::MissingChoices { missing, .. } if missing == &vec!["A", "B", "C"]),
            "{status:?}"
        );
        let number = find_field(&fields, "Number field", FieldRole::Rank, None).unwrap();
        assert_eq!(number.id, 64);
        assert_eq!(
            find_field(&fields, "input FIELD", FieldRole::Score, None)
                .unwrap()
                .id,
            63
        );
        let missing = find_field(
            &fields,
            "jobrank rank",
            FieldRole::Rank,
            Some("7 reported, 5 read"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            missing.contains("no job custom field named \"jobrank rank\""),
            "{missing}"
        );
        assert!(missing.contains("\"Status\""), "{missing}");
        assert!(missing.contains("7 reported, 5 read"), "{missing}");
        let mut twice = fields.clone();
        twice.push(field(json!({"id": 99, "name": "STATUS", "type": "text"})));
        let e = find_field(&twice, "Status", FieldRole::Rank, None).unwrap_err();
        assert!(e.to_string().contains("ids 52, 99"), "{e}");
        assert!(matches!(
            find_field(&fields, "JobCFDate", FieldRole::Rank, None),
            Err(FieldError::UnsupportedType { .. })
        ));
    }

    #[test]
    fn what_a_job_reports_is_compared_with_what_was_written() {
        let job_body: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/recruiterflow/job.json"))
                .unwrap();
        let on_job: Vec<JobCustomField> =
            serde_json::from_value(job_body["custom_fields"].clone()).unwrap();
        // The reference job shows the select "Status" by its choice name "Lead" (684).
        let status = field(json!({"id": 52, "name": "Status", "type": "single_select",
            "choices": [{"id": 683, "name": "Active"}, {"id": 684, "name": "Lead"}]}));
        assert_eq!(compare(&status, &json!(684), &on_job), Comparison::Matches);
        assert_eq!(
            compare(&status, &json!(683), &on_job),
            Comparison::Differs {
                reported: Some("Lead".into())
            }
        );
        let number = field(json!({"id": 64, "name": "Number field", "type": "number"}));
        assert_eq!(compare(&number, &json!(2.0), &on_job), Comparison::Matches);
        assert!(matches!(
            compare(&number, &json!(2.01), &on_job),
            Comparison::Differs { .. }
        ));
        let text = field(json!({"id": 63, "name": "Input field", "type": "long_text"}));
        assert_eq!(
            compare(&text, &json!("edfvfd "), &on_job),
            Comparison::Matches
        );
        // A field the job leaves out shows no value.
        let date = field(json!({"id": 65, "name": "JobCFDate", "type": "date"}));
        assert_eq!(
            compare(&date, &json!("2025-01-01"), &on_job),
            Comparison::Differs { reported: None }
        );
        // Other ways a select could be reported: by id, as an object, in a list.
        let rank = select(&[(11, "A"), (12, "B"), (13, "C")]);
        for shape in [
            json!(12),
            json!("12"),
            json!("b"),
            json!({"id": 12, "name": "B"}),
            json!([{"name": "B"}]),
        ] {
            let job = vec![JobCustomField {
                id: Some(90),
                name: None,
                value: shape.clone(),
            }];
            assert_eq!(
                compare(&rank, &json!(12), &job),
                Comparison::Matches,
                "{shape}"
            );
        }
        // Matched by name when the job gives no id; null is no value.
        let by_name = vec![JobCustomField {
            id: None,
            name: Some("JOBRANK RANK".into()),
            value: json!("A"),
        }];
        assert_eq!(compare(&rank, &json!(11), &by_name), Comparison::Matches);
        let null = vec![JobCustomField {
            id: Some(90),
            name: None,
            value: Value::Null,
        }];
        assert_eq!(
            compare(&rank, &json!(11), &null),
            Comparison::Differs { reported: None }
        );
        assert_eq!(shown(&json!("x".repeat(100))).chars().count(), 81);
    }
}
