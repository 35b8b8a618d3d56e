//! The dashboard's rules: each open job as a viewer sees it (days open, "needs my
//! score"), how its rank moved, and the filters and sorts the dashboard page, the CSV
//! export and the JSON API share.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{JobRank, Money, PipelineSnapshot, PipelineStatus, Rank, RankFreshness, TeamScore};
use super::{days_between, needs_score, week_end, week_of};

/// One open job as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardJob {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub opened: DateTime<Utc>,
    pub days_open: i64,
    pub fee: Option<Money>,
    /// None while no scorer has scored the job.
    pub rank: Option<JobRank>,
    pub pipeline: Option<Arc<PipelineSnapshot>>,
    /// The pipeline's state under the `stalled_after_days` of the settings the job was
    /// read with (set with [`DashboardJob::set_pipeline`]).
    pub pipeline_status: PipelineStatus,
    /// When the viewer last scored this job.
    pub my_latest: Option<DateTime<Utc>>,
    /// Whether the viewer (a scorer) owes this job a score under the current cadence:
    /// never while they skipped it this week.
    pub needs_my_score: bool,
    /// Whether the viewer skipped ("can't judge this one") this job for the current
    /// week.
    pub skipped_this_week: bool,
    /// Whether the job is provisional and how many of its scores expired, under the
    /// settings it was read with.
    pub freshness: RankFreshness,
    /// Whose latest scores expired, by name, in the order they expired.
    pub expired_scorers: Vec<String>,
}

/// How a job's rank moved since the previous one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Movement {
    /// Scored for the first time (no previous rank).
    New,
    /// The rank improved (C to B, B to A); holds the previous rank.
    Up(Rank),
    /// The rank fell; holds the previous rank.
    Down(Rank),
    /// Same rank; the team score changed by this much (may be 0).
    Same(f64),
}

impl DashboardJob {
    /// How the rank moved since the previous one; None while unscored.
    pub fn movement(&self) -> Option<Movement> {
        let r = self.rank.as_ref()?;
        Some(match &r.previous {
            None => Movement::New,
            Some((_, prev)) if r.rank < *prev => Movement::Up(*prev),
            Some((_, prev)) if r.rank > *prev => Movement::Down(*prev),
            Some((t, _)) => Movement::Same(r.team.as_f64() - t.as_f64()),
        })
    }

    pub fn total_candidates(&self) -> i64 {
        self.pipeline
            .as_ref()
            .map(|p| p.total_candidates())
            .unwrap_or(0)
    }

    /// The pipeline's state: empty, moving or stalled.
    pub fn pipeline_status(&self) -> PipelineStatus {
        self.pipeline_status
    }

    /// Sets the job's latest pipeline snapshot and its state under the
    /// `stalled_after_days` setting.
    pub fn set_pipeline(
        &mut self,
        pipeline: Option<Arc<PipelineSnapshot>>,
        stalled_after_days: u32,
    ) {
        self.pipeline_status = PipelineStatus::of(pipeline.as_deref(), stalled_after_days);
        self.pipeline = pipeline;
    }

    fn team_score(&self) -> Option<TeamScore> {
        self.rank.as_ref().map(|r| r.team)
    }
}

/// The jobs with the viewer's fields at `now` (days open, when they last scored each
/// job from `my_latest`, whether they skipped it this week from `my_skips` (job and
/// week, as [`week_of`] names weeks), whether it needs their score under
/// `cadence_days`: not while skipped this week), in the dashboard's default order, and
/// the first moment one of those fields changes (at most a day ahead; a skip ends with
/// its week).
pub fn viewer_jobs(
    jobs: &[DashboardJob],
    my_latest: &HashMap<i64, DateTime<Utc>>,
    my_skips: &HashSet<(i64, NaiveDate)>,
    now: DateTime<Utc>,
    cadence_days: u32,
) -> (Vec<DashboardJob>, DateTime<Utc>) {
    let cadence = Duration::days(i64::from(cadence_days));
    let week = week_of(now);
    let mut valid_until = now + Duration::days(1);
    let jobs = jobs
        .iter()
        .map(|j| {
            let my_latest = my_latest.get(&j.id).copied();
            let days_open = days_between(j.opened, now);
            let skipped_this_week = my_skips.contains(&(j.id, week));
            let needs_my_score = !skipped_this_week && needs_score(my_latest, now, cadence_days);
            if j.opened <= now {
                valid_until = valid_until.min(j.opened + Duration::days(days_open + 1));
            }
            if skipped_this_week {
                valid_until = valid_until.min(week_end(week));
            } else if let (Some(at), false) = (my_latest, needs_my_score) {
                valid_until = valid_until.min(at + cadence);
            }
            DashboardJob {
                days_open,
                my_latest,
                needs_my_score,
                skipped_this_week,
                ..j.clone()
            }
        })
        .collect();
    (DashboardQuery::default().apply(jobs), valid_until)
}

/// How the dashboard is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Best rank first, then higher team score; unscored last.
    #[default]
    Rank,
    /// Higher team score first; unscored last.
    Score,
    /// Longest open first.
    DaysOpen,
    /// Client A-Z.
    Client,
    /// Largest fee first, by the amount shown whatever its currency (no exchange
    /// rates); jobs without a fee last.
    Fee,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<SortKey> {
        match s {
            "rank" => Some(SortKey::Rank),
            "score" => Some(SortKey::Score),
            "days" => Some(SortKey::DaysOpen),
            "client" => Some(SortKey::Client),
            "fee" => Some(SortKey::Fee),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Rank => "rank",
            SortKey::Score => "score",
            SortKey::DaysOpen => "days",
            SortKey::Client => "client",
            SortKey::Fee => "fee",
        }
    }
}

/// Which rank a filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankFilter {
    Rank(Rank),
    Unscored,
}

/// The dashboard's filters and sort (the page's query string, the API's parameters).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DashboardQuery {
    /// Words that must all appear in the title or client (case-insensitive).
    pub search: Option<String>,
    /// Exact client name.
    pub client: Option<String>,
    pub rank: Option<RankFilter>,
    pub min_days: Option<i64>,
    pub max_days: Option<i64>,
    pub pipeline: Option<PipelineStatus>,
    /// Only jobs that need the viewer's score.
    pub needs_my_score: bool,
    pub sort: SortKey,
    /// Reverse the sort's natural direction.
    pub reverse: bool,
}

/// `Some` before `None`, and `Some` values by `cmp`.
fn present_first<T>(a: Option<T>, b: Option<T>, cmp: impl FnOnce(T, T) -> Ordering) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => cmp(x, y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// How many jobs each quick filter above the dashboard list would show: each count
/// honours every filter in use except its own (the A count ignores the rank filter but
/// keeps the search, client, days, pipeline and "needs my score" filters), so a count
/// is the number of jobs its link lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DashboardCounts {
    pub a: usize,
    pub b: usize,
    pub c: usize,
    /// Jobs nobody has scored yet.
    pub unscored: usize,
    /// Jobs that need the viewer's score.
    pub needs_my_score: usize,
    /// Jobs whose pipeline is stalled.
    pub stalled: usize,
}

/// The filters a job fails, one bit each, so one pass both selects and counts.
mod miss {
    pub const SEARCH: u8 = 1;
    pub const CLIENT: u8 = 1 << 1;
    pub const RANK: u8 = 1 << 2;
    pub const DAYS: u8 = 1 << 3;
    pub const PIPELINE: u8 = 1 << 4;
    pub const NEEDS: u8 = 1 << 5;
}

impl DashboardQuery {
    /// Keeps the jobs that pass every filter, in the chosen order.
    pub fn apply(&self, jobs: Vec<DashboardJob>) -> Vec<DashboardJob> {
        self.select(&jobs).into_iter().cloned().collect()
    }

    /// The filters a job fails ([`miss`] bits; 0 when it passes every one); `words`
    /// are the search's, lower-cased.
    fn misses(&self, j: &DashboardJob, words: &[String]) -> u8 {
        let mut out = 0;
        if !words.is_empty() {
            let hay = format!("{} {}", j.title, j.client).to_lowercase();
            if !words.iter().all(|w| hay.contains(w.as_str())) {
                out |= miss::SEARCH;
            }
        }
        if let Some(c) = &self.client
            && !j.client.eq_ignore_ascii_case(c)
        {
            out |= miss::CLIENT;
        }
        match self.rank {
            Some(RankFilter::Rank(r)) if j.rank.as_ref().map(|x| x.rank) != Some(r) => {
                out |= miss::RANK;
            }
            Some(RankFilter::Unscored) if j.rank.is_some() => out |= miss::RANK,
            _ => {}
        }
        if self.min_days.is_some_and(|d| j.days_open < d)
            || self.max_days.is_some_and(|d| j.days_open > d)
        {
            out |= miss::DAYS;
        }
        if self.pipeline.is_some_and(|p| j.pipeline_status() != p) {
            out |= miss::PIPELINE;
        }
        if self.needs_my_score && !j.needs_my_score {
            out |= miss::NEEDS;
        }
        out
    }

    /// The sort key's natural order of two jobs (before `reverse` and tie-breaks).
    fn order(&self, a: &DashboardJob, b: &DashboardJob) -> Ordering {
        // Higher first; unscored after every scored job.
        let by_score = || present_first(a.team_score(), b.team_score(), |x, y| y.cmp(&x));
        match self.sort {
            // A provisional job comes after the others of its rank.
            SortKey::Rank => present_first(
                a.rank
                    .as_ref()
                    .map(|r| (r.rank, a.freshness.is_provisional())),
                b.rank
                    .as_ref()
                    .map(|r| (r.rank, b.freshness.is_provisional())),
                |x, y| x.cmp(&y).then_with(by_score),
            ),
            SortKey::Score => by_score(),
            SortKey::DaysOpen => b.days_open.cmp(&a.days_open),
            SortKey::Client => a.client.to_lowercase().cmp(&b.client.to_lowercase()),
            SortKey::Fee => present_first(a.fee.as_ref(), b.fee.as_ref(), |x, y| y.cmp_amount(x)),
        }
    }

    /// The search's words, lower-cased.
    fn words(&self) -> Vec<String> {
        self.search
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect()
    }

    /// The jobs that pass every filter, in the chosen order, without copying them.
    /// Ties are broken by client, title and id, so the order is always the same.
    pub fn select<'a>(&self, jobs: &'a [DashboardJob]) -> Vec<&'a DashboardJob> {
        let words = self.words();
        let out = jobs
            .iter()
            .filter(|j| self.misses(j, &words) == 0)
            .collect();
        self.sorted(out)
    }

    /// [`DashboardQuery::select`] and the quick filters' [`DashboardCounts`], in one
    /// pass over the jobs.
    pub fn select_counted<'a>(
        &self,
        jobs: &'a [DashboardJob],
    ) -> (Vec<&'a DashboardJob>, DashboardCounts) {
        let words = self.words();
        let mut counts = DashboardCounts::default();
        let mut out = Vec::new();
        for j in jobs {
            let misses = self.misses(j, &words);
            if misses & !miss::RANK == 0 {
                match j.rank.as_ref().map(|r| r.rank) {
                    Some(Rank::A) => counts.a += 1,
                    Some(Rank::B) => counts.b += 1,
                    Some(Rank::C) => counts.c += 1,
                    None => counts.unscored += 1,
                }
            }
            if misses & !miss::NEEDS == 0 && j.needs_my_score {
                counts.needs_my_score += 1;
            }
            if misses & !miss::PIPELINE == 0 && j.pipeline_status() == PipelineStatus::Stalled {
                counts.stalled += 1;
            }
            if misses == 0 {
                out.push(j);
            }
        }
        (self.sorted(out), counts)
    }

    /// The jobs in the chosen order.
    fn sorted<'a>(&self, mut out: Vec<&'a DashboardJob>) -> Vec<&'a DashboardJob> {
        // `jobs` usually comes in the default order already, which the sort only
        // checks (a run of sorted input costs one comparison per job).
        out.sort_by(|&a, &b| {
            let primary = self.order(a, b);
            let primary = if self.reverse {
                primary.reverse()
            } else {
                primary
            };
            primary
                .then_with(|| a.client.cmp(&b.client))
                .then_with(|| a.title.cmp(&b.title))
                .then_with(|| a.id.cmp(&b.id))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StageCount;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn job(id: i64, client: &str, rank: Option<(Rank, i64)>, days: i64, fee: i64) -> DashboardJob {
        DashboardJob {
            id,
            title: format!("Job {id}"),
            client: client.into(),
            opened: at(),
            days_open: days,
            fee: Some(Money::new(fee, Some("GBP"))),
            rank: rank.map(|(r, sum)| JobRank {
                job_id: id,
                team: TeamScore::from_parts(sum, 1).unwrap(),
                rank: r,
                previous: None,
                settings_version: 1,
                last_scored_at: at(),
            }),
            pipeline: None,
            pipeline_status: PipelineStatus::Empty,
            my_latest: None,
            needs_my_score: id % 2 == 0,
            skipped_this_week: false,
            freshness: RankFreshness::default(),
            expired_scorers: Vec::new(),
        }
    }

    fn ids(v: &[DashboardJob]) -> Vec<i64> {
        v.iter().map(|j| j.id).collect()
    }

    fn sample() -> Vec<DashboardJob> {
        vec![
            job(1, "beta", Some((Rank::B, 30_000)), 10, 100),
            job(2, "Alpha", None, 50, 300),
            job(3, "gamma", Some((Rank::A, 45_000)), 5, 200),
            job(4, "alpha", Some((Rank::B, 35_000)), 90, 50),
        ]
    }

    #[test]
    fn rank_order_puts_better_ranks_and_scores_first_and_unscored_last() {
        assert_eq!(
            ids(&DashboardQuery::default().apply(sample())),
            [3, 4, 1, 2]
        );
        let reversed = DashboardQuery {
            reverse: true,
            ..Default::default()
        };
        assert_eq!(ids(&reversed.apply(sample())), [2, 1, 4, 3]);
    }

    #[test]
    fn a_provisional_job_sorts_after_the_others_of_its_rank_whatever_its_score() {
        let mut jobs = sample();
        // Job 4 (B, 3.50) rests on too few scorers: after job 1 (B, 3.00), before C.
        jobs[3].freshness.provisional = Some((1, 2));
        jobs.push(job(5, "delta", Some((Rank::C, 20_000)), 1, 1));
        assert_eq!(ids(&DashboardQuery::default().apply(jobs)), [3, 1, 4, 5, 2]);
    }

    #[test]
    fn every_sort_key_orders_as_named() {
        let by = |sort| {
            ids(&DashboardQuery {
                sort,
                ..Default::default()
            }
            .apply(sample()))
        };
        assert_eq!(by(SortKey::Score), [3, 4, 1, 2]);
        assert_eq!(by(SortKey::DaysOpen), [4, 2, 1, 3]);
        assert_eq!(by(SortKey::Client), [2, 4, 1, 3]);
        assert_eq!(by(SortKey::Fee), [2, 3, 1, 4]);
    }

    #[test]
    fn equal_team_scores_from_different_counts_tie_and_fall_back_to_client() {
        let mut jobs = sample();
        // 70,000 / 2 is 3.50, as is job 4's 35,000 / 1.
        jobs[0].rank.as_mut().unwrap().team = TeamScore::from_parts(70_000, 2).unwrap();
        let q = DashboardQuery {
            sort: SortKey::Score,
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(jobs)), [3, 4, 1, 2], "alpha before beta");
    }

    #[test]
    fn fees_sort_by_amount_across_currencies_and_missing_fees_last() {
        let mut jobs = sample();
        jobs[0].fee = Some(Money::new(3_000_000, Some("JPY"))); // 3,000,000 yen
        jobs[1].fee = None;
        jobs[2].fee = Some(Money::new(2_500_000, Some("GBP"))); // 25,000 pounds
        jobs[3].fee = Some(Money::new(30_000_000, Some("KWD"))); // 30,000 dinars
        let q = DashboardQuery {
            sort: SortKey::Fee,
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(jobs)), [1, 4, 3, 2]);
    }

    #[test]
    fn filters_combine() {
        let q = DashboardQuery {
            search: Some("ALPHA job".into()),
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(sample())), [4, 2]);
        let q = DashboardQuery {
            rank: Some(RankFilter::Unscored),
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(sample())), [2]);
        let q = DashboardQuery {
            rank: Some(RankFilter::Rank(Rank::B)),
            min_days: Some(10),
            max_days: Some(60),
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(sample())), [1]);
        let q = DashboardQuery {
            needs_my_score: true,
            pipeline: Some(PipelineStatus::Empty),
            client: Some("ALPHA".into()),
            ..Default::default()
        };
        assert_eq!(ids(&q.apply(sample())), [4, 2]);
    }

    #[test]
    fn each_count_honours_every_filter_but_its_own() {
        let mut jobs = sample();
        let stalled = Arc::new(PipelineSnapshot {
            job_id: 4,
            taken_at: at(),
            stages: vec![StageCount {
                stage: "Interview".into(),
                stage_order: 0,
                candidates: 1,
                avg_days_in_stage: Some(30.0),
            }],
        });
        jobs[3].set_pipeline(Some(stalled), 14);
        // No filter: every open job counts; jobs 2 and 4 need my score.
        let (shown, counts) = DashboardQuery::default().select_counted(&jobs);
        assert_eq!(shown.len(), 4);
        let all = DashboardCounts {
            a: 1,
            b: 2,
            c: 0,
            unscored: 1,
            needs_my_score: 2,
            stalled: 1,
        };
        assert_eq!(counts, all);
        // Filtering by rank B lists two jobs, and the rank counts stay those of every
        // rank (clicking A lists the one A job); the other counts are within the B jobs.
        let q = DashboardQuery {
            rank: Some(RankFilter::Rank(Rank::B)),
            ..Default::default()
        };
        let (shown, counts) = q.select_counted(&jobs);
        assert_eq!(shown.iter().map(|j| j.id).collect::<Vec<_>>(), [4, 1]);
        assert_eq!(
            counts,
            DashboardCounts {
                needs_my_score: 1,
                stalled: 1,
                ..all
            }
        );
        // A search narrows every count; each count equals what its link would list.
        let q = DashboardQuery {
            search: Some("alpha".into()),
            needs_my_score: true,
            ..Default::default()
        };
        let (shown, counts) = q.select_counted(&jobs);
        assert_eq!(shown.len(), 2);
        assert_eq!((counts.a, counts.b, counts.unscored), (0, 1, 1));
        for rank in [Rank::A, Rank::B, Rank::C] {
            let with_rank = DashboardQuery {
                rank: Some(RankFilter::Rank(rank)),
                ..q.clone()
            };
            let n = with_rank.select(&jobs).len();
            let counted = match rank {
                Rank::A => counts.a,
                Rank::B => counts.b,
                Rank::C => counts.c,
            };
            assert_eq!(n, counted, "{rank:?}");
        }
        let without_needs = DashboardQuery {
            needs_my_score: false,
            ..q.clone()
        };
        assert_eq!(counts.needs_my_score, 2);
        assert_eq!(without_needs.select(&jobs).len(), 2);
        let stalled_only = DashboardQuery {
            pipeline: Some(PipelineStatus::Stalled),
            ..q
        };
        assert_eq!(stalled_only.select(&jobs).len(), counts.stalled);
        assert_eq!(counts.stalled, 1);
    }

    #[test]
    fn the_pipeline_filter_reads_each_jobs_snapshot() {
        let mut jobs = sample();
        let snapshot = Arc::new(PipelineSnapshot {
            job_id: 1,
            taken_at: at(),
            stages: vec![StageCount {
                stage: "Interview".into(),
                stage_order: 0,
                candidates: 2,
                avg_days_in_stage: Some(20.0),
            }],
        });
        jobs[0].set_pipeline(Some(snapshot.clone()), 14);
        let q = |p| DashboardQuery {
            pipeline: Some(p),
            ..Default::default()
        };
        assert_eq!(ids(&q(PipelineStatus::Stalled).apply(jobs.clone())), [1]);
        assert_eq!(
            ids(&q(PipelineStatus::Empty).apply(jobs.clone())),
            [3, 4, 2]
        );
        assert!(q(PipelineStatus::Moving).apply(jobs.clone()).is_empty());
        // With a longer `stalled_after_days` the same wait is a moving pipeline.
        jobs[0].set_pipeline(Some(snapshot), 21);
        assert_eq!(ids(&q(PipelineStatus::Moving).apply(jobs.clone())), [1]);
        assert!(q(PipelineStatus::Stalled).apply(jobs).is_empty());
    }

    #[test]
    fn movement_compares_with_the_previous_rank() {
        let mut j = job(1, "a", Some((Rank::B, 30_000)), 1, 1);
        assert_eq!(j.movement(), Some(Movement::New));
        let prev = |sum, r| Some((TeamScore::from_parts(sum, 1).unwrap(), r));
        j.rank.as_mut().unwrap().previous = prev(20_000, Rank::C);
        assert_eq!(j.movement(), Some(Movement::Up(Rank::C)));
        j.rank.as_mut().unwrap().previous = prev(45_000, Rank::A);
        assert_eq!(j.movement(), Some(Movement::Down(Rank::A)));
        j.rank.as_mut().unwrap().previous = prev(27_500, Rank::B);
        assert!(matches!(j.movement(), Some(Movement::Same(d)) if (d - 0.25).abs() < 1e-9));
        assert_eq!(job(2, "a", None, 1, 1).movement(), None);
    }

    #[test]
    fn viewer_fields_and_when_they_next_change() {
        let now = at() + Duration::hours(30); // 1 day and 6 hours after opening
        let jobs = vec![job(1, "a", None, 0, 1), job(2, "b", None, 0, 1)];
        let mine: HashMap<i64, DateTime<Utc>> = [(1, now - Duration::days(6))].into();
        let none = HashSet::new();
        let (out, until) = viewer_jobs(&jobs, &mine, &none, now, 7);
        assert_eq!(out.iter().map(|j| j.days_open).collect::<Vec<_>>(), [1, 1]);
        assert_eq!(
            out.iter().map(|j| j.needs_my_score).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(out[0].my_latest, mine.get(&1).copied());
        // Days open turns 2 at 48 hours, before job 1 needs a score again (in a day).
        assert_eq!(until, at() + Duration::days(2));
        let soon: HashMap<i64, DateTime<Utc>> = [(1, now - Duration::hours(140))].into();
        let (_, until) = viewer_jobs(&jobs, &soon, &none, now, 6);
        assert_eq!(until, now + Duration::hours(4), "due again at 144 hours");
    }

    #[test]
    fn a_job_skipped_this_week_does_not_need_my_score_until_the_week_ends() {
        // 2026-12-06 is a Sunday: the week of Monday 2026-11-30 ends in 12 hours.
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let monday = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut jobs = vec![
            job(1, "a", None, 0, 1),
            job(2, "b", None, 0, 1),
            job(3, "c", None, 0, 1),
        ];
        for j in &mut jobs {
            j.opened = now - Duration::hours(1);
        }
        let skips: HashSet<(i64, NaiveDate)> = [
            (1, monday),
            // Last week's skip of job 2 is over.
            (2, monday - Duration::days(7)),
        ]
        .into();
        let (out, until) = viewer_jobs(&jobs, &HashMap::new(), &skips, now, 7);
        let by_id = |id: i64| out.iter().find(|j| j.id == id).unwrap();
        assert!(by_id(1).skipped_this_week && !by_id(1).needs_my_score);
        assert!(!by_id(2).skipped_this_week && by_id(2).needs_my_score);
        assert!(by_id(3).needs_my_score);
        assert_eq!(until, week_end(monday));
        assert_eq!(week_end(monday), now + Duration::hours(12));
        // The next Monday the job needs my score again.
        let (out, _) = viewer_jobs(&jobs, &HashMap::new(), &skips, week_end(monday), 7);
        assert!(out.iter().all(|j| j.needs_my_score && !j.skipped_this_week));
    }
}
