//! Jobs, keyed by the Recruiterflow job id. Recruiterflow is their source of truth:
//! jobrank stores what it says and never edits a job itself. A closed job also carries
//! the rank it held when it closed (see [`Job::rank_at_close`]), written with the close.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row};

use super::{Result, Tx, col_ts, col_ts_opt, outbox, query_all, query_opt, ts};
use crate::domain::{Rank, Standing, TeamScore};

/// A job as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub status: String,
    pub is_open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    /// Expected fee in minor units (pence, cents).
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub hiring_team: Vec<String>,
    /// HTML written in Recruiterflow: untrusted, never rendered unescaped.
    pub description_html: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The rank and team score the job held when it closed, computed once by the
    /// replica that closed it (from the submissions made up to the close, under the
    /// settings in force then) and replicated with the row: settings changes,
    /// deactivations and pulled rows never change it. `None` while open, or when
    /// nobody who counted had scored the job by its close.
    #[serde(skip)]
    pub rank_at_close: Option<Standing>,
}

impl Job {
    /// When the job counts as opened: Recruiterflow's last (re)open, else first seen.
    pub fn opened(&self) -> DateTime<Utc> {
        self.opened_at.unwrap_or(self.first_seen_at)
    }

    /// Whole days open as of `now`.
    pub fn days_open(&self, now: DateTime<Utc>) -> i64 {
        crate::domain::days_between(self.opened(), now)
    }
}

/// A job's details as Recruiterflow (or the demo) gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct JobUpsert {
    pub id: i64,
    pub title: String,
    pub client: String,
    pub status: String,
    pub is_open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub fee_minor: Option<i64>,
    pub fee_currency: Option<String>,
    pub hiring_team: Vec<String>,
    pub description_html: Option<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Changed,
    Unchanged,
}

pub(crate) const COLUMNS: &str = "id, title, client, status, is_open, opened_at, fee_minor, fee_currency, hiring_team, \
    description_html, first_seen_at, last_synced_at, closed_at, updated_at, rank_at_close, score_sum_at_close, \
    scorer_count_at_close";

/// A standing stored as its three columns (rank, sum, count), or `None` unless all three
/// are there and make sense.
pub(crate) fn standing_from_columns(
    rank: Option<String>,
    sum: Option<i64>,
    count: Option<i64>,
) -> Option<Standing> {
    Some(Standing {
        rank: Rank::parse(&rank?)?,
        team: TeamScore::from_parts(sum?, count?)?,
    })
}

/// A standing as its three columns (rank, sum, count).
fn standing_columns(s: Option<&Standing>) -> (Option<&'static str>, Option<i64>, Option<i64>) {
    match s {
        Some(s) => (
            Some(s.rank.as_str()),
            Some(s.team.sum() as i64),
            Some(i64::from(s.team.count())),
        ),
        None => (None, None, None),
    }
}

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let team: String = r.get(8)?;
    Ok(Job {
        id: r.get(0)?,
        title: r.get(1)?,
        client: r.get(2)?,
        status: r.get(3)?,
        is_open: r.get(4)?,
        opened_at: col_ts_opt(r, 5)?,
        fee_minor: r.get(6)?,
        fee_currency: r.get(7)?,
        hiring_team: serde_json::from_str(&team).unwrap_or_default(),
        description_html: r.get(9)?,
        first_seen_at: col_ts(r, 10)?,
        last_synced_at: col_ts_opt(r, 11)?,
        closed_at: col_ts_opt(r, 12)?,
        updated_at: col_ts(r, 13)?,
        rank_at_close: standing_from_columns(r.get(14)?, r.get(15)?, r.get(16)?),
    })
}

pub fn find_job(conn: &Connection, id: i64) -> Result<Option<Job>> {
    query_opt(
        conn,
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        from_row,
    )
}

/// Every open job, by client and title.
pub fn list_open_jobs(conn: &Connection) -> Result<Vec<Job>> {
    query_all(
        conn,
        &format!("SELECT {COLUMNS} FROM jobs WHERE is_open = 1 ORDER BY client, title, id"),
        [],
        from_row,
    )
}

pub fn count_jobs(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))?)
}

/// Whether storing `j` over `existing` closes the job at this moment: a job seen closed
/// for the first time, or an open one Recruiterflow now reports closed.
pub(in crate::store) fn upsert_closes(existing: Option<&Job>, j: &JobUpsert) -> bool {
    !j.is_open && existing.is_none_or(|old| old.is_open)
}

/// Stores a job as Recruiterflow describes it. A change bumps its version and is queued
/// for replication; an unchanged job only records the sync time. `at_close` is the rank
/// the job closes with when this upsert closes it ([`upsert_closes`]); a job that stays
/// closed keeps the one it has, and a reopened job loses it. The store command
/// `commands::upsert_job` calls this and recomputes the job's rank.
pub(in crate::store) fn upsert_job(
    tx: &Tx<'_>,
    j: &JobUpsert,
    at: DateTime<Utc>,
    at_close: Option<&Standing>,
) -> Result<Upserted> {
    let team = serde_json::to_string(&j.hiring_team).unwrap_or_else(|_| "[]".into());
    let existing = find_job(tx, j.id)?;
    // A new job and a changed one are written with the same parameters: ?11 is the
    // sync time, ?12 when the job closed, ?14-?16 the rank it closed with.
    let (sql, closed_at, frozen, outcome) = match &existing {
        None => (
            "INSERT INTO jobs (id, title, client, status, is_open, opened_at, fee_minor, fee_currency, hiring_team,
               description_html, first_seen_at, last_synced_at, closed_at, updated_at, version, origin,
               rank_at_close, score_sum_at_close, scorer_count_at_close)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?11, 1, ?13, ?14, ?15, ?16)",
            (!j.is_open).then(|| ts(&at)),
            at_close.filter(|_| !j.is_open),
            Upserted::Inserted,
        ),
        Some(old) => {
            let same = old.title == j.title
                && old.client == j.client
                && old.status == j.status
                && old.is_open == j.is_open
                && old.opened_at == j.opened_at
                && old.fee_minor == j.fee_minor
                && old.fee_currency == j.fee_currency
                && old.hiring_team == j.hiring_team
                && old.description_html == j.description_html;
            if same {
                tx.execute(
                    "UPDATE jobs SET last_synced_at = ?2 WHERE id = ?1",
                    (j.id, ts(&at)),
                )?;
                return Ok(Upserted::Unchanged);
            }
            let (closed_at, frozen) = match (old.is_open, j.is_open) {
                (true, false) => (Some(ts(&at)), at_close),
                (_, true) => (None, None),
                (false, false) => (old.closed_at.as_ref().map(ts), old.rank_at_close.as_ref()),
            };
            (
                "UPDATE jobs SET title = ?2, client = ?3, status = ?4, is_open = ?5, opened_at = ?6, fee_minor = ?7,
                   fee_currency = ?8, hiring_team = ?9, description_html = ?10, last_synced_at = ?11, closed_at = ?12,
                   updated_at = ?11, version = version + 1, origin = ?13, rank_at_close = ?14,
                   score_sum_at_close = ?15, scorer_count_at_close = ?16
                 WHERE id = ?1",
                closed_at,
                frozen,
                Upserted::Changed,
            )
        }
    };
    let (rank, sum, count) = standing_columns(frozen);
    tx.execute(
        sql,
        rusqlite::params![
            j.id,
            j.title,
            j.client,
            j.status,
            j.is_open,
            j.opened_at.as_ref().map(ts),
            j.fee_minor,
            j.fee_currency,
            team,
            j.description_html,
            ts(&at),
            closed_at,
            tx.origin(),
            rank,
            sum,
            count
        ],
    )?;
    outbox::enqueue(tx, "jobs", &j.id.to_string())?;
    Ok(outcome)
}

/// Marks a job closed (closed, archived, or gone from Recruiterflow's open list) with
/// the rank it closes with (`at_close`). Its scores and history stay. Returns whether
/// it was open. Closing is the store command `commands::close_job`.
pub(in crate::store) fn close_job(
    tx: &Tx<'_>,
    id: i64,
    status: Option<&str>,
    at: DateTime<Utc>,
    at_close: Option<&Standing>,
) -> Result<bool> {
    let (rank, sum, count) = standing_columns(at_close);
    let n = tx.execute(
        "UPDATE jobs SET is_open = 0, status = COALESCE(?2, status), closed_at = ?3, updated_at = ?3,
           version = version + 1, origin = ?4, rank_at_close = ?5, score_sum_at_close = ?6,
           scorer_count_at_close = ?7
         WHERE id = ?1 AND is_open = 1",
        rusqlite::params![id, status, ts(&at), tx.origin(), rank, sum, count],
    )?;
    if n > 0 {
        outbox::enqueue(tx, "jobs", &id.to_string())?;
    }
    Ok(n > 0)
}

/// Ids of the open jobs.
pub fn list_open_job_ids(conn: &Connection) -> Result<Vec<i64>> {
    let ids = conn
        .prepare_cached("SELECT id FROM jobs WHERE is_open = 1 ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Ids of every job, open or closed.
pub fn list_job_ids(conn: &Connection) -> Result<Vec<i64>> {
    let ids = conn
        .prepare_cached("SELECT id FROM jobs ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Ids of jobs synced after `since` (by a webhook while a full sync was reading):
/// a full sync neither overwrites nor closes them with its older view.
pub fn list_jobs_synced_since(conn: &Connection, since: DateTime<Utc>) -> Result<Vec<i64>> {
    query_all(
        conn,
        "SELECT id FROM jobs WHERE last_synced_at > ?1",
        [ts(&since)],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use crate::store::{DB_FILE, Store, embedded, jobs, ranks};

    #[test]
    fn upgrading_gives_closed_jobs_the_rank_their_history_shows_at_the_close() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A store as version 8 left it: job 1 closed as a B and then re-ranked to an
            // A by a later settings change (as jobrank did until now); job 2 closed
            // unscored; job 3 open. Job 1's change is still queued for push.
            let mut conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
            embedded::migrations::runner()
                .set_target(refinery::Target::Version(8))
                .set_grouped(true)
                .run(&mut conn)
                .unwrap();
            conn.pragma_update(None, "application_id", crate::store::APPLICATION_ID)
                .unwrap();
            conn.execute_batch(
                "INSERT INTO jobs (id, title, client, status, is_open, first_seen_at, closed_at, updated_at, origin)
                 VALUES (1, 'Head of Data', 'Acme', 'Filled', 0, '2026-10-01T09:00:00.000000Z',
                         '2026-11-01T09:00:00.000000Z', '2026-11-01T09:00:00.000000Z', 'r1'),
                        (2, 'Paralegal', 'Acme', 'Closed', 0, '2026-10-01T09:00:00.000000Z',
                         '2026-11-02T09:00:00.000000Z', '2026-11-02T09:00:00.000000Z', 'r1'),
                        (3, 'Buyer', 'Acme', 'Open', 1, '2026-10-01T09:00:00.000000Z',
                         NULL, '2026-10-01T09:00:00.000000Z', 'r1');
                 INSERT INTO rank_history (id, job_id, at, score_sum, scorer_count, rank, composites, settings_version, origin)
                 VALUES ('h1', 1, '2026-10-10T09:00:00.000000Z', 20000, 1, 'C', '[]', 1, 'r1'),
                        ('h2', 1, '2026-10-20T09:00:00.000000Z', 60000, 2, 'B', '[]', 1, 'r1'),
                        ('h3', 1, '2026-11-15T09:00:00.000000Z', 60000, 2, 'A', '[]', 2, 'r1'),
                        ('h4', 3, '2026-10-20T09:00:00.000000Z', 40000, 1, 'A', '[]', 1, 'r1');
                 INSERT INTO job_ranks (job_id, score_sum, scorer_count, rank, settings_version, last_scored_at, computed_at)
                 VALUES (1, 60000, 2, 'A', 2, '2026-10-20T09:00:00.000000Z', '2026-11-15T09:00:00.000000Z'),
                        (3, 40000, 1, 'A', 1, '2026-10-20T09:00:00.000000Z', '2026-10-20T09:00:00.000000Z');
                 INSERT INTO outbox (table_name, row_id, payload, created_at)
                 SELECT 'jobs', CAST(id AS TEXT), json_object('id', id, 'is_open', is_open), updated_at
                 FROM jobs WHERE id IN (1, 3);",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let job = |id| {
            store
                .read_blocking(|c| jobs::find_job(c, id))
                .unwrap()
                .unwrap()
        };
        let at_close = job(1).rank_at_close.unwrap();
        assert_eq!(
            (
                at_close.rank.as_str(),
                at_close.team.sum(),
                at_close.team.count()
            ),
            ("B", 60_000, 2)
        );
        assert_eq!(job(2).rank_at_close, None);
        assert_eq!(job(3).rank_at_close, None);
        let rank = |id| {
            store
                .read_blocking(|c| ranks::find_job_rank(c, id))
                .unwrap()
                .map(|r| r.rank.as_str())
        };
        assert_eq!((rank(1), rank(2), rank(3)), (Some("B"), None, Some("A")));
        let payloads: Vec<serde_json::Value> = store
            .read_blocking(|c| {
                let mut stmt = c.prepare(
                    "SELECT payload FROM outbox WHERE table_name = 'jobs' ORDER BY row_id",
                )?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .unwrap()
            .iter()
            .map(|p| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(payloads[0]["rank_at_close"], "B");
        assert_eq!(payloads[0]["score_sum_at_close"], 60_000);
        assert!(
            payloads[1]["rank_at_close"].is_null() && payloads[1].get("rank_at_close").is_some()
        );
    }
}
