//! Participation: week by week, which jobs needed each scorer's score (due) and which of
//! those they scored (done).
//!
//! The definition the digest, the CEO's participation chart and the API share:
//!
//! - A week runs from Monday 00:00 UTC to the next Monday ([`week_of`] names it by its
//!   Monday). The week in progress counts up to `now`.
//! - A job is **due** for a scorer in a week when it was open during the week (while
//!   the scorer scored) and, at some moment of that open part of the week, it needed
//!   their score: they had never scored it, or their latest score was at least the
//!   cadence old (the rule of "needs my score"). So a job opened mid-week is due from
//!   its opening; a job closed mid-week is due only if it needed the score before it
//!   closed (and stays due, not done, when nobody scored it before the close).
//! - A job the scorer **submitted** a score for during the week is due (and done) that
//!   week even if it did not yet need the score again when they scored it (a scorer
//!   who scores every week a day earlier than the last keeps a full record).
//! - **Done** is the due jobs they submitted a score for during the week; so done is
//!   always part of due.
//! - A job the scorer **skipped** for the week ("can't judge this one") counts as
//!   neither due nor done that week, even if they scored it after all; it is listed
//!   apart.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{week_end, week_start};

/// A job and the time it was open: from `opened` until `closed` (`None` while open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenJob {
    pub job_id: i64,
    pub opened: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
}

/// A user whose participation is counted, and when they scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub scorer_id: String,
    /// When they began to score (jobs needed their score from then on).
    pub scoring_from: DateTime<Utc>,
    /// When they stopped scoring, when known (`None`: they still score).
    pub scoring_until: Option<DateTime<Utc>>,
    /// Whether they are known to have scored all along from `scoring_from` to
    /// `scoring_until`. When not, a week counts for them only if they submitted a score
    /// during it (proof they scored then).
    pub certain: bool,
}

/// A skip: the scorer could not judge the job in the week (named by its Monday).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WeekSkip {
    pub scorer_id: String,
    pub job_id: i64,
    pub week: NaiveDate,
}

/// One scorer's week: the job ids due, done and skipped, each in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorerWeek {
    pub scorer_id: String,
    pub due: Vec<i64>,
    /// Always a subset of `due`.
    pub done: Vec<i64>,
    /// Jobs skipped this week: neither due nor done.
    pub skipped: Vec<i64>,
}

impl ScorerWeek {
    pub fn due_count(&self) -> usize {
        self.due.len()
    }

    pub fn done_count(&self) -> usize {
        self.done.len()
    }
}

/// Every counted scorer's week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekParticipation {
    /// The week's Monday.
    pub week: NaiveDate,
    /// Whether the week is over (otherwise it counts up to `now`).
    pub complete: bool,
    /// The cadence the week was counted with.
    pub cadence_days: u32,
    /// In the order the participants were given.
    pub scorers: Vec<ScorerWeek>,
}

/// The inputs of participation, indexed once for any number of weeks.
#[derive(Debug, Clone, Default)]
pub struct Participation {
    /// By job id.
    jobs: Vec<OpenJob>,
    participants: Vec<Participant>,
    /// Per participant (same index): each job's submission times, sorted.
    submitted: Vec<HashMap<i64, Vec<DateTime<Utc>>>>,
    /// Per participant: every submission time, sorted (for "submitted this week").
    any_submission: Vec<Vec<DateTime<Utc>>>,
    skips: HashSet<(usize, i64, NaiveDate)>,
}

impl Participation {
    /// Indexes the jobs, the participants, each submission as (scorer id, job id,
    /// submitted at) and the skips. Submissions and skips of anyone not among the
    /// participants are left out.
    pub fn new(
        mut jobs: Vec<OpenJob>,
        participants: Vec<Participant>,
        submissions: impl IntoIterator<Item = (String, i64, DateTime<Utc>)>,
        skips: impl IntoIterator<Item = WeekSkip>,
    ) -> Participation {
        jobs.sort_by_key(|j| j.job_id);
        let index: HashMap<&str, usize> = participants
            .iter()
            .enumerate()
            .map(|(i, p)| (p.scorer_id.as_str(), i))
            .collect();
        let mut submitted: Vec<HashMap<i64, Vec<DateTime<Utc>>>> =
            vec![HashMap::new(); participants.len()];
        let mut any_submission = vec![Vec::new(); participants.len()];
        for (scorer, job, at) in submissions {
            if let Some(&i) = index.get(scorer.as_str()) {
                submitted[i].entry(job).or_default().push(at);
                any_submission[i].push(at);
            }
        }
        for per_job in &mut submitted {
            for times in per_job.values_mut() {
                times.sort_unstable();
            }
        }
        for times in &mut any_submission {
            times.sort_unstable();
        }
        let skips = skips
            .into_iter()
            .filter_map(|s| {
                index
                    .get(s.scorer_id.as_str())
                    .map(|&i| (i, s.job_id, s.week))
            })
            .collect();
        Participation {
            jobs,
            participants,
            submitted,
            any_submission,
            skips,
        }
    }

    /// Each counted scorer's due, done and skipped jobs in the week that begins on
    /// `week` (a Monday), counted up to `now` while it lasts, with `cadence_days` as the
    /// cadence of "needs my score". Participants who are not certain appear only in
    /// weeks they submitted in; nobody appears in a week that had not begun by `now` or
    /// that ended before they began scoring.
    pub fn week(
        &self,
        week: NaiveDate,
        now: DateTime<Utc>,
        cadence_days: u32,
    ) -> WeekParticipation {
        let start = week_start(week);
        let end = week_end(week).min(now);
        let cadence = Duration::days(i64::from(cadence_days));
        let mut scorers = Vec::new();
        for (i, p) in self.participants.iter().enumerate() {
            let from = start.max(p.scoring_from);
            let until = p.scoring_until.map_or(end, |u| u.min(end));
            if from >= until {
                continue;
            }
            let submitted_in_week = |times: &[DateTime<Utc>]| {
                let first = times.partition_point(|t| *t < start);
                times.get(first).is_some_and(|t| *t < end)
            };
            if !p.certain && !submitted_in_week(&self.any_submission[i]) {
                continue;
            }
            let mut out = ScorerWeek {
                scorer_id: p.scorer_id.clone(),
                due: Vec::new(),
                done: Vec::new(),
                skipped: Vec::new(),
            };
            for job in &self.jobs {
                // The part of the week the job was open while they scored.
                let a = from.max(job.opened);
                let b = job.closed.map_or(until, |c| c.min(until));
                if a >= b {
                    continue;
                }
                if self.skips.contains(&(i, job.job_id, week)) {
                    out.skipped.push(job.job_id);
                    continue;
                }
                let times = self.submitted[i]
                    .get(&job.job_id)
                    .map_or(&[][..], Vec::as_slice);
                let submitted = submitted_in_week(times);
                if submitted || needed_between(times, a, b, cadence) {
                    out.due.push(job.job_id);
                    if submitted {
                        out.done.push(job.job_id);
                    }
                }
            }
            scorers.push(out);
        }
        WeekParticipation {
            week,
            complete: week_end(week) <= now,
            cadence_days,
            scorers,
        }
    }
}

/// Whether, at some moment from `a` (inclusive) to `b` (exclusive), a job needed the
/// scorer's score given their submission times (sorted): a score at `t` covers `t`
/// up to `t + cadence` (exclusive), and an uncovered moment needs a score.
fn needed_between(
    times: &[DateTime<Utc>],
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    cadence: Duration,
) -> bool {
    let before = times.partition_point(|t| *t <= a);
    let mut covered_until = match before {
        0 => return true,
        n => times[n - 1] + cadence,
    };
    if covered_until <= a {
        return true;
    }
    for &t in &times[before..] {
        if t >= b || covered_until >= b {
            break;
        }
        if t > covered_until {
            return true;
        }
        covered_until = t + cadence;
    }
    covered_until < b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{needs_score, week_of};
    use proptest::prelude::*;

    /// Monday 2026-11-30.
    fn monday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    /// A moment of the week of [`monday`]: day 0 is Monday, at `hour` UTC.
    fn at(day: i64, hour: i64) -> DateTime<Utc> {
        week_start(monday()) + Duration::days(day) + Duration::hours(hour)
    }

    fn open(job_id: i64, opened: DateTime<Utc>, closed: Option<DateTime<Utc>>) -> OpenJob {
        OpenJob {
            job_id,
            opened,
            closed,
        }
    }

    fn scorer(id: &str) -> Participant {
        Participant {
            scorer_id: id.into(),
            scoring_from: at(-400, 0),
            scoring_until: None,
            certain: true,
        }
    }

    fn sub(scorer: &str, job: i64, t: DateTime<Utc>) -> (String, i64, DateTime<Utc>) {
        (scorer.into(), job, t)
    }

    fn one_week(
        jobs: Vec<OpenJob>,
        subs: Vec<(String, i64, DateTime<Utc>)>,
        skips: Vec<WeekSkip>,
    ) -> ScorerWeek {
        let p = Participation::new(jobs, vec![scorer("ann")], subs, skips);
        let w = p.week(monday(), at(7, 0), 7);
        assert!(w.complete);
        w.scorers.into_iter().next().unwrap()
    }

    #[test]
    fn an_unscored_open_job_is_due_and_a_scored_one_done() {
        let long_ago = at(-60, 0);
        let w = one_week(
            vec![open(1, long_ago, None), open(2, long_ago, None)],
            vec![sub("ann", 2, at(-7, 9)), sub("ann", 2, at(2, 9))],
            vec![],
        );
        assert_eq!(
            (w.due.as_slice(), w.done.as_slice()),
            (&[1, 2][..], &[2][..])
        );
        assert_eq!((w.due_count(), w.done_count()), (2, 1));
    }

    #[test]
    fn a_job_opened_mid_week_is_due_from_its_opening() {
        let w = one_week(
            vec![open(1, at(3, 12), None), open(2, at(4, 0), None)],
            vec![sub("ann", 2, at(5, 10))],
            vec![],
        );
        assert_eq!((w.due, w.done), (vec![1, 2], vec![2]));
        // Opened after the week: not due in it.
        let w = one_week(vec![open(1, at(7, 0), None)], vec![], vec![]);
        assert!(w.due.is_empty());
    }

    #[test]
    fn a_job_closed_mid_week_is_due_only_if_it_needed_the_score_before_closing() {
        let long_ago = at(-60, 0);
        let w = one_week(
            vec![
                // Scored last Wednesday: needs it again from this Wednesday, but closed
                // on Tuesday.
                open(1, long_ago, Some(at(1, 12))),
                // Scored 8 days before: needed from Monday, closed before anyone scored.
                open(2, long_ago, Some(at(1, 12))),
                // Closed before the week began.
                open(3, long_ago, Some(at(0, 0))),
            ],
            vec![sub("ann", 1, at(-5, 0)), sub("ann", 2, at(-8, 0))],
            vec![],
        );
        assert_eq!((w.due, w.done), (vec![2], vec![]));
    }

    #[test]
    fn a_job_becomes_due_when_the_score_ages_past_the_cadence_within_the_week() {
        let long_ago = at(-60, 0);
        // Scored last Thursday: needed again this Thursday.
        let w = one_week(
            vec![open(1, long_ago, None)],
            vec![sub("ann", 1, at(-4, 10))],
            vec![],
        );
        assert_eq!((w.due, w.done), (vec![1], vec![]));
        // Scored last Monday at 01:00: needed again this Monday at 01:00 (the week's
        // first hour was still covered).
        let w = one_week(
            vec![open(1, long_ago, None)],
            vec![sub("ann", 1, at(-7, 1))],
            vec![],
        );
        assert_eq!(w.due, vec![1]);
        // Scored this Monday at 00:00 exactly: covered all week.
        let w = one_week(
            vec![open(1, long_ago, None)],
            vec![sub("ann", 1, at(-7, 0)), sub("ann", 1, at(0, 0))],
            vec![],
        );
        assert_eq!((w.due, w.done), (vec![1], vec![1]));
    }

    #[test]
    fn a_submission_before_the_job_needed_it_again_counts_as_due_and_done() {
        let long_ago = at(-60, 0);
        // Scored last Friday, then this Thursday (a day before it needed it again): the
        // job never needed the score this week, yet the scorer scored it.
        let w = one_week(
            vec![open(1, long_ago, None)],
            vec![sub("ann", 1, at(-3, 9)), sub("ann", 1, at(3, 9))],
            vec![],
        );
        assert_eq!((w.due, w.done), (vec![1], vec![1]));
        // Scored this Monday morning: due from then on next week, and done this week.
        let p = Participation::new(
            vec![open(1, long_ago, None)],
            vec![scorer("ann")],
            vec![sub("ann", 1, at(-7, 9)), sub("ann", 1, at(0, 8))],
            vec![],
        );
        let this = p.week(monday(), at(14, 0), 7);
        assert_eq!(
            (this.scorers[0].due.clone(), this.scorers[0].done.clone()),
            (vec![1], vec![1])
        );
        let next = p.week(monday() + Duration::days(7), at(14, 0), 7);
        assert_eq!(
            (next.scorers[0].due.clone(), next.scorers[0].done.clone()),
            (vec![1], vec![])
        );
        // Under a 14-day cadence, a job scored last Friday is covered all this week and,
        // without a score this week, is neither due nor done.
        let p = Participation::new(
            vec![open(1, long_ago, None)],
            vec![scorer("ann")],
            vec![sub("ann", 1, at(-3, 9))],
            vec![],
        );
        let w = p.week(monday(), at(14, 0), 14);
        assert!(w.scorers[0].due.is_empty() && w.scorers[0].done.is_empty());
    }

    #[test]
    fn a_skipped_job_counts_as_neither_even_when_scored_after_all() {
        let long_ago = at(-60, 0);
        let skip = |job| WeekSkip {
            scorer_id: "ann".into(),
            job_id: job,
            week: monday(),
        };
        let w = one_week(
            vec![
                open(1, long_ago, None),
                open(2, long_ago, None),
                open(3, long_ago, None),
            ],
            vec![sub("ann", 2, at(4, 0))],
            vec![
                skip(1),
                skip(2),
                WeekSkip {
                    week: monday() - Duration::days(7),
                    ..skip(3)
                },
            ],
        );
        assert_eq!(w.due, vec![3]);
        assert!(w.done.is_empty());
        assert_eq!(w.skipped, vec![1, 2]);
    }

    #[test]
    fn the_week_in_progress_counts_up_to_now() {
        let p = Participation::new(
            vec![open(1, at(-60, 0), None)],
            vec![scorer("ann")],
            vec![sub("ann", 1, at(-5, 12))],
            vec![],
        );
        // On Wednesday the job scored last Wednesday at noon still has not needed it.
        let w = p.week(monday(), at(2, 11), 7);
        assert!(!w.complete);
        assert!(w.scorers[0].due.is_empty());
        let w = p.week(monday(), at(2, 13), 7);
        assert_eq!(w.scorers[0].due, vec![1]);
        // A week that has not begun counts nobody.
        assert!(p.week(monday(), at(-1, 0), 7).scorers.is_empty());
    }

    #[test]
    fn scorers_count_only_while_they_score_and_uncertain_ones_only_when_they_scored() {
        let jobs = vec![open(1, at(-60, 0), None), open(2, at(-60, 0), None)];
        let joined = Participant {
            scoring_from: at(3, 0),
            ..scorer("new")
        };
        let left = Participant {
            scoring_until: Some(at(2, 0)),
            certain: false,
            ..scorer("gone")
        };
        let quiet = Participant {
            certain: false,
            ..scorer("quiet")
        };
        let later = Participant {
            scoring_from: at(8, 0),
            ..scorer("later")
        };
        let p = Participation::new(
            jobs,
            vec![joined, left, quiet, later],
            vec![
                sub("gone", 1, at(1, 0)),
                sub("new", 2, at(-10, 0)),
                sub("stranger", 1, at(1, 0)),
            ],
            vec![],
        );
        let w = p.week(monday(), at(7, 0), 7);
        let ids: Vec<&str> = w.scorers.iter().map(|s| s.scorer_id.as_str()).collect();
        assert_eq!(ids, ["new", "gone"]);
        assert_eq!(
            (w.scorers[0].due.clone(), w.scorers[0].done.clone()),
            (vec![1, 2], vec![])
        );
        assert_eq!(
            (w.scorers[1].due.clone(), w.scorers[1].done.clone()),
            (vec![1, 2], vec![1])
        );
    }

    /// The moments where "needs my score" can first hold within [a, b): a itself and
    /// the end of each score's cover. Checked one by one with [`needs_score`].
    fn needed_by_brute_force(
        times: &[DateTime<Utc>],
        a: DateTime<Utc>,
        b: DateTime<Utc>,
        cadence_days: u32,
    ) -> bool {
        let cadence = Duration::days(i64::from(cadence_days));
        std::iter::once(a)
            .chain(times.iter().map(|t| *t + cadence))
            .filter(|m| *m >= a && *m < b)
            .any(|m| {
                let latest = times.iter().filter(|t| **t <= m).max().copied();
                needs_score(latest, m, cadence_days)
            })
    }

    proptest! {
        #[test]
        fn due_matches_needs_my_score_moment_by_moment_and_done_is_within_due(
            hours in proptest::collection::vec(-400i64..200, 0..8),
            opened in -600i64..170,
            open_hours in 1i64..800,
            closes in any::<bool>(),
            cadence_days in 1u32..15,
        ) {
            let times: Vec<DateTime<Utc>> = hours.iter().map(|h| at(0, *h)).collect();
            let job = open(1, at(0, opened), closes.then(|| at(0, opened + open_hours)));
            let subs: Vec<_> = times.iter().map(|t| sub("ann", 1, *t)).collect();
            let p = Participation::new(vec![job.clone()], vec![scorer("ann")], subs, vec![]);
            let w = p.week(monday(), at(7, 0), cadence_days);
            let s = &w.scorers[0];
            prop_assert!(s.done.iter().all(|j| s.due.contains(j)));
            let a = job.opened.max(at(0, 0));
            let b = job.closed.map_or(at(7, 0), |c| c.min(at(7, 0)));
            let mut sorted = times.clone();
            sorted.sort();
            let submitted = times.iter().any(|t| week_of(*t) == monday());
            let expected = a < b
                && (submitted || needed_by_brute_force(&sorted, a, b, cadence_days));
            prop_assert_eq!(s.due == vec![1], expected);
            prop_assert_eq!(s.done == vec![1], a < b && submitted);
        }
    }
}
