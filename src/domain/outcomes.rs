//! Outcomes: how the jobs closed in a period turned out, set against the rank they
//! held. Pure: the store gives the closed jobs, their rank history and placements.
//!
//! - A job is **filled** when a placement is recorded for it.
//! - **Days to fill**: whole days from the job's open to its first dated placement;
//!   the **median** over the filled jobs of a group (the mean of the middle two for an
//!   even count).
//! - **Fees placed**: the placements' fees summed per currency, never converted; a fee
//!   without a currency is taken to be in the fee bands' currency, as everywhere.
//!   **Fees per job**: each currency's sum divided by the group's closed jobs (filled
//!   or not), rounded half away from zero to the currency's minor unit.
//! - **Rank at close**: the rank the job closed with. **Rank held longest**: the rank
//!   the job held for the most time between its open and its close, from its rank
//!   history (time without a rank does not count; a tie goes to the rank held last).
//! - A period is a range of whole days (UTC), both ends included; by default the
//!   calendar quarter of today.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::{Money, Rank, TeamScore, days_between};

/// A placement as the report sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedFee {
    pub placed_at: Option<DateTime<Utc>>,
    pub fee: Option<Money>,
}

/// A closed job with what the report needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedJob {
    pub job_id: i64,
    pub title: String,
    pub client: String,
    pub opened: DateTime<Utc>,
    pub closed: DateTime<Utc>,
    pub rank_at_close: Option<Rank>,
    pub team_at_close: Option<TeamScore>,
    pub rank_held_longest: Option<Rank>,
    pub placements: Vec<PlacedFee>,
}

impl ClosedJob {
    /// Whether a placement is recorded for the job.
    pub fn filled(&self) -> bool {
        !self.placements.is_empty()
    }

    /// Whole days from the job's open to its first dated placement.
    pub fn days_to_fill(&self) -> Option<i64> {
        self.placements
            .iter()
            .filter_map(|p| p.placed_at)
            .min()
            .map(|at| days_between(self.opened, at))
    }

    /// Whole days the job was open.
    pub fn days_open(&self) -> i64 {
        days_between(self.opened, self.closed)
    }
}

/// The rank a job held for the most time between `opened` and `closed`, from its rank
/// history (`(at, rank)`, oldest first; `None` for a row that left it unranked). The
/// rank in force at the open is that of the last row before it. Time without a rank
/// does not count; a tie goes to the rank held last. `None` when it was never ranked
/// while open.
pub fn rank_held_longest(
    history: &[(DateTime<Utc>, Option<Rank>)],
    opened: DateTime<Utc>,
    closed: DateTime<Utc>,
) -> Option<Rank> {
    let mut held: HashMap<Rank, (Duration, DateTime<Utc>)> = HashMap::new();
    let mut current: Option<Rank> = None;
    let mut since = opened;
    let mut account = |rank: Option<Rank>, from: DateTime<Utc>, to: DateTime<Utc>| {
        if let Some(r) = rank
            && to > from
        {
            let e = held.entry(r).or_insert((Duration::zero(), to));
            e.0 += to - from;
            e.1 = e.1.max(to);
        }
    };
    for &(at, rank) in history {
        if at <= opened {
            current = rank;
            continue;
        }
        if at >= closed {
            break;
        }
        account(current, since, at);
        current = rank;
        since = at;
    }
    account(current, since, closed);
    held.into_iter()
        .max_by_key(|(_, (time, last))| (*time, *last))
        .map(|(r, _)| r)
}

/// "2 of 3": a share as counts, with the percentage only once there are ten or more
/// ("7 of 12 (58%)"), so small numbers are never shown as bare percentages.
pub fn share_text(part: usize, whole: usize) -> String {
    if whole >= 10 {
        format!(
            "{part} of {whole} ({:.0}%)",
            part as f64 * 100.0 / whole as f64
        )
    } else {
        format!("{part} of {whole}")
    }
}

/// The figures of one group of closed jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeGroup {
    /// "A", "B", "C", "Not ranked", or a client's name.
    pub label: String,
    pub jobs: usize,
    pub filled: usize,
    /// Median whole days from open to first placement over the filled jobs with a
    /// placement date; may end in .5.
    pub median_days_to_fill: Option<f64>,
    /// Per currency, by currency code.
    pub fees: Vec<Money>,
    /// Each currency's fees divided by `jobs`.
    pub fees_per_job: Vec<Money>,
}

impl OutcomeGroup {
    fn of(label: String, jobs: &[&ClosedJob], default_currency: &str) -> OutcomeGroup {
        let filled = jobs.iter().filter(|j| j.filled()).count();
        let mut days: Vec<i64> = jobs.iter().filter_map(|j| j.days_to_fill()).collect();
        days.sort_unstable();
        let median_days_to_fill = match days.len() {
            0 => None,
            n if n % 2 == 1 => Some(days[n / 2] as f64),
            n => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
        };
        let mut sums: BTreeMap<String, i64> = BTreeMap::new();
        for p in jobs.iter().flat_map(|j| &j.placements) {
            if let Some(fee) = &p.fee {
                let code = fee
                    .currency
                    .clone()
                    .unwrap_or_else(|| default_currency.to_ascii_uppercase());
                *sums.entry(code).or_default() += fee.minor;
            }
        }
        let fees: Vec<Money> = sums
            .iter()
            .map(|(c, minor)| Money::new(*minor, Some(c)))
            .collect();
        let fees_per_job = fees
            .iter()
            .map(|m| Money {
                minor: divide_rounded(m.minor, jobs.len().max(1) as i64),
                currency: m.currency.clone(),
            })
            .collect();
        OutcomeGroup {
            label,
            jobs: jobs.len(),
            filled,
            median_days_to_fill,
            fees,
            fees_per_job,
        }
    }

    /// The fill rate as counts: "2 of 3".
    pub fn fill_rate(&self) -> String {
        share_text(self.filled, self.jobs)
    }
}

/// `n / d` rounded half away from zero (`d > 0`).
fn divide_rounded(n: i64, d: i64) -> i64 {
    let (n, d) = (i128::from(n), i128::from(d));
    let q = (n.abs() * 2 + d) / (2 * d);
    (if n < 0 { -q } else { q }) as i64
}

/// The outcome report of the jobs closed in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeReport {
    /// A, B and C (always, even when empty), then "Not ranked" when any.
    pub by_rank_at_close: Vec<OutcomeGroup>,
    pub by_rank_held_longest: Vec<OutcomeGroup>,
    /// By client name (A-Z, case-insensitive).
    pub by_client: Vec<OutcomeGroup>,
    /// Every job closed in the period.
    pub total: OutcomeGroup,
    /// The jobs closed without a placement, latest close first.
    pub unfilled: Vec<ClosedJob>,
}

/// The report of `jobs` (the jobs closed in the period); fees without a currency are
/// in `default_currency`.
pub fn outcome_report(jobs: &[ClosedJob], default_currency: &str) -> OutcomeReport {
    let by_rank = |pick: fn(&ClosedJob) -> Option<Rank>| {
        let mut groups: Vec<OutcomeGroup> = [Rank::A, Rank::B, Rank::C]
            .into_iter()
            .map(|r| {
                let these: Vec<&ClosedJob> = jobs.iter().filter(|j| pick(j) == Some(r)).collect();
                OutcomeGroup::of(r.as_str().to_string(), &these, default_currency)
            })
            .collect();
        let unranked: Vec<&ClosedJob> = jobs.iter().filter(|j| pick(j).is_none()).collect();
        if !unranked.is_empty() {
            groups.push(OutcomeGroup::of(
                "Not ranked".into(),
                &unranked,
                default_currency,
            ));
        }
        groups
    };
    let mut clients: BTreeMap<String, (String, Vec<&ClosedJob>)> = BTreeMap::new();
    for j in jobs {
        clients
            .entry(j.client.to_lowercase())
            .or_insert_with(|| (j.client.clone(), Vec::new()))
            .1
            .push(j);
    }
    let mut unfilled: Vec<ClosedJob> = jobs.iter().filter(|j| !j.filled()).cloned().collect();
    unfilled.sort_by_key(|j| std::cmp::Reverse((j.closed, j.job_id)));
    OutcomeReport {
        by_rank_at_close: by_rank(|j| j.rank_at_close),
        by_rank_held_longest: by_rank(|j| j.rank_held_longest),
        by_client: clients
            .into_values()
            .map(|(name, these)| OutcomeGroup::of(name, &these, default_currency))
            .collect(),
        total: OutcomeGroup::of(
            "All".into(),
            &jobs.iter().collect::<Vec<_>>(),
            default_currency,
        ),
        unfilled,
    }
}

/// The first and last day of the calendar quarter that holds `day`.
pub fn quarter_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first_month = (day.month0() / 3) * 3 + 1;
    let first = NaiveDate::from_ymd_opt(day.year(), first_month, 1).unwrap_or(day);
    let next = if first_month == 10 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), first_month + 3, 1)
    };
    let last = next.and_then(|n| n.pred_opt()).unwrap_or(day);
    (first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> DateTime<Utc> {
        at(&format!("{s}T09:00:00Z"))
    }

    #[test]
    fn the_rank_held_longest_counts_the_time_between_open_and_close() {
        let h = [
            (day("2026-09-01"), Some(Rank::C)), // before the open: in force at the open
            (day("2026-10-05"), Some(Rank::A)),
            (day("2026-10-08"), Some(Rank::B)),
            (day("2026-10-30"), Some(Rank::A)),
            (day("2026-12-01"), Some(Rank::C)), // after the close: ignored
        ];
        // Open 1 Oct to 10 Nov: C 4 days, A 3 + 11 days, B 22 days.
        assert_eq!(
            rank_held_longest(&h, day("2026-10-01"), day("2026-11-10")),
            Some(Rank::B)
        );
        // Closed 25 Oct: C 4, A 3, B 17.
        assert_eq!(
            rank_held_longest(&h, day("2026-10-01"), day("2026-10-25")),
            Some(Rank::B)
        );
        // Never ranked while open.
        assert_eq!(
            rank_held_longest(&h[4..], day("2026-10-01"), day("2026-11-10")),
            None
        );
        // Unranked time does not count; a tie goes to the rank held last.
        let tie = [
            (day("2026-10-02"), Some(Rank::A)),
            (day("2026-10-04"), None),
            (day("2026-10-20"), Some(Rank::C)),
        ];
        assert_eq!(
            rank_held_longest(&tie, day("2026-10-01"), day("2026-10-22")),
            Some(Rank::C)
        );
    }

    #[test]
    fn shares_are_counts_and_percentages_only_from_ten() {
        assert_eq!(share_text(2, 3), "2 of 3");
        assert_eq!(share_text(0, 0), "0 of 0");
        assert_eq!(share_text(7, 12), "7 of 12 (58%)");
    }

    #[test]
    fn quarters_run_from_their_first_to_their_last_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            quarter_of(d("2026-12-04")),
            (d("2026-10-01"), d("2026-12-31"))
        );
        assert_eq!(
            quarter_of(d("2026-01-01")),
            (d("2026-01-01"), d("2026-03-31"))
        );
        assert_eq!(
            quarter_of(d("2024-05-31")),
            (d("2024-04-01"), d("2024-06-30"))
        );
    }

    fn closed(
        id: i64,
        client: &str,
        rank: Option<Rank>,
        placed: &[(&str, i64, &str)],
    ) -> ClosedJob {
        ClosedJob {
            job_id: id,
            title: format!("Job {id}"),
            client: client.into(),
            opened: day("2026-10-01"),
            closed: day("2026-11-20"),
            rank_at_close: rank,
            team_at_close: None,
            rank_held_longest: rank,
            placements: placed
                .iter()
                .map(|(d, minor, cur)| PlacedFee {
                    placed_at: Some(day(d)),
                    fee: Some(Money::new(*minor, Some(cur))),
                })
                .collect(),
        }
    }

    #[test]
    fn groups_count_fill_median_and_fees_per_currency() {
        let jobs = [
            closed(
                1,
                "Acme",
                Some(Rank::A),
                &[("2026-10-11", 1_800_000, "GBP")],
            ), // 10 days
            closed(
                2,
                "Acme",
                Some(Rank::A),
                &[("2026-10-31", 2_000_000, "JPY")],
            ), // 30 days
            closed(3, "beta", Some(Rank::A), &[]),
            closed(
                4,
                "Beta",
                Some(Rank::C),
                &[("2026-10-21", 1_000_000, "GBP")],
            ), // 20 days
            closed(5, "Acme", None, &[]),
        ];
        let r = outcome_report(&jobs, "GBP");
        let a = &r.by_rank_at_close[0];
        assert_eq!((a.label.as_str(), a.jobs, a.filled), ("A", 3, 2));
        assert_eq!(a.fill_rate(), "2 of 3");
        assert_eq!(a.median_days_to_fill, Some(20.0));
        let shown: Vec<String> = a.fees.iter().map(|m| m.to_string()).collect();
        assert_eq!(shown, ["GBP 18,000", "JPY 2,000,000"]);
        // 18,000 pounds over 3 jobs; 2,000,000 yen over 3 jobs rounds to the yen.
        let per: Vec<String> = a.fees_per_job.iter().map(|m| m.to_string()).collect();
        assert_eq!(per, ["GBP 6,000", "JPY 666,667"]);
        assert_eq!(r.by_rank_at_close[1].jobs, 0);
        assert_eq!(r.by_rank_at_close[3].label, "Not ranked");
        let clients: Vec<(&str, usize)> = r
            .by_client
            .iter()
            .map(|g| (g.label.as_str(), g.jobs))
            .collect();
        assert_eq!(
            clients,
            [("Acme", 3), ("beta", 2)],
            "names match whatever the case"
        );
        assert_eq!(r.total.median_days_to_fill, Some(20.0));
        let unfilled: Vec<i64> = r.unfilled.iter().map(|j| j.job_id).collect();
        assert_eq!(unfilled, [5, 3]);
        // An even count: the mean of the middle two.
        let two = outcome_report(&jobs[..2], "GBP");
        assert_eq!(two.total.median_days_to_fill, Some(20.0));
        let odd = outcome_report(&[jobs[0].clone(), jobs[3].clone()], "GBP");
        assert_eq!(odd.total.median_days_to_fill, Some(15.0));
    }

    #[test]
    fn a_fee_without_a_currency_is_in_the_bands_currency() {
        let mut j = closed(1, "Acme", Some(Rank::B), &[]);
        j.placements.push(PlacedFee {
            placed_at: None,
            fee: Some(Money::new(500_000, None)),
        });
        let r = outcome_report(&[j], "EUR");
        assert_eq!(r.total.fees[0].to_string(), "EUR 5,000");
        assert_eq!(r.total.filled, 1);
        assert_eq!(r.total.median_days_to_fill, None, "no placement date");
    }
}
