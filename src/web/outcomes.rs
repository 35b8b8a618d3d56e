//! The outcome report (the CEO's): for the jobs closed in a period (the calendar
//! quarter of today unless `from` and `to` say otherwise), fill rate, median days to
//! fill and fees by rank at close, by the rank held longest while open, and by client,
//! and the jobs closed without a placement. Shown in its own section of the review
//! page and exported as `/export/outcomes.csv?from=&to=`: the report's figures, group
//! by group, or with `&view=jobs` the closed jobs one row each (with every figure the
//! report is made of, including which closed without a placement).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::auth::RequireCeo;
use super::export::csv_download;
use super::pages::{Query, date};
use super::{AppState, FieldError, Result, WebError};
use crate::domain::{ClosedJob, Money, OutcomeGroup, outcome_report, quarter_of};
use crate::store::{self, outcomes, settings};

pub fn router() -> Router<AppState> {
    Router::new().route("/export/outcomes.csv", get(outcomes_csv))
}

/// The report's period as the query string gives it: `from` and `to`, days as
/// `YYYY-MM-DD`, both included; either left out (or empty) takes the current calendar
/// quarter's.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct OutcomeParams {
    pub from: Option<String>,
    pub to: Option<String>,
    /// The CSV's rows: the report's groups (empty or `report`) or the jobs (`jobs`).
    pub view: Option<String>,
}

/// A period of whole days (UTC), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// Its first moment and the moment after its last day.
    fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        (start(self.from), start(self.to) + Duration::days(1))
    }
}

impl OutcomeParams {
    /// The period asked for on `today`; 422 naming each field that is not a date, or
    /// `to` when it comes before `from`.
    pub fn period(&self, today: NaiveDate) -> Result<Period> {
        let (q_from, q_to) = quarter_of(today);
        let mut errors = Vec::new();
        let mut day = |field: &str, raw: &Option<String>, default: NaiveDate| match raw
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => default,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
                errors.push(FieldError {
                    field: field.into(),
                    message: format!("must be a date as YYYY-MM-DD, e.g. 2026-10-01, got {s:?}"),
                });
                default
            }),
        };
        let from = day("from", &self.from, q_from);
        let to = day("to", &self.to, q_to);
        if errors.is_empty() && to < from {
            errors.push(FieldError {
                field: "to".into(),
                message: format!("must not come before from ({from}), got {to}"),
            });
        }
        if errors.is_empty() {
            Ok(Period { from, to })
        } else {
            Err(WebError::Invalid(errors))
        }
    }
}

/// One row of an outcome table.
pub struct GroupRow {
    pub label: String,
    pub jobs: usize,
    pub fill_rate: String,
    pub median_days: String,
    pub fees: String,
    pub fees_per_job: String,
}

impl GroupRow {
    fn of(g: &OutcomeGroup) -> GroupRow {
        GroupRow {
            label: g.label.clone(),
            jobs: g.jobs,
            fill_rate: g.fill_rate(),
            median_days: g.median_days_to_fill.map_or_else(
                || "–".into(),
                |d| {
                    if d.fract() == 0.0 {
                        format!("{d:.0} days")
                    } else {
                        format!("{d:.1} days")
                    }
                },
            ),
            fees: money_list(&g.fees),
            fees_per_job: money_list(&g.fees_per_job),
        }
    }
}

/// Amounts in several currencies, each on its own: "GBP 45,000 + EUR 12,000", or "–".
fn money_list(m: &[Money]) -> String {
    if m.is_empty() {
        "–".into()
    } else {
        m.iter()
            .map(Money::to_string)
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// A job closed without a placement.
pub struct UnfilledRow {
    pub job_id: i64,
    pub title: String,
    pub client: String,
    pub rank_at_close: String,
    pub rank_held_longest: String,
    pub closed: String,
    pub days_open: i64,
}

/// The review page's outcome section.
pub struct OutcomesSection {
    /// The period's days as the form's inputs take them (`YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    /// The period in words: "1 Oct 2026 to 31 Dec 2026".
    pub period: String,
    pub jobs: usize,
    /// "7 of 12 (58%)".
    pub fill_rate: String,
    pub by_rank_at_close: Vec<GroupRow>,
    pub by_rank_held_longest: Vec<GroupRow>,
    pub by_client: Vec<GroupRow>,
    pub unfilled: Vec<UnfilledRow>,
    /// The report as CSV, and the closed jobs one row each.
    pub csv_href: String,
    pub jobs_csv_href: String,
    /// The quarters before and after, as review page links.
    pub previous_href: String,
    pub next_href: String,
}

fn rank_text(r: Option<crate::domain::Rank>) -> String {
    r.map_or_else(|| "not ranked".into(), |r| r.as_str().to_string())
}

/// The report of the jobs closed in `period`, read from the store.
async fn closed_jobs(state: &AppState, period: Period) -> Result<(Vec<ClosedJob>, String)> {
    let (from, until) = period.bounds();
    Ok(state
        .store
        .read(move |c| {
            Ok((
                outcomes::closed_between(c, from, until)?,
                settings::current_settings(c)?.settings.fee_currency,
            ))
        })
        .await?)
}

/// The outcome section for the review page, for the period `params` asks for.
pub async fn outcomes_section(state: &AppState, params: &OutcomeParams) -> Result<OutcomesSection> {
    let period = params.period(store::now().date_naive())?;
    let (jobs, currency) = closed_jobs(state, period).await?;
    let report = outcome_report(&jobs, &currency);
    let quarter_href = |day: NaiveDate| {
        let (f, t) = quarter_of(day);
        format!("/review?from={f}&to={t}#outcomes-title")
    };
    let days = |d: NaiveDate| date(d.and_time(chrono::NaiveTime::MIN).and_utc());
    Ok(OutcomesSection {
        from: period.from.to_string(),
        to: period.to.to_string(),
        period: format!("{} to {}", days(period.from), days(period.to)),
        jobs: report.total.jobs,
        fill_rate: report.total.fill_rate(),
        by_rank_at_close: report.by_rank_at_close.iter().map(GroupRow::of).collect(),
        by_rank_held_longest: report
            .by_rank_held_longest
            .iter()
            .map(GroupRow::of)
            .collect(),
        by_client: report.by_client.iter().map(GroupRow::of).collect(),
        unfilled: report
            .unfilled
            .iter()
            .map(|j| UnfilledRow {
                job_id: j.job_id,
                title: j.title.clone(),
                client: j.client.clone(),
                rank_at_close: rank_text(j.rank_at_close),
                rank_held_longest: rank_text(j.rank_held_longest),
                closed: date(j.closed),
                days_open: j.days_open(),
            })
            .collect(),
        csv_href: format!("/export/outcomes.csv?from={}&to={}", period.from, period.to),
        jobs_csv_href: format!(
            "/export/outcomes.csv?from={}&to={}&view=jobs",
            period.from, period.to
        ),
        previous_href: quarter_href(quarter_of(period.from).0 - Duration::days(1)),
        next_href: quarter_href(quarter_of(period.to).1 + Duration::days(1)),
    })
}

/// `/export/outcomes.csv?from=&to=` (the CEO only): the report as the review page shows
/// it, one row per group (and per currency where a group placed fees in several); with
/// `&view=jobs`, the jobs closed in the period, one row each.
async fn outcomes_csv(
    State(state): State<AppState>,
    RequireCeo(_session): RequireCeo,
    Query(params): Query<OutcomeParams>,
) -> Result<Response> {
    let by_job = match params.view.as_deref().map(str::trim) {
        None | Some("" | "report") => false,
        Some("jobs") => true,
        Some(other) => {
            return Err(WebError::Invalid(vec![FieldError {
                field: "view".into(),
                message: format!("must be report or jobs, got {other:?}"),
            }]));
        }
    };
    let period = params.period(store::now().date_naive())?;
    let (jobs, currency) = closed_jobs(&state, period).await?;
    if !by_job {
        return report_csv(period, &jobs, &currency);
    }
    let rows = jobs
        .iter()
        .map(|j| {
            let mut fees: BTreeMap<String, i64> = BTreeMap::new();
            for fee in j.placements.iter().filter_map(|p| p.fee.as_ref()) {
                let code = fee.currency.clone().unwrap_or_else(|| currency.clone());
                *fees.entry(code).or_default() += fee.minor;
            }
            let first_placed = j.placements.iter().filter_map(|p| p.placed_at).min();
            vec![
                j.job_id.to_string(),
                j.title.clone(),
                j.client.clone(),
                store::ts(&j.opened),
                store::ts(&j.closed),
                j.days_open().to_string(),
                j.rank_at_close
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                j.team_at_close.map(|t| t.to_string()).unwrap_or_default(),
                j.rank_held_longest
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
                if j.filled() { "yes" } else { "no" }.into(),
                j.placements.len().to_string(),
                first_placed.map(|t| store::ts(&t)).unwrap_or_default(),
                j.days_to_fill().map(|d| d.to_string()).unwrap_or_default(),
                fees.keys().cloned().collect::<Vec<_>>().join(";"),
                fees.iter()
                    .map(|(c, minor)| Money::new(*minor, Some(c)).amount_text())
                    .collect::<Vec<_>>()
                    .join(";"),
            ]
        })
        .collect();
    csv_download(
        &format!("jobrank-outcome-jobs-{}-to-{}.csv", period.from, period.to),
        &[
            "job_id",
            "title",
            "client",
            "opened_at",
            "closed_at",
            "days_open",
            "rank_at_close",
            "team_score_at_close",
            "rank_held_longest",
            "filled",
            "placements",
            "first_placed_at",
            "days_to_fill",
            "fee_currency",
            "fees_placed",
        ],
        rows,
    )
}

/// The report's CSV: each group of each grouping (rank at close, rank held longest,
/// client, then all the jobs) with its jobs, filled, fill rate (filled / jobs, three
/// places), median days to fill, and its fees placed and per job in one currency per
/// row (a group that placed no fee has one row with the currency empty; fees are never
/// converted).
fn report_csv(period: Period, jobs: &[ClosedJob], currency: &str) -> Result<Response> {
    let report = outcome_report(jobs, currency);
    let mut rows = Vec::new();
    let sections = [
        ("rank at close", &report.by_rank_at_close[..]),
        ("rank held longest", &report.by_rank_held_longest[..]),
        ("client", &report.by_client[..]),
        ("all", std::slice::from_ref(&report.total)),
    ];
    for (section, groups) in sections {
        for g in groups {
            let head = vec![
                section.to_string(),
                g.label.clone(),
                g.jobs.to_string(),
                g.filled.to_string(),
                if g.jobs == 0 {
                    String::new()
                } else {
                    format!("{:.3}", g.filled as f64 / g.jobs as f64)
                },
                g.median_days_to_fill
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ];
            if g.fees.is_empty() {
                rows.push([head.clone(), vec![String::new(); 3]].concat());
            }
            for (fee, per_job) in g.fees.iter().zip(&g.fees_per_job) {
                rows.push(
                    [
                        head.clone(),
                        vec![
                            fee.currency.clone().unwrap_or_default(),
                            fee.amount_text(),
                            per_job.amount_text(),
                        ],
                    ]
                    .concat(),
                );
            }
        }
    }
    csv_download(
        &format!("jobrank-outcomes-{}-to-{}.csv", period.from, period.to),
        &[
            "section",
            "group",
            "jobs",
            "filled",
            "fill_rate",
            "median_days_to_fill",
            "currency",
            "fees_placed",
            "fees_per_job",
        ],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str) -> OutcomeParams {
        OutcomeParams {
            from: Some(from.into()),
            to: Some(to.into()),
            view: None,
        }
    }

    #[test]
    fn the_period_defaults_to_this_quarter_and_bad_dates_name_their_field() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let p = OutcomeParams::default().period(today).unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2026-10-01".into(), "2026-12-31".into())
        );
        let p = params("2026-11-01", "").period(today).unwrap();
        assert_eq!(p.to.to_string(), "2026-12-31");
        let Err(WebError::Invalid(e)) = params("yesterday", "2026-13-01").period(today) else {
            panic!("bad dates are refused");
        };
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["from", "to"]);
        let Err(WebError::Invalid(e)) = params("2026-11-02", "2026-11-01").period(today) else {
            panic!("a period that ends before it starts is refused");
        };
        assert_eq!(e[0].field, "to");
        let (start, end) = params("2026-11-01", "2026-11-01")
            .period(today)
            .unwrap()
            .bounds();
        assert_eq!(end - start, Duration::days(1), "one whole day");
    }
}
