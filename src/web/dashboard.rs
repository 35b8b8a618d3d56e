//! The dashboard `/`: every open job ranked, with filters and sorts carried in the
//! query string. A plain GET form works without JavaScript; with htmx the form
//! swaps only the job list (`partials/job_list.html`, the same partial the full page
//! includes) and pushes the URL, so links, reload and Back keep the view.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::pages::{Chrome, Query, ago, is_htmx, render};
use super::{AppState, Result, WebError};
use crate::config::Config;
use crate::domain::{
    DashboardJob, DashboardQuery, Money, Movement, PipelineStatus, Rank, RankFilter, SortKey,
};
use crate::store::dashboard::Freshness;
use crate::store::{self};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard_page))
}

/// The dashboard's query string, as typed (empty fields from a plain form are fine).
#[derive(Debug, Default, Deserialize)]
pub struct DashboardParams {
    pub q: Option<String>,
    pub client: Option<String>,
    pub rank: Option<String>,
    pub min_days: Option<String>,
    pub max_days: Option<String>,
    pub pipeline: Option<String>,
    pub needs: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    /// The page of the list (1 when absent); the page only, never the JSON API.
    pub page: Option<String>,
}

/// Jobs per page of the dashboard list. Sorted by rank, the first page holds the jobs
/// that matter most; filters and search narrow the rest down.
pub const PAGE_SIZE: usize = 50;

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl DashboardParams {
    /// The page asked for (1-based); a bad value is a 400 naming it.
    pub fn page(&self) -> Result<usize> {
        match non_empty(&self.page) {
            None => Ok(1),
            Some(p) => p.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                WebError::BadRequest(format!("page must be a whole number from 1, got {p:?}"))
            }),
        }
    }

    /// This view's query string for `page`, keeping every filter that is set.
    pub fn href(&self, page: usize) -> String {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("q", &self.q),
            ("client", &self.client),
            ("rank", &self.rank),
            ("min_days", &self.min_days),
            ("max_days", &self.max_days),
            ("pipeline", &self.pipeline),
            ("needs", &self.needs),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ] {
            if let Some(v) = non_empty(value) {
                qs.append_pair(name, v);
            }
        }
        if page > 1 {
            qs.append_pair("page", &page.to_string());
        }
        format!("/?{}", qs.finish())
    }

    /// The filters these parameters ask for; a bad value is a 400 naming it.
    pub fn to_query(&self) -> Result<DashboardQuery> {
        let days = |name: &str, v: &Option<String>| -> Result<Option<i64>> {
            non_empty(v)
                .map(|s| {
                    s.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
                        WebError::BadRequest(format!(
                            "{name} must be a whole number of days (0 or more), got {s:?}"
                        ))
                    })
                })
                .transpose()
        };
        let rank = match non_empty(&self.rank) {
            None => None,
            Some("unscored") => Some(RankFilter::Unscored),
            Some(r) => Some(RankFilter::Rank(Rank::parse(r).ok_or_else(|| {
                WebError::BadRequest(format!("rank must be A, B, C or unscored, got {r:?}"))
            })?)),
        };
        let pipeline = non_empty(&self.pipeline)
            .map(|p| {
                PipelineStatus::parse(p).ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "pipeline must be empty, moving or stalled, got {p:?}"
                    ))
                })
            })
            .transpose()?;
        let sort = non_empty(&self.sort)
            .map(|s| {
                SortKey::parse(s).ok_or_else(|| {
                    WebError::BadRequest(format!(
                        "sort must be rank, score, days, client or fee, got {s:?}"
                    ))
                })
            })
            .transpose()?
            .unwrap_or_default();
        let reverse = match non_empty(&self.dir) {
            None | Some("natural") => false,
            Some("reverse") => true,
            Some(d) => {
                return Err(WebError::BadRequest(format!(
                    "dir must be natural or reverse, got {d:?}"
                )));
            }
        };
        Ok(DashboardQuery {
            search: non_empty(&self.q).map(str::to_owned),
            client: non_empty(&self.client).map(str::to_owned),
            rank,
            min_days: days("min_days", &self.min_days)?,
            max_days: days("max_days", &self.max_days)?,
            pipeline,
            needs_my_score: matches!(non_empty(&self.needs), Some("1" | "on" | "true" | "yes")),
            sort,
            reverse,
        })
    }
}

/// One stage in a job's compact pipeline bar.
pub struct StageBar {
    pub name: String,
    pub candidates: i64,
    /// CSS classes: relative width `w1`..`w10`, and `bottleneck`.
    pub class: String,
}

/// One job row of the list.
pub struct JobRow {
    pub id: i64,
    pub title: String,
    pub client: String,
    /// The client's page.
    pub client_href: String,
    /// Why the job is provisional and how many scores expired, or empty.
    pub freshness_note: String,
    pub days_open: i64,
    /// "A", "B", "C", or "" while unscored.
    pub rank: &'static str,
    pub score: String,
    pub movement_class: &'static str,
    pub movement_text: String,
    pub candidates: i64,
    pub stages: Vec<StageBar>,
    pub bottleneck: String,
    pub stalled: bool,
    pub needs_me: bool,
    pub last_scored: String,
    pub fee: String,
}

/// A fee as pages show it ([`Money`]'s format: "GBP 45,000", "JPY 1,250,000",
/// "KWD 1,250.500"), or "no fee set".
pub fn fee_text(fee: Option<&Money>) -> String {
    fee.map_or_else(|| "no fee set".into(), Money::to_string)
}

fn row(j: &DashboardJob, now: DateTime<Utc>, viewer_scores: bool) -> JobRow {
    let (movement_class, movement_text) = match j.movement() {
        None => ("", String::new()),
        Some(Movement::New) => ("new", "new".into()),
        Some(Movement::Up(p)) => ("up", format!("▲ up from {}", p.as_str())),
        Some(Movement::Down(p)) => ("down", format!("▼ down from {}", p.as_str())),
        Some(Movement::Same(d)) if d.abs() >= 0.005 => (
            if d > 0.0 { "up" } else { "down" },
            format!("score {d:+.2}"),
        ),
        Some(Movement::Same(_)) => ("same", "no change".into()),
    };
    let (stages, bottleneck) = match &j.pipeline {
        Some(p) => {
            let total = p.total_candidates().max(1);
            let neck = p.bottleneck().map(|b| b.stage.clone());
            let stages = p
                .stages
                .iter()
                .filter(|s| s.candidates > 0)
                .map(|s| {
                    let w = ((s.candidates * 10 + total - 1) / total).clamp(1, 10);
                    let is_neck = neck.as_deref() == Some(s.stage.as_str());
                    StageBar {
                        name: s.stage.clone(),
                        candidates: s.candidates,
                        class: format!("w{w}{}", if is_neck { " bottleneck" } else { "" }),
                    }
                })
                .collect();
            let text = p
                .bottleneck()
                .map(|b| {
                    format!(
                        "{}: {:.0} days avg",
                        b.stage,
                        b.avg_days_in_stage.unwrap_or(0.0)
                    )
                })
                .unwrap_or_default();
            (stages, text)
        }
        None => (Vec::new(), String::new()),
    };
    JobRow {
        id: j.id,
        title: j.title.clone(),
        client: j.client.clone(),
        client_href: super::clients::client_href(&j.client),
        freshness_note: j.freshness.explain(),
        days_open: j.days_open,
        rank: j.rank.as_ref().map(|r| r.rank.as_str()).unwrap_or(""),
        score: j
            .rank
            .as_ref()
            .map(|r| r.team.to_string())
            .unwrap_or_else(|| "–".into()),
        movement_class,
        movement_text,
        candidates: j.total_candidates(),
        stages,
        bottleneck,
        stalled: j.pipeline_status() == PipelineStatus::Stalled,
        needs_me: viewer_scores && j.needs_my_score,
        last_scored: j
            .rank
            .as_ref()
            .map(|r| ago(r.last_scored_at, now))
            .unwrap_or_else(|| "never".into()),
        fee: fee_text(j.fee.as_ref()),
    }
}

/// The job list: what htmx swaps.
pub struct JobList {
    pub rows: Vec<JobRow>,
    pub total_open: usize,
    /// Jobs that pass the filters (on every page).
    pub matching: usize,
    /// Position of the first row shown (1-based; 0 when none).
    pub first: usize,
    pub needs_me: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
}

/// The header strip's two indicators.
pub struct FreshnessView {
    pub sync_text: String,
    /// "ok", "amber", "red" or "" (not configured).
    pub sync_class: &'static str,
    pub replication_text: String,
    pub replication_class: &'static str,
}

/// The freshness strip: amber when the last good sync is older than twice the
/// interval, red when the latest sync failed.
pub fn freshness_view(f: &Freshness, config: &Config, now: DateTime<Utc>) -> FreshnessView {
    let twice = chrono::Duration::from_std(config.sync_interval * 2)
        .unwrap_or(chrono::Duration::minutes(30));
    let (sync_text, sync_class) = if config.recruiterflow.api_key.is_none() {
        ("Recruiterflow not configured".to_string(), "")
    } else {
        match (&f.recruiterflow_latest, &f.recruiterflow_ok) {
            (Some(last), _) if last.status == "failed" => (
                format!(
                    "Recruiterflow sync failed {}",
                    ago(last.finished_at.unwrap_or(last.started_at), now)
                ),
                "red",
            ),
            (_, Some(ok)) => {
                let at = ok.finished_at.unwrap_or(ok.started_at);
                (
                    format!("Recruiterflow synced {}", ago(at, now)),
                    if now - at > twice { "amber" } else { "ok" },
                )
            }
            _ => ("Recruiterflow not synced yet".to_string(), "amber"),
        }
    };
    let (replication_text, replication_class) = if config.supabase_db_url.is_none() {
        ("Supabase not configured".to_string(), "")
    } else {
        let last = f
            .last_push
            .map(|t| format!(", last push {}", ago(t, now)))
            .unwrap_or_else(|| ", never pushed".into());
        let dead = if f.outbox_dead > 0 {
            format!(", {} refused", f.outbox_dead)
        } else {
            String::new()
        };
        (
            format!(
                "{} change{} waiting for Supabase{last}{dead}",
                f.outbox_pending,
                if f.outbox_pending == 1 { "" } else { "s" }
            ),
            if f.outbox_dead > 0 {
                "red"
            } else if f.outbox_pending > 0 {
                "amber"
            } else {
                "ok"
            },
        )
    };
    FreshnessView {
        sync_text,
        sync_class,
        replication_text,
        replication_class,
    }
}

/// The filter form's current values, echoed back.
pub struct FilterForm {
    pub q: String,
    pub client: String,
    pub rank: String,
    pub min_days: String,
    pub max_days: String,
    pub pipeline: String,
    pub needs: bool,
    pub sort: &'static str,
    pub reverse: bool,
    pub clients: Vec<String>,
    /// Whether "More filters" starts open (one of its filters is in use).
    pub more_open: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    fresh: FreshnessView,
    sync: super::sync::SyncView,
    form: FilterForm,
    list: JobList,
}

#[derive(Template)]
#[template(path = "partials/job_list.html")]
struct JobListFragment {
    list: JobList,
}

async fn dashboard_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    headers: HeaderMap,
    Query(params): Query<DashboardParams>,
) -> Result<Response> {
    let query = params.to_query()?;
    let page = params.page()?;
    let now = store::now();
    let viewer = session.user.id.clone();
    let cache = state.dashboard.clone();
    let stamp = state.store.read_stamp();
    let view = match cache.recent_view(&stamp, &viewer, now) {
        Some(view) => view,
        None => {
            state
                .store
                .read(move |c| cache.view_confirmed(c, stamp, &viewer, now))
                .await?
        }
    };
    let jobs = view.jobs();
    let scores = session.user.scores;
    let total_open = jobs.len();
    let needs_me = if scores {
        jobs.iter().filter(|j| j.needs_my_score).count()
    } else {
        0
    };
    let shown = query.select(jobs);
    let matching = shown.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    // A page past the end (the list shrank since the link was made) shows the last one.
    let page = page.min(pages);
    let skip = (page - 1) * PAGE_SIZE;
    let list = JobList {
        rows: shown
            .iter()
            .skip(skip)
            .take(PAGE_SIZE)
            .map(|j| row(j, now, scores))
            .collect(),
        total_open,
        matching,
        first: if matching == 0 { 0 } else { skip + 1 },
        needs_me,
        page,
        pages,
        prev_href: (page > 1).then(|| params.href(page - 1)),
        next_href: (page < pages).then(|| params.href(page + 1)),
    };
    if is_htmx(&headers) {
        return render(&JobListFragment { list });
    }
    let fresh = freshness_view(view.freshness(), &state.config, now);
    let form = FilterForm {
        q: params.q.clone().unwrap_or_default(),
        client: params.client.clone().unwrap_or_default(),
        rank: params.rank.clone().unwrap_or_default(),
        min_days: params.min_days.clone().unwrap_or_default(),
        max_days: params.max_days.clone().unwrap_or_default(),
        pipeline: params.pipeline.clone().unwrap_or_default(),
        needs: query.needs_my_score,
        sort: query.sort.as_str(),
        reverse: query.reverse,
        clients: view.clients().to_vec(),
        more_open: query.client.is_some()
            || query.min_days.is_some()
            || query.max_days.is_some()
            || query.pipeline.is_some()
            || query.reverse,
    };
    render(&DashboardPage {
        chrome: Chrome::for_session(&session, "dashboard"),
        fresh,
        sync: super::sync::SyncView::from_syncer(state.syncer.as_ref(), &session),
        form,
        list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_grouped_by_thousands_in_their_currencys_units() {
        let fee = |minor, c| fee_text(Some(&Money::new(minor, c)));
        assert_eq!(fee(4_500_000, Some("GBP")), "GBP 45,000");
        assert_eq!(fee(123_456_700, Some("EUR")), "EUR 1,234,567");
        assert_eq!(fee(1_250_000, Some("JPY")), "JPY 1,250,000");
        assert_eq!(fee(1_250_500, Some("KWD")), "KWD 1,250.500");
        assert_eq!(fee(90_000, None), "900");
        assert_eq!(fee_text(None), "no fee set");
    }

    #[test]
    fn empty_form_fields_mean_no_filter_and_bad_ones_name_the_parameter() {
        let p = DashboardParams {
            q: Some(" ".into()),
            min_days: Some(String::new()),
            rank: Some("b".into()),
            needs: Some("1".into()),
            sort: Some("fee".into()),
            dir: Some("reverse".into()),
            ..Default::default()
        };
        let q = p.to_query().unwrap();
        assert_eq!(q.search, None);
        assert_eq!(q.min_days, None);
        assert_eq!(q.rank, Some(RankFilter::Rank(Rank::B)));
        assert!(q.needs_my_score && q.reverse);
        assert_eq!(q.sort, SortKey::Fee);
        let bad = DashboardParams {
            max_days: Some("-1".into()),
            ..Default::default()
        };
        assert!(bad.to_query().unwrap_err().to_string().contains("max_days"));
    }
}
