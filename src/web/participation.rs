//! Participation over time for the CEO: each week, each scorer's done and due jobs
//! (as [`crate::domain::Participation`] defines them), as a table and a line chart of
//! the share done, in its own section of the review page. The JSON API has the same
//! figures at `GET /api/participation`.

use super::line_chart::{LineChart, line_chart};
use super::pages::{day, day_short};
use super::{AppState, Result};
use crate::domain::share_text;
use crate::store::{self, participation};

/// How many weeks the review page shows.
pub const WEEKS_SHOWN: u32 = 12;

/// One week of the table: a cell per scorer ("3 of 4", or "–" when nothing was due).
pub struct WeekRow {
    pub week: String,
    pub in_progress: bool,
    pub cells: Vec<Cell>,
}

/// One scorer's week.
pub struct Cell {
    pub scorer: String,
    pub text: String,
    /// Fewer done than due in a finished week.
    pub short: bool,
}

/// The review page's participation section.
pub struct ParticipationSection {
    pub scorers: Vec<String>,
    /// Newest week first.
    pub weeks: Vec<WeekRow>,
    pub chart: Option<LineChart>,
}

/// Participation in the last [`WEEKS_SHOWN`] weeks, the week in progress included.
pub async fn participation_section(state: &AppState) -> Result<ParticipationSection> {
    let now = store::now();
    let report = state
        .store
        .read(move |c| participation::participation(c, WEEKS_SHOWN, now))
        .await?;
    let scorers: Vec<String> = report.users.iter().map(|u| u.name.clone()).collect();
    let columns: Vec<String> = report.weeks.iter().map(|w| day_short(w.week)).collect();
    // Per scorer, per week: (done, due) when they were counted that week.
    let figures: Vec<Vec<Option<(usize, usize)>>> = report
        .users
        .iter()
        .map(|u| {
            report
                .weeks
                .iter()
                .map(|w| {
                    w.scorers
                        .iter()
                        .find(|s| s.scorer_id == u.id)
                        .map(|s| (s.done_count(), s.due_count()))
                })
                .collect()
        })
        .collect();
    let series = report
        .users
        .iter()
        .zip(&figures)
        .map(|(u, weeks)| {
            let values = weeks
                .iter()
                .zip(&report.weeks)
                .map(|(f, w)| {
                    f.filter(|(_, due)| *due > 0).map(|(done, due)| {
                        (
                            done as f64 * 100.0 / due as f64,
                            format!(
                                "week of {}: {} done{}",
                                day(w.week),
                                share_text(done, due),
                                if w.complete { "" } else { " so far" }
                            ),
                        )
                    })
                })
                .collect();
            (u.name.clone(), values)
        })
        .collect();
    let chart = line_chart(
        "Share of due jobs each scorer scored, week by week".into(),
        format!(
            "One line per scorer ({}): the share of the jobs due that they scored each week, 0 to 100%; the last week is in progress. The table below has the counts.",
            scorers.join(", ")
        ),
        &columns,
        series,
        (0.0, 100.0),
        &[0.0, 50.0, 100.0].map(|v| (v, format!("{v:.0}%"))),
    );
    let weeks = report
        .weeks
        .iter()
        .enumerate()
        .rev()
        .map(|(i, w)| WeekRow {
            week: day(w.week),
            in_progress: !w.complete,
            cells: report
                .users
                .iter()
                .zip(&figures)
                .map(|(u, f)| Cell {
                    scorer: u.name.clone(),
                    text: match f[i] {
                        Some((_, 0)) | None => "–".into(),
                        Some((done, due)) => share_text(done, due),
                    },
                    short: w.complete && f[i].is_some_and(|(done, due)| done < due),
                })
                .collect(),
        })
        .collect();
    Ok(ParticipationSection {
        scorers,
        weeks,
        chart,
    })
}
