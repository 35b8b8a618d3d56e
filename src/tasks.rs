//! Background work, one way: a [`Task`] has a name, runs a turn at start and then every
//! interval, or sooner when its trigger (a [`Notify`]) wakes it, until the
//! [`StopSignal`]; a queue task ([`Task::spawn_queue`]) instead takes the items sent on
//! a channel, in batches. A failed or panicking turn is logged with the task's name and
//! the task carries on. Names are snake_case (`recruiterflow_poll`, `supabase_push`).
//!
//! Stopping: at the stop signal a task that is waiting ends at once, and a turn in
//! progress is abandoned at its next `.await`: every periodic task writes in
//! transactions that commit whole or not at all, so an abandoned turn leaves nothing
//! half-written and the next start takes up what is left (work already handed to the
//! blocking pool, such as a backup, finishes there). A queue task is never interrupted: it refuses new items
//! and finishes every item already sent, so what a caller is waiting for is still
//! written. [`wait_for`] then gives the tasks a bounded time to end.
//!
//! Every delay is a parameter, so tests choose short ones instead of racing the clock.
//!
//! A leaf module: any layer may start tasks; it uses nothing else of jobrank.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

/// Tells every task holding one of its [`StopSignal`]s to stop; dropping it does too.
#[derive(Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown {
            tx: watch::Sender::new(false),
        }
    }

    /// A signal for one more task.
    pub fn signal(&self) -> StopSignal {
        StopSignal(self.tx.subscribe())
    }

    /// Asks every task to stop.
    pub fn stop(&self) {
        self.tx.send_replace(true);
    }
}

/// The signal a task stops at. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Completes once stopping was asked for (or its [`Shutdown`] was dropped).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Whether stopping was asked for.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }
}

/// Why a turn runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// At start, or the interval has passed.
    Scheduled,
    /// The trigger woke the task before its interval passed.
    Woken,
}

/// When the next turn comes, as a turn asks: `Ok(())` keeps the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// After the interval (counted from the start of the last scheduled turn).
    OnSchedule,
    /// After this long at the latest (work falls due before the interval passes).
    Within(Duration),
}

impl From<()> for Next {
    fn from((): ()) -> Next {
        Next::OnSchedule
    }
}

/// A background task being set up: its name, interval and trigger.
#[derive(Debug, Clone)]
pub struct Task {
    name: &'static str,
    every: Option<Duration>,
    wake: Option<Arc<Notify>>,
}

impl Task {
    /// A task named `name` (snake_case, as logged in the `task` field). Without
    /// [`Task::every`] or [`Task::woken_by`] it runs one turn, at start.
    pub fn new(name: &'static str) -> Task {
        Task {
            name,
            every: None,
            wake: None,
        }
    }

    /// Runs a turn every `interval` (the first at start).
    pub fn every(mut self, interval: Duration) -> Task {
        self.every = Some(interval);
        self
    }

    /// Also runs a turn when `trigger` is notified (a notification while a turn runs
    /// brings one more turn after it).
    pub fn woken_by(mut self, trigger: Arc<Notify>) -> Task {
        self.wake = Some(trigger);
        self
    }

    /// Starts the task: `work` runs one turn at a time until `stop`.
    pub fn spawn<F, Fut, R>(self, stop: &StopSignal, mut work: F) -> Running
    where
        F: FnMut(Turn) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<R>> + Send,
        R: Into<Next>,
    {
        let Task { name, every, wake } = self;
        let mut stop = stop.clone();
        let handle = tokio::spawn(async move {
            tracing::debug!(task = name, "background task started");
            // The next scheduled turn: now for the first, none once there is no interval.
            let mut due = Some(Instant::now());
            loop {
                let turn = tokio::select! {
                    biased;
                    () = stop.stopped() => break,
                    () = until(due) => Turn::Scheduled,
                    () = woken(wake.as_deref()) => Turn::Woken,
                };
                if turn == Turn::Scheduled {
                    due = every.map(|e| Instant::now() + e);
                }
                let outcome = tokio::select! {
                    biased;
                    () = stop.stopped() => break,
                    outcome = AssertUnwindSafe(work(turn)).catch_unwind() => outcome,
                };
                match outcome {
                    Ok(Ok(next)) => {
                        if let Next::Within(d) = next.into() {
                            let sooner = Instant::now() + d;
                            due = Some(due.map_or(sooner, |at| at.min(sooner)));
                        }
                    }
                    Ok(Err(e)) => failed(name, &e),
                    Err(panic) => panicked(name, panic.as_ref()),
                }
            }
            tracing::debug!(task = name, "background task stopped");
        });
        Running { name, handle }
    }

    /// Starts a queue task: `work` takes the items sent on `queue`, up to `batch` at a
    /// time, in the order sent, until `stop`; then it refuses new items (sending fails)
    /// and finishes every item already sent before it ends. Its interval and trigger
    /// are unused: the queue wakes it.
    pub fn spawn_queue<T, F, Fut>(
        self,
        stop: &StopSignal,
        mut queue: mpsc::Receiver<T>,
        batch: usize,
        mut work: F,
    ) -> Running
    where
        T: Send + 'static,
        F: FnMut(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send,
    {
        let name = self.name;
        let mut stop = stop.clone();
        let handle = tokio::spawn(async move {
            tracing::debug!(task = name, "background task started");
            let mut stopping = false;
            loop {
                let first = if stopping {
                    queue.recv().await
                } else {
                    tokio::select! {
                        first = queue.recv() => first,
                        () = stop.stopped() => {
                            queue.close();
                            stopping = true;
                            continue;
                        }
                    }
                };
                let Some(first) = first else { break };
                let mut items = vec![first];
                while items.len() < batch.max(1) {
                    match queue.try_recv() {
                        Ok(item) => items.push(item),
                        Err(_) => break,
                    }
                }
                match AssertUnwindSafe(work(items)).catch_unwind().await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failed(name, &e),
                    Err(panic) => panicked(name, panic.as_ref()),
                }
            }
            tracing::debug!(task = name, "background task stopped");
        });
        Running { name, handle }
    }
}

async fn until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn woken(trigger: Option<&Notify>) {
    match trigger {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

fn failed(name: &'static str, e: &anyhow::Error) {
    tracing::warn!(
        task = name,
        error = format!("{e:#}"),
        "background task failed"
    );
}

fn panicked(name: &'static str, panic: &(dyn std::any::Any + Send)) {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    tracing::error!(
        task = name,
        panic = why,
        "background task panicked; it carries on"
    );
}

/// A started task. Awaiting it waits for the task to end (after its stop signal).
#[derive(Debug)]
pub struct Running {
    name: &'static str,
    handle: JoinHandle<()>,
}

impl Running {
    /// The task's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl Future for Running {
    type Output = Result<(), JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

/// Waits for stopped tasks to end, `within` this long in all; a task still running then
/// is named in the log and left to end with the process.
pub async fn wait_for(tasks: Vec<Running>, within: Duration) {
    let deadline = Instant::now() + within;
    for mut task in tasks {
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(task = task.name, error = %e, "background task ended abnormally")
            }
            Err(_) => tracing::warn!(
                task = task.name,
                "background task did not stop within {} s; leaving it",
                within.as_secs_f64()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Long enough never to pass during a test: turns then come only from the start,
    /// the trigger or a turn's own [`Next`].
    const HOUR: Duration = Duration::from_secs(3600);
    /// A bound on waiting for an event, not a measured delay.
    const DEADLINE: Duration = Duration::from_secs(20);

    async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
        tokio::time::timeout(DEADLINE, rx.recv())
            .await
            .expect("the event came before the deadline")
            .expect("the task is alive")
    }

    #[tokio::test]
    async fn a_task_runs_at_start_and_when_woken_and_ends_at_stop() {
        let shutdown = Shutdown::new();
        let trigger = Arc::new(Notify::new());
        let (tx, mut turns) = mpsc::unbounded_channel();
        let task = Task::new("test_task")
            .every(HOUR)
            .woken_by(trigger.clone())
            .spawn(&shutdown.signal(), move |turn| {
                let tx = tx.clone();
                async move {
                    tx.send(turn)?;
                    Ok(())
                }
            });
        assert_eq!(task.name(), "test_task");
        assert_eq!(next(&mut turns).await, Turn::Scheduled);
        trigger.notify_one();
        assert_eq!(next(&mut turns).await, Turn::Woken);
        shutdown.stop();
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn failed_and_panicking_turns_are_logged_and_the_task_carries_on() {
        let shutdown = Shutdown::new();
        let trigger = Arc::new(Notify::new());
        let (tx, mut turns) = mpsc::unbounded_channel();
        let count = Arc::new(AtomicUsize::new(0));
        let task = Task::new("test_failing")
            .every(HOUR)
            .woken_by(trigger.clone())
            .spawn(&shutdown.signal(), move |_| {
                let (tx, n) = (tx.clone(), count.fetch_add(1, Ordering::SeqCst));
                async move {
                    tx.send(n)?;
                    match n {
                        0 => anyhow::bail!("the first turn fails"),
                        1 => panic!("the second turn panics"),
                        _ => Ok(()),
                    }
                }
            });
        assert_eq!(next(&mut turns).await, 0);
        trigger.notify_one();
        assert_eq!(next(&mut turns).await, 1);
        trigger.notify_one();
        assert_eq!(next(&mut turns).await, 2);
        shutdown.stop();
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_turn_can_bring_the_next_one_forward() {
        let shutdown = Shutdown::new();
        let (tx, mut turns) = mpsc::unbounded_channel();
        let count = Arc::new(AtomicUsize::new(0));
        let _task = Task::new("test_paced")
            .every(HOUR)
            .spawn(&shutdown.signal(), move |turn| {
                let (tx, n) = (tx.clone(), count.fetch_add(1, Ordering::SeqCst));
                async move {
                    tx.send((n, turn))?;
                    // Only the first turn asks for an early next one.
                    Ok(if n == 0 {
                        Next::Within(Duration::ZERO)
                    } else {
                        Next::OnSchedule
                    })
                }
            });
        assert_eq!(next(&mut turns).await, (0, Turn::Scheduled));
        // Without the request the second turn would come after an hour.
        assert_eq!(next(&mut turns).await, (1, Turn::Scheduled));
    }

    #[tokio::test]
    async fn a_stop_abandons_a_turn_in_progress() {
        let shutdown = Shutdown::new();
        let (tx, mut started) = mpsc::unbounded_channel();
        let task = Task::new("test_stuck")
            .every(HOUR)
            .spawn(&shutdown.signal(), move |_| {
                let tx = tx.clone();
                async move {
                    tx.send(())?;
                    std::future::pending::<anyhow::Result<()>>().await
                }
            });
        next(&mut started).await;
        shutdown.stop();
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn dropping_the_shutdown_stops_the_tasks() {
        let shutdown = Shutdown::new();
        let signal = shutdown.signal();
        assert!(!signal.is_stopped());
        let task = Task::new("test_orphan")
            .every(HOUR)
            .spawn(&signal, |_| async { Ok(()) });
        drop(shutdown);
        assert!(signal.is_stopped());
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_queue_task_takes_batches_and_finishes_what_was_sent_before_stopping() {
        let shutdown = Shutdown::new();
        let (tx, rx) = mpsc::channel::<u32>(100);
        let (done_tx, mut done) = mpsc::unbounded_channel();
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let g = gate.clone();
        let task = Task::new("test_queue").spawn_queue(&shutdown.signal(), rx, 3, move |items| {
            let (done_tx, g) = (done_tx.clone(), g.clone());
            async move {
                // Each batch waits for the test to let it through.
                g.acquire().await?.forget();
                done_tx.send(items)?;
                Ok(())
            }
        });
        for i in 1..=6 {
            tx.send(i).await.unwrap();
        }
        // Stopped with every item sent and none written yet.
        shutdown.stop();
        gate.add_permits(10);
        let mut seen = Vec::new();
        while seen.len() < 6 {
            let batch = next(&mut done).await;
            assert!(!batch.is_empty() && batch.len() <= 3, "{batch:?}");
            seen.extend(batch);
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
        assert!(tx.send(7).await.is_err(), "a stopped queue refuses items");
    }

    #[tokio::test]
    async fn waiting_for_tasks_gives_up_on_one_that_does_not_end() {
        let shutdown = Shutdown::new();
        let (tx, rx) = mpsc::channel::<()>(1);
        let (started_tx, mut started) = mpsc::unbounded_channel();
        let stuck =
            Task::new("test_stuck_queue").spawn_queue(&shutdown.signal(), rx, 1, move |_| {
                let started_tx = started_tx.clone();
                async move {
                    started_tx.send(())?;
                    std::future::pending::<anyhow::Result<()>>().await
                }
            });
        let ends = Task::new("test_ends")
            .every(HOUR)
            .spawn(&shutdown.signal(), |_| async { Ok(()) });
        tx.send(()).await.unwrap();
        next(&mut started).await;
        shutdown.stop();
        tokio::time::timeout(
            DEADLINE,
            wait_for(vec![stuck, ends], Duration::from_millis(10)),
        )
        .await
        .expect("wait_for returns although a task is stuck");
    }
}
