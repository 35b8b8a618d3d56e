//! The store's single writer: [`Store::write`] with its group commit (writes that wait
//! while the writer is busy share one immediate transaction and its one fsync, each in
//! its own savepoint, answered once the commit is known), [`Store::write_blocking`] for
//! start-up and the command-line tools, and the queue of waiting writes the parent's
//! `Inner` holds.

use std::sync::atomic::Ordering;

use rusqlite::TransactionBehavior;

use super::{Result, Store, StoreError, Tx, bump_generation};

impl Store {
    /// Runs `f` as one write on the blocking pool; keeps its changes when `f` succeeds
    /// and answers only once the commit holding them is fsynced, drops them otherwise.
    ///
    /// Group commit: writes that wait while the writer is busy run together, one after
    /// the other in the order they came, in one immediate transaction (at most
    /// [`GROUP_COMMIT_MAX`]), each inside its own savepoint, and share that
    /// transaction's one fsync. A write whose `f` fails (or panics) is rolled back to
    /// its savepoint alone and answered at once; the others are answered after the
    /// commit, with its error if it fails. Nothing is visible to readers before it is
    /// durable, as with a transaction of its own.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T>>();
        let job: Queued = Box::new(move |tx: &Tx<'_>, alone: bool| -> Option<AfterCommit> {
            match run_in_savepoint(tx, f, alone) {
                Ok(value) => Some(Box::new(move |committed: Result<(), StoreError>| {
                    let _ = reply.send(committed.map(|()| value));
                })),
                Err(e) => {
                    let _ = reply.send(Err(e));
                    None
                }
            }
        });
        self.inner
            .queued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(job);
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.commit_queued())
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        match answer.await {
            Ok(Err(e)) => Err(self.space_refusal(e)),
            Ok(answer) => answer,
            // Dropped unrun: the transaction of its batch was rolled back before its turn.
            Err(_) => Err(StoreError::Task(
                "the write was not saved: its group commit was rolled back".into(),
            )),
        }
    }

    /// Takes the writer and commits the writes queued by then (none when another call
    /// took them first: their answers come from it).
    fn commit_queued(&self) {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let jobs: Vec<Queued> = {
                let mut queued = self.inner.queued.lock().unwrap_or_else(|p| p.into_inner());
                let n = queued.len().min(GROUP_COMMIT_MAX);
                queued.drain(..n).collect()
            };
            if jobs.is_empty() {
                return;
            }
            let n = jobs.len();
            let mut after = Vec::with_capacity(n);
            let committed = (|| {
                let t = Tx::begin(&mut conn, &self.inner.replica_id)?;
                let alone = n == 1;
                let mut jobs = jobs.into_iter();
                for job in jobs.by_ref() {
                    after.extend(job(&t, alone));
                    if t.tx.is_autocommit() {
                        // SQLite rolled the whole transaction back (an I/O error, a
                        // full disk): nothing of the batch is kept.
                        break;
                    }
                }
                // Writes not run (the transaction is gone) are dropped: their callers
                // are answered with an error.
                drop(jobs);
                if t.tx.is_autocommit() {
                    return Err(StoreError::Task(
                        "the write transaction was rolled back by SQLite".into(),
                    ));
                }
                let queued = t.write_back_queued.get();
                t.tx.commit()?;
                Ok(queued)
            })();
            match committed {
                Ok(queued) => {
                    if queued {
                        self.inner.write_back_queued.notify_one();
                    }
                    self.inner
                        .local_writes
                        .fetch_add(after.len() as u64, Ordering::SeqCst);
                    for answer in after {
                        answer(Ok(()));
                    }
                }
                Err(e) => {
                    let e = self.space_refusal(e);
                    for answer in after {
                        answer(Err(match &e {
                            StoreError::DiskFull { detail } => StoreError::DiskFull {
                                detail: detail.clone(),
                            },
                            e => StoreError::Task(format!("the write was not saved: {e}")),
                        }));
                    }
                }
            }
            if n < GROUP_COMMIT_MAX {
                return;
            }
        }
    }

    /// The blocking form of [`Store::write`], for start-up and command-line tools: one
    /// transaction of its own (no group commit), fsynced before this returns.
    /// A write refused for lack of space is answered [`StoreError::DiskFull`] and
    /// remembered (see [`Store::disk_full`]).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Tx<'_>) -> Result<T>,
    {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let result = (|| {
            let t = Tx::begin(&mut conn, &self.inner.replica_id)?;
            let out = run_in_savepoint(&t, f, true)?;
            let queued = t.write_back_queued.get();
            t.tx.commit()?;
            if queued {
                self.inner.write_back_queued.notify_one();
            }
            Ok(out)
        })();
        drop(conn);
        match result {
            Ok(out) => {
                self.inner.local_writes.fetch_add(1, Ordering::SeqCst);
                Ok(out)
            }
            Err(e) => Err(self.space_refusal(e)),
        }
    }
}

impl<'a> Tx<'a> {
    /// Opens the writer's immediate transaction.
    fn begin(conn: &'a mut rusqlite::Connection, origin: &'a str) -> Result<Tx<'a>> {
        Ok(Tx {
            tx: conn.transaction_with_behavior(TransactionBehavior::Immediate)?,
            origin,
            write_back_queued: Default::default(),
            unseen: Default::default(),
        })
    }
}

/// The most writes one group commit holds ([`Store::write`]).
pub const GROUP_COMMIT_MAX: usize = 64;

/// A write waiting for the writer: runs in the open transaction (alone in it, or not)
/// and returns what to do once the commit is known (`None` when it failed and was
/// answered already).
pub(super) type Queued = Box<dyn FnOnce(&Tx<'_>, bool) -> Option<AfterCommit> + Send>;
/// Answers a write with the outcome of the commit that holds it.
type AfterCommit = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// Runs `f` inside a savepoint of `tx`, moving the store's generation when it succeeds
/// (unless it said [`Tx::unseen_by_dashboard`]);
/// rolls back to the savepoint when it fails or panics. Should the savepoint itself
/// fail to close, the whole transaction is rolled back (the batch then fails as one)
/// rather than keep a write that was answered with an error. A write `alone` in its
/// transaction needs no savepoint: it fails by rolling the transaction back, exactly
/// as a transaction of its own.
fn run_in_savepoint<T>(
    tx: &Tx<'_>,
    f: impl FnOnce(&Tx<'_>) -> Result<T>,
    alone: bool,
) -> Result<T> {
    if !alone {
        tx.execute_batch("SAVEPOINT one_write")?;
    }
    tx.unseen.set(false);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let out = f(tx)?;
        if !tx.unseen.get() {
            bump_generation(tx)?;
        }
        Ok(out)
    }))
    .unwrap_or_else(|_| Err(StoreError::Task("the write panicked".into())));
    if tx.is_autocommit() {
        // SQLite already rolled the whole transaction back.
        return out.and(Err(StoreError::Task(
            "the write transaction was rolled back by SQLite".into(),
        )));
    }
    let close = match (&out, alone) {
        (Ok(_), true) => return out,
        (Err(_), true) => "ROLLBACK",
        (Ok(_), false) => "RELEASE one_write",
        (Err(_), false) => "ROLLBACK TO one_write; RELEASE one_write",
    };
    if let Err(e) = tx.execute_batch(close) {
        let _ = tx.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    out
}
