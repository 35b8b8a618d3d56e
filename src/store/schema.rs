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
/// within it, leaving room for a text assembled per table (`replicated`'s upserts).
pub(super) const STATEMENT_CACHE: usize = 512;

/// The settings of every connection: the statement cache, a busy timeout, foreign keys,
/// fsynced commits.
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

/// A migration whose text changed after a build carrying it was released: a store that
/// ran the released text records that text's checksum, which refinery would refuse as
/// divergent. [`migrate`] brings such a store to the current text's schema (`repair`)
/// and checksum first, in one transaction. Never edit a released migration again: add
/// one (the test `released_migrations_are_never_edited` in `tests/api/store.rs` holds
/// every released checksum).
struct Amended {
    version: i64,
    /// The checksum refinery recorded for the released text.
    released_checksum: u64,
    /// Turns the released text's schema into the current text's.
    repair: &'static str,
}

const AMENDED: &[Amended] = &[
    // V10 as released on 2026-12-04 (0fc9d4d) also had `write_back_state.last_seq`, a
    // shared sequence counter no code reads since the queue numbers each job's values.
    Amended {
        version: 10,
        released_checksum: 16_000_663_199_356_204_854,
        repair: "ALTER TABLE write_back_state DROP COLUMN last_seq",
    },
];

/// Repairs the migrations of [`AMENDED`] that this store ran in their released text.
fn repair_amended(conn: &mut Connection) -> Result<()> {
    if schema_version(conn)? == 0 {
        return Ok(());
    }
    let current: Vec<(i64, u64)> = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| (i64::from(m.version()), m.checksum()))
        .collect();
    let tx = conn.transaction()?;
    for a in AMENDED {
        let Some(&(_, checksum)) = current.iter().find(|(v, _)| *v == a.version) else {
            continue;
        };
        let released: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM refinery_schema_history WHERE version = ?1 AND checksum = ?2)",
            (a.version, a.released_checksum.to_string()),
            |r| r.get(0),
        )?;
        if released {
            tx.execute_batch(a.repair)?;
            tx.execute(
                "UPDATE refinery_schema_history SET checksum = ?2 WHERE version = ?1",
                (a.version, checksum.to_string()),
            )?;
            tracing::info!(
                version = a.version,
                "repaired a migration amended after its release"
            );
        }
    }
    Ok(tx.commit()?)
}

/// Applies pending migrations in one transaction: all or nothing (after repairing a
/// migration amended since this store ran it, see [`AMENDED`]).
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    repair_amended(conn)?;
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
