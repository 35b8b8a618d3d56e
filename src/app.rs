//! Building and running the application: the binary and the tests start jobrank the
//! same way, through [`Application::build`], which binds its own listener (port 0 in
//! tests) and reports the bound address.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::store::{self, Store};
use crate::web::{self, AppState};

/// A bound, not yet serving, jobrank.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    /// Binds the configured address. A port already taken is a clear error.
    pub async fn build(config: Config, store: Store) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.bind).await.with_context(|| {
            format!(
                "cannot listen on {} (JOBRANK_BIND); is another process using it?",
                config.bind
            )
        })?;
        let addr = listener
            .local_addr()
            .context("while reading the bound address")?;
        let syncer = crate::recruiterflow::Syncer::from_config(&config, &store)
            .context("while setting up the Recruiterflow sync")?;
        if let Some(url) = &config.supabase_db_url {
            // Start-up refuses a bad URL; an unreachable server only delays replication.
            match crate::replication::connect_and_migrate(url).await {
                Ok((target, n)) => {
                    tracing::info!(target = %target.describe(), applied = n, "Supabase schema is up to date")
                }
                Err(e @ crate::replication::ReplicationError::Unreachable { .. }) => {
                    tracing::warn!(error = %e, "Supabase is unreachable; changes wait in the outbox")
                }
                Err(e) => return Err(e).context("while preparing Supabase replication"),
            }
        }
        let state = AppState {
            store,
            config: Arc::new(config),
            started_at: store::now(),
            syncer,
            dashboard: Default::default(),
            sessions: Default::default(),
            clock: Default::default(),
        };
        Ok(Application {
            listener,
            addr,
            state,
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The state before serving, to put another [`web::Clock`] in it (tests).
    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight
    /// requests finish, stops background tasks and checkpoints the WAL.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let tasks = spawn_background(&self.state, stop_rx);
        let app = web::router(self.state.clone());
        tracing::info!(addr = %self.addr, "jobrank is serving");
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("while serving HTTP")?;
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || store.checkpoint())
            .await
            .context("while checkpointing")?
            .context("while checkpointing the store")?;
        tracing::info!("jobrank stopped");
        Ok(())
    }
}

/// Starts the background tasks: each has a name, an interval and the shutdown signal.
fn spawn_background(state: &AppState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![spawn_backup_task(state, stop.clone())];
    // Only with RECRUITERFLOW_API_KEY: the poller (a full sync at start and every
    // JOBRANK_SYNC_INTERVAL) and the webhook inbox worker.
    if let Some(syncer) = &state.syncer {
        tasks.extend(syncer.spawn(state.config.sync_interval, stop.clone()));
    }
    // Only with SUPABASE_DB_URL: push, pull and the nightly reconciliation.
    if let Some(url) = &state.config.supabase_db_url {
        match crate::replication::PgTarget::parse(url) {
            Ok(target) => tasks.extend(crate::replication::spawn_tasks(
                state.store.clone(),
                target,
                state.config.supabase_pull_interval,
                state.config.reconcile_at,
                stop.clone(),
            )),
            Err(e) => tracing::error!(error = %e, "Supabase replication is off"),
        }
    }
    tasks
}

/// The nightly online backup: checked every minute, taken once a day at or after
/// JOBRANK_BACKUP_AT (so a VM that was off at that time catches up when it starts),
/// then old backups are pruned to the configured retention.
fn spawn_backup_task(state: &AppState, stop: watch::Receiver<bool>) -> JoinHandle<()> {
    let config = state.config.clone();
    spawn_task("backup", Duration::from_secs(60), stop, move || {
        let config = config.clone();
        async move {
            let now = chrono::Local::now();
            let today = now.date_naive();
            if now.time() < config.backup_at
                || store::backup::daily_path(&config.data_dir, today).exists()
            {
                return Ok(());
            }
            let taken = tokio::task::spawn_blocking(move || {
                store::backup::scheduled_backup(
                    &config.data_dir,
                    today,
                    config.backup_keep_daily,
                    config.backup_keep_weekly,
                )
            })
            .await
            .context("while running the backup")??;
            if let Some(path) = taken {
                tracing::info!(backup = %path.display(), "nightly backup written and verified");
            }
            Ok(())
        }
    })
}

/// Runs `work` every `every` until the stop signal, logging failures by task name.
pub fn spawn_task<F, Fut>(
    name: &'static str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    mut work: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = work().await {
                        tracing::warn!(task = name, error = format!("{e:#}"), "background task failed");
                    }
                }
                _ = stop.changed() => break,
            }
        }
        tracing::debug!(task = name, "background task stopped");
    })
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}
