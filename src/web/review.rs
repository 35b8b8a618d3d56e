//! The CEO's review `/review`: how each scorer scores compared with the rest of the
//! team (rounds are a job in a week), pointing at a scorer whose scores stand apart
//! ([`scorers`]), the A/B/C distribution per week as an SVG chart with the same figures
//! in a table, participation week by week ([`super::participation`]) and the outcome
//! report of the jobs closed in a period (`?from=&to=`, [`super::outcomes`]).

mod scorers;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use self::scorers::{ScorersView, scorers_view};
use super::auth::RequireCeo;
use super::outcomes::{OutcomeParams, OutcomesSection, outcomes_section};
use super::pages::{Chrome, Query, day, day_short, render};
use super::participation::{ParticipationSection, participation_section};
use super::{AppState, Result};
use crate::domain::{ReviewSubmission, composite, review_scorers, week_of};
use crate::store::review::{self, RankMark};
use crate::store::{self, settings, users};

pub fn router() -> Router<AppState> {
    Router::new().route("/review", get(review_page))
}

/// How many weeks the distribution chart shows at most.
pub const WEEKS_SHOWN: usize = 12;

/// One week's counts of open jobs per rank, as at the end of the week.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekCounts {
    pub week: NaiveDate,
    pub a: usize,
    pub b: usize,
    pub c: usize,
}

impl WeekCounts {
    /// The week as the page names it: "23 Nov 2026".
    pub fn label(&self) -> String {
        day(self.week)
    }
}

/// Counts per rank for each of the last `weeks` weeks up to `now`: each job's latest
/// rank at the end of the week, leaving out jobs closed before the week began.
pub fn distribution(changes: &[RankMark], now: DateTime<Utc>, weeks: usize) -> Vec<WeekCounts> {
    let Some(first) = changes.iter().map(|c| c.at).min() else {
        return Vec::new();
    };
    let first_week = week_of(first);
    let this_week = week_of(now);
    let mut out = Vec::new();
    let mut week = this_week;
    while week >= first_week && out.len() < weeks {
        let start = week.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let end = (week + Duration::days(7))
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc());
        if let (Some(start), Some(end)) = (start, end) {
            let mut latest: HashMap<i64, &str> = HashMap::new();
            for m in changes {
                if m.at < end && m.closed_at.is_none_or(|c| c >= start) {
                    latest.insert(m.job_id, m.rank.as_str());
                }
            }
            let count = |r: &str| latest.values().filter(|v| **v == r).count();
            out.push(WeekCounts {
                week,
                a: count("A"),
                b: count("B"),
                c: count("C"),
            });
        }
        week -= Duration::days(7);
    }
    out.reverse();
    out
}

/// One stacked segment of a week's bar.
pub struct Segment {
    pub letter: &'static str,
    pub count: usize,
    pub y: i64,
    pub height: i64,
    /// Whether the segment is tall enough to carry its letter and count.
    pub labelled: bool,
    pub label_y: i64,
}

pub struct Bar {
    pub x: i64,
    pub width: i64,
    pub label_x: i64,
    pub week: String,
    pub title: String,
    pub segments: Vec<Segment>,
}

/// The distribution chart's geometry (a 600 x 240 SVG).
pub struct DistributionChart {
    pub bars: Vec<Bar>,
    pub max: usize,
    pub desc: String,
    pub weeks: Vec<WeekCounts>,
}

const W: f64 = 600.0;
const H: f64 = 240.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;
const LEFT: f64 = 16.0;

fn chart(weeks: Vec<WeekCounts>) -> Option<DistributionChart> {
    if weeks.is_empty() {
        return None;
    }
    let max = weeks
        .iter()
        .map(|w| w.a + w.b + w.c)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (W - 2.0 * LEFT) / weeks.len() as f64;
    let width = (slot * 0.7).max(4.0);
    let plot = H - TOP - BOTTOM;
    let bars = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let x = LEFT + i as f64 * slot + (slot - width) / 2.0;
            let mut base = H - BOTTOM;
            let mut segments = Vec::new();
            for (letter, count) in [("C", w.c), ("B", w.b), ("A", w.a)] {
                if count == 0 {
                    continue;
                }
                let h = count as f64 / max as f64 * plot;
                let y = base - h;
                segments.push(Segment {
                    letter,
                    count,
                    y: y.round() as i64,
                    height: h.round().max(1.0) as i64,
                    labelled: h >= 14.0 && width >= 24.0,
                    label_y: (y + h / 2.0 + 4.0).round() as i64,
                });
                base = y;
            }
            Bar {
                x: x.round() as i64,
                width: width.round() as i64,
                label_x: (x + width / 2.0).round() as i64,
                week: day_short(w.week),
                title: format!("Week of {}: A {}, B {}, C {}", day(w.week), w.a, w.b, w.c),
                segments,
            }
        })
        .collect();
    let last = weeks.last()?;
    let desc = format!(
        "Stacked bars, one per week from {} to {}: open jobs ranked A, B and C at the end of each week. This week: A {}, B {}, C {}.",
        day(weeks[0].week),
        day(last.week),
        last.a,
        last.b,
        last.c
    );
    Some(DistributionChart {
        bars,
        max,
        desc,
        weeks,
    })
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    chrome: Chrome,
    scorers: ScorersView,
    total_submissions: usize,
    chart: Option<DistributionChart>,
    participation: ParticipationSection,
    outcomes: OutcomesSection,
}

async fn review_page(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Query(period): Query<OutcomeParams>,
) -> Result<Response> {
    let outcomes = outcomes_section(&state, &period).await?;
    let participation = participation_section(&state).await?;
    let (subs, changes, current, all_users) = state
        .store
        .read(|c| {
            Ok((
                review::named_submissions(c)?,
                review::rank_changes(c)?,
                settings::current_settings(c)?,
                users::list_users(c)?,
            ))
        })
        .await?;
    let now = store::now();
    let weights = &current.settings.weights;
    let names: HashMap<&str, &str> = all_users
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str()))
        .collect();
    let input: Vec<ReviewSubmission> = subs
        .iter()
        .filter_map(|n| {
            let s = &n.submission;
            let scores = s.scores().ok()?;
            Some(ReviewSubmission {
                submission_id: s.id.clone(),
                scorer_id: s.scorer_id.clone(),
                job_id: s.job_id,
                round: week_of(s.submitted_at),
                composite: composite(&scores, weights),
                scores,
            })
        })
        .collect();
    let scorers = scorers_view(review_scorers(&input), &subs, &names, now);
    render(&ReviewPage {
        chrome: Chrome::for_session(&session, "review"),
        total_submissions: subs.len(),
        scorers,
        chart: chart(distribution(&changes, now, WEEKS_SHOWN)),
        participation,
        outcomes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn distribution_carries_ranks_forward_and_drops_closed_jobs() {
        let changes = vec![
            RankMark {
                job_id: 1,
                at: at("2026-11-10T10:00:00Z"),
                rank: "A".into(),
                closed_at: None,
            },
            RankMark {
                job_id: 2,
                at: at("2026-11-11T10:00:00Z"),
                rank: "C".into(),
                closed_at: Some(at("2026-11-20T00:00:00Z")),
            },
            RankMark {
                job_id: 1,
                at: at("2026-11-18T10:00:00Z"),
                rank: "B".into(),
                closed_at: None,
            },
        ];
        let d = distribution(&changes, at("2026-11-25T12:00:00Z"), 12);
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].a, d[0].b, d[0].c), (1, 0, 1));
        assert_eq!(
            (d[1].a, d[1].b, d[1].c),
            (0, 1, 1),
            "job 2 closed during the week"
        );
        assert_eq!(
            (d[2].a, d[2].b, d[2].c),
            (0, 1, 0),
            "job 2 closed before the week"
        );
    }
}
