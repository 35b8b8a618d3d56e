//! The job list's rows and the counts above it: a [`JobRow`] per job (its movement,
//! its pipeline as a bar of [`StageBar`]s, why it is stalled, its fee), the quick
//! filters ([`CountLink`]) that each toggle one filter and keep the others, and the
//! [`JobList`] that the page and the htmx fragment render.

use chrono::{DateTime, Utc};

use super::DashboardParams;
use crate::config::Config;
use crate::domain::{
    DashboardCounts, DashboardJob, DashboardQuery, Money, Movement, PipelineStatus, Rank,
    RankFilter, StageCount,
};
use crate::web::pages::ago;

/// One stage in a job's pipeline: its name and candidates in words, and its segment
/// of the bar.
pub struct StageBar {
    pub name: String,
    pub candidates: i64,
    /// CSS classes: relative width `w1`..`w10`, and `stalled` for the stage that makes
    /// the pipeline stalled.
    pub class: String,
    pub stalled: bool,
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
    /// How many scorers' latest scores the team score rests on (0 while unscored).
    pub scorers: u32,
    pub movement_class: &'static str,
    pub movement_text: String,
    pub candidates: i64,
    pub stages: Vec<StageBar>,
    /// Why the pipeline is stalled, in words; empty when it is not.
    pub stalled_text: String,
    pub needs_me: bool,
    pub last_scored: String,
    pub fee: String,
    /// The job's page in Recruiterflow, when `RECRUITERFLOW_JOB_URL` is set.
    pub recruiterflow_url: Option<String>,
}

/// A fee as pages show it ([`Money`]'s format: "GBP 45,000", "JPY 1,250,000",
/// "KWD 1,250.500"), or "no fee set".
pub fn fee_text(fee: Option<&Money>) -> String {
    fee.map_or_else(|| "no fee set".into(), Money::to_string)
}

/// Why a pipeline is stalled, in words, from its stalled stage
/// ([`crate::domain::PipelineSnapshot::stalled_stage`]): "Stalled: Interview averages 16 days (stalled
/// from 14)"; empty when it is not stalled.
pub fn stalled_text(stalled: Option<&StageCount>, stalled_after_days: u32) -> String {
    stalled.map_or_else(String::new, |b| {
        format!(
            "Stalled: {} averages {:.0} days (stalled from {stalled_after_days})",
            b.stage,
            b.avg_days_in_stage.unwrap_or(0.0)
        )
    })
}

/// What a row needs besides its job.
pub(super) struct RowContext<'a> {
    pub(super) now: DateTime<Utc>,
    pub(super) viewer_scores: bool,
    pub(super) stalled_after_days: u32,
    pub(super) config: &'a Config,
}

pub(super) fn row(j: &DashboardJob, cx: &RowContext) -> JobRow {
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
    let (stages, stalled_text) = match &j.pipeline {
        Some(p) => {
            let total = p.total_candidates().max(1);
            let stalled = p.stalled_stage(cx.stalled_after_days);
            let stages = p
                .stages
                .iter()
                .filter(|s| s.candidates > 0)
                .map(|s| {
                    let w = ((s.candidates * 10 + total - 1) / total).clamp(1, 10);
                    let is_stalled = stalled.is_some_and(|b| b.stage == s.stage);
                    StageBar {
                        name: s.stage.clone(),
                        candidates: s.candidates,
                        class: format!("w{w}{}", if is_stalled { " stalled" } else { "" }),
                        stalled: is_stalled,
                    }
                })
                .collect();
            (stages, stalled_text(stalled, cx.stalled_after_days))
        }
        None => (Vec::new(), String::new()),
    };
    JobRow {
        id: j.id,
        title: j.title.clone(),
        client: j.client.clone(),
        client_href: crate::web::clients::client_href(&j.client),
        freshness_note: j.freshness.explain(&j.expired_scorers),
        days_open: j.days_open,
        rank: j.rank.as_ref().map(|r| r.rank.as_str()).unwrap_or(""),
        score: j
            .rank
            .as_ref()
            .map(|r| r.team.to_string())
            .unwrap_or_else(|| "–".into()),
        scorers: j.rank.as_ref().map_or(0, |r| r.team.count()),
        movement_class,
        movement_text,
        candidates: j.total_candidates(),
        stages,
        stalled_text,
        needs_me: cx.viewer_scores && j.needs_my_score,
        last_scored: j
            .rank
            .as_ref()
            .map(|r| ago(r.last_scored_at, cx.now))
            .unwrap_or_else(|| "never".into()),
        fee: fee_text(j.fee.as_ref()),
        recruiterflow_url: cx
            .config
            .recruiterflow
            .job_url
            .as_ref()
            .map(|u| u.for_job(j.id)),
    }
}

/// A quick filter above the list: a count that is a link to the jobs it counts.
pub struct CountLink {
    /// What it counts, in words ("A", "Needs my score").
    pub label: &'static str,
    pub count: usize,
    /// The view with this filter on (or off again, when it is the one in use).
    pub href: String,
    /// The filter is in use: the link turns it off.
    pub on: bool,
    /// A class for its look (`rank-A`, `needs`, `stalled`).
    pub class: &'static str,
    /// What following the link does, for screen readers and the tooltip.
    pub title: String,
}

/// The counts above the list, each honouring every filter in use but its own (see
/// [`DashboardCounts`]).
pub(super) fn count_links(
    params: &DashboardParams,
    query: &DashboardQuery,
    counts: &DashboardCounts,
    viewer_scores: bool,
    stalled_after_days: u32,
) -> Vec<CountLink> {
    let mut links = Vec::new();
    for (rank, label, count, class) in [
        (Some(Rank::A), "A", counts.a, "rank-A"),
        (Some(Rank::B), "B", counts.b, "rank-B"),
        (Some(Rank::C), "C", counts.c, "rank-C"),
        (None, "Not scored", counts.unscored, "rank-none"),
    ] {
        let filter = rank.map_or(RankFilter::Unscored, RankFilter::Rank);
        let on = query.rank == Some(filter);
        if rank.is_none() && count == 0 && !on {
            continue;
        }
        let value = rank.map_or("unscored", Rank::as_str);
        links.push(CountLink {
            label,
            count,
            href: params.href_with(|p| p.rank = (!on).then(|| value.to_string())),
            on,
            class,
            title: match (on, rank) {
                (true, _) => "Show every rank again".into(),
                (false, Some(r)) => format!("Show only the {} jobs", r.as_str()),
                (false, None) => "Show only the jobs nobody has scored yet".into(),
            },
        });
    }
    if viewer_scores {
        let on = query.needs_my_score;
        links.push(CountLink {
            label: "Needs my score",
            count: counts.needs_my_score,
            href: params.href_with(|p| p.needs = (!on).then(|| "1".to_string())),
            on,
            class: "needs",
            title: if on {
                "Show the jobs I scored recently too".into()
            } else {
                "Show only the jobs that need my score".into()
            },
        });
    }
    let on = query.pipeline == Some(PipelineStatus::Stalled);
    links.push(CountLink {
        label: "Stalled",
        count: counts.stalled,
        href: params.href_with(|p| p.pipeline = (!on).then(|| "stalled".to_string())),
        on,
        class: "stalled",
        title: if on {
            "Show every pipeline again".into()
        } else {
            format!(
                "Show only the stalled pipelines: the candidates of the slowest stage have waited {stalled_after_days} days or more on average"
            )
        },
    });
    links
}

/// The job list: what htmx swaps.
pub struct JobList {
    pub rows: Vec<JobRow>,
    pub counts: Vec<CountLink>,
    /// The `stalled_after_days` setting, to explain "stalled".
    pub stalled_after_days: u32,
    pub total_open: usize,
    /// Jobs that pass the filters (on every page).
    pub matching: usize,
    /// Position of the first row shown (1-based; 0 when none).
    pub first: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    /// Asked for a page past the end: (that page, the last page's address).
    pub beyond: Option<(usize, String)>,
    /// This view's query string (without the page), for the CSV link.
    pub query: String,
    /// This view's query string with its page, carried by the job links so the job
    /// page's "← Dashboard" returns to it.
    pub job_query: String,
}
