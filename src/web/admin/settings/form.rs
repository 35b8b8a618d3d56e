//! The scoring settings form, described once as a table of its fields ([`GROUPS`]):
//! how each field's text is read and shown, parsing the typed form into [`Settings`]
//! (each problem named by its field, bands refused as a group), and the groups of inputs
//! the admin page draws with their errors and the weights' running total.

use std::collections::HashMap;

use serde::Deserialize;

use crate::domain::{
    DomainError, Factor, FeeBands, Settings, Thresholds, TimeOpenBands, TypedWeight, Weights,
    WeightsScale,
};
use crate::web::FieldError;

/// How a field's text is read, which also decides how its input shows.
#[derive(Debug, Clone, Copy)]
enum Parser {
    /// A decimal number ("25", "3.50"), refused under the field's own name.
    Decimal,
    /// A weight: "25", "25%" or "0.25"; the four are read together
    /// ([`Weights::from_typed`]).
    Weight,
    /// The whole number bounding one level of a band. A group's bands are read in
    /// level order up to the first that cannot be read, which is refused for the group
    /// as a whole.
    Band { level: u8 },
    /// A whole number of days.
    Days,
    /// A whole number of weeks, or empty for none (the rule is off).
    OptionalWeeks,
    /// A whole number of scorers.
    Scorers,
    /// Text, checked by the scoring rules alone (a currency code).
    Text,
}

impl Parser {
    /// The number input's `step`; empty for a text input.
    fn step(self) -> &'static str {
        match self {
            Parser::Decimal => "0.01",
            Parser::Band { .. } | Parser::Days | Parser::OptionalWeeks | Parser::Scorers => "1",
            Parser::Weight | Parser::Text => "",
        }
    }

    /// The most characters a text input takes (0 for a number input).
    fn max_length(self) -> usize {
        match self {
            Parser::Weight => 12,
            Parser::Text => 3,
            _ => 0,
        }
    }
}

/// One field of the settings form.
struct Field {
    /// The form's key, the input's id, and the field errors name.
    name: &'static str,
    /// The input's label.
    label: &'static str,
    /// What error messages call it.
    what: &'static str,
    parser: Parser,
    /// Its value under the settings in force, as the form shows it.
    shown: fn(&Settings) -> String,
}

/// A fieldset of the form; errors about the group as a whole carry its id.
struct Group {
    id: &'static str,
    legend: &'static str,
    hint: &'static str,
    fields: &'static [Field],
}

/// A threshold (kept in hundredths) as the form and the audit log show it: "3.50".
pub fn hundredths(h: u32) -> String {
    format!("{:.2}", f64::from(h) / 100.0)
}

/// The form's fieldsets in page order; each field is described here and nowhere else.
#[rustfmt::skip]
const GROUPS: [Group; 7] = [
    Group {
        id: "weights",
        legend: "Weights",
        hint: "How much each factor counts in a scorer's composite: percentages that total 100 (25 or 25%), or fractions that total 1 (0.25).",
        fields: &[
            Field { name: "weight_client_engagement", label: "Client engagement", what: "Client engagement weight", parser: Parser::Weight, shown: |s| format!("{}%", s.weights.percent_text(Factor::ClientEngagement)) },
            Field { name: "weight_search_difficulty", label: "Search difficulty", what: "Search difficulty weight", parser: Parser::Weight, shown: |s| format!("{}%", s.weights.percent_text(Factor::SearchDifficulty)) },
            Field { name: "weight_time_open", label: "Time open", what: "Time open weight", parser: Parser::Weight, shown: |s| format!("{}%", s.weights.percent_text(Factor::TimeOpen)) },
            Field { name: "weight_fee_size", label: "Fee size", what: "Fee size weight", parser: Parser::Weight, shown: |s| format!("{}%", s.weights.percent_text(Factor::FeeSize)) },
        ],
    },
    Group {
        id: "thresholds",
        legend: "Rank thresholds",
        hint: "A team score at or above the A threshold is an A; at or above the B threshold, a B; else a C.",
        fields: &[
            Field { name: "threshold_a", label: "A from", what: "A threshold", parser: Parser::Decimal, shown: |s| hundredths(s.thresholds.a_hundredths()) },
            Field { name: "threshold_b", label: "B from", what: "B threshold", parser: Parser::Decimal, shown: |s| hundredths(s.thresholds.b_hundredths()) },
        ],
    },
    Group {
        id: "time_open_bands",
        legend: "Time open bands (days)",
        hint: "The most days open that still suggest level 5, 4, 3 and 2; longer is 1.",
        fields: &[
            Field { name: "time_open_5", label: "Level 5 up to", what: "Time open bands", parser: Parser::Band { level: 5 }, shown: |s| s.time_open_bands.days()[0].to_string() },
            Field { name: "time_open_4", label: "Level 4 up to", what: "Time open bands", parser: Parser::Band { level: 4 }, shown: |s| s.time_open_bands.days()[1].to_string() },
            Field { name: "time_open_3", label: "Level 3 up to", what: "Time open bands", parser: Parser::Band { level: 3 }, shown: |s| s.time_open_bands.days()[2].to_string() },
            Field { name: "time_open_2", label: "Level 2 up to", what: "Time open bands", parser: Parser::Band { level: 2 }, shown: |s| s.time_open_bands.days()[3].to_string() },
        ],
    },
    Group {
        id: "fee_bands",
        legend: "Fee bands (whole currency units)",
        hint: "The least fee that suggests level 5, 4, 3 and 2; less is 1.",
        fields: &[
            Field { name: "fee_5", label: "Level 5 from", what: "Fee bands", parser: Parser::Band { level: 5 }, shown: |s| s.fee_bands.fees()[0].to_string() },
            Field { name: "fee_4", label: "Level 4 from", what: "Fee bands", parser: Parser::Band { level: 4 }, shown: |s| s.fee_bands.fees()[1].to_string() },
            Field { name: "fee_3", label: "Level 3 from", what: "Fee bands", parser: Parser::Band { level: 3 }, shown: |s| s.fee_bands.fees()[2].to_string() },
            Field { name: "fee_2", label: "Level 2 from", what: "Fee bands", parser: Parser::Band { level: 2 }, shown: |s| s.fee_bands.fees()[3].to_string() },
        ],
    },
    Group {
        id: "cadence",
        legend: "Currency and cadence",
        hint: "Fees in another currency get no suggestion. A job needs a scorer's score again once their latest is this many days old.",
        fields: &[
            Field { name: "fee_currency", label: "Fee currency", what: "Fee currency", parser: Parser::Text, shown: |s| s.fee_currency.clone() },
            Field { name: "cadence_days", label: "Cadence (days)", what: "Cadence", parser: Parser::Days, shown: |s| s.cadence_days.to_string() },
        ],
    },
    Group {
        id: "pipelines",
        legend: "Stalled pipelines",
        hint: "A job's pipeline is stalled when the candidates of its slowest stage have waited this many days or more on average (1 to 365). The dashboard marks, counts and filters stalled jobs by it.",
        fields: &[
            Field { name: "stalled_after_days", label: "Stalled after (days)", what: "Stalled after", parser: Parser::Days, shown: |s| s.stalled_after_days.to_string() },
        ],
    },
    Group {
        id: "freshness",
        legend: "Score freshness",
        hint: "Both are off as they come. Scores older than this many weeks stop counting toward the team score (1 to 52; leave empty and scores never expire); a job whose score rests on fewer scorers than the minimum keeps its rank but is marked provisional, sorts after the other jobs of its rank and sends no rank alert (1 means no minimum; at most 10).",
        fields: &[
            Field { name: "score_expiry_weeks", label: "Scores expire after (weeks)", what: "Score expiry", parser: Parser::OptionalWeeks, shown: |s| s.score_expiry_weeks.map(|w| w.to_string()).unwrap_or_default() },
            Field { name: "min_scorers", label: "Minimum scorers", what: "Minimum scorers", parser: Parser::Scorers, shown: |s| s.min_scorers.to_string() },
        ],
    },
];

/// A field's text as its parser read it.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Decimal(f64),
    Weight(TypedWeight),
    Whole(i64),
    /// An optional field left empty.
    Empty,
    Text(String),
}

impl Field {
    /// Reads `raw` by the field's parser, or refuses it naming the field (or, for a
    /// band, its group).
    fn read(&self, group: &Group, raw: &str) -> std::result::Result<Read, FieldError> {
        let (raw, what) = (raw.trim(), self.what);
        let refuse = |field: &str, message: String| FieldError {
            field: field.into(),
            message,
        };
        match self.parser {
            Parser::Decimal => raw
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Read::Decimal)
                .ok_or_else(|| refuse(self.name, format!("{what}: must be a number, got {raw:?}"))),
            Parser::Weight => TypedWeight::parse(raw)
                .map(Read::Weight)
                .map_err(|why| refuse(self.name, format!("{what} {why}, got {raw:?}"))),
            Parser::Band { level } => raw.parse().map(Read::Whole).map_err(|_| {
                refuse(
                    group.id,
                    format!(
                        "{what}: the band for level {level} must be a whole number, got {raw:?}"
                    ),
                )
            }),
            Parser::Days => raw.parse().map(Read::Whole).map_err(|_| {
                refuse(
                    self.name,
                    format!("{what}: must be a whole number of days, got {raw:?}"),
                )
            }),
            Parser::OptionalWeeks if raw.is_empty() => Ok(Read::Empty),
            Parser::OptionalWeeks => raw.parse().map(Read::Whole).map_err(|_| {
                refuse(
                    self.name,
                    format!(
                        "{what}: must be a whole number of weeks, or empty for scores that never expire, got {raw:?}"
                    ),
                )
            }),
            Parser::Scorers => raw.parse().map(Read::Whole).map_err(|_| {
                refuse(
                    self.name,
                    format!("{what}: must be a whole number of scorers, got {raw:?}"),
                )
            }),
            Parser::Text => Ok(Read::Text(raw.to_string())),
        }
    }
}

/// The values of a group's decimals, when every one was read.
fn decimals<const N: usize>(values: &[Option<Read>]) -> Option<[f64; N]> {
    let all: Option<Vec<f64>> = values
        .iter()
        .map(|v| match v {
            Some(Read::Decimal(x)) => Some(*x),
            _ => None,
        })
        .collect();
    all?.try_into().ok()
}

/// The four weights as typed, when every one was read.
fn typed_weights(values: &[Option<Read>]) -> Option<[TypedWeight; 4]> {
    let all: Option<Vec<TypedWeight>> = values
        .iter()
        .map(|v| match v {
            Some(Read::Weight(w)) => Some(*w),
            _ => None,
        })
        .collect();
    all?.try_into().ok()
}

/// The values of a group's whole numbers, when every one was read.
fn wholes<const N: usize>(values: &[Option<Read>]) -> Option<[i64; N]> {
    let all: Option<Vec<i64>> = values
        .iter()
        .map(|v| match v {
            Some(Read::Whole(x)) => Some(*x),
            _ => None,
        })
        .collect();
    all?.try_into().ok()
}

/// A scoring rule's refusal as the form shows it: under the field (or group) it names,
/// in the words the form uses for that field ("Client engagement weight must not be
/// negative, got -25") rather than its key.
fn refusal(e: DomainError) -> FieldError {
    let plain = FieldError::from(e.clone());
    let what = GROUPS
        .iter()
        .flat_map(|g| g.fields)
        .find(|f| f.name == plain.field)
        .or_else(|| {
            GROUPS
                .iter()
                .find(|g| g.id == plain.field)
                .and_then(|g| g.fields.first())
        })
        .map(|f| f.what);
    let Some(what) = what else { return plain };
    let message = match e {
        DomainError::NegativeWeight { value, .. } => {
            format!("{what} must not be negative, got {value}")
        }
        DomainError::TooPrecise { detail, .. } => format!("{what} has too many decimals: {detail}"),
        DomainError::Invalid { reason, .. } => format!("{what}: {reason}"),
        DomainError::FactorOutOfRange { .. } | DomainError::WeightsDoNotSum { .. } => plain.message,
    };
    FieldError {
        field: plain.field,
        message,
    }
}

/// Keeps the value a scoring rule accepted, or the rule's refusal.
fn check<T>(refusals: &mut Vec<DomainError>, r: std::result::Result<T, DomainError>) -> Option<T> {
    r.map_err(|e| refusals.push(e)).ok()
}

/// One input of the settings form.
pub struct InputView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub step: &'static str,
    /// A text input's most characters (0 for a number input).
    pub max_length: usize,
}

/// A group of inputs with a legend and an error for the group as a whole.
pub struct GroupView {
    pub id: &'static str,
    pub legend: &'static str,
    pub hint: &'static str,
    pub error: Option<String>,
    pub inputs: Vec<InputView>,
    /// The weights' running total as the form was drawn ("Total: 100%"); `app.js`
    /// keeps it current while the CEO types. Empty for the other groups.
    pub total: String,
    /// Whether that total is one the form accepts.
    pub total_ok: bool,
}

/// The settings form as typed: each field's text by its name (other keys, such as the
/// CSRF token, are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct SettingsForm(HashMap<String, String>);

impl SettingsForm {
    /// The form filled with the settings in force.
    pub fn from_settings(s: &Settings) -> SettingsForm {
        let fields = GROUPS.iter().flat_map(|g| g.fields);
        SettingsForm(fields.map(|f| (f.name.to_string(), (f.shown)(s))).collect())
    }

    /// Fills the fields the form did not send with their values under `current`: a
    /// field not sent keeps its value in force (a form drawn before a field was added
    /// to it still saves), while a field sent empty is refused as usual.
    pub fn fill_missing(&mut self, current: &Settings) {
        for f in GROUPS.iter().flat_map(|g| g.fields) {
            self.0
                .entry(f.name.to_string())
                .or_insert_with(|| (f.shown)(current));
        }
    }

    /// The text typed into a field (empty when it was not sent).
    pub(super) fn value(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// Reads each field of a group by its parser: `None` for a field that could not be
    /// read, whose refusal joins `errors`. Bands stop at the first unreadable one.
    fn read(&self, group: &Group, errors: &mut Vec<FieldError>) -> Vec<Option<Read>> {
        let mut values = Vec::new();
        for f in group.fields {
            match f.read(group, self.value(f.name)) {
                Ok(v) => values.push(Some(v)),
                Err(e) => {
                    errors.push(e);
                    values.push(None);
                    if matches!(f.parser, Parser::Band { .. }) {
                        break;
                    }
                }
            }
        }
        values
    }

    /// Validates the form into settings, or every problem, each naming its field.
    pub fn parse(&self) -> std::result::Result<Settings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let [
            weights,
            thresholds,
            time_open,
            fees,
            rest,
            pipelines,
            freshness,
        ] = GROUPS.each_ref().map(|g| self.read(g, &mut errors));
        let mut refusals = Vec::new();
        let weights = typed_weights(&weights)
            .and_then(|w| check(&mut refusals, Weights::from_typed(w)))
            .map(|(w, _)| w);
        let thresholds = decimals(&thresholds)
            .and_then(|[a, b]| check(&mut refusals, Thresholds::from_decimals(a, b)));
        let time_open_bands =
            wholes(&time_open).and_then(|d| check(&mut refusals, TimeOpenBands::new(d)));
        let fee_bands = wholes(&fees).and_then(|f| check(&mut refusals, FeeBands::new(f)));
        let (fee_currency, cadence_days) = match rest.as_slice() {
            [Some(Read::Text(code)), cadence] => (
                check(&mut refusals, Settings::check_currency(code)),
                match cadence {
                    Some(Read::Whole(d)) => check(&mut refusals, Settings::check_cadence(*d)),
                    _ => None,
                },
            ),
            _ => (None, None),
        };
        let stalled_after_days = match pipelines.as_slice() {
            [Some(Read::Whole(d))] => check(&mut refusals, Settings::check_stalled_after_days(*d)),
            _ => None,
        };
        let (score_expiry_weeks, min_scorers) = match freshness.as_slice() {
            [expiry, minimum] => (
                match expiry {
                    Some(Read::Empty) => Some(None),
                    Some(Read::Whole(w)) => {
                        check(&mut refusals, Settings::check_score_expiry_weeks(Some(*w)))
                    }
                    _ => None,
                },
                match minimum {
                    Some(Read::Whole(n)) => check(&mut refusals, Settings::check_min_scorers(*n)),
                    _ => None,
                },
            ),
            _ => (None, None),
        };
        errors.extend(refusals.into_iter().map(refusal));
        match (
            weights,
            thresholds,
            time_open_bands,
            fee_bands,
            fee_currency,
            cadence_days,
            stalled_after_days,
            score_expiry_weeks,
            min_scorers,
        ) {
            (
                Some(weights),
                Some(thresholds),
                Some(time_open_bands),
                Some(fee_bands),
                Some(fee_currency),
                Some(cadence_days),
                Some(stalled_after_days),
                Some(score_expiry_weeks),
                Some(min_scorers),
            ) if errors.is_empty() => Ok(Settings {
                version: 0,
                weights,
                thresholds,
                time_open_bands,
                fee_bands,
                fee_currency,
                cadence_days,
                stalled_after_days,
                score_expiry_weeks,
                min_scorers,
            }),
            _ => Err(errors),
        }
    }

    /// The form's fieldsets with the typed values and the errors next to the fields
    /// (or groups) they name.
    pub fn groups(&self, errors: &[FieldError]) -> Vec<GroupView> {
        let err = |field: &str| {
            let all: Vec<&str> = errors
                .iter()
                .filter(|e| e.field == field)
                .map(|e| e.message.as_str())
                .collect();
            (!all.is_empty()).then(|| all.join("; "))
        };
        let (total, total_ok) = self.weights_total();
        GROUPS
            .iter()
            .map(|g| GroupView {
                id: g.id,
                legend: g.legend,
                hint: g.hint,
                error: err(g.id),
                inputs: g
                    .fields
                    .iter()
                    .map(|f| InputView {
                        name: f.name,
                        label: f.label,
                        value: self.value(f.name).to_string(),
                        error: err(f.name),
                        step: f.parser.step(),
                        max_length: f.parser.max_length(),
                    })
                    .collect(),
                total: if g.id == "weights" {
                    total.clone()
                } else {
                    String::new()
                },
                total_ok,
            })
            .collect()
    }

    /// The weights' total as typed, in the words `app.js` also uses: "Total: 100%",
    /// "Total: 1 (as fractions)", or the total and what it must be; and whether the
    /// form accepts it.
    fn weights_total(&self) -> (String, bool) {
        let typed: Option<Vec<TypedWeight>> = GROUPS[0]
            .fields
            .iter()
            .map(|f| TypedWeight::parse(self.value(f.name)).ok())
            .collect();
        let Some(Ok(typed)) = typed.map(<[TypedWeight; 4]>::try_from) else {
            return ("Total: not every weight is a number yet".into(), false);
        };
        match Weights::total(&typed) {
            (total, Some(WeightsScale::Percentages)) => (format!("Total: {total}"), true),
            (total, Some(WeightsScale::Fractions)) => {
                (format!("Total: {total} (as fractions)"), true)
            }
            (total, None) => (
                format!("Total: {total}; percentages must total 100%, fractions 1"),
                false,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::admin::settings::settings_changes;

    fn form(pairs: &[(&str, &str)]) -> SettingsForm {
        let mut f = SettingsForm::from_settings(&Settings::default());
        for (k, v) in pairs {
            f.0.insert(k.to_string(), v.to_string());
        }
        f
    }

    #[test]
    fn the_form_of_the_settings_in_force_reads_back_as_those_settings() {
        let s = Settings::default();
        let read = SettingsForm::from_settings(&s).parse().unwrap();
        assert_eq!(
            read,
            Settings { version: 0, ..s },
            "the store numbers versions"
        );
        let names: Vec<&str> = GROUPS
            .iter()
            .flat_map(|g| g.fields)
            .map(|f| f.name)
            .collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "each field once: {names:?}");
    }

    #[test]
    fn each_problem_names_its_field_and_bands_are_refused_as_a_group() {
        let errors = form(&[
            ("weight_time_open", "lots"),
            ("threshold_a", "x"),
            ("time_open_4", "abc"),
            ("time_open_2", "def"),
            ("fee_currency", "pounds"),
            ("cadence_days", "weekly"),
            ("stalled_after_days", "0"),
        ])
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "weight_time_open",
                "threshold_a",
                "time_open_bands",
                "cadence_days",
                "fee_currency",
                "stalled_after_days"
            ]
        );
        assert_eq!(
            errors[2].message,
            "Time open bands: the band for level 4 must be a whole number, got \"abc\""
        );
        assert_eq!(
            errors[0].message,
            "Time open weight must be a number such as 25%, 25 or 0.25, got \"lots\""
        );
        assert_eq!(
            errors[4].message, "Fee currency: must be a three-letter currency code, got \"pounds\"",
            "a scoring rule's refusal in the form's words"
        );
        let sum = form(&[("weight_fee_size", "50")]).parse().unwrap_err();
        assert_eq!(sum[0].field, "weights");
    }

    #[test]
    fn a_field_not_sent_keeps_its_value_and_one_sent_empty_is_refused() {
        let current = Settings {
            stalled_after_days: 30,
            ..Settings::default()
        };
        let mut f = form(&[("cadence_days", "10")]);
        f.0.remove("stalled_after_days");
        f.fill_missing(&current);
        let read = f.parse().unwrap();
        assert_eq!((read.cadence_days, read.stalled_after_days), (10, 30));
        let mut f = form(&[("stalled_after_days", "")]);
        f.fill_missing(&current);
        assert_eq!(f.parse().unwrap_err()[0].field, "stalled_after_days");
    }

    #[test]
    fn the_stalled_rule_is_on_the_form_and_its_change_is_said_in_words() {
        let read = form(&[("stalled_after_days", "21")]).parse().unwrap();
        assert_eq!(read.stalled_after_days, 21);
        for bad in ["0", "366", "two weeks"] {
            let errors = form(&[("stalled_after_days", bad)]).parse().unwrap_err();
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].field, "stalled_after_days", "{bad}");
        }
        assert_eq!(
            settings_changes(&Settings::default(), &read),
            "stalled after 14 days → 21 days"
        );
    }

    #[test]
    fn the_freshness_rules_are_read_from_the_form_and_empty_expiry_means_never() {
        let on = form(&[("score_expiry_weeks", "8"), ("min_scorers", "2")])
            .parse()
            .unwrap();
        assert_eq!((on.score_expiry_weeks, on.min_scorers), (Some(8), 2));
        let off = form(&[("score_expiry_weeks", " "), ("min_scorers", "1")])
            .parse()
            .unwrap();
        assert_eq!((off.score_expiry_weeks, off.min_scorers), (None, 1));
        let errors = form(&[("score_expiry_weeks", "soon"), ("min_scorers", "11")])
            .parse()
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["score_expiry_weeks", "min_scorers"]);
        let errors = form(&[("score_expiry_weeks", "53")]).parse().unwrap_err();
        assert_eq!(errors[0].field, "score_expiry_weeks");
        assert!(
            errors[0].message.contains("1 to 52"),
            "{}",
            errors[0].message
        );
    }
}
