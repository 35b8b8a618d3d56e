//! Online backups of the store (SQLite's backup API, then `integrity_check` on the
//! copy) and restores from them.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{DB_FILE, Result, StoreError, check_database, now};

/// Where the automatic backup before a migration goes.
pub fn pre_migration_path(data_dir: &Path, from_version: i64) -> PathBuf {
    data_dir.join("backups").join(format!(
        "pre-migration-v{from_version}-{}.sqlite3",
        now().format("%Y%m%dT%H%M%SZ")
    ))
}

fn backup_err(dest: &Path, what: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(format!("{}: {what}", dest.display()))
}

/// Runs `PRAGMA integrity_check` on a database file; `Ok(())` when it says "ok".
pub fn verify_file(path: &Path) -> Result<()> {
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            StoreError::Corrupt {
                path: path.to_owned(),
                reason: e.to_string(),
            }
        })?;
    check_database(&conn, path)?;
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if result != "ok" {
        return Err(StoreError::Corrupt {
            path: path.to_owned(),
            reason: format!("integrity check: {result}"),
        });
    }
    Ok(())
}

/// Copies a live database into `dest` (which must not exist), consistently, then
/// verifies the copy. A failure (a full disk, say) removes the partial copy.
pub fn backup_connection(src: &Connection, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(backup_err(dest, "already exists; choose a new file name"));
    }
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| backup_err(dest, format!("cannot create its folder: {e}")))?;
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        {
            let mut out = Connection::open(&partial).map_err(|e| backup_err(dest, e))?;
            let b =
                rusqlite::backup::Backup::new(src, &mut out).map_err(|e| backup_err(dest, e))?;
            // All pages in one step: one read transaction, so the copy is consistent.
            b.step(-1).map_err(|e| backup_err(dest, e))?;
            drop(b);
            out.pragma_update(None, "journal_mode", "DELETE")
                .map_err(|e| backup_err(dest, e))?;
        }
        verify_file(&partial)?;
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(|e| backup_err(dest, e))?;
        std::fs::rename(&partial, dest).map_err(|e| backup_err(dest, e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Backs up the store in `data_dir` to `dest` while jobrank may be running.
pub fn backup_data_dir(data_dir: &Path, dest: &Path) -> Result<()> {
    let src_path = data_dir.join(DB_FILE);
    if !src_path.exists() {
        return Err(StoreError::DataDir {
            path: data_dir.to_owned(),
            reason: format!("there is no {DB_FILE} in it to back up"),
        });
    }
    let src =
        Connection::open_with_flags(&src_path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|e| {
            StoreError::Corrupt {
                path: src_path.clone(),
                reason: e.to_string(),
            }
        })?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    check_database(&src, &src_path)?;
    backup_connection(&src, dest)
}

/// Replaces the store in `data_dir` with the backup at `src`. The caller holds the
/// data directory's lock (jobrank is not serving). The backup is verified first; the
/// replaced files are kept beside it with a `.before-restore-<time>` suffix.
pub fn restore_data_dir(data_dir: &Path, src: &Path) -> Result<PathBuf> {
    if !src.is_file() {
        return Err(StoreError::Backup(format!(
            "{}: no such backup file",
            src.display()
        )));
    }
    verify_file(src)?;
    std::fs::create_dir_all(data_dir).map_err(|e| StoreError::DataDir {
        path: data_dir.to_owned(),
        reason: e.to_string(),
    })?;
    let live = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&incoming);
    {
        let from = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        backup_connection(&from, &incoming)?;
    }
    let stamp = now().format("%Y%m%dT%H%M%SZ").to_string();
    let kept = data_dir.join(format!("{DB_FILE}.before-restore-{stamp}"));
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", live.display()));
        if p.exists() {
            let to = PathBuf::from(format!("{}{suffix}", kept.display()));
            std::fs::rename(&p, &to).map_err(|e| {
                StoreError::Backup(format!("cannot move {} aside: {e}", p.display()))
            })?;
        }
    }
    std::fs::rename(&incoming, &live)
        .map_err(|e| StoreError::Backup(format!("cannot put the restored store in place: {e}")))?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(kept)
}
