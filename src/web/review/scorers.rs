//! The review's scorer part: how each scorer scores against the rest of the team, the
//! scorers a rule points at and why (in words), the difference factor by factor, and
//! each scorer's difference week by week as a small server-drawn SVG chart (attributes
//! and classes only: the CSP forbids inline style). The rules are
//! `domain::review_scorers`'; this module only words and draws them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{
    FLAG_DEVIATION, FLAG_MIN_JOBS, FLAG_OUTLIER_RATIO, Factor, Flag, OUTLIER_DISTANCE,
    ScorerReview, week_of,
};
use crate::store::review::NamedSubmission;
use crate::web::pages::{day, day_short};

/// How many weeks each scorer's chart shows, ending with this week.
pub const CHART_WEEKS: usize = 12;

/// A difference from the team as pages show it: "+0.62", "-0.40", "0.00".
fn signed(d: f64) -> String {
    let text = format!("{d:+.2}");
    if text == "+0.00" || text == "-0.00" {
        "0.00".into()
    } else {
        text
    }
}

/// "twice", "3 times".
fn times(n: usize) -> String {
    match n {
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// "12 of 96 (13%)".
fn share(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "none compared".into();
    }
    format!(
        "{part} of {whole} ({:.0}%)",
        part as f64 * 100.0 / whole as f64
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One outlier as the page lists it.
pub struct OutlierRow {
    pub job_id: i64,
    pub job: String,
    pub week: String,
    pub composite: String,
    pub others_mean: String,
}

/// A scorer's difference from the team on one factor.
pub struct FactorCell {
    pub text: String,
    /// The factor this scorer differs on most.
    pub most: bool,
}

/// One week's bar of a scorer's chart (a 240 x 90 SVG; the zero line at y = 40, one
/// point of difference 16 units high, bars clipped at two points and a quarter).
pub struct SparkBar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    /// Above the team (drawn up) or below it.
    pub up: bool,
    pub title: String,
}

/// A scorer's difference from the team week by week.
pub struct Spark {
    pub bars: Vec<SparkBar>,
    /// The figures in words, for screen readers.
    pub desc: String,
    /// The first and last week of the axis: "1 Sep", "17 Nov".
    pub first: String,
    pub last: String,
}

/// One scorer's row.
pub struct ScorerRow {
    /// Where the page's other parts point at this row.
    pub anchor: String,
    pub name: String,
    pub submissions: usize,
    pub mean: String,
    pub spread: String,
    /// "+0.62 over 96 jobs", or that no job was scored alongside others.
    pub deviation: String,
    /// "12 of 96 (13%)".
    pub outlier_share: String,
    pub outliers: Vec<OutlierRow>,
    pub factors: Vec<FactorCell>,
    pub spark: Spark,
    /// Why the review points at this scorer, one sentence per rule; empty when it does
    /// not.
    pub reasons: Vec<String>,
}

/// The scorer part of the review page.
pub struct ScorersView {
    pub rows: Vec<ScorerRow>,
    /// The factors' names, in the order of each row's `factors`.
    pub factor_names: Vec<&'static str>,
    /// What the rules are, in one sentence.
    pub rules: String,
}

impl ScorersView {
    /// Whether the review points at any scorer.
    pub fn any_flagged(&self) -> bool {
        self.rows.iter().any(|r| !r.reasons.is_empty())
    }
}

/// A rule that fired, in words: what the scorer does and the rule's bound.
fn reason(flag: &Flag, compared: usize) -> String {
    match flag {
        Flag::Deviation { deviation } => format!(
            "Scores {:.2} {} than the rest of the team on average, over {} compared with the team's (the review points at {FLAG_DEVIATION:.2} or more either way).",
            deviation.abs(),
            if *deviation > 0.0 { "higher" } else { "lower" },
            plural(compared, "score", "scores"),
        ),
        Flag::OutlierRate {
            outliers,
            compared,
            rest_outliers,
            rest_compared,
        } => format!(
            "Far from the rest of the team ({OUTLIER_DISTANCE:.2} or more) on {} of their scores, at least {} as often as the others ({} of theirs).",
            share(*outliers, *compared),
            times(FLAG_OUTLIER_RATIO),
            share(*rest_outliers, *rest_compared),
        ),
    }
}

/// The factor a scorer differs on most, in words, when it is a quarter of a level or
/// more: "most on client engagement (+1.10 levels)".
fn most_factor(f: &[f64; 4]) -> Option<(usize, String)> {
    let (i, d) = f
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    (d.abs() >= 0.25).then(|| {
        (
            i,
            format!(
                "Differs most on {} ({}) ({} levels).",
                Factor::ALL[i].label().to_lowercase(),
                Factor::ALL[i].scale(),
                signed(*d)
            ),
        )
    })
}

const SPARK_W: f64 = 240.0;
const SPARK_ZERO: f64 = 40.0;
const SPARK_PER_POINT: f64 = 16.0;
const SPARK_CLIP: f64 = 2.25;

fn spark(name: &str, r: &ScorerReview, now: DateTime<Utc>) -> Spark {
    let last = week_of(now);
    let first = last - Duration::weeks(CHART_WEEKS as i64 - 1);
    let slot = SPARK_W / CHART_WEEKS as f64;
    let width = (slot * 0.6).round() as i64;
    let mut bars = Vec::new();
    let mut words = Vec::new();
    for w in r
        .weekly
        .iter()
        .filter(|w| w.week >= first && w.week <= last)
    {
        let i = (w.week - first).num_weeks() as f64;
        let d = w.deviation.clamp(-SPARK_CLIP, SPARK_CLIP);
        let h = (d.abs() * SPARK_PER_POINT).round().max(1.0);
        let x = (i * slot + (slot - width as f64) / 2.0).round() as i64;
        let up = w.deviation >= 0.0;
        let said = format!(
            "week of {}: {} over {}",
            day(w.week),
            signed(w.deviation),
            plural(w.compared, "score", "scores")
        );
        bars.push(SparkBar {
            x,
            y: if up { SPARK_ZERO - h } else { SPARK_ZERO } as i64,
            width,
            height: h as i64,
            up,
            title: said.clone(),
        });
        words.push(said);
    }
    let desc = if words.is_empty() {
        format!(
            "None of {name}'s scores could be compared with the team's in the {CHART_WEEKS} weeks shown."
        )
    } else {
        format!(
            "{name}'s difference from the rest of the team, {}.",
            words.join("; ")
        )
    };
    Spark {
        bars,
        desc,
        first: day_short(first),
        last: day_short(last),
    }
}

/// Builds the scorer part from the domain's reviews, with names for scorers
/// (`names`: user id -> name) and jobs (from `subs`), sorted by name.
pub fn scorers_view(
    reviews: Vec<ScorerReview>,
    subs: &[NamedSubmission],
    names: &HashMap<&str, &str>,
    now: DateTime<Utc>,
) -> ScorersView {
    let titles: HashMap<i64, String> = subs
        .iter()
        .map(|n| {
            (
                n.submission.job_id,
                format!("{} ({})", n.job_title, n.client),
            )
        })
        .collect();
    let mut rows: Vec<ScorerRow> = reviews
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let name = names
                .get(r.scorer_id.as_str())
                .map(|n| n.to_string())
                .unwrap_or_else(|| "former user".into());
            let most = r.factor_deviation.as_ref().and_then(most_factor);
            let mut reasons: Vec<String> = r.flags.iter().map(|f| reason(f, r.compared)).collect();
            if let (false, Some((_, words))) = (reasons.is_empty(), &most) {
                reasons.push(words.clone());
            }
            ScorerRow {
                anchor: format!("scorer-{}", i + 1),
                submissions: r.submissions,
                mean: format!("{:.2}", r.mean_composite),
                spread: format!("{:.2}", r.spread),
                deviation: match r.mean_deviation {
                    Some(d) => format!(
                        "{} over {}",
                        signed(d),
                        plural(r.compared, "score", "scores")
                    ),
                    None => "no score compared yet".into(),
                },
                outlier_share: share(r.outliers.len(), r.compared),
                outliers: r
                    .outliers
                    .iter()
                    .map(|o| OutlierRow {
                        job_id: o.job_id,
                        job: titles.get(&o.job_id).cloned().unwrap_or_default(),
                        week: day(o.round),
                        composite: format!("{:.2}", o.composite),
                        others_mean: format!("{:.2}", o.others_mean),
                    })
                    .collect(),
                factors: match r.factor_deviation {
                    Some(f) => f
                        .iter()
                        .enumerate()
                        .map(|(k, d)| FactorCell {
                            text: signed(*d),
                            most: most.as_ref().is_some_and(|(m, _)| *m == k),
                        })
                        .collect(),
                    None => Vec::new(),
                },
                spark: spark(&name, &r, now),
                reasons,
                name,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    ScorersView {
        rows,
        factor_names: Factor::ALL.iter().map(|f| f.heading()).collect(),
        rules: format!(
            "The review points at a scorer, once they have scored at least {FLAG_MIN_JOBS} jobs that others scored the same week, when their scores are {FLAG_DEVIATION:.2} or more above or below the rest of the team's on average, or when they are far from the team ({OUTLIER_DISTANCE:.2} or more) at least {} as often as the others are.",
            times(FLAG_OUTLIER_RATIO)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WeekDeviation;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn review(weekly: Vec<WeekDeviation>, flags: Vec<Flag>) -> ScorerReview {
        ScorerReview {
            scorer_id: "u1".into(),
            submissions: 20,
            mean_composite: 3.4,
            spread: 0.5,
            compared: 12,
            compared_jobs: 10,
            mean_deviation: Some(0.62),
            factor_deviation: Some([1.1, 0.3, -0.05, 0.0]),
            weekly,
            outliers: Vec::new(),
            flags,
        }
    }

    #[test]
    fn the_rules_that_fired_are_said_in_words_with_the_factor_that_differs_most() {
        let r = review(
            Vec::new(),
            vec![
                Flag::Deviation { deviation: 0.62 },
                Flag::OutlierRate {
                    outliers: 3,
                    compared: 12,
                    rest_outliers: 2,
                    rest_compared: 40,
                },
            ],
        );
        let names = HashMap::from([("u1", "Priya Shah")]);
        let v = scorers_view(vec![r], &[], &names, at("2026-11-25T12:00:00Z"));
        let row = &v.rows[0];
        assert_eq!(
            row.reasons,
            [
                "Scores 0.62 higher than the rest of the team on average, over 12 scores compared with the team's (the review points at 0.50 or more either way).",
                "Far from the rest of the team (1.00 or more) on 3 of 12 (25%) of their scores, at least twice as often as the others (2 of 40 (5%) of theirs).",
                "Differs most on client engagement (5 = very responsive client) (+1.10 levels).",
            ]
        );
        assert!(v.any_flagged());
        let most: Vec<bool> = row.factors.iter().map(|f| f.most).collect();
        assert_eq!(most, [true, false, false, false]);
        assert_eq!(row.factors[2].text, "-0.05");
        assert_eq!(row.factors[3].text, "0.00");
        assert_eq!(row.deviation, "+0.62 over 12 scores");
        assert!(v.rules.contains("at least 8 jobs"), "{}", v.rules);
    }

    #[test]
    fn the_weekly_chart_draws_up_for_higher_down_for_lower_and_clips_far_ones() {
        let now = at("2026-11-25T12:00:00Z");
        let this_week = week_of(now);
        let w = |weeks_ago: i64, deviation: f64| WeekDeviation {
            week: this_week - Duration::weeks(weeks_ago),
            deviation,
            compared: 4,
        };
        let r = review(
            vec![w(13, 1.0), w(11, 0.5), w(3, -0.25), w(0, 3.0)],
            Vec::new(),
        );
        let s = spark("Priya Shah", &r, now);
        assert_eq!(s.bars.len(), 3, "13 weeks ago is off the chart");
        assert_eq!((s.first.as_str(), s.last.as_str()), ("7 Sep", "23 Nov"));
        let b = &s.bars;
        assert_eq!((b[0].x, b[0].y, b[0].height, b[0].up), (4, 32, 8, true));
        assert_eq!((b[1].y, b[1].height, b[1].up), (40, 4, false));
        assert_eq!(
            (b[2].x, b[2].y, b[2].height),
            (224, 4, 36),
            "clipped at +2.25"
        );
        assert_eq!(b[2].title, "week of 23 Nov 2026: +3.00 over 4 scores");
        assert!(
            s.desc.starts_with("Priya Shah's difference from the rest of the team, week of 7 Sep 2026: +0.50 over 4 scores; "),
            "{}",
            s.desc
        );
        let quiet = spark("Tom", &review(Vec::new(), Vec::new()), now);
        assert!(quiet.bars.is_empty());
        assert_eq!(
            quiet.desc,
            "None of Tom's scores could be compared with the team's in the 12 weeks shown."
        );
    }
}
