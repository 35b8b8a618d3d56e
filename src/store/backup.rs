//! Online backups of the store (SQLite's backup API, then `integrity_check` on the
//! copy) and restores from them.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
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
/// verifies the copy. The copy is written under an exclusively created temporary name
/// beside `dest` (`.NAME.XXXXXX.partial`, mode 0600 whatever the umask: a backup holds
/// password hashes) and moved into place only when verified, never replacing a file
/// that appeared at `dest` meanwhile. A failure (a full disk, say) removes the
/// temporary file and touches nothing else.
pub fn backup_connection(src: &Connection, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(backup_err(dest, "already exists; choose a new file name"));
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    super::create_private_dir(parent)
        .map_err(|e| backup_err(dest, format!("cannot create its folder: {e}")))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| backup_err(dest, "is not a file name"))?;
    let prefix = format!(".{name}.");
    let partial = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".partial")
        .permissions(super::private_file_mode())
        .tempfile_in(parent)
        .map_err(|e| {
            backup_err(
                dest,
                format!("cannot create a temporary file beside it: {e}"),
            )
        })?;
    // Exactly 0600 even under an unusual umask (fchmod ignores the umask).
    partial
        .as_file()
        .set_permissions(super::private_file_mode())
        .map_err(|e| backup_err(dest, e))?;
    {
        let mut out = Connection::open(partial.path()).map_err(|e| backup_err(dest, e))?;
        let b = rusqlite::backup::Backup::new(src, &mut out).map_err(|e| backup_err(dest, e))?;
        // All pages in one step: one read transaction, so the copy is consistent.
        b.step(-1).map_err(|e| backup_err(dest, e))?;
        drop(b);
        out.pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| backup_err(dest, e))?;
    }
    verify_file(partial.path())?;
    partial
        .as_file()
        .sync_all()
        .map_err(|e| backup_err(dest, e))?;
    // Dropping the temporary file on any error above deletes it.
    partial.persist_noclobber(dest).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            backup_err(dest, "already exists; choose a new file name")
        } else {
            backup_err(dest, e.error)
        }
    })?;
    if let Ok(dir) = std::fs::File::open(parent) {
        let _ = dir.sync_all();
    }
    Ok(())
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
    super::create_private_dir(data_dir).map_err(|e| StoreError::DataDir {
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
            super::make_private(&to);
        }
    }
    std::fs::rename(&incoming, &live)
        .map_err(|e| StoreError::Backup(format!("cannot put the restored store in place: {e}")))?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        let _ = dir.sync_all();
    }
    Ok(kept)
}

/// The folder scheduled backups go to, inside the data directory.
pub fn backups_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// The file of the scheduled backup for a day: `backups/jobrank-YYYYMMDD.sqlite3`.
pub fn daily_path(data_dir: &Path, day: NaiveDate) -> PathBuf {
    backups_dir(data_dir).join(format!("jobrank-{}.sqlite3", day.format("%Y%m%d")))
}

/// The day a scheduled backup file is for, when `name` is one (`jobrank-YYYYMMDD.sqlite3`).
pub fn daily_backup_day(name: &str) -> Option<NaiveDate> {
    let digits = name.strip_prefix("jobrank-")?.strip_suffix(".sqlite3")?;
    if digits.len() != 8 {
        return None;
    }
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// Which scheduled backups to delete: the newest `keep_daily` days are kept, and of the
/// older ones the newest of each ISO week, for `keep_weekly` weeks. Pure, so the
/// retention rule is tested without files. Returns the days to delete, newest first.
pub fn days_to_delete(days: &[NaiveDate], keep_daily: u32, keep_weekly: u32) -> Vec<NaiveDate> {
    let mut sorted: Vec<NaiveDate> = days.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    let mut weeks_kept: Vec<(i32, u32)> = Vec::new();
    let mut delete = Vec::new();
    for (i, day) in sorted.into_iter().enumerate() {
        if i < keep_daily as usize {
            continue;
        }
        let week = (day.iso_week().year(), day.iso_week().week());
        if weeks_kept.contains(&week) {
            delete.push(day);
        } else if weeks_kept.len() < keep_weekly as usize {
            weeks_kept.push(week);
        } else {
            delete.push(day);
        }
    }
    delete
}

/// Free space a scheduled backup must leave on the disk: a backup that would eat the
/// last of it would make the store refuse scores next (64 MiB).
pub const BACKUP_SPACE_MARGIN: u64 = 64 << 20;

/// Refuses to start a scheduled backup to `dest` when the copy (about the size of the
/// store and its WAL) would leave less than [`BACKUP_SPACE_MARGIN`] free on the disk.
pub fn check_room_for_backup(data_dir: &Path, dest: &Path) -> Result<()> {
    let db = data_dir.join(DB_FILE);
    let size = [db.clone(), PathBuf::from(format!("{}-wal", db.display()))]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum::<u64>();
    let dir = dest.parent().filter(|p| p.is_dir()).unwrap_or(data_dir);
    let free = super::free_bytes(dir).map_err(|e| {
        backup_err(
            dest,
            format!("cannot read the free space of {}: {e}", dir.display()),
        )
    })?;
    let mb = |n: u64| n.div_ceil(1 << 20);
    if free < size.saturating_add(BACKUP_SPACE_MARGIN) {
        return Err(backup_err(
            dest,
            format!(
                "not started: the disk is too full ({} MiB free; the copy needs about {} MiB and {} MiB must stay free for the store)",
                free >> 20,
                mb(size),
                BACKUP_SPACE_MARGIN >> 20
            ),
        ));
    }
    Ok(())
}

/// Takes today's scheduled backup unless it exists, then applies retention. Returns
/// the new backup's path when one was taken. Only `jobrank-YYYYMMDD.sqlite3` files are
/// ever deleted; pre-migration, pre-upgrade and manual backups are left alone. The
/// backup does not start when it would leave less than [`BACKUP_SPACE_MARGIN`] free
/// (see [`check_room_for_backup`]); retention still runs, so old backups go.
pub fn scheduled_backup(
    data_dir: &Path,
    today: NaiveDate,
    keep_daily: u32,
    keep_weekly: u32,
) -> Result<Option<PathBuf>> {
    let dest = daily_path(data_dir, today);
    let room = if dest.exists() {
        Ok(())
    } else {
        check_room_for_backup(data_dir, &dest)
    };
    let taken = if dest.exists() || room.is_err() {
        None
    } else {
        backup_data_dir(data_dir, &dest)?;
        Some(dest)
    };
    let dir = backups_dir(data_dir);
    if room.is_err() && !dir.is_dir() {
        // Nothing to prune: say why no backup was taken.
        return room.map(|()| None);
    }
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| StoreError::Backup(format!("cannot list {}: {e}", dir.display())))?;
    let mut days = Vec::new();
    for entry in entries.flatten() {
        if let Some(day) = entry.file_name().to_str().and_then(daily_backup_day) {
            days.push(day);
        }
    }
    for day in days_to_delete(&days, keep_daily, keep_weekly) {
        let path = daily_path(data_dir, day);
        std::fs::remove_file(&path).map_err(|e| {
            StoreError::Backup(format!("cannot delete old backup {}: {e}", path.display()))
        })?;
        tracing::info!(backup = %path.display(), "deleted an old backup (retention)");
    }
    room?;
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every day from `from` to `to` inclusive.
    fn days(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    #[test]
    fn keeps_seven_days_and_four_weeks_of_sixty_days() {
        let all = days("2026-01-01", "2026-03-01");
        let delete = days_to_delete(&all, 7, 4);
        let kept: Vec<NaiveDate> = all
            .iter()
            .copied()
            .filter(|x| !delete.contains(x))
            .collect();
        assert_eq!(kept.len(), 11, "{kept:?}");
        // The seven newest days are kept.
        for day in days("2026-02-23", "2026-03-01") {
            assert!(kept.contains(&day), "{day} deleted");
        }
        // Then the newest of each of four older ISO weeks (weeks end on Sundays).
        // 2026-02-22 is a Sunday: weeks ending 02-22, 02-15, 02-08, 02-01.
        for day in ["2026-02-22", "2026-02-15", "2026-02-08", "2026-02-01"] {
            assert!(kept.contains(&d(day)), "{day} deleted");
        }
        assert!(delete.contains(&d("2026-01-25")));
    }

    #[test]
    fn fewer_backups_than_kept_deletes_nothing() {
        let all = days("2026-03-01", "2026-03-05");
        assert!(days_to_delete(&all, 7, 4).is_empty());
        assert!(days_to_delete(&[], 7, 4).is_empty());
    }

    #[test]
    fn gaps_between_backups_do_not_change_the_counts() {
        // Backups every third day (the VM was often off).
        let all: Vec<NaiveDate> = days("2026-01-01", "2026-03-31")
            .into_iter()
            .step_by(3)
            .collect();
        let delete = days_to_delete(&all, 2, 1);
        let kept: Vec<NaiveDate> = all
            .iter()
            .copied()
            .filter(|x| !delete.contains(x))
            .collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert_eq!(kept[1..], all[all.len() - 2..], "the two newest are kept");
    }

    #[test]
    fn file_names_round_trip_and_others_are_ignored() {
        let dir = Path::new("/data");
        let p = daily_path(dir, d("2026-07-04"));
        assert_eq!(p, Path::new("/data/backups/jobrank-20260704.sqlite3"));
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(daily_backup_day(name), Some(d("2026-07-04")));
        for other in [
            "pre-migration-v1-20260101T000000Z.sqlite3",
            "pre-upgrade-20260101T000000Z.sqlite3",
            "jobrank-2026070.sqlite3",
            "jobrank-20261399.sqlite3",
            "jobrank-20260704.sqlite3.partial",
        ] {
            assert_eq!(daily_backup_day(other), None, "{other}");
        }
    }
}
