//! The SQLite working store: one file in the data directory, WAL mode,
//! `synchronous=FULL` (an acknowledged write survives power loss), foreign keys on.
//!
//! One serialized writer connection and a small pool of read connections; every call
//! runs on tokio's blocking pool, never on the async runtime's threads. Queries are
//! grouped by entity in the submodules and take a `&Connection` (reads) or a [`Tx`]
//! (writes), so callers compose them inside one transaction. Entity modules write only
//! their own tables (plus the outbox and the store generation); every operation that
//! can change a rank is a store command in [`commands`], which returns the rank
//! changes it caused.
//!
//! The writer and its group commit live in `writer`; this file holds the handle, its
//! error type, the read side and the row helpers.

pub mod api_tokens;
pub mod audit;
pub mod backup;
pub mod clients;
pub mod commands;
pub mod dashboard;
pub mod drafts;
pub mod expired;
pub mod idempotency;
pub mod inbox;
pub mod jobs;
pub mod notification_prefs;
pub mod notifications;
pub mod outbox;
pub mod outcomes;
pub mod participation;
pub mod password_resets;
pub mod pipeline;
pub mod placements;
pub mod ranks;
pub mod recruiterflow_users;
pub mod replicated;
pub mod review;
pub mod scorer_history;
pub mod sessions;
pub mod settings;
pub mod skips;
pub mod stats;
pub mod submissions;
pub mod sync_runs;
pub mod users;
pub mod write_back;

mod disk;
mod files;
mod schema;
#[cfg(test)]
mod test_support;
mod time;
mod writer;

pub use disk::{DISK_RECOVERED_BYTES, DiskFull, free_bytes};
pub(crate) use files::{create_private_dir, make_private, private_file_mode};
use files::{create_private_file, write_private};
pub use schema::{
    APPLICATION_ID, check_database, embedded, migrate, schema_version, supported_schema_version,
};
use schema::{configure, ensure_replica};
pub(crate) use time::{col_ts, col_ts_opt};
pub use time::{now, parse_ts, ts};
pub use writer::GROUP_COMMIT_MAX;
use writer::Queued;

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::Semaphore;

use crate::domain::DomainError;

/// The store's file name inside the data directory.
pub const DB_FILE: &str = "jobrank.sqlite3";
const READERS: usize = 4;

/// Errors of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {path} cannot be used: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error(
        "{path} is not a jobrank database (it holds other data); point JOBRANK_DATA_DIR at a jobrank data directory"
    )]
    Foreign { path: PathBuf },
    #[error(
        "{path} is corrupt or not a SQLite database ({reason}); restore a backup with `jobrank restore`"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "the database schema is version {found}, newer than this jobrank binary supports (version {supported}); run the newer jobrank binary"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("a database migration failed and the database was left as it was: {0}")]
    Migration(String),
    #[error("another jobrank process is using {0}; stop it first")]
    Locked(PathBuf),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("backup failed: {0}")]
    Backup(String),
    /// A write refused for lack of space (SQLite's "database or disk is full", or an
    /// I/O error while the data directory's filesystem has next to no space left).
    /// Nothing of the refused write was kept; writes resume once space is freed.
    #[error("the disk holding the data directory is full; the write was not saved ({detail})")]
    DiskFull { detail: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data could not be read: {0}")]
    Data(String),
    #[error("store task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<crate::credentials::CredentialError> for StoreError {
    fn from(e: crate::credentials::CredentialError) -> Self {
        use crate::credentials::CredentialError;
        match e {
            CredentialError::Invalid(d) => StoreError::Invalid(d),
            CredentialError::Hashing(m) => StoreError::Data(m),
            CredentialError::Task(m) => StoreError::Task(m),
        }
    }
}

/// A write transaction plus what writes need: this replica's id (the origin of
/// every row it writes).
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    origin: &'a str,
    /// A rank write-back was queued: the sender is woken once this commits.
    write_back_queued: std::cell::Cell<bool>,
    /// Set by [`Tx::unseen_by_dashboard`] for the write running now.
    unseen: std::cell::Cell<bool>,
}

impl<'a> Tx<'a> {
    pub fn origin(&self) -> &str {
        self.origin
    }

    /// Notes that this transaction queued a rank write-back (see [`write_back`]).
    fn write_back_queued(&self) {
        self.write_back_queued.set(true);
    }

    /// Says that this write changes nothing the dashboard shows (a webhook event stored
    /// in the inbox, before it is processed), so it leaves the store's generation
    /// where it is and the dashboard's copy stands. Every other write moves it.
    pub fn unseen_by_dashboard(&self) {
        self.unseen.set(true);
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

/// Every row a query returns, each read by `read`. The statement is prepared once per
/// connection and cached, like every query of the store.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params, read)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The row a query finds, if any, read by `read`.
pub(crate) fn query_opt<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params, read)
        .optional()?)
}

struct Inner {
    path: PathBuf,
    data_dir: PathBuf,
    writer: Mutex<Connection>,
    /// Writes waiting for the writer (see [`Store::write`]).
    queued: Mutex<Vec<Queued>>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
    replica_id: String,
    /// Write transactions this process committed (see [`Store::local_writes`]).
    local_writes: AtomicU64,
    /// The latest write refused for lack of space, while space has not come back.
    disk_full: Mutex<Option<DiskFull>>,
    /// Reads made through this handle (see [`Store::reads`]).
    reads: AtomicU64,
    /// The clock of [`ReadStamp`]s.
    read_clock: ReadClock,
    /// Notified after a commit that queued a rank write-back (see
    /// [`Store::write_back_queued`]).
    write_back_queued: Arc<tokio::sync::Notify>,
}

/// The monotonic clock the trust window of [`ReadStamp`]s is measured on: the system's,
/// unless a test stopped it to move it by hand ([`Store::stop_read_clock`]).
#[derive(Debug, Default)]
struct ReadClock {
    stopped_at: Mutex<Option<std::time::Instant>>,
    /// Whether `stopped_at` is set: the usual case reads the system clock, no lock.
    stopped: std::sync::atomic::AtomicBool,
}

impl ReadClock {
    fn now(&self) -> std::time::Instant {
        if self.stopped.load(Ordering::SeqCst) {
            let at = self.stopped_at.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = *at {
                return at;
            }
        }
        std::time::Instant::now()
    }

    fn stop_at(&self, at: std::time::Instant) {
        *self.stopped_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
        self.stopped.store(true, Ordering::SeqCst);
    }
}

/// The data directory's exclusive lock; released when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// The working store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens (creating when needed) the store in `data_dir`, refuses a foreign, corrupt
    /// or too-new database, takes a backup before migrating an existing one, applies
    /// migrations, and makes sure this replica's identity and default settings exist.
    /// Blocking: call it before serving or from a blocking task.
    pub fn open(data_dir: &Path) -> Result<Store> {
        let dir_err = |reason: String| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason,
        };
        create_private_dir(data_dir).map_err(|e| dir_err(format!("cannot create it: {e}")))?;
        let probe = data_dir.join(".write-probe");
        write_private(&probe, b"ok").map_err(|e| dir_err(format!("cannot write in it: {e}")))?;
        let _ = std::fs::remove_file(&probe);
        let path = data_dir.join(DB_FILE);
        // Created 0600 before SQLite sees it (an empty file is an empty database);
        // SQLite gives the WAL and shared-memory files the database file's mode.
        create_private_file(&path).map_err(|e| dir_err(format!("cannot create {DB_FILE}: {e}")))?;
        for suffix in ["", "-wal", "-shm"] {
            make_private(Path::new(&format!("{}{suffix}", path.display())));
        }
        // Backups written by older versions may be readable by everyone.
        if let Ok(entries) = std::fs::read_dir(backup::backups_dir(data_dir)) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().ends_with(".sqlite3") {
                    make_private(&entry.path());
                }
            }
        }
        let mut writer = Connection::open(&path).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let version = check_database(&writer, &path)?;
        // WAL is persistent; setting it also proves the file is a usable database.
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| StoreError::Corrupt {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(dir_err(format!("SQLite refused WAL mode (got {mode})")));
        }
        configure(&writer)?;
        if version > 0 && version < supported_schema_version() {
            let dest = backup::pre_migration_path(data_dir, version);
            backup::backup_connection(&writer, &dest)?;
            tracing::info!(backup = %dest.display(), from = version, "backed up the store before migrating");
        }
        let applied = migrate(&mut writer)?;
        if applied > 0 {
            tracing::info!(applied, "applied store migrations");
        }
        let replica_id = ensure_replica(&mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?;
            configure(&r)?;
            r.pragma_update(None, "query_only", true)?;
            // 1 MiB of page cache per reader (SQLite's default is 2 MiB): the OS page
            // cache holds the file anyway, and the resident-memory target is 64 MB.
            r.pragma_update(None, "cache_size", -1024)?;
            readers.push(r);
        }
        let store = Store {
            inner: Arc::new(Inner {
                path,
                data_dir: data_dir.to_owned(),
                writer: Mutex::new(writer),
                queued: Mutex::new(Vec::new()),
                readers: Mutex::new(readers),
                reader_slots: Semaphore::new(READERS),
                replica_id,
                local_writes: AtomicU64::new(0),
                disk_full: Mutex::new(None),
                reads: AtomicU64::new(0),
                read_clock: ReadClock::default(),
                write_back_queued: Arc::default(),
            }),
        };
        store.write_blocking(|tx| settings::ensure_default_settings(tx, now()))?;
        Ok(store)
    }

    /// Takes the data directory's exclusive lock, held by `serve` and `restore` so that
    /// two servers never share a store and a restore never runs under a server.
    pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock> {
        create_private_dir(data_dir).map_err(|e| StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: format!("cannot create it: {e}"),
        })?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(data_dir.join("jobrank.lock"))
            .map_err(|e| StoreError::DataDir {
                path: data_dir.to_owned(),
                reason: format!("cannot write in it: {e}"),
            })?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked(data_dir.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::DataDir {
                path: data_dir.to_owned(),
                reason: format!("cannot lock it: {e}"),
            }),
        }
    }

    /// Notified each time this process commits a transaction that queued a rank
    /// write-back: the sender's trigger. (Values queued by another process, such as a
    /// `jobrank` command, are found at the sender's next interval.)
    pub fn write_back_queued(&self) -> Arc<tokio::sync::Notify> {
        self.inner.write_back_queued.clone()
    }

    /// This replica's id: the origin of every row it writes.
    pub fn replica_id(&self) -> &str {
        &self.inner.replica_id
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Runs a read on a pooled connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.reads.fetch_add(1, Ordering::SeqCst);
        let _permit = self
            .inner
            .reader_slots
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner
                .readers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop()
                .ok_or_else(|| StoreError::Task("no read connection free".into()))?;
            // Hands the connection back even if `f` panics, so the pool never shrinks.
            struct Return<'a>(Option<Connection>, &'a Mutex<Vec<Connection>>);
            impl Drop for Return<'_> {
                fn drop(&mut self) {
                    if let Some(c) = self.0.take() {
                        self.1.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                    }
                }
            }
            let guard = Return(Some(conn), &inner.readers);
            match guard.0.as_ref() {
                Some(c) => f(c),
                None => Err(StoreError::Task("read connection missing".into())),
            }
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// How many write transactions this process has committed (including the writer
    /// connection's uses outside a transaction), counted just after each commit. An
    /// in-memory copy of a read, taken when this count was `n` (loaded before the read),
    /// has missed no write of this process while the count is still `n`; writes by other
    /// processes (the command-line tools) only move the store's [`Store::generation`].
    pub fn local_writes(&self) -> u64 {
        self.inner.local_writes.load(Ordering::SeqCst)
    }

    /// Taken just before a read whose result is kept in memory, and again when deciding
    /// whether that copy still stands: see [`ReadStamp`].
    pub fn read_stamp(&self) -> ReadStamp {
        ReadStamp {
            local_writes: self.local_writes(),
            at: self.inner.read_clock.now(),
        }
    }

    /// How many reads were made through this handle ([`Store::read`] and
    /// [`Store::read_blocking`]), so a test can prove that an in-memory copy spared one.
    pub fn reads(&self) -> u64 {
        self.inner.reads.load(Ordering::SeqCst)
    }

    /// Stops the clock of the [`TRUST_READ_FOR`] window at its present time, for tests:
    /// a copy the store confirmed then stands, however slow the machine, until this
    /// process writes or [`Store::advance_read_clock`] moves the clock past the window.
    pub fn stop_read_clock(&self) {
        let now = self.inner.read_clock.now();
        self.inner.read_clock.stop_at(now);
    }

    /// Moves the clock of the [`TRUST_READ_FOR`] window forward by `by` (stopping it
    /// first when it runs), for tests.
    pub fn advance_read_clock(&self, by: std::time::Duration) {
        let now = self.inner.read_clock.now();
        self.inner.read_clock.stop_at(now + by);
    }

    /// The store's generation: moves forward with every write committed through
    /// [`Store::write`] by any jobrank process on this data directory (but a webhook
    /// event stored in the inbox, see [`Tx::unseen_by_dashboard`]), so an in-memory copy
    /// of the dashboard's read stays valid exactly while it is unchanged.
    pub fn generation(conn: &Connection) -> Result<i64> {
        let mut stmt = conn.prepare_cached("SELECT n FROM store_generation WHERE singleton = 1")?;
        Ok(stmt.query_row([], |r| r.get(0))?)
    }

    /// The blocking form of [`Store::read`], for command-line tools.
    pub fn read_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        self.inner.reads.fetch_add(1, Ordering::SeqCst);
        let conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Runs `f` with exclusive use of the writer connection outside any transaction
    /// (backups, restores, checkpoints).
    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut conn);
        self.inner.local_writes.fetch_add(1, Ordering::SeqCst);
        out
    }

    /// Whether the store can take a write right now (for readiness checks).
    pub async fn check_writable(&self) -> Result<()> {
        self.write(|tx| {
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS ready_probe (x); DELETE FROM ready_probe;",
            )?;
            Ok(())
        })
        .await
    }

    /// Folds the WAL back into the database file (at shutdown).
    pub fn checkpoint(&self) -> Result<()> {
        self.with_writer(|c| {
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
    }
}

/// How long an in-memory copy of a read stands for the store without asking it again,
/// while this process has committed no write since the read began.
pub const TRUST_READ_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// When a read began: this process's write count then, and the time. The one rule of
/// the in-memory copies that skip the store (the dashboard's, sessions'): a copy stands
/// for [`TRUST_READ_FOR`] at most and only while the count has not moved, so this
/// process's own writes show at once and another process's (a `jobrank` command)
/// within that time.
#[derive(Debug, Clone, Copy)]
pub struct ReadStamp {
    local_writes: u64,
    at: std::time::Instant,
}

impl ReadStamp {
    /// Whether the read can still stand for the store, `now` being a stamp taken now
    /// ([`Store::read_stamp`]).
    pub fn still_current(&self, now: &ReadStamp) -> bool {
        self.local_writes == now.local_writes
            && now.at.saturating_duration_since(self.at) < TRUST_READ_FOR
    }
}

fn bump_generation(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE store_generation SET n = n + 1 WHERE singleton = 1")?
        .execute([])?;
    Ok(())
}

/// A new global id for a row that replicates.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
