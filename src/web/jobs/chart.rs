//! The geometry of the job page's chart: the team score over time as SVG coordinates
//! (600 x 200, scores 1 to 5), with the A and B thresholds as lines.

use crate::store::ranks::RankHistoryRow;
use crate::store::settings::SettingsVersion;
use crate::web::pages::date;

/// One point of the team-score chart.
pub struct ChartPoint {
    pub x: i64,
    pub y: i64,
    pub label: String,
}

/// The team score over time as SVG coordinates.
pub struct Chart {
    pub points: String,
    pub dots: Vec<ChartPoint>,
    pub a_y: i64,
    pub b_y: i64,
    pub first: String,
    pub last: String,
    /// Horizontal grid lines at scores 1-5: (y, label).
    pub ticks: Vec<(i64, u8)>,
}

const CHART_W: f64 = 600.0;
const CHART_H: f64 = 200.0;
const PAD: f64 = 28.0;

fn y_of(score: f64) -> i64 {
    (PAD + (5.0 - score.clamp(1.0, 5.0)) / 4.0 * (CHART_H - 2.0 * PAD)).round() as i64
}

/// The chart of a job's rank history (oldest first); `None` before its first score.
pub fn chart(history: &[RankHistoryRow], current: &SettingsVersion) -> Option<Chart> {
    let first = history.first()?;
    let last = history.last()?;
    let span = (last.at - first.at).num_seconds().max(1) as f64;
    let dots: Vec<ChartPoint> = history
        .iter()
        .map(|h| {
            let x = if history.len() == 1 {
                CHART_W / 2.0
            } else {
                PAD + (h.at - first.at).num_seconds() as f64 / span * (CHART_W - 2.0 * PAD)
            };
            ChartPoint {
                x: x.round() as i64,
                y: y_of(h.team.as_f64()),
                label: format!("{}: {} ({})", date(h.at), h.team, h.rank.as_str()),
            }
        })
        .collect();
    let points = dots
        .iter()
        .map(|d| format!("{},{}", d.x, d.y))
        .collect::<Vec<_>>()
        .join(" ");
    let t = &current.settings.thresholds;
    Some(Chart {
        points,
        dots,
        a_y: y_of(f64::from(t.a_hundredths()) / 100.0),
        b_y: y_of(f64::from(t.b_hundredths()) / 100.0),
        first: date(first.at),
        last: date(last.at),
        ticks: (1..=5u8).map(|v| (y_of(f64::from(v)), v)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_map_from_the_top_pad_down_to_the_bottom_pad() {
        assert_eq!(y_of(5.0), PAD as i64);
        assert_eq!(y_of(1.0), (CHART_H - PAD) as i64);
        assert_eq!(y_of(3.0), (CHART_H / 2.0) as i64);
        assert_eq!(y_of(9.0), y_of(5.0), "clamped to the chart");
    }
}
