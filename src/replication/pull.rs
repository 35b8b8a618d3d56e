//! The puller: brings in what other replicas wrote, table by table, by the server
//! sequence each Postgres row carries. All tables are read from one snapshot, parents
//! before children, so a pulled row's job and scorer are always there.

use tokio_postgres::{Client, IsolationLevel};

use super::Result;
use crate::store::commands::{self, RankChange};
use crate::store::{Store, replicated, sync_runs};

/// Rows per page read from Postgres and applied in one SQLite transaction.
pub const PAGE: i64 = 5000;

/// What a pull did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PullReport {
    /// Rows read from Postgres.
    pub read: usize,
    /// Rows that changed the local store.
    pub applied: usize,
    /// Rows the local store refused (logged).
    pub refused: usize,
    /// The rank changes the pulled rows caused, page by page.
    pub rank_changes: Vec<RankChange>,
}

/// Pulls every table from its cursor to the end, then recomputes the ranks touched.
pub async fn pull(store: &Store, client: &mut Client, page: i64) -> Result<PullReport> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let mut report = PullReport::default();
    for table in replicated::tables() {
        let sql = format!(
            "SELECT seq, (to_jsonb(t) {})::text FROM jobrank.{table} t \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
            super::reconcile::SERVER_COLUMNS
        );
        loop {
            let from = store.read(move |c| replicated::cursor(c, table)).await?;
            let rows = tx.query(sql.as_str(), &[&from, &page]).await?;
            if rows.is_empty() {
                break;
            }
            let last: i64 = rows[rows.len() - 1].get(0);
            let payloads: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
            report.read += payloads.len();
            let n = payloads.len() as i64;
            let outcome = store
                .write(move |tx| {
                    // The ranks the rows affect are recomputed in the same transaction.
                    let outcome = commands::apply_pulled_rows(tx, table, &payloads)?;
                    replicated::set_cursor(tx, table, last)?;
                    Ok(outcome)
                })
                .await?;
            let applied = outcome.result;
            for (id, why) in &applied.refused {
                tracing::warn!(
                    table,
                    id,
                    why,
                    "a pulled row was refused by the local store"
                );
            }
            report.applied += applied.changed;
            report.refused += applied.refused.len();
            report.rank_changes.extend(outcome.rank_changes);
            if n < page {
                break;
            }
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// [`pull`], logged in `sync_runs` as `supabase_pull`.
pub async fn pull_logged(store: &Store, client: &mut Client, page: i64) -> Result<PullReport> {
    super::logged_run(store, "supabase_pull", || async {
        let r = pull(store, client, page).await?;
        let totals = sync_runs::RunTotals {
            jobs_seen: r.read as i64,
            jobs_changed: r.applied as i64,
            errors: r.refused as i64,
            message: Some(format!(
                "{} rows read, {} applied, {} refused, {} ranks changed",
                r.read,
                r.applied,
                r.refused,
                r.rank_changes.len()
            )),
            ..Default::default()
        };
        Ok((r, totals))
    })
    .await
}
