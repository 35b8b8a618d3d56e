//! Replication to Supabase PostgreSQL: outbox push, pull from other replicas, reconciliation.
//!
//! SQLite is the working store; Postgres (schema `jobrank`) is the system of record that
//! several replicas share. Every replicated change enters the SQLite outbox in the same
//! transaction as the change; [`push`] drains it with idempotent upserts, [`pull`] brings
//! in what other replicas wrote by per-table cursor, and [`reconcile`] compares the two
//! sides by bucketed digests and repairs missing rows.

pub mod connect;
mod copy_text;
pub mod pull;
pub mod push;
pub mod reconcile;

use std::time::Duration;

use secrecy::SecretString;

use crate::store::{self, Store, StoreError, sync_runs};
use crate::tasks::{Running, StopSignal, Task};
pub use connect::PgTarget;

/// Embedded Postgres migrations (`migrations/postgres`).
pub mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// refinery's history table, kept inside the `jobrank` schema beside the data.
pub const MIGRATION_TABLE: &str = "jobrank.refinery_schema_history";

/// The key of the advisory lock every writer to the `jobrank` tables holds for its
/// transaction, so that server sequence numbers are handed out in commit order and a
/// pull cursor never skips a row committed late.
pub const WRITE_LOCK_KEY: i64 = 0x4A52_4E4B;

/// Errors of the replication layer. None of them carries the URL's password.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    #[error("{0}")]
    Config(String),
    #[error(
        "SUPABASE_DB_URL points at Supabase's transaction pooler (port 6543), which does not \
         support the prepared statements jobrank uses; use the direct connection or the session \
         pooler (port 5432) from Project Settings -> Database -> Connection string"
    )]
    TransactionPooler,
    #[error("Supabase PostgreSQL at {target} cannot be reached: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("Supabase PostgreSQL refused: {0}")]
    Postgres(String),
    #[error("Supabase migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(String),
    #[error("injected failure: {0}")]
    Injected(String),
}

impl From<tokio_postgres::Error> for ReplicationError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.as_db_error().is_some() {
            ReplicationError::Postgres(connect::describe_pg_error(&e))
        } else {
            ReplicationError::Unreachable {
                target: "the server".into(),
                reason: connect::describe_pg_error(&e),
            }
        }
    }
}

pub type Result<T, E = ReplicationError> = std::result::Result<T, E>;

/// Applies pending Postgres migrations (schema `jobrank`). Returns how many were applied.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<usize> {
    client
        .batch_execute("CREATE SCHEMA IF NOT EXISTS jobrank")
        .await?;
    let mut runner = embedded::migrations::runner().set_grouped(true);
    runner.set_migration_table_name(MIGRATION_TABLE);
    let report = runner
        .run_async(client)
        .await
        .map_err(|e| ReplicationError::Migration(e.to_string()))?;
    Ok(report.applied_migrations().len())
}

/// Connects and migrates: what start-up and `jobrank migrate --supabase` do.
pub async fn connect_and_migrate(url: &SecretString) -> Result<(PgTarget, usize)> {
    let target = PgTarget::parse(url)?;
    let mut client = target.connect().await?;
    let n = migrate(&mut client).await?;
    Ok((target, n))
}

/// Runs `work` logged as a sync run of `kind`: started, then ok or failed with the reason.
pub async fn logged_run<T, F, Fut>(store: &Store, kind: &'static str, work: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(T, sync_runs::RunTotals)>>,
{
    let id = store
        .write(move |tx| sync_runs::start_run(tx, kind, store::now()))
        .await?;
    match work().await {
        Ok((out, totals)) => {
            store
                .write(move |tx| sync_runs::finish_run(tx, id, true, &totals, store::now()))
                .await?;
            Ok(out)
        }
        Err(e) => {
            let totals = sync_runs::RunTotals {
                errors: 1,
                message: Some(e.to_string()),
                ..Default::default()
            };
            store
                .write(move |tx| sync_runs::finish_run(tx, id, false, &totals, store::now()))
                .await?;
            Err(e)
        }
    }
}

/// One push and one pull, each logged; what `jobrank sync supabase` runs.
pub async fn sync_once(
    store: &Store,
    target: &PgTarget,
) -> Result<(push::PushReport, pull::PullReport)> {
    let mut client = target.connect().await?;
    let pushed = push::push_logged(store, &mut client, &push::PushOptions::default()).await?;
    let pulled = pull::pull_logged(store, &mut client, pull::PAGE).await?;
    Ok((pushed, pulled))
}

/// When the replication tasks run. Every delay is a field, so tests choose short ones.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// The pusher's interval: 5 s, or the pull interval when shorter.
    pub push_every: Duration,
    /// The puller's interval (`JOBRANK_SUPABASE_PULL_INTERVAL`).
    pub pull_every: Duration,
    /// Local time of the nightly reconciliation (`JOBRANK_RECONCILE_AT`).
    pub reconcile_at: chrono::NaiveTime,
    /// How often the reconciler looks whether the nightly run is due.
    pub reconcile_check: Duration,
}

impl Schedule {
    /// The pusher's interval when the pull interval is longer.
    pub const PUSH_EVERY: Duration = Duration::from_secs(5);
    /// How often the reconciler looks whether it is due.
    pub const RECONCILE_CHECK: Duration = Duration::from_secs(60);

    /// The schedule of the settings: pushes every 5 s or `pull_every`, whichever is
    /// shorter.
    pub fn new(pull_every: Duration, reconcile_at: chrono::NaiveTime) -> Schedule {
        Schedule {
            push_every: pull_every.min(Self::PUSH_EVERY),
            pull_every,
            reconcile_at,
            reconcile_check: Self::RECONCILE_CHECK,
        }
    }
}

/// Starts the background replication tasks (only when SUPABASE_DB_URL is set):
/// `supabase_push` with backoff while Postgres is down, `supabase_pull`, and
/// `supabase_reconcile`, the nightly reconciliation (at start when its time has passed
/// today and it has not run since).
pub fn spawn_tasks(
    store: Store,
    target: PgTarget,
    schedule: Schedule,
    stop: &StopSignal,
) -> Vec<Running> {
    let backoff = std::sync::Arc::new(std::sync::Mutex::new(push::Backoff::default()));
    let (s, t) = (store.clone(), target.clone());
    let pusher = Task::new("supabase_push")
        .every(schedule.push_every)
        .spawn(stop, move |_| {
            let (store, target, backoff) = (s.clone(), t.clone(), backoff.clone());
            async move {
                if !backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .due(std::time::Instant::now())
                {
                    return Ok(());
                }
                let pending = store.read(store::outbox::pending_count).await?;
                if pending == 0 {
                    return Ok(());
                }
                let result = async {
                    let mut client = target.connect().await?;
                    push::push_logged(&store, &mut client, &push::PushOptions::default()).await
                }
                .await;
                let mut b = backoff.lock().unwrap_or_else(|p| p.into_inner());
                match result {
                    Ok(_) => {
                        b.succeeded();
                        Ok(())
                    }
                    Err(e) => {
                        b.failed(std::time::Instant::now());
                        Err(e.into())
                    }
                }
            }
        });
    let (s, t) = (store.clone(), target.clone());
    let puller = Task::new("supabase_pull")
        .every(schedule.pull_every)
        .spawn(stop, move |_| {
            let (store, target) = (s.clone(), t.clone());
            async move {
                let mut client = target.connect().await?;
                pull::pull_logged(&store, &mut client, pull::PAGE).await?;
                Ok(())
            }
        });
    let reconciler = Task::new("supabase_reconcile")
        .every(schedule.reconcile_check)
        .spawn(stop, move |_| {
            let (store, target) = (store.clone(), target.clone());
            async move {
                let now = chrono::Local::now();
                let last = store
                    .read(|c| sync_runs::latest_run(c, reconcile::KIND))
                    .await?
                    .map(|r| r.started_at);
                if !reconcile::is_due(now, last, schedule.reconcile_at) {
                    return Ok(());
                }
                // Changes merely in flight are not differences: sync first.
                sync_once(&store, &target).await?;
                let mut client = target.connect().await?;
                reconcile::reconcile_logged(&store, &mut client, false, &mut |_| {}).await?;
                Ok(())
            }
        });
    vec![pusher, puller, reconciler]
}
