//! The rank write-back's sender: takes the values the store commands queued
//! (`store::write_back`) and writes them into each job's rank field (and the optional
//! score field) in Recruiterflow, through the client's retries and its 429 /
//! `Retry-After` handling, at most `RECRUITERFLOW_WRITE_BACK_PER_MINUTE` job updates in
//! any minute ([`RateBound`]).
//!
//! What happens to a value:
//! - its job closed since it was queued: dropped, never written (checked as it is
//!   sent);
//! - Recruiterflow acknowledged it: removed from the queue, unless a newer value
//!   replaced it meanwhile (that one goes next), and remembered as what was written, for
//!   the comparison at the next sync ([`WriteBack::check_reported`]);
//! - Recruiterflow kept failing (429, 5xx, timeouts after the client's own attempts):
//!   tried again later with backoff, and after [`WriteBackOptions::max_attempts`] a dead
//!   letter;
//! - refused for good (the job is gone, 404; a value refused): a dead letter at once, no
//!   retry loop;
//! - nothing can be written at all (the field is missing or set up wrong, the key is
//!   refused): the round stops, the values stay queued as they were, and the problem is
//!   recorded for the admin page until a round succeeds.
//!
//! A write-back changes only a custom field, which jobrank does not store, so the
//! `job.updated` webhook Recruiterflow sends about it re-syncs an unchanged job: no rank
//! change, nothing queued, no loop.

mod bound;
mod check;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::client::Client;
use super::custom_fields::{self, CustomField, FieldError, FieldRole, FieldValue};
use super::error::{RecruiterflowError, Result};
use crate::config::Config;
use crate::domain::Standing;
use crate::store::write_back::{self as queue, Queued};
use crate::store::{self, Store};
use crate::tasks::{Next, Running, StopSignal, Task};

pub use bound::RateBound;

/// The sender's bounds and delays; the defaults suit production, tests shorten them.
#[derive(Debug, Clone)]
pub struct WriteBackOptions {
    /// Job updates in any minute; 0 for no bound (`RECRUITERFLOW_WRITE_BACK_PER_MINUTE`).
    pub per_minute: u32,
    /// Wait before the second round of attempts at a value; doubles each time.
    pub retry_base: Duration,
    /// Longest wait between rounds of attempts.
    pub retry_max: Duration,
    /// Rounds of attempts (each with the client's own retries) before a dead letter.
    pub max_attempts: i64,
    /// Values taken from the queue at a time.
    pub batch: i64,
    /// How often the task looks at the queue when nothing wakes it (values queued by
    /// another process, such as `jobrank user deactivate`).
    pub poll: Duration,
    /// How long the fields found in Recruiterflow's list are used before it is read
    /// again.
    pub fields_for: Duration,
    /// How long the task waits, once woken, before its round: the rank changes of a
    /// burst of submissions (a scorer going down the queue, a settings change) are then
    /// sent in one round and their acknowledgements recorded in one write, instead of
    /// one fsynced write per change competing with the submissions for the writer.
    pub gather: Duration,
}

impl Default for WriteBackOptions {
    fn default() -> Self {
        WriteBackOptions {
            per_minute: 60,
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            max_attempts: 8,
            batch: 100,
            poll: Duration::from_secs(60),
            fields_for: Duration::from_secs(300),
            gather: Duration::from_millis(250),
        }
    }
}

/// The fields named by the settings, as found in Recruiterflow's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub rank: CustomField,
    pub score: Option<CustomField>,
}

impl Fields {
    /// The custom field values that write `standing` (`None`: clear them).
    pub fn values(&self, standing: Option<Standing>) -> Result<Vec<FieldValue>, FieldError> {
        let mut out = vec![FieldValue {
            id: self.rank.id,
            value: custom_fields::field_value(&self.rank, FieldRole::Rank, standing)?,
        }];
        if let Some(score) = &self.score {
            out.push(FieldValue {
                id: score.id,
                value: custom_fields::field_value(score, FieldRole::Score, standing)?,
            });
        }
        Ok(out)
    }

    fn by_id(&self, id: i64) -> Option<&CustomField> {
        std::iter::once(&self.rank)
            .chain(self.score.as_ref())
            .find(|f| f.id == id)
    }
}

/// What one round of sending did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Values Recruiterflow acknowledged.
    pub sent: usize,
    /// Values dropped because their job closed.
    pub closed: usize,
    /// Values that failed for now and wait for another round of attempts.
    pub retrying: usize,
    /// Values that became dead letters.
    pub dead: usize,
    /// Values left for later by the bound on updates.
    pub held: usize,
    /// When the bound frees a token, if it held values back.
    #[doc(hidden)]
    pub bound_until: Option<DateTime<Utc>>,
}

impl Round {
    fn add(&mut self, other: Round) {
        self.sent += other.sent;
        self.closed += other.closed;
        self.retrying += other.retrying;
        self.dead += other.dead;
        self.held = other.held;
        self.bound_until = other.bound_until;
    }
}

/// What a comparison after a sync found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    /// Jobs whose fields were compared.
    pub compared: usize,
    /// Of those, jobs that reported something else than was written.
    pub mismatches: usize,
}

/// How a failed update is treated.
enum Verdict {
    /// Try again later (Recruiterflow kept failing for now).
    Retry,
    /// A dead letter now (the job is gone, the value was refused).
    Dead,
    /// Nothing can be written: stop the round, keep the values as they are.
    Halt,
}

fn verdict(e: &RecruiterflowError) -> Verdict {
    match e {
        e if e.is_temporary() => Verdict::Retry,
        RecruiterflowError::Unauthorized { .. }
        | RecruiterflowError::Redirect { .. }
        | RecruiterflowError::Field(_)
        | RecruiterflowError::Setup(_)
        | RecruiterflowError::NotConfigured
        | RecruiterflowError::Store(_) => Verdict::Halt,
        _ => Verdict::Dead,
    }
}

/// What to do with one value after its attempt.
enum Plan {
    Sent {
        q: Queued,
        fields: String,
    },
    Retry {
        q: Queued,
        why: String,
        at: DateTime<Utc>,
    },
    Dead {
        q: Queued,
        why: String,
    },
}

struct Inner {
    store: Store,
    client: Client,
    rank_field: String,
    score_field: Option<String>,
    opts: WriteBackOptions,
    bound: std::sync::Mutex<RateBound>,
    /// The fields as last found, and when.
    fields: tokio::sync::Mutex<Option<(tokio::time::Instant, Fields)>>,
    /// One round at a time in this process.
    round: tokio::sync::Mutex<()>,
}

/// The rank write-back to Recruiterflow. Cheap to clone.
#[derive(Clone)]
pub struct WriteBack {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WriteBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBack")
            .field("rank_field", &self.inner.rank_field)
            .field("score_field", &self.inner.score_field)
            .field("opts", &self.inner.opts)
            .finish_non_exhaustive()
    }
}

impl WriteBack {
    /// Writes into the field named `rank_field` (and `score_field`) through `client`.
    pub fn new(
        store: Store,
        client: Client,
        rank_field: &str,
        score_field: Option<&str>,
        opts: WriteBackOptions,
    ) -> WriteBack {
        WriteBack {
            inner: Arc::new(Inner {
                store,
                client,
                rank_field: rank_field.to_string(),
                score_field: score_field.map(str::to_string),
                bound: std::sync::Mutex::new(RateBound::new(opts.per_minute)),
                opts,
                fields: tokio::sync::Mutex::new(None),
                round: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The write-back the configuration asks for: `None` without
    /// `RECRUITERFLOW_RANK_FIELD`.
    pub fn from_config(config: &Config, store: &Store, client: &Client) -> Option<WriteBack> {
        let rf = &config.recruiterflow;
        let rank = rf.rank_field.as_deref()?;
        Some(WriteBack::new(
            store.clone(),
            client.clone(),
            rank,
            rf.score_field.as_deref(),
            WriteBackOptions {
                per_minute: rf.write_back_per_minute,
                ..WriteBackOptions::default()
            },
        ))
    }

    /// The name of the rank field, as configured.
    pub fn rank_field(&self) -> &str {
        &self.inner.rank_field
    }

    /// The name of the score field, when one is configured.
    pub fn score_field(&self) -> Option<&str> {
        self.inner.score_field.as_deref()
    }

    /// The fields found in Recruiterflow and checked (`jobrank check`): each exists
    /// once, its type can hold its value and a select has the choices A, B and C. The
    /// list is read afresh.
    pub async fn check_fields(&self) -> Result<Fields> {
        *self.inner.fields.lock().await = None;
        self.fields().await
    }

    /// The fields, as found at most [`WriteBackOptions::fields_for`] ago.
    async fn fields(&self) -> Result<Fields> {
        let mut cached = self.inner.fields.lock().await;
        if let Some((at, f)) = cached.as_ref()
            && at.elapsed() < self.inner.opts.fields_for
        {
            return Ok(f.clone());
        }
        let list = self.inner.client.list_job_custom_fields().await?;
        let incomplete = list.incomplete.as_deref();
        let rank = custom_fields::find_field(
            &list.fields,
            &self.inner.rank_field,
            FieldRole::Rank,
            incomplete,
        )?;
        let score = match &self.inner.score_field {
            Some(name) => Some(custom_fields::find_field(
                &list.fields,
                name,
                FieldRole::Score,
                incomplete,
            )?),
            None => None,
        };
        let fields = Fields { rank, score };
        *cached = Some((tokio::time::Instant::now(), fields.clone()));
        Ok(fields)
    }

    async fn forget_fields(&self) {
        *self.inner.fields.lock().await = None;
    }

    /// One round: sends every value due at `clock()` that the bound lets through, in
    /// batches, and records each outcome. Which values are due, when a failed one is
    /// tried again and the bound are all reckoned by `clock` (tests step through them
    /// without waiting). An error means nothing could be written (see the module
    /// documentation); the values then stay queued as they were.
    pub async fn send_due(&self, clock: &(dyn Fn() -> DateTime<Utc> + Sync)) -> Result<Round> {
        let _one_at_a_time = self.inner.round.lock().await;
        let mut round = Round::default();
        loop {
            let (batch, full) = self.due(clock()).await?;
            let (open, closed): (Vec<Queued>, Vec<Queued>) =
                batch.into_iter().partition(|q| q.job_open);
            round.closed += self.drop_closed(closed).await?;
            if open.is_empty() {
                if full {
                    continue;
                }
                break;
            }
            let part = self.send_batch(open, clock).await?;
            let bound_hit = part.held > 0;
            round.add(part);
            if bound_hit || !full {
                break;
            }
        }
        Ok(round)
    }

    /// Values due at `now`, and whether a whole batch was read (more may be due).
    async fn due(&self, now: DateTime<Utc>) -> Result<(Vec<Queued>, bool)> {
        let batch = self.inner.opts.batch.max(1);
        let due = self
            .inner
            .store
            .read(move |c| queue::due(c, now, batch))
            .await?;
        let full = due.len() as i64 >= batch;
        Ok((due, full))
    }

    /// Drops values whose job closed; returns how many.
    async fn drop_closed(&self, closed: Vec<Queued>) -> Result<usize> {
        if closed.is_empty() {
            return Ok(0);
        }
        let n = closed.len();
        self.inner
            .store
            .write(move |tx| {
                for q in &closed {
                    queue::remove(tx, q.job_id, q.seq)?;
                }
                Ok(())
            })
            .await?;
        Ok(n)
    }

    /// Sends what the bound lets through of `open` and records the outcomes.
    async fn send_batch(
        &self,
        open: Vec<Queued>,
        clock: &(dyn Fn() -> DateTime<Utc> + Sync),
    ) -> Result<Round> {
        let fields = match self.fields().await {
            Ok(f) => f,
            Err(e) => return Err(self.halt(e).await),
        };
        let mut round = Round::default();
        let (go, held) = {
            let now = clock();
            let mut bound = self.inner.bound.lock().unwrap_or_else(|p| p.into_inner());
            let n = bound.take(open.len(), now);
            round.held = open.len() - n;
            if round.held > 0 {
                round.bound_until = bound.next_free_at(now);
            }
            let mut open = open;
            let held = open.split_off(n);
            (open, held)
        };
        drop(held);
        let concurrency = self.inner.client.options().concurrency.max(1);
        let client = &self.inner.client;
        let fields = &fields;
        let results: Vec<(Queued, Result<String>)> = futures_util::stream::iter(go)
            .map(|q| async move {
                let sent = async {
                    let values = fields.values(q.standing)?;
                    client.update_job_custom_fields(q.job_id, &values).await?;
                    Ok::<_, RecruiterflowError>(serde_json::to_string(&values).unwrap_or_default())
                }
                .await;
                (q, sent)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut plans = Vec::with_capacity(results.len());
        let mut halt = None;
        let mut refused = false;
        for (q, r) in results {
            match r {
                Ok(fields) => plans.push(Plan::Sent { q, fields }),
                Err(e) => match verdict(&e) {
                    Verdict::Halt => {
                        halt.get_or_insert(e);
                    }
                    Verdict::Retry if q.attempts + 1 < self.inner.opts.max_attempts => {
                        let at = clock() + self.retry_delay(q.attempts + 1);
                        plans.push(Plan::Retry {
                            q,
                            why: e.to_string(),
                            at,
                        });
                    }
                    Verdict::Retry | Verdict::Dead => {
                        refused |= matches!(e, RecruiterflowError::Refused { .. });
                        plans.push(Plan::Dead {
                            q,
                            why: e.to_string(),
                        });
                    }
                },
            }
        }
        for p in &plans {
            match p {
                Plan::Sent { .. } => round.sent += 1,
                Plan::Retry { .. } => round.retrying += 1,
                Plan::Dead { .. } => round.dead += 1,
            }
        }
        let problem = halt.as_ref().map(ToString::to_string);
        self.inner
            .store
            .write(move |tx| {
                let now = store::now();
                for p in &plans {
                    match p {
                        Plan::Sent { q, fields } => {
                            queue::mark_sent(
                                tx,
                                q.job_id,
                                q.seq,
                                q.standing.as_ref(),
                                fields,
                                now,
                            )?;
                        }
                        Plan::Retry { q, why, at } => {
                            queue::mark_failed(tx, q.job_id, q.seq, why, Some(*at), now)?;
                        }
                        Plan::Dead { q, why } => {
                            queue::mark_failed(tx, q.job_id, q.seq, why, None, now)?;
                        }
                    }
                }
                queue::set_problem(tx, problem.as_deref(), now)
            })
            .await?;
        if round.retrying + round.dead > 0 {
            tracing::warn!(
                sent = round.sent,
                retrying = round.retrying,
                dead = round.dead,
                "some rank write-backs to Recruiterflow failed"
            );
        }
        if refused {
            // A value refused may come from a field changed since it was read.
            self.forget_fields().await;
        }
        match halt {
            Some(e) => {
                self.forget_fields().await;
                Err(e)
            }
            None => Ok(round),
        }
    }

    /// Records why nothing can be written, and gives the error back.
    async fn halt(&self, e: RecruiterflowError) -> RecruiterflowError {
        let problem = e.to_string();
        let recorded = self
            .inner
            .store
            .write(move |tx| queue::set_problem(tx, Some(&problem), store::now()))
            .await;
        if let Err(s) = recorded {
            tracing::error!(error = %s, "cannot record the rank write-back's problem");
        }
        e
    }

    fn retry_delay(&self, attempts: i64) -> chrono::TimeDelta {
        let shift = attempts.clamp(1, 20) as u32 - 1;
        let wait = self
            .inner
            .opts
            .retry_base
            .saturating_mul(1 << shift)
            .min(self.inner.opts.retry_max);
        chrono::TimeDelta::from_std(wait).unwrap_or(chrono::TimeDelta::hours(1))
    }

    /// Sends rounds until nothing due is left, waiting for the bound as it asks (for
    /// `jobrank sync recruiterflow --write-back`). Values that failed for now stay
    /// queued for the server's next attempt. `progress` is told how many were sent.
    pub async fn send_all(&self, progress: &(dyn Fn(usize) + Sync)) -> Result<Round> {
        let mut total = Round::default();
        loop {
            let round = self.send_due(&store::now).await?;
            total.add(round);
            progress(total.sent);
            match round.bound_until {
                Some(at) if round.held > 0 => {
                    let wait = (at - store::now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(total),
            }
        }
    }

    /// Starts the task `recruiterflow_write_back`: a round at start, whenever a store
    /// write in this process queues a value, when a retry or the bound falls due, and
    /// every [`WriteBackOptions::poll`]; each round after [`WriteBackOptions::gather`].
    pub fn spawn(&self, stop: &StopSignal) -> Running {
        let me = self.clone();
        Task::new("recruiterflow_write_back")
            .every(self.inner.opts.poll)
            .woken_by(self.inner.store.write_back_queued())
            .spawn(stop, move |_| {
                let me = me.clone();
                async move {
                    tokio::time::sleep(me.inner.opts.gather).await;
                    let round = me.send_due(&store::now).await?;
                    let next_due = me.inner.store.read(queue::next_due_at).await?;
                    let soonest = [round.bound_until, next_due].into_iter().flatten().min();
                    Ok(match soonest {
                        Some(at) => Next::Within(
                            (at - store::now())
                                .to_std()
                                .unwrap_or(Duration::ZERO)
                                .max(PAUSE),
                        ),
                        None => Next::OnSchedule,
                    })
                }
            })
    }
}

/// The least pause between two rounds, so values due at once never make the task spin.
const PAUSE: Duration = Duration::from_millis(5);

/// Records whether write-back is on (`serve` at its start, from its configuration):
/// the store commands queue rank changes only then, whichever process runs them.
/// Switching it off discards the queue. Returns how many values were discarded.
pub async fn switch(store: &Store, on: bool) -> Result<usize> {
    Ok(store.write(move |tx| queue::set_enabled(tx, on)).await?)
}

/// Runs the queue once, as far as the configuration allows: with a write-back, every
/// value due is sent as the bound allows ([`WriteBack::send_all`]); without one
/// (`RECRUITERFLOW_RANK_FIELD` unset) every queued value is discarded unsent, leaving
/// the queue empty. Returns the round, and how many values were discarded.
pub async fn drain(store: &Store, write_back: Option<&WriteBack>) -> Result<(Round, usize)> {
    match write_back {
        Some(w) => Ok((w.send_all(&|_| {}).await?, 0)),
        None => Ok((Round::default(), store.write(queue::clear).await?)),
    }
}
