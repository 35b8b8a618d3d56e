//! The scoring settings on the admin page: the list of settings versions and saving a
//! new version (which recomputes every open job's rank) or previewing it (`action=preview`, nothing
//! saved). Its parts: [`form`], the form described once as a table of its fields that
//! parsing, rendering and error messages all read, and [`preview`], the preview of a
//! change (which open jobs would change rank, and the A/B/C counts before and after) and
//! the change in words the audit log records.

mod form;
mod preview;

use self::form::hundredths;
pub use self::form::{GroupView, SettingsForm};
pub use self::preview::PreviewView;
use self::preview::settings_changes;

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;

use super::{Extras, record_act, render_admin};
use crate::domain::{Factor, preview_settings};
use crate::store::audit::Action;
use crate::store::commands;
use crate::store::jobs;
use crate::store::settings::{self as stored, SettingsVersion};
use crate::web::auth::RequireCeo;
use crate::web::pages::{Form, date_time};
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/settings", post(post_settings))
}

/// One settings version in the page's list.
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

/// The settings versions, each with who saved it (`names`: user id -> name).
pub fn version_rows(
    versions: &[SettingsVersion],
    current: &SettingsVersion,
    names: &HashMap<&str, &str>,
) -> Vec<VersionRow> {
    versions
        .iter()
        .map(|v| {
            let s = &v.settings;
            let t = s.time_open_bands.days();
            let f = s.fee_bands.fees();
            VersionRow {
                version: s.version,
                when: date_time(v.created_at),
                by: v
                    .created_by
                    .as_deref()
                    .map(|id| names.get(id).copied().unwrap_or("former user").to_string())
                    .unwrap_or_else(|| "default".into()),
                weights: Factor::ALL
                    .iter()
                    .map(|f| format!("{} {}%", f.label(), s.weights.percent_text(*f)))
                    .collect::<Vec<_>>()
                    .join(", "),
                thresholds: format!(
                    "A ≥ {}, B ≥ {}",
                    hundredths(s.thresholds.a_hundredths()),
                    hundredths(s.thresholds.b_hundredths())
                ),
                bands: format!(
                    "days {}/{}/{}/{}; fees {} {}/{}/{}/{}",
                    t[0], t[1], t[2], t[3], s.fee_currency, f[0], f[1], f[2], f[3]
                ),
                cadence: s.cadence_days,
                current: v.id == current.id,
            }
        })
        .collect()
}

/// What the settings form's buttons ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettingsAction {
    /// Show what saving would do to the open jobs; nothing is saved.
    Preview,
    /// Save a new settings version.
    Save,
}

impl SettingsAction {
    /// The form's `action` (absent or `save`: save; `preview`: preview).
    fn of(form: &SettingsForm) -> Result<SettingsAction> {
        match form.value("action") {
            "" | "save" => Ok(SettingsAction::Save),
            "preview" => Ok(SettingsAction::Preview),
            other => Err(WebError::field(
                "action",
                format!("unknown action {other:?}: the form previews or saves"),
            )),
        }
    }
}

async fn post_settings(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Form(mut form): Form<SettingsForm>,
) -> Result<Response> {
    let action = SettingsAction::of(&form)?;
    let current = state.store.read(stored::current_settings).await?;
    form.fill_missing(&current.settings);
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
    if action == SettingsAction::Preview {
        let (in_force, current, titles, inputs) = state
            .store
            .read(|c| {
                let current = stored::current_settings(c)?;
                Ok((
                    stored::in_force(c, &current)?,
                    current,
                    jobs::list_open_jobs(c)?,
                    commands::open_jobs_ranking_inputs(c)?,
                ))
            })
            .await?;
        let proposed = parsed;
        let preview = preview_settings(
            &inputs,
            &current.settings,
            in_force,
            &proposed,
            crate::store::now(),
        );
        let extras = Extras {
            settings_form: Some(form),
            settings_preview: Some(PreviewView::new(
                &preview,
                &titles,
                &current.settings,
                &proposed,
            )),
            ..Extras::default()
        };
        return render_admin(&state, &session, extras, StatusCode::OK).await;
    }
    let by = session.user.id.clone();
    record_act(&state, &session, Action::SettingsSaved, move |tx, now| {
        let before = stored::current_settings(tx)?;
        let after = commands::save_settings(tx, &parsed, now, Some(&by))?.into_result();
        let details = format!(
            "version {} → {}: {}",
            before.settings.version,
            after.settings.version,
            settings_changes(&before.settings, &after.settings)
        );
        Ok(("scoring settings".to_string(), details))
    })
    .await
}
