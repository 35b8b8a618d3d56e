//! A full disk: a write SQLite refuses for lack of space is answered
//! [`StoreError::DiskFull`] and remembered until the filesystem has regained
//! [`DISK_RECOVERED_BYTES`].

use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Store, StoreError, now};

/// Free space the data directory's filesystem must regain, above what it had when a
/// write was refused for lack of space, before the store counts as writable again
/// (256 KiB: room for a good many submissions). Measured against the refusal rather
/// than as an absolute level, so a small disk recovers as surely as a large one, and
/// small writes that still fit while larger ones are refused do not hide the problem.
pub const DISK_RECOVERED_BYTES: u64 = 256 << 10;

/// Below this much free space an I/O error on a write is taken for a full disk (SQLite
/// reports most out-of-space failures as `SQLITE_FULL`, but growing the WAL index or
/// an fsync can fail with a plain I/O error).
const DISK_NEARLY_FULL_BYTES: u64 = 1 << 20;

/// A write refused for lack of space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskFull {
    /// When the (latest) write was refused.
    pub since: DateTime<Utc>,
    /// Free bytes in the data directory's filesystem then.
    pub free_then: u64,
}

/// Free bytes for jobrank in the filesystem holding `path` (what an unprivileged user
/// may still use, as `df` reports).
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(path)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

impl Store {
    /// Turns an error that means "no space left" into [`StoreError::DiskFull`] and
    /// remembers when it happened; other errors pass unchanged.
    pub(super) fn space_refusal(&self, e: StoreError) -> StoreError {
        let (code, message) = match &e {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(err, msg)) => (err.code, msg),
            _ => return e,
        };
        let free = free_bytes(&self.inner.data_dir).ok();
        let full = code == rusqlite::ErrorCode::DiskFull
            || (code == rusqlite::ErrorCode::SystemIoFailure
                && free.is_some_and(|f| f < DISK_NEARLY_FULL_BYTES));
        if !full {
            return e;
        }
        let detail = message.clone().unwrap_or_else(|| e.to_string());
        let refusal = DiskFull {
            since: now(),
            free_then: free.unwrap_or(0),
        };
        tracing::error!(
            data_dir = %self.inner.data_dir.display(),
            free_bytes = refusal.free_then,
            error = %detail,
            "a write was refused: the disk holding the data directory is full"
        );
        *self
            .inner
            .disk_full
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(refusal);
        StoreError::DiskFull { detail }
    }

    /// Whether the store is refusing writes for lack of space: a write was refused
    /// for it and the data directory's filesystem has not regained
    /// [`DISK_RECOVERED_BYTES`] since. Asks the filesystem (`statvfs`, cheap) only
    /// while a refusal is remembered, and forgets it once space has come back, so
    /// nothing else needs to notice.
    pub fn disk_full(&self) -> Option<DiskFull> {
        let mut state = self
            .inner
            .disk_full
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let refusal = (*state)?;
        let recovered = free_bytes(&self.inner.data_dir)
            .is_ok_and(|f| f >= refusal.free_then.saturating_add(DISK_RECOVERED_BYTES));
        if recovered {
            tracing::info!(
                data_dir = %self.inner.data_dir.display(),
                "the data directory has free space again; writes are accepted"
            );
            *state = None;
            return None;
        }
        Some(refusal)
    }

    /// Free bytes in the data directory's filesystem.
    pub fn free_bytes(&self) -> std::io::Result<u64> {
        free_bytes(&self.inner.data_dir)
    }
}
