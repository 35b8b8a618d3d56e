//! Counts for health and metrics that belong to no single entity's module.

use rusqlite::Connection;

use super::Result;

/// Recruiterflow webhooks received and not yet processed.
pub fn webhook_inbox_pending(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM webhook_inbox WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?)
}
