//! A small server-rendered line chart (SVG, no JavaScript, no inline style: the CSP
//! forbids it): one or more series over the same columns (weeks), each a polyline with
//! a dot per value carrying its figure in a `<title>`. Rendered by
//! `templates/partials/line_chart.html`; pages put the same figures in a table too.

/// The chart's size in SVG units (it scales to the width it is given).
pub const WIDTH: i64 = 600;
pub const HEIGHT: i64 = 220;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 32.0;
/// At most this many column labels, so they never overlap on a phone.
const MAX_LABELS: usize = 6;

/// One value of a series as drawn.
pub struct Dot {
    pub x: i64,
    pub y: i64,
    /// "Week of 2026-11-23: 3.5 (4 scores)".
    pub label: String,
}

/// One series: its name (for the legend), its style class and its line.
pub struct Series {
    pub name: String,
    /// `series-0` to `series-5`: colour and dash pattern, so lines differ without
    /// colour alone.
    pub class: String,
    pub points: String,
    pub dots: Vec<Dot>,
}

/// A labelled position on an axis.
pub struct Tick {
    pub at: i64,
    pub text: String,
}

/// The chart's geometry.
pub struct LineChart {
    pub title: String,
    pub desc: String,
    pub series: Vec<Series>,
    pub x_labels: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// The plot's left and right edges and its bottom, for the grid lines.
    pub left: i64,
    pub right: i64,
    pub bottom: i64,
}

/// One series' values: its name and, per column, a value and its label (`None`: no
/// value that column; the line joins the values on either side).
pub type SeriesValues = (String, Vec<Option<(f64, String)>>);

/// Lays out `series` over `columns` (their labels, oldest first) on a vertical scale
/// from `low` to `high` with grid lines at `ticks`. `None` without any value.
pub fn line_chart(
    title: String,
    desc: String,
    columns: &[String],
    series: Vec<SeriesValues>,
    (low, high): (f64, f64),
    ticks: &[(f64, String)],
) -> Option<LineChart> {
    if columns.is_empty() || series.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
        return None;
    }
    let plot_w = WIDTH as f64 - LEFT - RIGHT;
    let plot_h = HEIGHT as f64 - TOP - BOTTOM;
    let x_of = |i: usize| -> i64 {
        if columns.len() == 1 {
            (LEFT + plot_w / 2.0).round() as i64
        } else {
            (LEFT + i as f64 * plot_w / (columns.len() - 1) as f64).round() as i64
        }
    };
    let span = (high - low).max(f64::EPSILON);
    let y_of =
        |v: f64| -> i64 { (TOP + (high - v.clamp(low, high)) / span * plot_h).round() as i64 };
    let series = series
        .into_iter()
        .enumerate()
        .map(|(k, (name, values))| {
            let dots: Vec<Dot> = values
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    v.map(|(v, label)| Dot {
                        x: x_of(i),
                        y: y_of(v),
                        label,
                    })
                })
                .collect();
            Series {
                name,
                class: format!("series-{}", k % 6),
                points: dots
                    .iter()
                    .map(|d| format!("{},{}", d.x, d.y))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots,
            }
        })
        .collect();
    let every = columns.len().div_ceil(MAX_LABELS).max(1);
    let last = columns.len() - 1;
    let x_labels = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| (last - i).is_multiple_of(every))
        .map(|(i, c)| Tick {
            at: x_of(i),
            text: c.clone(),
        })
        .collect();
    Some(LineChart {
        title,
        desc,
        series,
        x_labels,
        y_ticks: ticks
            .iter()
            .map(|(v, text)| Tick {
                at: y_of(*v),
                text: text.clone(),
            })
            .collect(),
        left: LEFT as i64,
        right: WIDTH - RIGHT as i64,
        bottom: HEIGHT - BOTTOM as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_map_into_the_plot_and_labels_thin_out() {
        let columns: Vec<String> = (1..=12).map(|w| format!("w{w}")).collect();
        let values = (0..12)
            .map(|i| (i != 3).then(|| (1.0 + i as f64 / 11.0 * 4.0, format!("v{i}"))))
            .collect();
        let c = line_chart(
            "t".into(),
            "d".into(),
            &columns,
            vec![("one".into(), values)],
            (1.0, 5.0),
            &[(1.0, "1".into()), (5.0, "5".into())],
        )
        .unwrap();
        let s = &c.series[0];
        assert_eq!(s.dots.len(), 11, "the missing week has no dot");
        assert_eq!((s.dots[0].x, s.dots[0].y), (c.left, c.bottom));
        assert_eq!((s.dots[10].x, s.dots[10].y), (c.right, 16));
        assert_eq!(c.y_ticks[1].at, 16);
        // Twelve weeks: every second label, ending on the latest.
        let labels: Vec<&str> = c.x_labels.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(labels, ["w2", "w4", "w6", "w8", "w10", "w12"]);
        assert!(line_chart("t".into(), "d".into(), &columns, vec![], (0.0, 1.0), &[]).is_none());
    }
}
