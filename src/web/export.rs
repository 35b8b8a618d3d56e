//! CSV exports: the current dashboard view (`/export/jobs.csv` with the dashboard's
//! query string), for every signed-in user, and every submission
//! (`/export/submissions.csv`), for the CEO only: it holds every scorer's email and
//! comments, which no other role sees on the pages.
//!
//! Cells are quoted by the `csv` crate; a text cell that a spreadsheet would run as a
//! formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) is prefixed
//! with `'` so opening the file never executes anything a Recruiterflow user typed.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::CurrentUser;
use super::dashboard::DashboardParams;
use super::pages::Query;
use super::{AppState, Result, WebError};
use crate::domain::composite;
use crate::store::{self, review, settings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/export/jobs.csv", get(jobs_csv))
        .route("/export/submissions.csv", get(submissions_csv))
}

/// A cell made safe for spreadsheets: formula-looking text gets a leading quote.
pub fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Writes rows as CSV into a download response named `filename`.
pub(super) fn csv_download(
    filename: &str,
    header_row: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header_row)?;
    for row in rows {
        w.write_record(row.iter().map(|c| safe_cell(c)))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The dashboard view as CSV: the same filters and order as `/` with this query.
async fn jobs_csv(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Query(params): Query<DashboardParams>,
) -> Result<Response> {
    let query = params.to_query()?;
    let now = store::now();
    let viewer = session.user.id.clone();
    let cache = state.dashboard.clone();
    let jobs = state
        .store
        .read(move |c| cache.view(c, &viewer, now))
        .await?;
    let rows = query
        .select(jobs.jobs())
        .into_iter()
        .map(|j| {
            let bottleneck = j
                .pipeline
                .as_ref()
                .and_then(|p| p.bottleneck().map(|b| b.stage.clone()));
            vec![
                j.id.to_string(),
                j.title.clone(),
                j.client.clone(),
                j.days_open.to_string(),
                opt(j.rank.as_ref().map(|r| r.rank.as_str())),
                opt(j.rank.as_ref().map(|r| r.team.to_string())),
                opt(j.rank.as_ref().map(|r| r.team.count())),
                opt(j.rank.as_ref().map(|r| store::ts(&r.last_scored_at))),
                j.total_candidates().to_string(),
                opt(bottleneck),
                // In major units with the currency's decimals: 45000.00, 700000, 1250.500.
                opt(j.fee.as_ref().map(crate::domain::Money::amount_text)),
                opt(j.fee.as_ref().and_then(|m| m.currency.clone())),
                if session.user.scores && j.needs_my_score {
                    "yes".into()
                } else {
                    "no".into()
                },
                if j.freshness.is_provisional() {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect();
    csv_download(
        &format!("jobrank-jobs-{}.csv", now.format("%Y-%m-%d")),
        &[
            "job_id",
            "title",
            "client",
            "days_open",
            "rank",
            "team_score",
            "scorers_counted",
            "last_scored_at",
            "candidates",
            "bottleneck_stage",
            "fee",
            "fee_currency",
            "needs_my_score",
            "provisional",
        ],
        rows,
    )
}

/// Every submission as CSV, oldest first, with the composite under the current weights.
/// The CEO's only (403 for anyone else).
async fn submissions_csv(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response> {
    if !session.user.role.administers() {
        return Err(WebError::Forbidden(
            "only the CEO can export every submission: it holds each scorer's email and comments"
                .into(),
        ));
    }
    let (subs, current) = state
        .store
        .read(|c| {
            Ok((
                review::named_submissions(c)?,
                settings::current_settings(c)?,
            ))
        })
        .await?;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows = subs
        .iter()
        .map(|n| {
            let s = &n.submission;
            vec![
                s.id.clone(),
                store::ts(&s.submitted_at),
                s.job_id.to_string(),
                n.job_title.clone(),
                n.client.clone(),
                n.scorer_name.clone(),
                n.scorer_email.clone(),
                s.client_engagement.to_string(),
                s.search_difficulty.to_string(),
                s.time_open.to_string(),
                s.fee_size.to_string(),
                yes_no(s.time_open_overridden),
                yes_no(s.fee_size_overridden),
                opt(s
                    .scores()
                    .ok()
                    .map(|f| composite(&f, &current.settings.weights))),
                s.comment.clone().unwrap_or_default(),
            ]
        })
        .collect();
    csv_download(
        &format!(
            "jobrank-submissions-{}.csv",
            store::now().format("%Y-%m-%d")
        ),
        &[
            "submission_id",
            "submitted_at",
            "job_id",
            "job_title",
            "client",
            "scorer",
            "scorer_email",
            "client_engagement",
            "search_difficulty",
            "time_open",
            "fee_size",
            "time_open_overridden",
            "fee_size_overridden",
            "composite",
            "comment",
        ],
        rows,
    )
}
