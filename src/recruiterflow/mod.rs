//! Recruiterflow: the API client, the mapping of its payloads to jobs, webhooks and sync.
//!
//! Recruiterflow is the source of truth for jobs, clients and pipelines. A full sync
//! (every `JOBRANK_SYNC_INTERVAL`, on "Refresh now", or `jobrank sync recruiterflow`)
//! is complete on its own; webhooks only make changes arrive sooner. [`Syncer`] owns
//! the background tasks (and the rank write-back's, [`write_back`], when
//! `RECRUITERFLOW_RANK_FIELD` is set) and is the handle the web layer uses.

pub mod client;
pub mod custom_fields;
pub mod error;
pub mod mapping;
pub mod model;
pub mod sync;
pub mod webhook;
pub mod write_back;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Notify;

pub use client::{Client, ClientOptions, UserList};
pub use error::RecruiterflowError;
pub use sync::{SyncProgress, SyncReport};
pub use write_back::{WriteBack, WriteBackOptions};

use crate::config::Config;
use crate::store::{self, Store, inbox, sync_runs};
use crate::tasks::{Next, Running, StopSignal, Task, Turn};

/// How the webhook inbox retries events whose processing failed.
#[derive(Debug, Clone)]
pub struct InboxOptions {
    /// Delay before the second attempt; doubles each time.
    pub base_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// Attempts before an event becomes a dead letter.
    pub max_attempts: i64,
    /// Events taken per round.
    pub batch: i64,
    /// Longest sleep between looks at the inbox when nothing wakes the worker.
    pub poll: Duration,
}

impl Default for InboxOptions {
    fn default() -> Self {
        InboxOptions {
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
            max_attempts: 10,
            batch: 200,
            poll: Duration::from_secs(5),
        }
    }
}

/// A snapshot of the sync's state for the dashboard's "Refresh now" control and the
/// admin page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SyncStatus {
    /// A full sync is running now.
    pub running: bool,
    /// What the running sync is doing.
    pub progress: Option<SyncProgress>,
    pub started_at: Option<DateTime<Utc>>,
    pub last_finished_at: Option<DateTime<Utc>>,
    /// Whether the last full sync succeeded.
    pub last_ok: Option<bool>,
    /// The last run's summary or error.
    pub last_message: Option<String>,
    /// The last failure was Recruiterflow refusing the API key.
    pub bad_key: bool,
}

/// What one round of inbox processing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxRound {
    pub done: usize,
    pub failed: usize,
    pub dead: usize,
}

struct Inner {
    store: Store,
    client: Client,
    inbox: InboxOptions,
    status: Mutex<SyncStatus>,
    wake_sync: Arc<Notify>,
    /// A sync was asked for ([`Syncer::trigger`]) and has not started yet.
    requested: AtomicBool,
    wake_inbox: Arc<Notify>,
    run_lock: tokio::sync::Mutex<()>,
    /// The rank write-back, when `RECRUITERFLOW_RANK_FIELD` is set.
    write_back: Option<WriteBack>,
}

/// The Recruiterflow sync: full syncs on a timer or on demand, and the webhook inbox
/// worker. Cheap to clone.
#[derive(Clone)]
pub struct Syncer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("client", &self.inner.client)
            .finish_non_exhaustive()
    }
}

impl Syncer {
    /// A syncer writing to `store` through `client`.
    pub fn new(store: Store, client: Client, inbox: InboxOptions) -> Syncer {
        Syncer::with_write_back(store, client, inbox, None)
    }

    /// A syncer that also writes ranks back to Recruiterflow with `write_back`: it
    /// starts its task and, after each full sync, compares what the jobs report with
    /// what it wrote.
    pub fn with_write_back(
        store: Store,
        client: Client,
        inbox: InboxOptions,
        write_back: Option<WriteBack>,
    ) -> Syncer {
        Syncer {
            inner: Arc::new(Inner {
                store,
                client,
                inbox,
                status: Mutex::new(SyncStatus::default()),
                wake_sync: Arc::default(),
                requested: AtomicBool::new(false),
                wake_inbox: Arc::default(),
                run_lock: tokio::sync::Mutex::new(()),
                write_back,
            }),
        }
    }

    /// The syncer the configuration asks for: `None` without `RECRUITERFLOW_API_KEY`;
    /// with the rank write-back when `RECRUITERFLOW_RANK_FIELD` is set too.
    pub fn from_config(
        config: &Config,
        store: &Store,
    ) -> Result<Option<Syncer>, RecruiterflowError> {
        let Some(key) = config.recruiterflow.api_key.clone() else {
            return Ok(None);
        };
        let client = Client::new(
            config.recruiterflow.base_url.clone(),
            key,
            ClientOptions::default(),
        )?;
        let write_back = WriteBack::from_config(config, store, &client);
        Ok(Some(Syncer::with_write_back(
            store.clone(),
            client,
            InboxOptions::default(),
            write_back,
        )))
    }

    /// The rank write-back, when `RECRUITERFLOW_RANK_FIELD` is set.
    pub fn write_back(&self) -> Option<&WriteBack> {
        self.inner.write_back.as_ref()
    }

    /// The API client in use.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Asks the background poller for a full sync now ("Refresh now"). Returns false
    /// when one is already running (its progress is in [`Syncer::status`]) or already
    /// asked for and about to start: presses in quick succession start one sync.
    pub fn trigger(&self) -> bool {
        let status = self.inner.status.lock().unwrap_or_else(|p| p.into_inner());
        if status.running || self.inner.requested.swap(true, Ordering::SeqCst) {
            return false;
        }
        drop(status);
        self.inner.wake_sync.notify_one();
        true
    }

    /// The sync's state now.
    pub fn status(&self) -> SyncStatus {
        self.inner
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut self.inner.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Runs one full sync now (after any running one finishes) and returns its report.
    pub async fn sync_now(&self) -> Result<SyncReport, RecruiterflowError> {
        let _one_at_a_time = self.inner.run_lock.lock().await;
        let started = store::now();
        self.update_status(|s| {
            // Any request waiting is served by this run.
            self.inner.requested.store(false, Ordering::SeqCst);
            s.running = true;
            s.started_at = Some(started);
            s.progress = None;
        });
        let progress = |p: SyncProgress| self.update_status(|s| s.progress = Some(p));
        let result = sync::full_sync(&self.inner.store, &self.inner.client, &progress).await;
        self.update_status(|s| {
            s.running = false;
            s.progress = None;
            s.last_finished_at = Some(store::now());
            s.last_ok = Some(result.is_ok());
            s.bad_key = result
                .as_ref()
                .err()
                .is_some_and(RecruiterflowError::is_bad_key);
            s.last_message = Some(match &result {
                Ok(r) => r.message.clone(),
                Err(e) => e.to_string(),
            });
        });
        if let (Ok(report), Some(w)) = (&result, &self.inner.write_back)
            && let Err(e) = w.check_reported(&report.reported_fields).await
        {
            tracing::warn!(error = %e, "cannot compare the rank fields in Recruiterflow with what jobrank wrote");
        }
        match &result {
            Ok(r) => {
                tracing::info!(
                    run = r.run_id,
                    users_seen = ?r.users_seen,
                    users_matched = ?r.users_matched,
                    summary = %r.message,
                    "Recruiterflow sync finished"
                )
            }
            Err(e) => tracing::warn!(error = %e, "Recruiterflow sync failed"),
        }
        result
    }

    /// Wakes the inbox worker (a webhook event was stored).
    pub fn notify_inbox(&self) {
        self.inner.wake_inbox.notify_one();
    }

    fn retry_delay(&self, attempts: i64) -> Duration {
        let shift = attempts.clamp(1, 20) as u32 - 1;
        self.inner
            .inbox
            .base_delay
            .saturating_mul(1 << shift)
            .min(self.inner.inbox.max_delay)
    }

    /// Processes the inbox events that are due: each job named is fetched once from
    /// Recruiterflow, however many events name it. Failures are retried later with
    /// backoff and become dead letters after the bound.
    pub async fn process_inbox(&self) -> Result<InboxRound, RecruiterflowError> {
        self.process_inbox_on(&store::now).await
    }

    /// [`Syncer::process_inbox`] on another clock than the system's: which events are
    /// due, and when a failed one is retried, are reckoned by `clock` (tests step
    /// through the backoff without waiting for it).
    pub async fn process_inbox_on(
        &self,
        clock: &(dyn Fn() -> DateTime<Utc> + Sync),
    ) -> Result<InboxRound, RecruiterflowError> {
        let mut round = InboxRound::default();
        loop {
            let now = clock();
            let batch = self.inner.inbox.batch;
            let due = self
                .inner
                .store
                .read(move |c| inbox::due_events(c, now, batch))
                .await?;
            if due.is_empty() {
                return Ok(round);
            }
            let full = due.len() as i64 >= batch;
            let mut by_job: BTreeMap<i64, Vec<inbox::InboxEvent>> = BTreeMap::new();
            for e in due {
                match e.job_id {
                    Some(j) => by_job.entry(j).or_default().push(e),
                    None => {
                        // Not stored as pending by the web layer; finish it defensively.
                        let id = e.id;
                        self.inner
                            .store
                            .write(move |tx| inbox::mark_done(tx, id, store::now()))
                            .await?;
                    }
                }
            }
            let concurrency = self.inner.client.options().concurrency.max(1);
            let results: Vec<(Vec<inbox::InboxEvent>, Result<(), String>)> =
                futures_util::stream::iter(by_job)
                    .map(|(job_id, events)| async move {
                        let r = sync::refresh_job(&self.inner.store, &self.inner.client, job_id)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string());
                        (events, r)
                    })
                    .buffer_unordered(concurrency)
                    .collect()
                    .await;
            let max_attempts = self.inner.inbox.max_attempts;
            // Per event: the error and when to retry, or None when it was done.
            type Retry = Option<(String, DateTime<Utc>)>;
            let plan: Vec<(i64, Retry)> = results
                .iter()
                .flat_map(|(events, r)| {
                    events.iter().map(move |e| {
                        let retry = r.as_ref().err().map(|why| {
                            let wait = self.retry_delay(e.attempts + 1);
                            let at = clock()
                                + chrono::Duration::from_std(wait)
                                    .unwrap_or(chrono::Duration::hours(1));
                            (why.clone(), at)
                        });
                        (e.id, retry)
                    })
                })
                .collect();
            let (done, failed, dead) = self
                .inner
                .store
                .write(move |tx| {
                    let now = store::now();
                    let (mut done, mut failed, mut dead) = (0, 0, 0);
                    for (id, retry) in &plan {
                        match retry {
                            None => {
                                inbox::mark_done(tx, *id, now)?;
                                done += 1;
                            }
                            Some((why, at)) => {
                                failed += 1;
                                if inbox::mark_failed(tx, *id, why, *at, max_attempts)? {
                                    dead += 1;
                                }
                            }
                        }
                    }
                    Ok((done, failed, dead))
                })
                .await?;
            if failed > 0 {
                tracing::warn!(
                    failed,
                    dead,
                    "some Recruiterflow webhook events failed; they will be retried"
                );
            }
            round.done += done;
            round.failed += failed;
            round.dead += dead;
            if !full || failed > 0 {
                return Ok(round);
            }
        }
    }

    /// Starts the background tasks: `recruiterflow_poll` (a full sync at start, every
    /// `every`, and on [`Syncer::trigger`]), `recruiterflow_inbox` (webhook events: at
    /// start, when one is stored, when a retry falls due, and every
    /// [`InboxOptions::poll`] in case another process stored one) and, with the rank
    /// write-back, `recruiterflow_write_back` (see [`WriteBack::spawn`]).
    pub fn spawn(&self, every: Duration, stop: &StopSignal) -> Vec<Running> {
        let mut tasks = vec![
            self.spawn_poller(every, stop),
            self.spawn_inbox_worker(stop),
        ];
        tasks.extend(self.inner.write_back.as_ref().map(|w| w.spawn(stop)));
        tasks
    }

    fn spawn_poller(&self, every: Duration, stop: &StopSignal) -> Running {
        let me = self.clone();
        let mut first = true;
        Task::new("recruiterflow_poll")
            .every(every)
            .woken_by(self.inner.wake_sync.clone())
            .spawn(stop, move |turn| {
                let me = me.clone();
                let at_start = std::mem::take(&mut first);
                async move {
                    if at_start && let Err(e) = me.close_interrupted_runs().await {
                        tracing::warn!(error = %e, "cannot close interrupted Recruiterflow sync runs");
                    }
                    // A request the last run already served (it started between the
                    // request and this wake-up) starts no second run.
                    if turn == Turn::Woken && !me.inner.requested.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    // The run is logged and recorded in `sync_runs` by `sync_now`.
                    let _ = me.sync_now().await;
                    Ok(())
                }
            })
    }

    /// Marks the runs a stop or crash cut short as failed; done once at start.
    async fn close_interrupted_runs(&self) -> Result<(), RecruiterflowError> {
        self.inner
            .store
            .write(|tx| {
                sync_runs::fail_unfinished_runs(
                    tx,
                    sync::RUN_KIND,
                    "interrupted: jobrank stopped while this sync ran",
                    store::now(),
                )
            })
            .await?;
        Ok(())
    }

    fn spawn_inbox_worker(&self, stop: &StopSignal) -> Running {
        let me = self.clone();
        Task::new("recruiterflow_inbox")
            .every(self.inner.inbox.poll)
            .woken_by(self.inner.wake_inbox.clone())
            .spawn(stop, move |_| {
                let me = me.clone();
                async move {
                    me.process_inbox().await?;
                    let next = match me.inner.store.read(inbox::next_due_at).await? {
                        Some(at) => Next::Within(
                            (at - store::now())
                                .to_std()
                                .unwrap_or(Duration::ZERO)
                                .max(INBOX_PAUSE),
                        ),
                        None => Next::OnSchedule,
                    };
                    Ok(next)
                }
            })
    }
}

/// The least pause between two rounds of the inbox worker, so events that are due at
/// once (a full batch) never make it spin.
const INBOX_PAUSE: Duration = Duration::from_millis(5);

/// A client for checks (`jobrank check`): fewer attempts and a shorter timeout.
fn check_client(config: &Config) -> Result<Client, RecruiterflowError> {
    let key = config
        .recruiterflow
        .api_key
        .clone()
        .ok_or(RecruiterflowError::NotConfigured)?;
    Client::new(
        config.recruiterflow.base_url.clone(),
        key,
        ClientOptions {
            max_attempts: 2,
            timeout: Duration::from_secs(15),
            ..ClientOptions::default()
        },
    )
}

/// Checks that Recruiterflow accepts the configured key; returns the open-job count.
/// For `jobrank check` and the admin page.
pub async fn check_key(config: &Config) -> Result<i64, RecruiterflowError> {
    check_client(config)?.open_job_count().await
}

/// Checks the rank write-back's fields in Recruiterflow (`jobrank check`): `None`
/// when `RECRUITERFLOW_RANK_FIELD` is unset, else the fields found, each existing once
/// with a type that can hold its value (a select with the choices A, B and C).
pub async fn check_write_back_fields(
    config: &Config,
    store: &Store,
) -> Result<Option<write_back::Fields>, RecruiterflowError> {
    let client = check_client(config)?;
    match WriteBack::from_config(config, store, &client) {
        Some(w) => Ok(Some(w.check_fields().await?)),
        None => Ok(None),
    }
}
