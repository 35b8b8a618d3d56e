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

/// The settings of every connection: a busy timeout, foreign keys, fsynced commits.
pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
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
