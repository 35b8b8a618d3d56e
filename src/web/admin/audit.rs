//! The audit log on the admin page (the latest entries) and on `/admin/audit` (all of
//! it, a page at a time, newest first).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::store::{self, audit};
use crate::web::auth::RequireCeo;
use crate::web::pages::{Chrome, Query, date_time, render_with};
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit_page))
}

/// How many audit log entries a page of `/admin/audit` lists.
const AUDIT_PAGE: i64 = 100;

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
            when: date_time(e.at),
            who: e.actor.clone(),
            what: e.label().to_string(),
            target: e.target.clone(),
            details: e.details.clone(),
        }
    }
}

/// Entries of the audit log, newest first, and the link to older ones if any.
pub fn audit_rows(
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

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<String>,
}

async fn audit_page(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
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
