//! The dashboard's read: every open job with its rank, latest pipeline snapshot and
//! when the viewer last scored it, in a fixed number of queries whatever the number of
//! jobs (no N+1; the viewer's latest scores are one index seek per open job inside one
//! statement), with parsed pipelines kept across reads until the pipeline generation
//! (bumped by triggers, schema V6) moves; its in-memory copy ([`DashboardCache`]); and
//! the data-freshness figures of the header strip. Jobs the viewer skipped this week
//! do not need their score. What the dashboard does with the
//! jobs (the viewer's fields, filters, sorts, movement) is pure and lives in
//! [`crate::domain`] ([`DashboardJob`], [`crate::domain::DashboardQuery`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;

use super::pipeline::{PipelineSnapshot, StageCount};
use super::ranks::JobRank;
use super::sync_runs::{self, SyncRun};
use super::{ReadStamp, Result, Store, col_ts, col_ts_opt, expired, outbox, settings, skips};
use crate::domain::{
    DashboardJob, Money, PipelineStatus, Rank, RankFreshness, TeamScore, viewer_jobs, week_of,
};

/// Every open job for the dashboard, as seen by `viewer_id` at `now` (unsorted), read
/// straight from the store. Pages use [`DashboardCache`], which reads the same thing
/// once per store generation.
pub fn dashboard_jobs(
    conn: &Connection,
    viewer_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<DashboardJob>> {
    let shared = read_shared(conn, None)?;
    let mine = viewer_latest(conn, viewer_id)?;
    let skipped = skips::scorer_skips_since(conn, viewer_id, week_of(now))?;
    Ok(personal_jobs(&shared, &mine, &skipped, now).0)
}

/// What every viewer's dashboard shares, read in one snapshot: the open jobs (without
/// the viewer's fields, with their pipelines' state under the settings in force), the
/// client filter's choices, the freshness figures and the scoring cadence.
pub struct SharedDashboard {
    generation: i64,
    jobs: Vec<DashboardJob>,
    clients: Vec<String>,
    freshness: Freshness,
    cadence_days: u32,
    /// The `stalled_after_days` setting the pipelines' state was judged by.
    stalled_after_days: u32,
    pipelines: Arc<Pipelines>,
    /// Each viewer's jobs, filled on first use.
    personal: Mutex<HashMap<String, Arc<Personal>>>,
}

/// One viewer's jobs: the shared ones with the viewer's fields, in the dashboard's
/// default order, valid until `valid_until` (a job's days open or the viewer's "needs
/// my score" changes then) or the next store generation.
struct Personal {
    /// Unique among the views of one [`DashboardCache`] ([`DashboardView::version`]).
    version: u64,
    latest: Arc<HashMap<i64, DateTime<Utc>>>,
    /// The viewer's skips (job, week) from the week of the read on.
    skipped: Arc<HashSet<(i64, NaiveDate)>>,
    jobs: Vec<DashboardJob>,
    valid_until: DateTime<Utc>,
}

/// The shared jobs with the viewer's fields at `now`, in default order, and the first
/// moment one of those fields changes.
fn personal_jobs(
    shared: &SharedDashboard,
    latest: &HashMap<i64, DateTime<Utc>>,
    skipped: &HashSet<(i64, NaiveDate)>,
    now: DateTime<Utc>,
) -> (Vec<DashboardJob>, DateTime<Utc>) {
    viewer_jobs(&shared.jobs, latest, skipped, now, shared.cadence_days)
}

/// The latest pipeline snapshot of each open job, as of one pipeline generation.
struct Pipelines {
    /// `store_generation.pipelines` when read (moved by triggers on every change).
    generation: i64,
    /// The open jobs they were read for (a job without a snapshot is covered too).
    covered: HashSet<i64>,
    by_job: HashMap<i64, Arc<PipelineSnapshot>>,
}

/// Reads the shared part of the dashboard. The parsed pipelines of `previous` are kept
/// when no pipeline snapshot changed since and they cover every open job: a score
/// submission then costs a re-read of the jobs and ranks only.
fn read_shared(conn: &Connection, previous: Option<&SharedDashboard>) -> Result<SharedDashboard> {
    // One read transaction (or the caller's, when one is open: a submission reads its
    // scorer's queue inside its write): the generation and everything read with it
    // agree.
    let own = if conn.is_autocommit() {
        Some(conn.unchecked_transaction()?)
    } else {
        None
    };
    let tx: &Connection = own.as_deref().unwrap_or(conn);
    let (generation, pipelines_generation): (i64, i64) = tx
        .prepare_cached("SELECT n, pipelines FROM store_generation WHERE singleton = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let current = settings::current_settings(tx)?.settings;
    let cadence_days = current.cadence_days;
    let mut jobs = open_jobs(tx)?;
    let reusable = previous.map(|p| p.pipelines.clone()).filter(|p| {
        p.generation == pipelines_generation && jobs.iter().all(|j| p.covered.contains(&j.id))
    });
    let pipelines = match reusable {
        Some(p) => p,
        None => Arc::new(Pipelines {
            generation: pipelines_generation,
            covered: jobs.iter().map(|j| j.id).collect(),
            by_job: latest_pipelines(tx)?,
        }),
    };
    let mut expired = expired::scorers_on_open_jobs(tx)?;
    for j in &mut jobs {
        j.set_pipeline(
            pipelines.by_job.get(&j.id).cloned(),
            current.stalled_after_days,
        );
        j.expired_scorers = expired.remove(&j.id).unwrap_or_default();
        j.freshness = RankFreshness::of(
            j.rank.as_ref().map(|r| r.team.count()),
            u32::try_from(j.expired_scorers.len()).unwrap_or(u32::MAX),
            &current,
        );
    }
    let clients = open_clients(tx)?;
    let freshness = freshness(tx)?;
    if let Some(own) = own {
        own.finish()?;
    }
    Ok(SharedDashboard {
        generation,
        jobs,
        clients,
        freshness,
        cadence_days,
        stalled_after_days: current.stalled_after_days,
        pipelines,
        personal: Mutex::new(HashMap::new()),
    })
}

/// When `viewer_id` last scored each open job they have scored.
fn viewer_latest(conn: &Connection, viewer_id: &str) -> Result<HashMap<i64, DateTime<Utc>>> {
    let mut mine = HashMap::new();
    // One index seek per open job (MAX over `submissions_scorer_job`): cheaper than
    // grouping all of the viewer's submissions, closed jobs' included.
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, (SELECT MAX(s.submitted_at) FROM submissions s
                       WHERE s.scorer_id = ?1 AND s.job_id = j.id)
         FROM jobs j WHERE j.is_open = 1",
    )?;
    let rows = stmt.query_map([viewer_id], |r| {
        Ok((r.get::<_, i64>(0)?, col_ts_opt(r, 1)?))
    })?;
    for row in rows {
        if let (job, Some(at)) = row? {
            mine.insert(job, at);
        }
    }
    Ok(mine)
}

/// The latest pipeline snapshot of each open job.
fn latest_pipelines(conn: &Connection) -> Result<HashMap<i64, Arc<PipelineSnapshot>>> {
    let mut pipelines: HashMap<i64, PipelineSnapshot> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            // The latest snapshot time of each open job, found once per job (500 index
            // seeks), then its stages.
            "WITH latest AS MATERIALIZED (
                 SELECT j.id AS job_id,
                        (SELECT MAX(taken_at) FROM pipeline_snapshots WHERE job_id = j.id) AS taken_at
                 FROM jobs j WHERE j.is_open = 1
             )
             SELECT p.job_id, p.taken_at, p.stage, p.stage_order, p.candidates, p.avg_days_in_stage
             FROM latest l JOIN pipeline_snapshots p ON p.job_id = l.job_id AND p.taken_at = l.taken_at
             ORDER BY p.job_id, p.stage_order, p.stage",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let job_id: i64 = r.get(0)?;
            let stage = StageCount {
                stage: r.get(2)?,
                stage_order: r.get(3)?,
                candidates: r.get(4)?,
                avg_days_in_stage: r.get(5)?,
            };
            match pipelines.get_mut(&job_id) {
                Some(p) => p.stages.push(stage),
                None => {
                    // Every stage of a snapshot shares its time: parse it once per job.
                    pipelines.insert(
                        job_id,
                        PipelineSnapshot {
                            job_id,
                            taken_at: col_ts(r, 1)?,
                            stages: vec![stage],
                        },
                    );
                }
            }
        }
    }
    Ok(pipelines
        .into_iter()
        .map(|(id, p)| (id, Arc::new(p)))
        .collect())
}

/// The open jobs with rank, without the viewer's fields and the pipelines.
fn open_jobs(conn: &Connection) -> Result<Vec<DashboardJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, j.title, j.client, COALESCE(j.opened_at, j.first_seen_at), j.fee_minor, j.fee_currency,
                r.score_sum, r.scorer_count, r.rank, r.previous_sum, r.previous_count, r.previous_rank,
                r.settings_version, r.last_scored_at
         FROM jobs j LEFT JOIN job_ranks r ON r.job_id = j.id
         WHERE j.is_open = 1",
    )?;
    let rows = stmt.query_map([], |r| {
        let rank: Option<String> = r.get(8)?;
        let rank = match rank {
            Some(letter) => {
                let team = TeamScore::from_parts(r.get(6)?, r.get(7)?);
                let prev = match (
                    r.get::<_, Option<i64>>(9)?,
                    r.get::<_, Option<i64>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ) {
                    (Some(s), Some(c), Some(p)) => TeamScore::from_parts(s, c).zip(Rank::parse(&p)),
                    _ => None,
                };
                match (team, Rank::parse(&letter), col_ts_opt(r, 13)?) {
                    (Some(team), Some(rank), Some(last)) => Some(JobRank {
                        job_id: r.get(0)?,
                        team,
                        rank,
                        previous: prev,
                        settings_version: r.get(12)?,
                        last_scored_at: last,
                    }),
                    _ => None,
                }
            }
            None => None,
        };
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            col_ts(r, 3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<String>>(5)?,
            rank,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, title, client, opened, fee_minor, fee_currency, rank) = row?;
        out.push(DashboardJob {
            id,
            title,
            client,
            opened,
            days_open: 0,
            fee: Money::from_parts(fee_minor, fee_currency.as_deref()),
            rank,
            pipeline: None,
            pipeline_status: PipelineStatus::Empty,
            my_latest: None,
            needs_my_score: false,
            skipped_this_week: false,
            freshness: RankFreshness::default(),
            expired_scorers: Vec::new(),
        });
    }
    Ok(out)
}

/// One viewer's dashboard at one moment.
#[derive(Clone)]
pub struct DashboardView {
    shared: Arc<SharedDashboard>,
    personal: Arc<Personal>,
}

impl DashboardView {
    /// Every open job as the viewer sees it, in the dashboard's default (rank) order.
    pub fn jobs(&self) -> &[DashboardJob] {
        &self.personal.jobs
    }

    /// Distinct clients of open jobs, A-Z.
    pub fn clients(&self) -> &[String] {
        &self.shared.clients
    }

    pub fn freshness(&self) -> &Freshness {
        &self.shared.freshness
    }

    /// The `stalled_after_days` setting the jobs' pipeline states follow.
    pub fn stalled_after_days(&self) -> u32 {
        self.shared.stalled_after_days
    }

    /// Names this view's content: two views of one [`DashboardCache`] with the same
    /// version hold the same jobs (with the same viewer's fields), clients, freshness
    /// and settings. Every new store generation, and every viewer's part made anew
    /// (when a job's days open or the viewer's "needs my score" changes with the
    /// clock), gets a new version, so whatever is derived from a view can be kept
    /// under it (the dashboard's rendered pages).
    pub fn version(&self) -> u64 {
        self.personal.version
    }
}

/// An in-memory copy of the dashboard's read, kept while the store's generation stays
/// the same (no write transaction committed since, by this process or another one), so
/// the team's repeated dashboard views and filter changes cost no store read beyond one
/// row. Writes made to the SQLite file by other tools than jobrank are not noticed until
/// jobrank's next write.
///
/// Checking the generation is itself a store read (a trip to the blocking pool). So a
/// copy the store confirmed current stands without asking again under the rule of
/// [`ReadStamp`]: a write by this process (a score, a webhook, a sync) shows at once, a
/// write by a command-line tool within [`super::TRUST_READ_FOR`].
#[derive(Default)]
pub struct DashboardCache {
    current: Mutex<Option<Arc<SharedDashboard>>>,
    confirmed: Mutex<Option<Confirmed>>,
    /// The last [`DashboardView::version`] given out.
    versions: std::sync::atomic::AtomicU64,
    /// Held while the shared part is read anew (one refresh at a time).
    refreshing: Mutex<()>,
}

/// The store last confirmed the copy of `generation` current in the read of `stamp`.
#[derive(Clone, Copy)]
struct Confirmed {
    generation: i64,
    stamp: ReadStamp,
}

impl DashboardCache {
    /// The dashboard without touching the store, when the read that confirmed the copy
    /// is still current ([`ReadStamp::still_current`] at `stamp`, taken now) and the
    /// viewer's part is still valid at `now`. `None` means: ask the store through
    /// [`DashboardCache::view_confirmed`].
    pub fn recent_view(
        &self,
        stamp: &ReadStamp,
        viewer_id: &str,
        now: DateTime<Utc>,
    ) -> Option<DashboardView> {
        let confirmed = (*self.confirmed.lock().unwrap_or_else(|p| p.into_inner()))?;
        if !confirmed.stamp.still_current(stamp) {
            return None;
        }
        let shared = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|s| s.generation == confirmed.generation)?;
        let personal = shared
            .personal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(viewer_id)
            .cloned()
            .filter(|p| now < p.valid_until)?;
        Some(DashboardView { shared, personal })
    }

    /// [`DashboardCache::view`], then records that the store confirmed the copy current;
    /// `stamp` must have been taken before this read began ([`Store::read_stamp`]).
    pub fn view_confirmed(
        &self,
        conn: &Connection,
        stamp: ReadStamp,
        viewer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DashboardView> {
        let view = self.view(conn, viewer_id, now)?;
        let generation = view.shared.generation;
        let current = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.generation);
        if current == Some(generation) {
            let mut confirmed = self.confirmed.lock().unwrap_or_else(|p| p.into_inner());
            // Never replace a confirmation of a newer generation by an older one.
            if confirmed.is_none_or(|c| c.generation <= generation) {
                *confirmed = Some(Confirmed { generation, stamp });
            }
        }
        Ok(view)
    }

    /// The dashboard as `viewer_id` sees it at `now`, from the copy when it is current.
    pub fn view(
        &self,
        conn: &Connection,
        viewer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DashboardView> {
        let generation = Store::generation(conn)?;
        let cached = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|s| s.generation == generation);
        let shared = match cached {
            Some(s) => s,
            None => {
                // One refresh at a time: the readers that find the copy stale at once
                // (every connection's next view after a write) wait for the first one's
                // read instead of each making the same one, which leaves the CPU to the
                // writes. A copy as new as the store they saw, or newer, will do.
                let _refresh = self.refreshing.lock().unwrap_or_else(|p| p.into_inner());
                let previous = self
                    .current
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                match previous.as_ref().filter(|s| s.generation >= generation) {
                    Some(s) => s.clone(),
                    None => {
                        let fresh = Arc::new(read_shared(conn, previous.as_deref())?);
                        let mut slot = self.current.lock().unwrap_or_else(|p| p.into_inner());
                        // Keep the newer copy.
                        if slot
                            .as_ref()
                            .is_none_or(|s| s.generation <= fresh.generation)
                        {
                            *slot = Some(fresh.clone());
                        }
                        fresh
                    }
                }
            }
        };
        self.view_of(shared, conn, viewer_id, now)
    }

    /// The viewer's part of `shared` at `now`: the one made before while still valid,
    /// else read (the viewer's latest scores and skips) and made now.
    fn view_of(
        &self,
        shared: Arc<SharedDashboard>,
        conn: &Connection,
        viewer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<DashboardView> {
        let known = shared
            .personal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(viewer_id)
            .cloned();
        let personal = match known {
            Some(p) if now < p.valid_until => p,
            known => {
                let (latest, skipped) = match known {
                    // A skip is a write, so the skips read with this generation hold
                    // every skip of the current week, even after the week they were
                    // read in has ended.
                    Some(p) => (p.latest.clone(), p.skipped.clone()),
                    // Read after the shared part: at worst newer than it, and a newer
                    // generation replaces both.
                    None => (
                        Arc::new(viewer_latest(conn, viewer_id)?),
                        Arc::new(skips::scorer_skips_since(conn, viewer_id, week_of(now))?),
                    ),
                };
                let (jobs, valid_until) = personal_jobs(&shared, &latest, &skipped, now);
                let p = Arc::new(Personal {
                    version: self
                        .versions
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        + 1,
                    latest,
                    skipped,
                    jobs,
                    valid_until,
                });
                shared
                    .personal
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(viewer_id.to_owned(), p.clone());
                p
            }
        };
        Ok(DashboardView { shared, personal })
    }
}

/// Distinct clients of open jobs, A-Z (for the client filter).
pub fn open_clients(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT client FROM jobs WHERE is_open = 1 ORDER BY client COLLATE NOCASE",
    )?;
    let rows = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

/// How fresh the data is: the latest Recruiterflow sync and the replication backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct Freshness {
    /// The latest Recruiterflow sync run (any outcome).
    pub recruiterflow_latest: Option<SyncRun>,
    /// The latest successful one.
    pub recruiterflow_ok: Option<SyncRun>,
    /// Changes waiting to be pushed to Supabase.
    pub outbox_pending: i64,
    /// Changes that could not be pushed and were set aside.
    pub outbox_dead: i64,
    pub last_push: Option<DateTime<Utc>>,
    /// When the oldest change waiting to be pushed was made.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// Reads the freshness figures.
pub fn freshness(conn: &Connection) -> Result<Freshness> {
    Ok(Freshness {
        recruiterflow_latest: sync_runs::latest_run(conn, "recruiterflow")?,
        recruiterflow_ok: sync_runs::latest_ok_run(conn, "recruiterflow")?,
        outbox_pending: outbox::pending_count(conn)?,
        outbox_dead: outbox::dead_count(conn)?,
        last_push: outbox::last_pushed_at(conn)?,
        oldest_pending: outbox::oldest_pending_at(conn)?,
    })
}
