//! The job page `/jobs/{id}` and the scoring form `/jobs/{id}/score` (the id is the
//! Recruiterflow job id): [`page`] shows a job, its pipeline, scores and the chart of
//! its team score ([`chart`]) and its description ([`description`], sanitized);
//! [`score`] is the form, its submission and "Can't judge this one"; [`queue`] links
//! the jobs that need my score and answers `/queue` (the next job to score, or "All
//! caught up").

mod chart;
mod description;
mod freshness;
mod page;
mod queue;
mod score;

use std::collections::HashMap;

use axum::Router;
use chrono::{DateTime, Utc};

use super::dashboard::fee_text;
use super::pages::date;
use super::{AppState, Result, WebError};
use crate::domain::{Factor, Money, composite};
use crate::store::jobs::Job;
use crate::store::ranks::JobRank;
use crate::store::settings::SettingsVersion;
use crate::store::submissions::Submission;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(page::router())
        .merge(score::router())
        .merge(queue::router())
}

/// Parses the job id of a path: 400 when it is not a number.
pub fn job_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        WebError::BadRequest(format!(
            "{raw:?} is not a job id (Recruiterflow job ids are whole numbers)"
        ))
    })
}

/// What the job page and the scoring form show about a job.
pub struct JobView {
    pub id: i64,
    pub title: String,
    pub client: String,
    /// The client's page.
    pub client_href: String,
    pub status: String,
    pub is_open: bool,
    pub opened: String,
    pub days_open: i64,
    pub fee: String,
    pub rank: &'static str,
    pub team_score: String,
    pub scorers_counted: u32,
    pub last_scored: String,
}

/// A job's fee as money, when it has one.
fn job_fee(job: &Job) -> Option<Money> {
    Money::from_parts(job.fee_minor, job.fee_currency.as_deref())
}

fn job_view(job: &Job, rank: &Option<JobRank>, now: DateTime<Utc>) -> JobView {
    JobView {
        id: job.id,
        title: job.title.clone(),
        client: job.client.clone(),
        client_href: super::clients::client_href(&job.client),
        status: job.status.clone(),
        is_open: job.is_open,
        opened: date(job.opened()),
        days_open: job.days_open(now),
        fee: fee_text(job_fee(job).as_ref()),
        rank: rank.as_ref().map(|r| r.rank.as_str()).unwrap_or(""),
        team_score: rank
            .as_ref()
            .map(|r| r.team.to_string())
            .unwrap_or_else(|| "not scored yet".into()),
        scorers_counted: rank.as_ref().map(|r| r.team.count()).unwrap_or(0),
        last_scored: rank
            .as_ref()
            .map(|r| date(r.last_scored_at))
            .unwrap_or_else(|| "never".into()),
    }
}

/// A factor's level in a listed submission, with the factor's name (the label a
/// table cell carries when a phone shows the row as a card); shows as the level.
pub struct FactorLevel {
    pub label: &'static str,
    pub level: u8,
}

impl std::fmt::Display for FactorLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.level)
    }
}

/// A submission as the job page and the scoring form list it.
pub struct ScoreRow {
    pub scorer: String,
    pub date: String,
    /// In the order of [`Factor::ALL`].
    pub levels: [FactorLevel; 4],
    pub composite: String,
    pub comment: String,
    pub overridden: String,
}

/// `names`: user id -> name; the composite is under the weights in force.
pub(crate) fn score_row(
    s: &Submission,
    names: &HashMap<String, String>,
    current: &SettingsVersion,
) -> ScoreRow {
    let composite = s
        .scores()
        .map(|f| composite(&f, &current.settings.weights).to_string())
        .unwrap_or_default();
    let mut overridden = Vec::new();
    if s.time_open_overridden {
        overridden.push("time open");
    }
    if s.fee_size_overridden {
        overridden.push("fee size");
    }
    ScoreRow {
        scorer: names
            .get(&s.scorer_id)
            .cloned()
            .unwrap_or_else(|| "former user".into()),
        date: date(s.submitted_at),
        levels: Factor::ALL.map(|f| FactorLevel {
            label: f.heading(),
            level: match f {
                Factor::ClientEngagement => s.client_engagement,
                Factor::SearchDifficulty => s.search_difficulty,
                Factor::TimeOpen => s.time_open,
                Factor::FeeSize => s.fee_size,
            },
        }),
        composite,
        comment: s.comment.clone().unwrap_or_default(),
        overridden: overridden.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_must_be_positive_numbers() {
        assert_eq!(job_id("4101").unwrap(), 4101);
        for bad in ["abc", "-3", "0", "1.5", ""] {
            assert!(matches!(job_id(bad), Err(WebError::BadRequest(_))), "{bad}");
        }
    }
}
