//! The client page `/clients/{name}` (the name percent-encoded, as jobs carry it):
//! the client's open jobs with their ranks, the team's client-engagement scores week by
//! week (the factor is about the client more than any one job), and its placements
//! and fees. Every signed-in user may see it; an unknown client is a 404 in words.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::auth::CurrentUser;
use super::dashboard::fee_text;
use super::line_chart::{LineChart, line_chart};
use super::pages::{Chrome, date, day, day_short, render};
use super::{AppState, Result, WebError};
use crate::domain::{DashboardQuery, Money, engagement_by_week};
use crate::store::{self, clients};

pub fn router() -> Router<AppState> {
    Router::new().route("/clients/{name}", get(client_page))
}

/// The address of a client's page: `/clients/` and the name percent-encoded (a `/`
/// or `?` in a name stays part of it).
pub fn client_href(name: &str) -> String {
    format!("/clients/{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

/// How many weeks of engagement the chart shows at most.
const ENGAGEMENT_WEEKS: usize = 26;

/// One open job of the client.
pub struct OpenJobRow {
    pub id: i64,
    pub title: String,
    /// "A", "B", "C", or "" while unscored.
    pub rank: &'static str,
    pub score: String,
    pub scorers: u32,
    pub freshness_note: String,
    pub days_open: i64,
    pub fee: String,
}

/// One week of the engagement table.
pub struct EngagementRow {
    pub week: String,
    pub mean: String,
    pub scores: usize,
}

/// One placement row.
pub struct PlacementRow {
    pub job_id: i64,
    pub job: String,
    pub candidate: String,
    pub date: String,
    pub fee: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    chrome: Chrome,
    name: String,
    open_count: i64,
    closed_count: i64,
    jobs: Vec<OpenJobRow>,
    chart: Option<LineChart>,
    engagement: Vec<EngagementRow>,
    placements: Vec<PlacementRow>,
    /// Fees placed, per currency ("GBP 45,000 + EUR 12,000"), or empty.
    fees: String,
}

async fn client_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(name): Path<String>,
) -> Result<Response> {
    let now = store::now();
    let viewer = session.user.id.clone();
    let cache = state.dashboard.clone();
    let wanted = name.clone();
    let (client, view) = state
        .store
        .read(move |c| {
            Ok((
                clients::find_client(c, &wanted)?,
                cache.view(c, &viewer, now)?,
            ))
        })
        .await?;
    let Some(client) = client else {
        return Err(WebError::NotFoundBecause(format!(
            "no job in jobrank is for a client named “{name}”, so it has no page here"
        )));
    };
    let query = DashboardQuery {
        client: Some(client.name.clone()),
        ..DashboardQuery::default()
    };
    let jobs = query
        .select(view.jobs())
        .into_iter()
        .map(|j| OpenJobRow {
            id: j.id,
            title: j.title.clone(),
            rank: j.rank.as_ref().map_or("", |r| r.rank.as_str()),
            score: j
                .rank
                .as_ref()
                .map_or_else(|| "–".into(), |r| r.team.to_string()),
            scorers: j.rank.as_ref().map_or(0, |r| r.team.count()),
            freshness_note: j.freshness.explain(&j.expired_scorers),
            days_open: j.days_open,
            fee: fee_text(j.fee.as_ref()),
        })
        .collect();
    let weeks = engagement_by_week(&client.engagement);
    let shown = &weeks[weeks.len().saturating_sub(ENGAGEMENT_WEEKS)..];
    let columns: Vec<String> = shown.iter().map(|w| day_short(w.week)).collect();
    let values = shown
        .iter()
        .map(|w| {
            Some((
                w.mean,
                format!(
                    "week of {}: {:.1} ({} score{})",
                    day(w.week),
                    w.mean,
                    w.scores,
                    if w.scores == 1 { "" } else { "s" }
                ),
            ))
        })
        .collect();
    let chart = line_chart(
        format!("Client engagement at {}, week by week", client.name),
        match (shown.first(), shown.last()) {
            (Some(f), Some(l)) => format!(
                "The team's mean client-engagement score (1 to 5) each week from {} to {}; latest {:.1}.",
                day(f.week),
                day(l.week),
                l.mean
            ),
            _ => String::new(),
        },
        &columns,
        vec![("Client engagement".into(), values)],
        (1.0, 5.0),
        &(1..=5)
            .map(|v| (f64::from(v), v.to_string()))
            .collect::<Vec<_>>(),
    );
    let mut totals: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for fee in client.placements.iter().filter_map(|p| p.fee.as_ref()) {
        *totals.entry(fee.currency.clone()).or_default() += fee.minor;
    }
    let page = ClientPage {
        chrome: Chrome::for_session(&session, "dashboard"),
        open_count: client.open_jobs,
        closed_count: client.closed_jobs,
        jobs,
        chart,
        engagement: shown
            .iter()
            .rev()
            .map(|w| EngagementRow {
                week: day(w.week),
                mean: format!("{:.1}", w.mean),
                scores: w.scores,
            })
            .collect(),
        placements: client
            .placements
            .iter()
            .map(|p| PlacementRow {
                job_id: p.job_id,
                job: p.job_title.clone(),
                candidate: p.candidate.clone().unwrap_or_else(|| "–".into()),
                date: p.placed_at.map_or_else(|| "–".into(), date),
                fee: p.fee.as_ref().map_or_else(|| "–".into(), Money::to_string),
            })
            .collect(),
        fees: totals
            .iter()
            .map(|(c, minor)| Money::new(*minor, c.as_deref()).to_string())
            .collect::<Vec<_>>()
            .join(" + "),
        name: client.name,
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_are_percent_encoded_into_one_path_segment() {
        assert_eq!(client_href("Acme"), "/clients/Acme");
        assert_eq!(
            client_href("Smith & Co / UK?"),
            "/clients/Smith%20%26%20Co%20%2F%20UK%3F"
        );
        assert_eq!(client_href("Café"), "/clients/Caf%C3%A9");
    }
}
