//! The CEO's admin page `/admin`: scoring settings (each save a new version that
//! recomputes ranks), users, API tokens, the state of the Recruiterflow sync, its
//! webhook inbox and the Supabase outbox, and the latest entries of the audit log
//! (all of it, a page at a time, on `/admin/audit`). Every act here is recorded in the
//! audit log ([`crate::store::audit`]) in the transaction that does it.
//!
//! Every form is a plain POST with the CSRF field. A refused form re-renders the page
//! with 422 and the errors next to the fields they name; a success redirects (303)
//! back to `/admin` with a notice, except a new API token, which is shown once on
//! the page the POST answers and never again.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::auth::{RequireCeo, Session};
use super::pages::{Chrome, Form, Query, ago, date, render_with};
use super::{AppState, FieldError, WebError};
use crate::credentials::{self, hash_token};
use crate::domain::{
    DomainError, Factor, FeeBands, Role, Settings, Thresholds, TimeOpenBands, Weights,
};
use crate::store::audit::{self, Action, Actor};
use crate::store::settings::{self, SettingsVersion};
use crate::store::users::{self, NewUser, User};
use crate::store::{
    self, StoreError, api_tokens, commands, inbox, outbox, recruiterflow_users, sessions, sync_runs,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/settings", post(save_settings))
        .route("/admin/users", post(add_user))
        .route("/admin/users/{id}/deactivate", post(deactivate_user))
        .route("/admin/users/{id}/activate", post(activate_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/scores", post(set_scores))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/inbox/{id}/retry", post(retry_dead_letter))
        .route("/admin/audit", get(audit_page))
}

/// How many sync runs, dead letters and audit log entries the page lists.
const RECENT: i64 = 20;
/// How many audit log entries a page of `/admin/audit` lists.
const AUDIT_PAGE: i64 = 100;

/// One input of the settings form.
pub struct InputView {
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub step: &'static str,
}

/// A group of inputs with a legend and an error for the group as a whole.
pub struct GroupView {
    pub id: &'static str,
    pub legend: &'static str,
    pub hint: &'static str,
    pub error: Option<String>,
    pub inputs: Vec<InputView>,
}

pub struct VersionRow {
    pub version: i64,
    pub when: String,
    pub by: String,
    pub weights: String,
    pub thresholds: String,
    pub bands: String,
    pub cadence: u32,
    pub current: bool,
}

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub scores: bool,
    pub active: bool,
    pub is_me: bool,
    pub password_error: Option<String>,
    /// Whether the user is matched to a Recruiterflow user; empty when Recruiterflow is
    /// not configured or its user list was never read.
    pub recruiterflow: String,
}

pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub email: String,
    pub created: String,
    pub created_by: String,
    pub last_used: String,
    pub revoked: bool,
}

/// One entry of the audit log as the pages show it.
pub struct AuditRow {
    pub when: String,
    pub who: String,
    pub what: String,
    pub target: String,
    pub details: String,
}

impl AuditRow {
    fn new(e: &audit::Entry) -> AuditRow {
        AuditRow {
            when: format!("{} {}", date(e.at), e.at.format("%H:%M:%S")),
            who: e.actor.clone(),
            what: e.label().to_string(),
            target: e.target.clone(),
            details: e.details.clone(),
        }
    }
}

/// Entries of the audit log, newest first, and the link to older ones if any.
fn audit_rows(
    c: &rusqlite::Connection,
    before: Option<i64>,
    limit: i64,
) -> store::Result<(Vec<AuditRow>, Option<String>)> {
    let entries = audit::list_entries(c, before, limit)?;
    let older = match entries.last() {
        Some(last) if audit::has_entries_before(c, last.id)? => {
            Some(format!("/admin/audit?before={}", last.id))
        }
        _ => None,
    };
    Ok((entries.iter().map(AuditRow::new).collect(), older))
}

pub struct RunRow {
    pub kind: String,
    pub started: String,
    pub status: String,
    pub summary: String,
}

pub struct DeadRow {
    pub id: i64,
    pub event_type: String,
    pub job: String,
    pub received: String,
    pub attempts: i64,
    pub error: String,
}

/// The add-user form's values, echoed back after an error.
#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub role: String,
    pub scores: Option<String>,
    #[serde(default)]
    pub password: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    notice: String,
    errors: Vec<FieldError>,
    groups: Vec<GroupView>,
    versions: Vec<VersionRow>,
    users: Vec<UserRow>,
    /// The Recruiterflow user list in one line; empty when there is none to speak of.
    recruiterflow_users: String,
    roles: Vec<(&'static str, &'static str)>,
    new_user: NewUserForm,
    user_errors: HashMap<String, String>,
    tokens: Vec<TokenRow>,
    token_users: Vec<(String, String)>,
    new_token: Option<(String, String)>,
    token_error: Option<String>,
    runs: Vec<RunRow>,
    inbox: Vec<(String, i64)>,
    dead: Vec<DeadRow>,
    outbox_pending: i64,
    outbox_dead: i64,
    audit: Vec<AuditRow>,
    /// The link to older audit log entries, when there are any.
    audit_older: Option<String>,
    /// The data directory's free space in words, or why the disk counts as full.
    disk: String,
    disk_full: bool,
}

/// `/admin/audit`: the whole audit log, a page at a time.
#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    audit: Vec<AuditRow>,
    audit_older: Option<String>,
    /// Whether this is the newest page.
    newest: bool,
}

impl AdminPage {
    fn user_error(&self, field: &str) -> String {
        self.user_errors.get(field).cloned().unwrap_or_default()
    }
}

/// The settings form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub weight_client_engagement: String,
    #[serde(default)]
    pub weight_search_difficulty: String,
    #[serde(default)]
    pub weight_time_open: String,
    #[serde(default)]
    pub weight_fee_size: String,
    #[serde(default)]
    pub threshold_a: String,
    #[serde(default)]
    pub threshold_b: String,
    #[serde(default)]
    pub time_open_5: String,
    #[serde(default)]
    pub time_open_4: String,
    #[serde(default)]
    pub time_open_3: String,
    #[serde(default)]
    pub time_open_2: String,
    #[serde(default)]
    pub fee_5: String,
    #[serde(default)]
    pub fee_4: String,
    #[serde(default)]
    pub fee_3: String,
    #[serde(default)]
    pub fee_2: String,
    #[serde(default)]
    pub fee_currency: String,
    #[serde(default)]
    pub cadence_days: String,
}

impl SettingsForm {
    /// The form filled with the settings in force.
    pub fn from_settings(s: &Settings) -> SettingsForm {
        let w = |f| s.weights.percent_text(f);
        let t = s.time_open_bands.days();
        let fee = s.fee_bands.fees();
        SettingsForm {
            weight_client_engagement: w(Factor::ClientEngagement),
            weight_search_difficulty: w(Factor::SearchDifficulty),
            weight_time_open: w(Factor::TimeOpen),
            weight_fee_size: w(Factor::FeeSize),
            threshold_a: format!("{:.2}", f64::from(s.thresholds.a_hundredths()) / 100.0),
            threshold_b: format!("{:.2}", f64::from(s.thresholds.b_hundredths()) / 100.0),
            time_open_5: t[0].to_string(),
            time_open_4: t[1].to_string(),
            time_open_3: t[2].to_string(),
            time_open_2: t[3].to_string(),
            fee_5: fee[0].to_string(),
            fee_4: fee[1].to_string(),
            fee_3: fee[2].to_string(),
            fee_2: fee[3].to_string(),
            fee_currency: s.fee_currency.clone(),
            cadence_days: s.cadence_days.to_string(),
        }
    }

    /// Validates the form into settings, or every problem, each naming its field.
    pub fn parse(&self) -> Result<Settings, Vec<FieldError>> {
        let mut errors: Vec<FieldError> = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let mut decimal = |field: &str, label: &str, v: &str| -> Option<f64> {
            match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    bad(
                        field,
                        format!("{label}: must be a number, got {:?}", v.trim()),
                    );
                    None
                }
            }
        };
        let weights = [
            decimal(
                "weight_client_engagement",
                "Client engagement weight",
                &self.weight_client_engagement,
            ),
            decimal(
                "weight_search_difficulty",
                "Search difficulty weight",
                &self.weight_search_difficulty,
            ),
            decimal(
                "weight_time_open",
                "Time open weight",
                &self.weight_time_open,
            ),
            decimal("weight_fee_size", "Fee size weight", &self.weight_fee_size),
        ];
        let thresholds = [
            decimal("threshold_a", "A threshold", &self.threshold_a),
            decimal("threshold_b", "B threshold", &self.threshold_b),
        ];
        let mut domain = Vec::new();
        let weights = match weights {
            [Some(a), Some(b), Some(c), Some(d)] => Weights::from_percentages([a, b, c, d])
                .map_err(|e| domain.push(e))
                .ok(),
            _ => None,
        };
        let thresholds = match thresholds {
            [Some(a), Some(b)] => Thresholds::from_decimals(a, b)
                .map_err(|e| domain.push(e))
                .ok(),
            _ => None,
        };
        let mut whole = |group: &'static str, label: &str, values: [&str; 4]| -> Option<[i64; 4]> {
            let mut out = [0i64; 4];
            for (i, v) in values.iter().enumerate() {
                match v.trim().parse::<i64>() {
                    Ok(x) => out[i] = x,
                    Err(_) => {
                        errors.push(FieldError {
                            field: group.into(),
                            message: format!(
                                "{label}: the band for level {} must be a whole number, got {:?}",
                                5 - i,
                                v.trim()
                            ),
                        });
                        return None;
                    }
                }
            }
            Some(out)
        };
        let time_open = whole(
            "time_open_bands",
            "Time open bands",
            [
                &self.time_open_5,
                &self.time_open_4,
                &self.time_open_3,
                &self.time_open_2,
            ],
        )
        .and_then(|d| TimeOpenBands::new(d).map_err(|e| domain.push(e)).ok());
        let fees = whole(
            "fee_bands",
            "Fee bands",
            [&self.fee_5, &self.fee_4, &self.fee_3, &self.fee_2],
        )
        .and_then(|f| FeeBands::new(f).map_err(|e| domain.push(e)).ok());
        let currency = Settings::check_currency(&self.fee_currency)
            .map_err(|e| domain.push(e))
            .ok();
        let cadence = match self.cadence_days.trim().parse::<i64>() {
            Ok(d) => Settings::check_cadence(d).map_err(|e| domain.push(e)).ok(),
            Err(_) => {
                errors.push(FieldError {
                    field: "cadence_days".into(),
                    message: format!(
                        "Cadence: must be a whole number of days, got {:?}",
                        self.cadence_days.trim()
                    ),
                });
                None
            }
        };
        errors.extend(domain.into_iter().map(domain_field_error));
        match (weights, thresholds, time_open, fees, currency, cadence) {
            (
                Some(weights),
                Some(thresholds),
                Some(time_open_bands),
                Some(fee_bands),
                Some(fee_currency),
                Some(cadence_days),
            ) if errors.is_empty() => Ok(Settings {
                version: 0,
                weights,
                thresholds,
                time_open_bands,
                fee_bands,
                fee_currency,
                cadence_days,
                // Not on the form yet: `save_settings` keeps their current values.
                ..Settings::default()
            }),
            _ => Err(errors),
        }
    }

    fn groups(&self, errors: &[FieldError]) -> Vec<GroupView> {
        let err = |field: &str| {
            let all: Vec<&str> = errors
                .iter()
                .filter(|e| e.field == field)
                .map(|e| e.message.as_str())
                .collect();
            (!all.is_empty()).then(|| all.join("; "))
        };
        let input =
            |name: &'static str, label: &'static str, value: &str, step: &'static str| InputView {
                name,
                label,
                value: value.to_string(),
                error: err(name),
                step,
            };
        vec![
            GroupView {
                id: "weights",
                legend: "Weights (%)",
                hint: "Percentages of the composite; they must total 100.",
                error: err("weights"),
                inputs: vec![
                    input(
                        "weight_client_engagement",
                        "Client engagement",
                        &self.weight_client_engagement,
                        "0.01",
                    ),
                    input(
                        "weight_search_difficulty",
                        "Search difficulty",
                        &self.weight_search_difficulty,
                        "0.01",
                    ),
                    input(
                        "weight_time_open",
                        "Time open",
                        &self.weight_time_open,
                        "0.01",
                    ),
                    input("weight_fee_size", "Fee size", &self.weight_fee_size, "0.01"),
                ],
            },
            GroupView {
                id: "thresholds",
                legend: "Rank thresholds",
                hint: "A team score at or above the A threshold is an A; at or above the B threshold, a B; else a C.",
                error: None,
                inputs: vec![
                    input("threshold_a", "A from", &self.threshold_a, "0.01"),
                    input("threshold_b", "B from", &self.threshold_b, "0.01"),
                ],
            },
            GroupView {
                id: "time_open_bands",
                legend: "Time open bands (days)",
                hint: "The most days open that still suggest level 5, 4, 3 and 2; longer is 1.",
                error: err("time_open_bands"),
                inputs: vec![
                    input("time_open_5", "Level 5 up to", &self.time_open_5, "1"),
                    input("time_open_4", "Level 4 up to", &self.time_open_4, "1"),
                    input("time_open_3", "Level 3 up to", &self.time_open_3, "1"),
                    input("time_open_2", "Level 2 up to", &self.time_open_2, "1"),
                ],
            },
            GroupView {
                id: "fee_bands",
                legend: "Fee bands (whole currency units)",
                hint: "The least fee that suggests level 5, 4, 3 and 2; less is 1.",
                error: err("fee_bands"),
                inputs: vec![
                    input("fee_5", "Level 5 from", &self.fee_5, "1"),
                    input("fee_4", "Level 4 from", &self.fee_4, "1"),
                    input("fee_3", "Level 3 from", &self.fee_3, "1"),
                    input("fee_2", "Level 2 from", &self.fee_2, "1"),
                ],
            },
            GroupView {
                id: "cadence",
                legend: "Currency and cadence",
                hint: "Fees in another currency get no suggestion. A job needs a scorer's score again once their latest is this many days old.",
                error: None,
                inputs: vec![
                    input("fee_currency", "Fee currency", &self.fee_currency, ""),
                    input("cadence_days", "Cadence (days)", &self.cadence_days, "1"),
                ],
            },
        ]
    }
}

/// A rule of the scoring model as a field error (the sum of the weights belongs to
/// the weights as a group).
fn domain_field_error(e: DomainError) -> FieldError {
    let field = match &e {
        DomainError::FactorOutOfRange { field, .. }
        | DomainError::NegativeWeight { field, .. }
        | DomainError::TooPrecise { field, .. }
        | DomainError::Invalid { field, .. } => *field,
        DomainError::WeightsDoNotSum { .. } => "weights",
    };
    FieldError {
        field: field.to_string(),
        message: e.to_string(),
    }
}

/// What one render of the page adds to the stored state.
#[derive(Default)]
struct Extras {
    notice: String,
    settings_form: Option<SettingsForm>,
    settings_errors: Vec<FieldError>,
    new_user: NewUserForm,
    user_errors: Vec<FieldError>,
    password_for: Option<(String, String)>,
    new_token: Option<(String, String)>,
    token_error: Option<String>,
}

async fn render_admin(
    state: &AppState,
    session: &Session,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, WebError> {
    let recruiterflow_on = state.config.recruiterflow.api_key.is_some();
    let (
        (current, versions, all_users, tokens, runs, inbox, dead, pending, dead_out, rf),
        (audit, audit_older),
    ) = state
        .store
        .read(move |c| {
            Ok((
                (
                    settings::current_settings(c)?,
                    settings::list_settings(c)?,
                    users::list_users(c)?,
                    api_tokens::list_tokens(c)?,
                    sync_runs::recent_runs(c, RECENT)?,
                    inbox::count_by_status(c)?,
                    inbox::list_dead(c, RECENT)?,
                    outbox::pending_count(c)?,
                    outbox::dead_count(c)?,
                    recruiterflow_matches(c, recruiterflow_on)?,
                ),
                audit_rows(c, None, RECENT)?,
            ))
        })
        .await?;
    let now = store::now();
    let names: HashMap<&str, &str> = all_users
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str()))
        .collect();
    let form = extras
        .settings_form
        .unwrap_or_else(|| SettingsForm::from_settings(&current.settings));
    let mut errors = extras.settings_errors.clone();
    errors.extend(extras.user_errors.iter().cloned());
    let page = AdminPage {
        chrome: Chrome::for_session(session, "admin"),
        notice: extras.notice,
        groups: form.groups(&extras.settings_errors),
        errors,
        versions: versions
            .iter()
            .map(|v| version_row(v, &current, &names))
            .collect(),
        users: all_users
            .iter()
            .map(|u| {
                let mut row = user_row(u, session, extras.password_for.as_ref());
                if let Some(rf) = &rf {
                    row.recruiterflow = match rf.matches.get(&u.id).map(Vec::as_slice) {
                        Some([id]) => format!("Recruiterflow: matched (id {id})"),
                        Some(ids) if !ids.is_empty() => format!(
                            "Recruiterflow: matched (ids {})",
                            ids.iter()
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        _ => "not found in Recruiterflow".into(),
                    };
                }
                row
            })
            .collect(),
        recruiterflow_users: rf
            .as_ref()
            .map(|rf| {
                format!(
                    "Recruiterflow users: {} from the list read {}, {} matched to a jobrank user by email.",
                    rf.stored,
                    ago(rf.read_at, now),
                    rf.matched
                )
            })
            .unwrap_or_default(),
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        new_user: extras.new_user,
        user_errors: extras
            .user_errors
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect(),
        tokens: tokens
            .iter()
            .map(|(t, email)| TokenRow {
                id: t.id.clone(),
                label: t.label.clone(),
                email: email.clone(),
                created: date(t.created_at),
                created_by: t
                    .created_by
                    .clone()
                    .unwrap_or_else(|| "not recorded".into()),
                last_used: t
                    .last_used_at
                    .map(|at| ago(at, now))
                    .unwrap_or_else(|| "never".into()),
                revoked: t.revoked_at.is_some(),
            })
            .collect(),
        token_users: all_users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.clone(), format!("{} ({})", u.name, u.email)))
            .collect(),
        new_token: extras.new_token,
        token_error: extras.token_error,
        runs: runs
            .iter()
            .map(|r| RunRow {
                kind: r.kind.clone(),
                started: ago(r.started_at, now),
                status: r.status.clone(),
                summary: match &r.message {
                    Some(m) if !m.is_empty() => m.clone(),
                    _ => format!(
                        "{} seen, {} changed, {} closed, {} errors",
                        r.jobs_seen, r.jobs_changed, r.jobs_closed, r.errors
                    ),
                },
            })
            .collect(),
        inbox,
        dead: dead
            .iter()
            .map(|d| DeadRow {
                id: d.id,
                event_type: d.event_type.clone(),
                job: d.job_id.map(|j| j.to_string()).unwrap_or_default(),
                received: ago(d.received_at, now),
                attempts: d.attempts,
                error: d.last_error.clone().unwrap_or_default(),
            })
            .collect(),
        outbox_pending: pending,
        outbox_dead: dead_out,
        audit,
        audit_older,
        disk: disk_line(state),
        disk_full: state.store.disk_full().is_some(),
    };
    render_with(status, &page)
}

/// The admin page's disk line: the free space, or that the disk is full.
fn disk_line(state: &AppState) -> String {
    let free = state.store.free_bytes().ok();
    match state.store.disk_full() {
        Some(full) => super::health::disk_full_problem(&full, free),
        None => match free {
            Some(n) => format!(
                "Disk: {} free in the data directory.",
                super::health::human_bytes(n)
            ),
            None => "Disk: the free space in the data directory cannot be read.".into(),
        },
    }
}

/// How jobrank users match the Recruiterflow users the last full sync stored.
struct RecruiterflowMatches {
    read_at: chrono::DateTime<chrono::Utc>,
    stored: i64,
    matched: i64,
    /// Per jobrank user id, the matching Recruiterflow user ids.
    matches: HashMap<String, Vec<i64>>,
}

/// `None` when Recruiterflow is not configured or no sync has read its user list yet.
fn recruiterflow_matches(
    c: &rusqlite::Connection,
    configured: bool,
) -> store::Result<Option<RecruiterflowMatches>> {
    if !configured {
        return Ok(None);
    }
    let Some(read_at) = recruiterflow_users::user_list_read_at(c)? else {
        return Ok(None);
    };
    let (stored, matched) = recruiterflow_users::count_matched(c)?;
    Ok(Some(RecruiterflowMatches {
        read_at,
        stored,
        matched,
        matches: recruiterflow_users::match_jobrank_users(c)?,
    }))
}

fn version_row(
    v: &SettingsVersion,
    current: &SettingsVersion,
    names: &HashMap<&str, &str>,
) -> VersionRow {
    let s = &v.settings;
    let w = Factor::ALL
        .iter()
        .map(|f| format!("{}%", s.weights.percent_text(*f)))
        .collect::<Vec<_>>()
        .join(" / ");
    let t = s.time_open_bands.days();
    let f = s.fee_bands.fees();
    VersionRow {
        version: s.version,
        when: format!("{} {}", date(v.created_at), v.created_at.format("%H:%M")),
        by: v
            .created_by
            .as_deref()
            .map(|id| names.get(id).copied().unwrap_or("former user").to_string())
            .unwrap_or_else(|| "default".into()),
        weights: w,
        thresholds: format!(
            "A ≥ {:.2}, B ≥ {:.2}",
            f64::from(s.thresholds.a_hundredths()) / 100.0,
            f64::from(s.thresholds.b_hundredths()) / 100.0
        ),
        bands: format!(
            "days {}/{}/{}/{}; fees {} {}/{}/{}/{}",
            t[0], t[1], t[2], t[3], s.fee_currency, f[0], f[1], f[2], f[3]
        ),
        cadence: s.cadence_days,
        current: v.id == current.id,
    }
}

fn user_row(u: &User, session: &Session, password_for: Option<&(String, String)>) -> UserRow {
    UserRow {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        role: u.role.label(),
        scores: u.scores,
        active: u.active,
        is_me: u.id == session.user.id,
        password_error: password_for
            .filter(|(id, _)| *id == u.id)
            .map(|(_, m)| m.clone()),
        recruiterflow: String::new(),
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn notice_for(done: &str) -> &'static str {
    match done {
        "settings" => "Settings saved as a new version; every job's rank was recomputed.",
        "user" => "User added.",
        "deactivated" => {
            "User deactivated; their sessions were ended, their API tokens revoked and ranks recomputed."
        }
        "activated" => {
            "User reactivated; ranks recomputed. Their old API tokens stay revoked: create new ones if needed."
        }
        "password" => "Password reset.",
        "scores" => "Who scores was changed; ranks recomputed.",
        "revoked" => "API token revoked.",
        "retried" => "The webhook event is queued again.",
        _ => "",
    }
}

fn done(what: &str) -> Response {
    Redirect::to(&format!("/admin?done={what}")).into_response()
}

async fn admin_page(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Query(q): Query<DoneQuery>,
) -> Result<Response, WebError> {
    let extras = Extras {
        notice: notice_for(q.done.as_deref().unwrap_or("")).to_string(),
        ..Extras::default()
    };
    render_admin(&state, &session, extras, StatusCode::OK).await
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<String>,
}

async fn audit_page(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let before = match q.before.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            WebError::BadRequest(format!("before: {raw:?} is not an audit log entry number"))
        })?),
    };
    let (audit, audit_older) = state
        .store
        .read(move |c| audit_rows(c, before, AUDIT_PAGE))
        .await?;
    render_with(
        StatusCode::OK,
        &AuditPage {
            chrome: Chrome::for_session(&session, "admin"),
            audit,
            audit_older,
            newest: before.is_none(),
        },
    )
}

async fn save_settings(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(form): Form<SettingsForm>,
) -> Result<Response, WebError> {
    let parsed = match form.parse() {
        Ok(s) => s,
        Err(errors) => {
            let extras = Extras {
                settings_form: Some(form),
                settings_errors: errors,
                ..Extras::default()
            };
            return render_admin(&state, &session, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let by = session.user.id.clone();
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let before = settings::current_settings(tx)?;
            // The fields the form does not show keep their current values.
            let parsed = Settings {
                stalled_after_days: before.settings.stalled_after_days,
                score_expiry_weeks: before.settings.score_expiry_weeks,
                min_scorers: before.settings.min_scorers,
                ..parsed
            };
            let after = commands::save_settings(tx, &parsed, now, Some(&by))?.into_result();
            let details = format!(
                "version {} → {}: {}",
                before.settings.version,
                after.settings.version,
                settings_changes(&before.settings, &after.settings)
            );
            audit::record(
                tx,
                &actor,
                Action::SettingsSaved,
                "scoring settings",
                &details,
                now,
            )
        })
        .await?;
    Ok(done("settings"))
}

/// A store error on a user form as a field error, when the user caused it.
fn user_field_error(e: StoreError) -> Result<FieldError, WebError> {
    match e {
        StoreError::Invalid(d) => Ok(domain_field_error(d)),
        StoreError::Conflict(m) => Ok(FieldError {
            field: "email".into(),
            message: m,
        }),
        other => Err(other.into()),
    }
}

async fn hash_password(password: String) -> Result<Result<String, FieldError>, WebError> {
    let hashed = tokio::task::spawn_blocking(move || credentials::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    match hashed {
        Ok(h) => Ok(Ok(h)),
        Err(e) => Ok(Err(user_field_error(e.into())?)),
    }
}

async fn add_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(form): Form<NewUserForm>,
) -> Result<Response, WebError> {
    let mut errors = Vec::new();
    let role = match Role::parse(&form.role) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(domain_field_error(e));
            None
        }
    };
    let hash = match hash_password(form.password.clone()).await? {
        Ok(h) => Some(h),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let refuse = |errors: Vec<FieldError>, form: NewUserForm| {
        let extras = Extras {
            new_user: NewUserForm {
                password: String::new(),
                ..form
            },
            user_errors: errors,
            ..Extras::default()
        };
        render_admin(&state, &session, extras, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let (Some(role), Some(hash)) = (role, hash) else {
        return refuse(errors, form).await;
    };
    let new = NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        scores: form.scores.is_some(),
        password_hash: hash,
    };
    let actor = Actor::user(&session.user);
    match state
        .store
        .write(move |tx| {
            let now = store::now();
            let u = users::insert_user(tx, &new, now)?;
            audit::record(
                tx,
                &actor,
                Action::UserAdded,
                &audit::describe_user(&u),
                &audit::new_user_details(&u),
                now,
            )
        })
        .await
    {
        Ok(_) => Ok(done("user")),
        Err(e) => {
            let err = user_field_error(e)?;
            refuse(vec![err], form).await
        }
    }
}

/// Refuses an action on the CEO's own account that would lock them out.
fn not_me(session: &Session, id: &str, what: &str) -> Result<(), WebError> {
    if session.user.id == id {
        return Err(WebError::Conflict(format!(
            "you cannot {what} your own account; sign in as another CEO to do that"
        )));
    }
    Ok(())
}

async fn deactivate_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    not_me(&session, &id, "deactivate")?;
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let tokens = api_tokens::count_unrevoked(tx, &id)?;
            let u = commands::set_user_active(tx, &id, false, now)?.into_result();
            let ended = sessions::delete_sessions_of_user(tx, &id)?;
            let details = format!(
                "{} ended, {} revoked",
                audit::count(ended as i64, "session"),
                audit::count(tokens, "API token")
            );
            audit::record(
                tx,
                &actor,
                Action::UserDeactivated,
                &audit::describe_user(&u),
                &details,
                now,
            )
        })
        .await?;
    Ok(done("deactivated"))
}

async fn activate_user(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let tokens = api_tokens::count_unrevoked(tx, &id)?;
            let u = commands::set_user_active(tx, &id, true, now)?.into_result();
            let details = format!(
                "their earlier API tokens stay revoked ({} revoked now)",
                audit::count(tokens, "API token")
            );
            audit::record(
                tx,
                &actor,
                Action::UserReactivated,
                &audit::describe_user(&u),
                &details,
                now,
            )
        })
        .await?;
    Ok(done("activated"))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let uid = id.clone();
    if state
        .store
        .read(move |c| users::find_user(c, &uid))
        .await?
        .is_none()
    {
        return Err(WebError::NotFound(format!("user {id}")));
    }
    let hash = match hash_password(form.password).await? {
        Ok(h) => h,
        Err(e) => {
            let extras = Extras {
                password_for: Some((id, e.message.clone())),
                user_errors: vec![e],
                ..Extras::default()
            };
            return render_admin(&state, &session, extras, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // Every other session of the user ends; the CEO's own stays when it is theirs.
    let me = session.user.id == id;
    let keep = me.then(|| session.id_hash().to_string());
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let u = commands::reset_password(tx, &id, &hash, now, keep.as_deref())?;
            let details = if me {
                "password changed; their other sessions ended"
            } else {
                "password changed; their sessions ended"
            };
            audit::record(
                tx,
                &actor,
                Action::PasswordReset,
                &audit::describe_user(&u),
                details,
                now,
            )
        })
        .await?;
    Ok(done("password"))
}

#[derive(Deserialize)]
struct ScoresForm {
    #[serde(default)]
    scores: String,
}

async fn set_scores(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
    Form(form): Form<ScoresForm>,
) -> Result<Response, WebError> {
    let scores = match form.scores.as_str() {
        "1" | "yes" | "true" | "on" => true,
        "0" | "no" | "false" | "off" => false,
        other => {
            return Err(WebError::field(
                "scores",
                format!("scores must be 1 or 0, got {other:?}"),
            ));
        }
    };
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let before = users::find_user(tx, &id)?.map(|u| u.scores);
            let u = commands::set_user_scores(tx, &id, scores, now)?.into_result();
            let details = match (before, scores) {
                (Some(b), s) if b == s => "unchanged".to_string(),
                (_, true) => "now scores jobs".to_string(),
                (_, false) => "no longer scores jobs".to_string(),
            };
            audit::record(
                tx,
                &actor,
                Action::ScoringChanged,
                &audit::describe_user(&u),
                &details,
                now,
            )
        })
        .await?;
    Ok(done("scores"))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    label: String,
}

async fn create_token(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let token = credentials::new_api_token();
    let hash = hash_token(&token);
    let label = form.label.clone();
    let user_id = form.user_id.clone();
    let by = Actor::user(&session.user);
    let result = state
        .store
        .write(move |tx| {
            let now = store::now();
            let t = api_tokens::insert_token(tx, &user_id, &label, &hash, &by, now)?;
            record_token(tx, &by, Action::TokenCreated, &t, "new token", now)?;
            Ok(t)
        })
        .await;
    let extras = match result {
        Ok(t) => Extras {
            notice: "API token created. Copy it now: it is shown only this once.".into(),
            new_token: Some((t.label, token)),
            ..Extras::default()
        },
        Err(StoreError::Invalid(d)) => Extras {
            token_error: Some(d.to_string()),
            ..Extras::default()
        },
        Err(StoreError::NotFound(_)) => Extras {
            token_error: Some("user: choose one of the active users".into()),
            ..Extras::default()
        },
        Err(StoreError::Conflict(m)) => Extras {
            token_error: Some(m),
            ..Extras::default()
        },
        Err(e) => return Err(e.into()),
    };
    let status = if extras.token_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CREATED
    };
    let mut res = render_admin(&state, &session, extras, status).await?;
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn revoke_token(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let was_live = api_tokens::find_token(tx, &id)?.is_some_and(|t| t.revoked_at.is_none());
            let t = api_tokens::revoke_token(tx, &id, now)?;
            let details = if was_live {
                "revoked"
            } else {
                "was already revoked"
            };
            record_token(tx, &actor, Action::TokenRevoked, &t, details, now)
        })
        .await?;
    Ok(done("revoked"))
}

async fn retry_dead_letter(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = raw
        .parse::<i64>()
        .map_err(|_| WebError::BadRequest(format!("{raw:?} is not a webhook event id")))?;
    let actor = Actor::user(&session.user);
    state
        .store
        .write(move |tx| {
            let now = store::now();
            let event = inbox::find_event(tx, id)?;
            inbox::retry_dead(tx, id, now)?;
            let (target, details) = match event {
                Some(e) => (
                    format!(
                        "webhook event {id} ({}{})",
                        e.event_type,
                        e.job_id.map(|j| format!(", job {j}")).unwrap_or_default()
                    ),
                    format!(
                        "queued again after {}",
                        audit::count(e.attempts, "failed attempt")
                    ),
                ),
                None => (format!("webhook event {id}"), "queued again".to_string()),
            };
            audit::record(
                tx,
                &actor,
                Action::DeadLetterRetried,
                &target,
                &details,
                now,
            )
        })
        .await?;
    Ok(done("retried"))
}

/// Records an act on an API token: the token is named by its label and its user.
fn record_token(
    tx: &store::Tx<'_>,
    by: &Actor,
    action: Action,
    t: &api_tokens::ApiToken,
    details: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> store::Result<()> {
    let owner = users::find_user(tx, &t.user_id)?
        .map(|u| u.email)
        .unwrap_or_else(|| "a former user".into());
    audit::record(
        tx,
        by,
        action,
        &format!("API token \u{201c}{}\u{201d} of {owner}", t.label),
        details,
        at,
    )
}

/// What a new settings version changed, in words ("client engagement weight 25% →
/// 40%; cadence 7 → 14 days"), or that nothing did.
fn settings_changes(old: &Settings, new: &Settings) -> String {
    let mut changes = Vec::new();
    let mut note = |what: String, a: String, b: String| {
        if a != b {
            changes.push(format!("{what} {a} → {b}"));
        }
    };
    for f in Factor::ALL {
        note(
            format!("{} weight", f.label().to_lowercase()),
            format!("{}%", old.weights.percent_text(f)),
            format!("{}%", new.weights.percent_text(f)),
        );
    }
    let threshold = |h: u32| format!("{:.2}", f64::from(h) / 100.0);
    note(
        "A threshold".into(),
        threshold(old.thresholds.a_hundredths()),
        threshold(new.thresholds.a_hundredths()),
    );
    note(
        "B threshold".into(),
        threshold(old.thresholds.b_hundredths()),
        threshold(new.thresholds.b_hundredths()),
    );
    let list = |v: &[String]| v.join("/");
    note(
        "time open bands (days)".into(),
        list(&old.time_open_bands.days().map(|d| d.to_string())),
        list(&new.time_open_bands.days().map(|d| d.to_string())),
    );
    note(
        "fee bands".into(),
        list(&old.fee_bands.fees().map(|f| f.to_string())),
        list(&new.fee_bands.fees().map(|f| f.to_string())),
    );
    note(
        "fee currency".into(),
        old.fee_currency.clone(),
        new.fee_currency.clone(),
    );
    note(
        "cadence".into(),
        format!("{} days", old.cadence_days),
        format!("{} days", new.cadence_days),
    );
    if changes.is_empty() {
        "nothing changed".into()
    } else {
        changes.join("; ")
    }
}
