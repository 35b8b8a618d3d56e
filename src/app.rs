//! Building and running the application: the binary and the tests start jobrank the
//! same way, through [`Application::build`], which binds its own listener (port 0 in
//! tests) and reports the bound address.
//!
//! Serving is HTTP/1.1 (what Caddy speaks to its upstream) with the limits of
//! [`ServeLimits`]: a request's headers and its body must each arrive within a time
//! limit, and open connections are capped, so slow or greedy clients cannot hold the
//! server's connections or memory.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::{DeadlineBody, TimeoutError};

use crate::config::Config;
use crate::store::{self, Store};
use crate::tasks::{self, Running, Shutdown, StopSignal, Task};
use crate::web::{self, AppState};

/// How long a client may take and how many connections it may hold.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A request's headers must arrive within this, counted from the connection's first
    /// byte or the end of its previous request, so it also closes keep-alive connections
    /// idle this long; the connection is closed otherwise.
    pub header_read: Duration,
    /// A request's body must arrive within this, counted from the end of its headers:
    /// answered 408 (and the connection closed) otherwise.
    pub body_read: Duration,
    /// Connections open at once; further ones wait in the listen backlog until one ends.
    pub max_connections: usize,
}

impl ServeLimits {
    /// The limits `jobrank serve` uses (the README's "Serving" paragraph and the
    /// Caddyfile's `timeouts` match them).
    pub const DEFAULT: ServeLimits = ServeLimits {
        header_read: Duration::from_secs(10),
        body_read: Duration::from_secs(30),
        max_connections: 256,
    };
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The application's own delays for background tasks (the Recruiterflow and Supabase
/// tasks take theirs from the configuration), parameters so tests can shorten them.
#[derive(Debug, Clone, Copy)]
pub struct TaskDelays {
    /// How often the `backup` task looks whether the nightly backup is due.
    pub backup_check: Duration,
    /// How often the `score_expiry` task applies the score expiry rule (and at start).
    pub score_expiry: Duration,
    /// How long a stop waits, in all, for the background tasks to end.
    pub stop_wait: Duration,
    /// How often the notification tasks look whether the digest is due, what to alert
    /// and what to send (they are also woken when there is work).
    pub notify_check: Duration,
}

impl TaskDelays {
    pub const DEFAULT: TaskDelays = TaskDelays {
        backup_check: Duration::from_secs(60),
        score_expiry: Duration::from_secs(3600),
        stop_wait: Duration::from_secs(5),
        notify_check: Duration::from_secs(60),
    };
}

impl Default for TaskDelays {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Connections open now, the most ever open at once, and whether the server waits for
/// one to end before it accepts another.
#[derive(Debug, Default)]
pub struct ConnectionCount {
    open: AtomicUsize,
    max_open: AtomicUsize,
    waiting: AtomicBool,
}

impl ConnectionCount {
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }

    /// The cap is reached: the server accepts nothing until a connection ends.
    pub fn waiting_for_turn(&self) -> bool {
        self.waiting.load(Ordering::SeqCst)
    }

    fn opened(&self) {
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_open.fetch_max(now, Ordering::SeqCst);
    }

    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A bound, not yet serving, jobrank.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    limits: ServeLimits,
    connections: Arc<ConnectionCount>,
    delays: TaskDelays,
    /// Stops every background task; the inbox writer's is already running.
    shutdown: Shutdown,
    tasks: Vec<Running>,
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
        let notifier = notifier_from_config(&config)?;
        // The store commands record rank drops for alerts only while this replica
        // sends them.
        let alerts_on = notifier.is_some();
        store
            .write(move |tx| crate::store::notifications::set_alerts_on(tx, alerts_on))
            .await
            .context("while recording whether alerts are sent")?;
        // The store commands queue rank changes for Recruiterflow only while this is
        // on: as this server's configuration says (turning it off empties the queue).
        let writes_back = syncer.as_ref().is_some_and(|s| s.write_back().is_some());
        crate::recruiterflow::write_back::switch(&store, writes_back)
            .await
            .context("while recording whether ranks are written back to Recruiterflow")?;
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
        // Started here, not when serving: webhooks are stored through it. Dropping the
        // application unserved stops it.
        let shutdown = Shutdown::new();
        let (inbox_writer, writer_task) =
            store::inbox::InboxWriter::spawn(store.clone(), &shutdown.signal());
        let state = AppState {
            store,
            config: Arc::new(config),
            started_at: store::now(),
            syncer,
            dashboard: Default::default(),
            dashboard_pages: Default::default(),
            sessions: Default::default(),
            clock: Default::default(),
            inbox_writer,
            password_checks: Default::default(),
            notifier,
        };
        Ok(Application {
            listener,
            addr,
            state,
            limits: ServeLimits::DEFAULT,
            connections: Default::default(),
            delays: TaskDelays::DEFAULT,
            shutdown,
            tasks: vec![writer_task],
        })
    }

    /// Serves with other limits than [`ServeLimits::DEFAULT`] (tests shorten them).
    pub fn with_limits(mut self, limits: ServeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs the background tasks with other delays than [`TaskDelays::DEFAULT`].
    pub fn with_task_delays(mut self, delays: TaskDelays) -> Self {
        self.delays = delays;
        self
    }

    /// The count of open connections, readable while serving.
    pub fn connections(&self) -> Arc<ConnectionCount> {
        self.connections.clone()
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
        let mut tasks = self.tasks;
        tasks.extend(spawn_background(
            &self.state,
            self.delays,
            &self.shutdown.signal(),
        ));
        let app = web::router(self.state.clone()).layer(axum::middleware::from_fn_with_state(
            self.limits.body_read,
            body_deadline,
        ));
        tracing::info!(addr = %self.addr, "jobrank is serving");
        serve(
            self.listener,
            app,
            self.limits,
            self.connections.clone(),
            shutdown,
        )
        .await;
        // Every request has been answered: the inbox writer has nothing left to
        // acknowledge, and the periodic tasks may be cut short.
        self.shutdown.stop();
        tasks::wait_for(tasks, self.delays.stop_wait).await;
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || store.checkpoint())
            .await
            .context("while checkpointing")?
            .context("while checkpointing the store")?;
        tracing::info!("jobrank stopped");
        Ok(())
    }
}

/// Accepts connections and serves each on its own task until `shutdown` completes;
/// then stops accepting, lets every connection finish its request and returns.
async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    count: Arc<ConnectionCount>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let turns = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let turn = match turns.clone().try_acquire_owned() {
            Ok(turn) => turn,
            Err(_) => {
                count.waiting.store(true, Ordering::SeqCst);
                let turn = tokio::select! {
                    turn = turns.clone().acquire_owned() => turn.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                };
                count.waiting.store(false, Ordering::SeqCst);
                turn
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |req: Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        count.opened();
        let count = count.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(client = %peer, error = %e, "connection ended with an error");
            }
            count.closed();
            drop(turn);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// A failed accept: a client that gave up is nothing; anything else (out of file
/// descriptors) is logged and accepting pauses for a second, as hyper and axum do.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept connections");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Middleware: a request's body must arrive within `limit` of the request reaching
/// jobrank, else the answer is 408 and the connection closes, whatever the handler made
/// of the cut-off body.
async fn body_deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let timed_out = Arc::new(AtomicBool::new(false));
    let flag = timed_out.clone();
    let req = req.map(|body| {
        Body::new(DeadlineBody::new(limit, body).map_err(move |e| {
            if e.is::<TimeoutError>() {
                flag.store(true, Ordering::SeqCst);
            }
            e
        }))
    });
    let res = next.run(req).await;
    if !timed_out.load(Ordering::SeqCst) {
        return res;
    }
    tracing::warn!("request body arrived too slowly");
    let mut res = (
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body did not arrive within {} seconds",
            limit.as_secs()
        ),
    )
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Starts the background tasks ([`crate::tasks`]): the nightly backup and the score
/// expiry always; the notification tasks with `JOBRANK_SMTP_URL` or
/// `JOBRANK_SLACK_WEBHOOK_URL`; the Recruiterflow poller and inbox worker with
/// `RECRUITERFLOW_API_KEY` (and the rank write-back with `RECRUITERFLOW_RANK_FIELD`
/// too); Supabase push, pull and reconciliation with `SUPABASE_DB_URL`.
fn spawn_background(state: &AppState, delays: TaskDelays, stop: &StopSignal) -> Vec<Running> {
    let mut tasks = vec![
        spawn_backup_task(state, delays.backup_check, stop),
        spawn_score_expiry_task(state, delays.score_expiry, stop),
    ];
    if let Some(notifier) = &state.notifier {
        let clock = state.clock.clone();
        tasks.extend(notifier.spawn(
            &state.store,
            Arc::new(move || clock.now()),
            delays.notify_check,
            stop,
        ));
    }
    if let Some(syncer) = &state.syncer {
        tasks.extend(syncer.spawn(state.config.sync_interval, stop));
    }
    if let Some(url) = &state.config.supabase_db_url {
        match crate::replication::PgTarget::parse(url) {
            Ok(target) => tasks.extend(crate::replication::spawn_tasks(
                state.store.clone(),
                target,
                crate::replication::Schedule::new(
                    state.config.supabase_pull_interval,
                    state.config.reconcile_at,
                ),
                stop,
            )),
            Err(e) => tracing::error!(error = %e, "Supabase replication is off"),
        }
    }
    tasks
}

/// The notifications the configuration sets up (none without SMTP and Slack); a wrong
/// mail or Slack setting is a configuration error naming it.
pub fn notifier_from_config(config: &Config) -> anyhow::Result<Option<crate::notify::Notifier>> {
    crate::notify::Notifier::from_config(config).map_err(|e| {
        if e.is_config() {
            anyhow::Error::new(crate::config::ConfigError {
                problems: vec![e.to_string()],
            })
        } else {
            anyhow::Error::new(e).context("while setting up notifications")
        }
    })
}

/// The nightly online backup (`backup`): checked every `check`, taken once a day at or
/// after JOBRANK_BACKUP_AT (so a VM that was off at that time catches up when it
/// starts), then old backups are pruned to the configured retention.
fn spawn_backup_task(state: &AppState, check: Duration, stop: &StopSignal) -> Running {
    let config = state.config.clone();
    Task::new("backup").every(check).spawn(stop, move |_| {
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

/// The score expiry rule as the clock moves (`score_expiry`): at start and every
/// `every`, the store command recomputes the open jobs' ranks when
/// `score_expiry_weeks` is on, so scores that grew too old stop counting. A store
/// whose rule is off is only read.
fn spawn_score_expiry_task(state: &AppState, every: Duration, stop: &StopSignal) -> Running {
    let store = state.store.clone();
    Task::new("score_expiry")
        .every(every)
        .spawn(stop, move |_| {
            let store = store.clone();
            async move {
                let on = store
                    .read(|c| {
                        Ok(store::settings::current_settings(c)?
                            .settings
                            .score_expiry_weeks)
                    })
                    .await?
                    .is_some();
                if !on {
                    return Ok(());
                }
                let now = store::now();
                let outcome = store
                    .write(move |tx| store::commands::expire_scores(tx, now))
                    .await?;
                if !outcome.rank_changes.is_empty() {
                    tracing::info!(
                        jobs = outcome.rank_changes.len(),
                        "expired scores changed ranks"
                    );
                }
                Ok(())
            }
        })
}

/// Completes on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when this is
/// called, not when the future is first polled, so a signal sent right after `serve`
/// prints its address line is caught rather than killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async fn received(s: std::io::Result<Signal>) {
        match s {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    async move {
        tokio::select! {
            _ = received(term) => {},
            _ = received(interrupt) => {},
        }
        tracing::info!("shutdown requested");
    }
}
