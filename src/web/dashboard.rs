//! The dashboard `/`: every open job ranked, with filters and sorts carried in the
//! query string. A plain GET form works without JavaScript; with htmx the form
//! swaps only the job list (`partials/job_list.html`, the same partial the full page
//! includes, with the counts above the list and the pagers) and pushes the URL, so
//! links, reload and Back keep the view.
//!
//! Filter URLs carry only the filters in use: a plain form's empty fields (and the
//! default sort and order) are dropped by a redirect to the same view's short URL,
//! and `app.js` leaves them out of htmx's requests in the first place.
//!
//! This file holds the query parameters and their URLs, the integration problems and
//! freshness shown above the list, and the handler; the list's rows and the counts
//! above it are in [`rows`].

mod rows;

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;

use super::auth::CurrentUser;
use super::dashboard_pages::{Answer, PageKey, accepts_gzip};
use super::pages::{Chrome, Query, ago, is_htmx};
use super::{AppState, Result, WebError};
use crate::config::Config;
use crate::domain::{DashboardQuery, PipelineStatus, Rank, RankFilter, SortKey};
use crate::store::dashboard::Freshness;
use crate::store::{self};

pub use rows::{JobList, fee_text, stalled_text};
use rows::{RowContext, count_links, row};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard_page))
}

/// The dashboard's query string, as typed (empty fields from a plain form are fine).
#[derive(Debug, Default, Clone, Deserialize)]
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

/// Whether a query parameter's value says nothing: empty, or the default a form
/// always sends (the usual sort and order, the first page). The short URL drops it.
fn says_nothing(name: &str, value: &str) -> bool {
    let value = value.trim();
    value.is_empty()
        || matches!(
            (name, value),
            ("sort", "rank") | ("dir", "natural") | ("page", "1")
        )
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

    /// This view's query string (without `?`) for `page`, with only the parameters
    /// that say something (see [`says_nothing`]); empty for the plain dashboard.
    pub fn query_string(&self, page: usize) -> String {
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
            if let Some(v) = non_empty(value).filter(|v| !says_nothing(name, v)) {
                qs.append_pair(name, v);
            }
        }
        if page > 1 {
            qs.append_pair("page", &page.to_string());
        }
        qs.finish()
    }

    /// This view's address for `page`, keeping every filter that is set.
    pub fn href(&self, page: usize) -> String {
        with_query("/", &self.query_string(page))
    }

    /// The same view with `change` made to the filters, from its first page.
    fn href_with(&self, change: impl FnOnce(&mut DashboardParams)) -> String {
        let mut p = self.clone();
        change(&mut p);
        p.href(1)
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

    /// Where "← Dashboard" leads from a job opened from this view: the view itself
    /// when these parameters make a valid one, else the plain dashboard.
    pub fn back_href(&self) -> String {
        match (self.to_query(), self.page()) {
            (Ok(_), Ok(page)) => self.href(page),
            _ => "/".into(),
        }
    }
}

/// `path` with a query string, when there is one.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Whether a raw query string holds a parameter that says nothing (an empty field of
/// a plain form, the default sort): the page then redirects to the short URL.
fn has_noise(raw: &str) -> bool {
    url::form_urlencoded::parse(raw.as_bytes()).any(|(name, value)| says_nothing(&name, &value))
}

/// One thing wrong with the integrations, shown above the list.
pub struct Problem {
    pub id: &'static str,
    /// "amber" or "red".
    pub class: &'static str,
    pub text: String,
}

/// How long the last good Recruiterflow sync may be old before the data counts as
/// out of date for everyone (not only for the CEO).
pub const STALE_FOR_EVERYONE: chrono::Duration = chrono::Duration::days(1);

/// A Supabase backlog counts as stuck when a change has waited this long to be pushed
/// (pushes run every few seconds, with backoff up to 5 minutes while PostgreSQL is
/// down).
pub const BACKLOG_STUCK_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// What is wrong with the integrations, for this viewer; nothing when all is well.
/// The CEO sees every problem: a failed or late Recruiterflow sync, changes waiting
/// for Supabase for more than [`BACKLOG_STUCK_AFTER`], changes Supabase refused. Everyone sees what affects everyone: jobs that
/// may be out of date, because the last good Recruiterflow sync is more than a day
/// old (or there has been none and the latest failed).
pub fn integration_problems(
    f: &Freshness,
    config: &Config,
    now: DateTime<Utc>,
    is_ceo: bool,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if config.recruiterflow.api_key.is_some() {
        let last_ok = f
            .recruiterflow_ok
            .as_ref()
            .map(|ok| ok.finished_at.unwrap_or(ok.started_at));
        let failing = f
            .recruiterflow_latest
            .as_ref()
            .is_some_and(|l| l.status == "failed");
        let stale = match last_ok {
            Some(at) => now - at > STALE_FOR_EVERYONE,
            None => failing,
        };
        if stale {
            problems.push(Problem {
                id: "problem-stale",
                class: "red",
                text: match last_ok {
                    Some(at) => format!(
                        "Jobs may be out of date: the last good Recruiterflow sync was {}.",
                        ago(at, now)
                    ),
                    None => {
                        "Jobs may be out of date: Recruiterflow has not synced successfully yet."
                            .into()
                    }
                },
            });
        }
        if is_ceo {
            let fresh = freshness_view(f, config, now);
            if matches!(fresh.sync_class, "amber" | "red") {
                problems.push(Problem {
                    id: "problem-sync",
                    class: fresh.sync_class,
                    text: fresh.sync_text,
                });
            }
        }
    }
    if is_ceo && config.supabase_db_url.is_some() {
        let stuck = f
            .oldest_pending
            .is_some_and(|t| now - t > BACKLOG_STUCK_AFTER);
        if f.outbox_dead > 0 || stuck {
            let fresh = freshness_view(f, config, now);
            problems.push(Problem {
                id: "problem-replication",
                class: if f.outbox_dead > 0 { "red" } else { "amber" },
                text: fresh.replication_text,
            });
        }
    }
    problems
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

/// "Score my queue (N)": the whole queue's length and its first job.
pub struct QueueButton {
    pub count: usize,
    pub first: i64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    problems: Vec<Problem>,
    fresh: FreshnessView,
    is_ceo: bool,
    sync: super::sync::SyncView,
    form: FilterForm,
    queue: Option<QueueButton>,
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
    RawQuery(raw): RawQuery,
    Query(params): Query<DashboardParams>,
) -> Result<Response> {
    let query = params.to_query()?;
    let page = params.page()?;
    let htmx = is_htmx(&headers);
    if !htmx && raw.as_deref().is_some_and(has_noise) {
        // A plain form sends every field: show the same view under its short URL.
        return Ok(Redirect::to(&params.href(page)).into_response());
    }
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
    // The page's time texts are drawn at the whole second, so an answer rendered in
    // that second is the same for every request of it (see `dashboard_pages`).
    let shown_at = now.trunc_subsecs(0);
    let sync = (!htmx).then(|| super::sync::SyncView::from_syncer(state.syncer.as_ref(), &session));
    let gzip = accepts_gzip(&headers);
    let key = session.flash.is_none().then(|| PageKey {
        user_id: session.user.id.clone(),
        name: session.user.name.clone(),
        role: session.user.role,
        scores: session.user.scores,
        csrf: session.csrf.clone(),
        version: view.version(),
        second: shown_at.timestamp(),
        query: raw.clone().unwrap_or_default(),
        htmx,
        sync: sync.as_ref().map(|s| (s.running, s.text.clone())),
        gzip,
    });
    if let Some(answer) = key.as_ref().and_then(|k| state.dashboard_pages.get(k)) {
        return Ok(answer.response());
    }
    let (status, html) = render_dashboard(
        &state, &session, &view, &params, &query, page, shown_at, sync,
    )?;
    let answer = Answer::new(status, html, gzip);
    let res = answer.response();
    if let Some(key) = key {
        state.dashboard_pages.put(key, answer);
    }
    Ok(res)
}

/// The dashboard's HTML (the whole page, or only the list when `sync` is `None`: the
/// htmx fragment) and its status, as `session`'s viewer sees `view` at `now`.
#[allow(clippy::too_many_arguments)]
fn render_dashboard(
    state: &AppState,
    session: &super::auth::Session,
    view: &store::dashboard::DashboardView,
    params: &DashboardParams,
    query: &DashboardQuery,
    page: usize,
    now: DateTime<Utc>,
    sync: Option<super::sync::SyncView>,
) -> Result<(StatusCode, String)> {
    let jobs = view.jobs();
    let scores = session.user.scores;
    let stalled_after_days = view.stalled_after_days();
    let (shown, counts) = query.select_counted(jobs);
    let matching = shown.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    // A page past the end (the list shrank since the link was made) lists nothing
    // and says so, with a link to the last page.
    let beyond = (page > pages).then(|| (page, params.href(pages)));
    let skip = (page.min(pages + 1) - 1) * PAGE_SIZE;
    let cx = RowContext {
        now,
        viewer_scores: scores,
        stalled_after_days,
        config: &state.config,
    };
    let list = JobList {
        rows: shown
            .iter()
            .skip(skip)
            .take(PAGE_SIZE)
            .map(|j| row(j, &cx))
            .collect(),
        counts: count_links(params, query, &counts, scores, stalled_after_days),
        stalled_after_days,
        total_open: jobs.len(),
        matching,
        first: if matching == 0 || beyond.is_some() {
            0
        } else {
            skip + 1
        },
        page,
        pages,
        prev_href: (page > 1 && page <= pages).then(|| params.href(page - 1)),
        next_href: (page < pages).then(|| params.href(page + 1)),
        beyond,
        query: params.query_string(1),
        job_query: params.query_string(page.min(pages)),
    };
    let status = if list.beyond.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let Some(sync) = sync else {
        return Ok((status, JobListFragment { list }.render()?));
    };
    let is_ceo = session.user.role.administers();
    let freshness = view.freshness();
    let queue = if scores {
        let mut due = jobs.iter().filter(|j| j.needs_my_score);
        due.next().map(|first| QueueButton {
            count: 1 + due.count(),
            first: first.id,
        })
    } else {
        None
    };
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
    let html = DashboardPage {
        chrome: Chrome::for_session(session, "dashboard"),
        problems: integration_problems(freshness, &state.config, now, is_ceo),
        fresh: freshness_view(freshness, &state.config, now),
        is_ceo,
        sync,
        form,
        queue,
        list,
    }
    .render()?;
    Ok((status, html))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DashboardCounts, Money};

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

    #[test]
    fn short_urls_keep_only_the_filters_that_say_something() {
        let raw = "q=&client=&rank=A&min_days=&max_days=&pipeline=&sort=rank&dir=natural&page=1";
        assert!(has_noise(raw));
        assert!(!has_noise("rank=A&sort=days"));
        assert!(!has_noise(""));
        let p: DashboardParams = serde_urlencoded_like(raw);
        assert_eq!(p.href(1), "/?rank=A");
        assert_eq!(p.href(3), "/?rank=A&page=3");
        assert_eq!(DashboardParams::default().href(1), "/");
        let p: DashboardParams = serde_urlencoded_like("q=data+eng&sort=days&dir=reverse");
        assert_eq!(p.query_string(1), "q=data+eng&sort=days&dir=reverse");
        // Back from a job: the view it came from, or the plain dashboard when the
        // parameters make no valid view.
        let p: DashboardParams = serde_urlencoded_like("rank=B&page=2");
        assert_eq!(p.back_href(), "/?rank=B&page=2");
        let p: DashboardParams = serde_urlencoded_like("rank=Z");
        assert_eq!(p.back_href(), "/");
    }

    fn serde_urlencoded_like(raw: &str) -> DashboardParams {
        let mut p = DashboardParams::default();
        for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
            let v = Some(v.into_owned());
            match &*k {
                "q" => p.q = v,
                "client" => p.client = v,
                "rank" => p.rank = v,
                "min_days" => p.min_days = v,
                "max_days" => p.max_days = v,
                "pipeline" => p.pipeline = v,
                "needs" => p.needs = v,
                "sort" => p.sort = v,
                "dir" => p.dir = v,
                "page" => p.page = v,
                _ => {}
            }
        }
        p
    }

    #[test]
    fn count_links_toggle_their_own_filter_and_keep_the_others() {
        let p = serde_urlencoded_like("q=eng&rank=B&page=2");
        let q = p.to_query().unwrap();
        let counts = DashboardCounts {
            a: 2,
            b: 3,
            c: 0,
            unscored: 0,
            needs_my_score: 1,
            stalled: 4,
        };
        let links = count_links(&p, &q, &counts, true, 14);
        let by = |label: &str| links.iter().find(|l| l.label == label).unwrap();
        assert_eq!(by("A").href, "/?q=eng&rank=A");
        assert!(by("B").on);
        assert_eq!(by("B").href, "/?q=eng", "the filter in use turns off");
        assert_eq!(by("C").count, 0);
        assert!(
            links.iter().all(|l| l.label != "Not scored"),
            "no unscored jobs, no link"
        );
        assert_eq!(by("Needs my score").href, "/?q=eng&rank=B&needs=1");
        assert_eq!(by("Stalled").href, "/?q=eng&rank=B&pipeline=stalled");
        assert!(by("Stalled").title.contains("14 days or more"));
        let read_only = count_links(&p, &q, &counts, false, 14);
        assert!(read_only.iter().all(|l| l.label != "Needs my score"));
    }

    #[test]
    fn integration_problems_show_to_the_ceo_and_stale_data_to_everyone() {
        use crate::store::sync_runs::SyncRun;
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let run = |status: &str, hours_ago: i64| SyncRun {
            id: 1,
            kind: "recruiterflow".into(),
            started_at: now - chrono::Duration::hours(hours_ago),
            finished_at: Some(now - chrono::Duration::hours(hours_ago)),
            status: status.into(),
            jobs_seen: 0,
            jobs_changed: 0,
            jobs_closed: 0,
            errors: 0,
            message: None,
            report: None,
        };
        let mut config = Config::for_data_dir("/tmp/unused");
        let ids = |f: &Freshness, ceo: bool, c: &Config| {
            integration_problems(f, c, now, ceo)
                .iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        };
        let fresh = Freshness {
            recruiterflow_latest: Some(run("ok", 0)),
            recruiterflow_ok: Some(run("ok", 0)),
            outbox_pending: 3,
            outbox_dead: 0,
            last_push: Some(now),
            oldest_pending: Some(now - chrono::Duration::minutes(9)),
        };
        // Nothing configured: nothing to say.
        assert!(ids(&fresh, true, &config).is_empty());
        config.recruiterflow.api_key = Some("key".to_string().into());
        config.supabase_db_url = Some("postgresql://u@h/db".to_string().into());
        assert!(ids(&fresh, true, &config).is_empty(), "all is well");
        // A failed sync an hour after a good one: the CEO is told, the others not.
        let failed = Freshness {
            recruiterflow_latest: Some(run("failed", 0)),
            recruiterflow_ok: Some(run("ok", 1)),
            ..fresh.clone()
        };
        assert_eq!(ids(&failed, true, &config), ["problem-sync"]);
        assert!(ids(&failed, false, &config).is_empty());
        // Failing for more than a day: the data is stale for everyone.
        let stale = Freshness {
            recruiterflow_ok: Some(run("ok", 25)),
            ..failed.clone()
        };
        assert_eq!(ids(&stale, false, &config), ["problem-stale"]);
        assert_eq!(
            ids(&stale, true, &config),
            ["problem-stale", "problem-sync"]
        );
        let never = Freshness {
            recruiterflow_ok: None,
            ..failed.clone()
        };
        assert_eq!(ids(&never, false, &config), ["problem-stale"]);
        // Supabase: a stuck backlog or refused changes, for the CEO only.
        let stuck = Freshness {
            oldest_pending: Some(now - chrono::Duration::minutes(11)),
            ..fresh.clone()
        };
        assert_eq!(ids(&stuck, true, &config), ["problem-replication"]);
        assert!(ids(&stuck, false, &config).is_empty());
        let refused = Freshness {
            outbox_dead: 1,
            ..fresh
        };
        let problems = integration_problems(&refused, &config, now, true);
        assert_eq!(problems[0].class, "red");
        assert!(
            problems[0].text.contains("1 refused"),
            "{}",
            problems[0].text
        );
    }
}
