//! The store's schema: the embedded migrations, the checks that a file is a jobrank
//! database this binary can use, migrating, and this replica's identity.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::{Result, StoreError, now, ts};

/// Embedded SQLite migrations (`migrations/sqlite`).
pub mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// `PRAGMA application_id` of a jobrank database ("JRNK").
pub const APPLICATION_ID: i32 = 0x4A52_4E4B;

/// How many prepared statements each connection keeps (`prepare_cached`, and the
/// `query_*` helpers built on it). rusqlite's default of 16 is smaller than what one
/// score submission runs (the command, its re-ranking, the outbox, the write-back
/// queue, the web's one-time key and flash): a least-recently-used cache cycled by a
/// working set larger than itself misses every time, so each submission prepared every
/// statement afresh (0.3 ms of a 0.6 ms fsynced submission, measured with
/// `scripts/bench write_back`). Statements are prepared on first use, so a connection
/// holds only those it ran. The test below keeps twice the statements written in `src/`
/// within it, leaving room for statements assembled from parts (dashboard filters).
pub(super) const STATEMENT_CACHE: usize = 512;

/// The settings of every connection: the statement cache, a busy timeout, foreign keys, fsynced commits.
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// The newest schema version this binary knows.
pub fn supported_schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

/// The schema version recorded in a database, or 0 when none is.
pub fn schema_version(conn: &Connection) -> Result<i64> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |r| r.get(0),
    )?;
    if !has_history {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
        [],
        |r| r.get(0),
    )?)
}

/// Checks that a connection holds a jobrank database (or an empty one) that this
/// binary can use. Returns the schema version found.
pub fn check_database(conn: &Connection, path: &Path) -> Result<i64> {
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if app_id != 0 && app_id != APPLICATION_ID {
        return Err(StoreError::Foreign {
            path: path.to_owned(),
        });
    }
    let version = schema_version(conn)?;
    if tables > 0 && (app_id != APPLICATION_ID || version == 0) {
        return Err(StoreError::Foreign {
            path: path.to_owned(),
        });
    }
    let supported = supported_schema_version();
    if version > supported {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported,
        });
    }
    Ok(version)
}

/// Applies pending migrations in one transaction: all or nothing.
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    let report = embedded::migrations::runner()
        .set_grouped(true)
        .run(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(report.applied_migrations().len())
}

/// This replica's id, created at the first start.
pub(super) fn ensure_replica(conn: &mut Connection) -> Result<String> {
    let existing: Option<String> = conn
        .query_row(
            "SELECT replica_id FROM replica WHERE singleton = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = uuid::Uuid::now_v7().to_string();
    conn.execute(
        "INSERT INTO replica (singleton, replica_id, created_at) VALUES (1, ?1, ?2)",
        (&id, ts(&now())),
    )?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Counts the cached statements written in `src/` (each call site of
    /// `prepare_cached` and of the helpers built on it).
    fn statement_sites(dir: &Path) -> usize {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                n += statement_sites(&path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                n += ["prepare_cached(", "query_all(", "query_opt("]
                    .iter()
                    .map(|call| text.matches(call).count())
                    .sum::<usize>();
            }
        }
        n
    }

    #[test]
    fn the_statement_cache_holds_every_statement_twice_over() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let sites = statement_sites(&src);
        assert!(
            sites > 100,
            "the count found only {sites} statements: is it still reading src/?"
        );
        assert!(
            2 * sites <= super::STATEMENT_CACHE,
            "src/ has {sites} cached statements; raise STATEMENT_CACHE to at least {} so a \
             submission's statements are never evicted by each other",
            2 * sites
        );
    }
}
