//! Skips ("can't judge this one"): a scorer sets a job aside for the current week with
//! a short reason. A skip stores no submission and changes no rank; the job leaves the
//! scorer's queue until the week ends, and participation counts it as neither due nor
//! done. Skips are immutable and replicate like submissions (a set union).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{Result, StoreError, Tx, col_ts, jobs, new_id, outbox, ts, users};
use crate::domain::{check_skip_reason, week_of};

/// A stored skip.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skip {
    pub id: String,
    pub job_id: i64,
    pub scorer_id: String,
    /// The week skipped, named by its Monday ([`week_of`]).
    pub week: NaiveDate,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub origin: String,
}

const COLUMNS: &str = "id, job_id, scorer_id, week, reason, created_at, origin";

/// A week as stored: its Monday as `YYYY-MM-DD`, so text order is week order.
pub fn week_text(week: NaiveDate) -> String {
    week.format("%Y-%m-%d").to_string()
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Skip> {
    let week: String = r.get(3)?;
    let week = NaiveDate::parse_from_str(&week, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Skip {
        id: r.get(0)?,
        job_id: r.get(1)?,
        scorer_id: r.get(2)?,
        week,
        reason: r.get(4)?,
        created_at: col_ts(r, 5)?,
        origin: r.get(6)?,
    })
}

/// Records that `scorer_id` cannot judge `job_id` in the week of `at`, and queues the
/// row for replication. Refuses an unknown job or user (not found), a closed job
/// (conflict), a user who does not score (forbidden), a reason that is empty, longer
/// than 200 characters or holds control characters (invalid, naming `reason`), and a
/// second skip of the same job in the same week by the same scorer (conflict).
pub fn insert_skip(
    tx: &Tx<'_>,
    job_id: i64,
    scorer_id: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Skip> {
    let job =
        jobs::find_job(tx, job_id)?.ok_or_else(|| StoreError::NotFound(format!("job {job_id}")))?;
    if !job.is_open {
        return Err(StoreError::Conflict(format!(
            "job {} ({}) is closed; only open jobs can be skipped",
            job.id, job.title
        )));
    }
    let scorer = users::find_user(tx, scorer_id)?
        .ok_or_else(|| StoreError::NotFound(format!("user {scorer_id}")))?;
    if !scorer.active || !scorer.scores {
        return Err(StoreError::Forbidden(format!(
            "{} does not score jobs",
            scorer.name
        )));
    }
    let reason = check_skip_reason(reason)?;
    let week = week_of(at);
    if let Some(earlier) = find_skip(tx, job_id, scorer_id, week)? {
        return Err(StoreError::Conflict(format!(
            "{} already skipped job {} ({}) for the week beginning {} ({}); a job is skipped at most once a week",
            scorer.name,
            job.id,
            job.title,
            week_text(week),
            earlier.reason
        )));
    }
    let skip = Skip {
        id: new_id(),
        job_id,
        scorer_id: scorer_id.to_string(),
        week,
        reason,
        created_at: at,
        origin: tx.origin().to_string(),
    };
    tx.prepare_cached(&format!(
        "INSERT INTO skips ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?
    .execute(rusqlite::params![
        skip.id,
        skip.job_id,
        skip.scorer_id,
        week_text(skip.week),
        skip.reason,
        ts(&skip.created_at),
        skip.origin,
    ])?;
    outbox::enqueue(tx, "skips", &skip.id)?;
    Ok(skip)
}

/// The scorer's skip of a job in a week, if any (the earliest when two replicas each
/// recorded one).
pub fn find_skip(
    conn: &Connection,
    job_id: i64,
    scorer_id: &str,
    week: NaiveDate,
) -> Result<Option<Skip>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM skips WHERE scorer_id = ?1 AND week = ?2 AND job_id = ?3
             ORDER BY created_at, id LIMIT 1"
        ))?
        .query_row(
            rusqlite::params![scorer_id, week_text(week), job_id],
            from_row,
        )
        .optional()?)
}

/// Whether the scorer skipped the job in the week.
pub fn is_skipped(
    conn: &Connection,
    job_id: i64,
    scorer_id: &str,
    week: NaiveDate,
) -> Result<bool> {
    Ok(find_skip(conn, job_id, scorer_id, week)?.is_some())
}

/// The scorer's skips in a week, by job id.
pub fn list_for_scorer_week(
    conn: &Connection,
    scorer_id: &str,
    week: NaiveDate,
) -> Result<Vec<Skip>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM skips WHERE scorer_id = ?1 AND week = ?2 ORDER BY job_id, created_at, id"
    ))?;
    let rows = stmt
        .query_map(rusqlite::params![scorer_id, week_text(week)], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The jobs the scorer skipped, with the week of each, from the week `from` on: what
/// their dashboard needs to leave skipped jobs out of "needs my score".
pub fn scorer_skips_since(
    conn: &Connection,
    scorer_id: &str,
    from: NaiveDate,
) -> Result<HashSet<(i64, NaiveDate)>> {
    let mut stmt =
        conn.prepare_cached("SELECT job_id, week FROM skips WHERE scorer_id = ?1 AND week >= ?2")?;
    let mut out = HashSet::new();
    let mut rows = stmt.query(rusqlite::params![scorer_id, week_text(from)])?;
    while let Some(r) = rows.next()? {
        let week: String = r.get(1)?;
        let week = NaiveDate::parse_from_str(&week, "%Y-%m-%d")
            .map_err(|e| StoreError::Data(format!("bad skip week {week:?}: {e}")))?;
        out.insert((r.get(0)?, week));
    }
    Ok(out)
}

/// Every skip of a job, oldest first (the job page can say who skipped it and why).
pub fn list_for_job(conn: &Connection, job_id: i64) -> Result<Vec<Skip>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM skips WHERE job_id = ?1 ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map([job_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every skip in the weeks `first` to `last` (Mondays, both included), by week.
pub fn list_between(conn: &Connection, first: NaiveDate, last: NaiveDate) -> Result<Vec<Skip>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM skips WHERE week BETWEEN ?1 AND ?2 ORDER BY week, created_at, id"
    ))?;
    let rows = stmt
        .query_map(
            rusqlite::params![week_text(first), week_text(last)],
            from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::{FactorScores, Role};
    use crate::store::jobs::JobUpsert;
    use crate::store::submissions::NewSubmission;
    use crate::store::users::User;
    use crate::store::{Store, commands, dashboard, ranks, test_support};

    /// Wednesday 2026-12-02, in the week of Monday 2026-11-30.
    fn wednesday() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn monday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn user(store: &Store, name: &str, role: Role) -> User {
        test_support::add_user(store, name, role, wednesday() - Duration::weeks(8))
    }

    fn job(store: &Store, id: i64, open: bool) {
        let j = JobUpsert {
            id,
            title: format!("Job {id}"),
            client: "Kestrel Fintech".into(),
            status: if open { "Open" } else { "Filled" }.into(),
            is_open: open,
            opened_at: Some(wednesday() - Duration::days(30)),
            fee_minor: Some(3_500_000),
            fee_currency: Some("GBP".into()),
            hiring_team: vec![],
            description_html: None,
        };
        let _ = store
            .write_blocking(|tx| commands::upsert_job(tx, &j, wednesday() - Duration::days(30)))
            .unwrap();
    }

    fn skip(
        store: &Store,
        job: i64,
        scorer: &User,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Skip> {
        store.write_blocking(|tx| insert_skip(tx, job, &scorer.id, reason, at))
    }

    fn outbox_rows(store: &Store, table: &str) -> i64 {
        store
            .read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM outbox WHERE table_name = ?1",
                    [table],
                    |r| r.get(0),
                )?)
            })
            .unwrap()
    }

    #[test]
    fn a_skip_is_stored_for_the_week_and_queued_for_replication_without_a_score() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tom = user(&store, "tom", Role::AccountManager);
        job(&store, 1, true);
        let s = skip(&store, 1, &tom, "  new to the client ", wednesday()).unwrap();
        assert_eq!((s.week, s.reason.as_str()), (monday(), "new to the client"));
        assert_eq!(s.origin, store.replica_id());
        let found = store
            .read_blocking(|c| find_skip(c, 1, &tom.id, monday()))
            .unwrap();
        assert_eq!(found.as_ref(), Some(&s));
        let listed = store
            .read_blocking(|c| list_for_scorer_week(c, &tom.id, monday()))
            .unwrap();
        assert_eq!(listed, vec![s.clone()]);
        assert_eq!(
            store.read_blocking(|c| list_for_job(c, 1)).unwrap(),
            vec![s.clone()]
        );
        assert!(
            !store
                .read_blocking(|c| is_skipped(c, 1, &tom.id, monday() + Duration::days(7)))
                .unwrap(),
            "next week is another week"
        );
        assert_eq!(outbox_rows(&store, "skips"), 1);
        // No submission, no rank.
        assert_eq!(
            store
                .read_blocking(crate::store::submissions::count_submissions)
                .unwrap(),
            0
        );
        assert!(
            store
                .read_blocking(|c| ranks::find_job_rank(c, 1))
                .unwrap()
                .is_none()
        );
        // The row is immutable.
        let err = store
            .write_blocking(|tx| {
                tx.execute("UPDATE skips SET reason = 'x'", [])?;
                Ok(())
            })
            .unwrap_err();
        assert!(err.to_string().contains("immutable"), "{err}");
    }

    #[test]
    fn a_second_skip_a_closed_job_a_non_scorer_and_a_bad_reason_are_refused_and_nothing_is_stored()
    {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tom = user(&store, "tom", Role::AccountManager);
        let sam = user(&store, "sam", Role::Other);
        job(&store, 1, true);
        job(&store, 2, false);
        skip(&store, 1, &tom, "on leave", wednesday()).unwrap();
        let queued = outbox_rows(&store, "skips");

        // The same week, later: 409 with words a scorer understands.
        let err = skip(
            &store,
            1,
            &tom,
            "still on leave",
            wednesday() + Duration::days(3),
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("tom already skipped job 1 (Job 1) for the week beginning 2026-11-30"),
            "{text}"
        );
        // Next week is a new week.
        skip(
            &store,
            1,
            &tom,
            "still on leave",
            wednesday() + Duration::days(5),
        )
        .unwrap();

        let err = skip(&store, 2, &tom, "on leave", wednesday()).unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert!(err.to_string().contains("closed"), "{err}");
        let err = skip(&store, 1, &sam, "on leave", wednesday()).unwrap_err();
        assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
        assert!(err.to_string().contains("sam does not score jobs"), "{err}");
        let err = skip(&store, 99, &tom, "on leave", wednesday()).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        for bad in ["", "  ", "tab\u{7}bell", &"x".repeat(201)] {
            let err = skip(&store, 1, &tom, bad, wednesday() + Duration::days(14)).unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
            assert!(err.to_string().starts_with("reason:"), "{err}");
        }
        assert_eq!(outbox_rows(&store, "skips"), queued + 1);
        let all = store
            .read_blocking(|c| list_between(c, monday(), monday() + Duration::days(14)))
            .unwrap();
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn a_skipped_job_leaves_the_scorers_queue_for_that_week_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tom = user(&store, "tom", Role::AccountManager);
        let priya = user(&store, "priya", Role::SalesPerson);
        for id in 1..=3 {
            job(&store, id, true);
        }
        // Job 3 scored by Tom on Monday: not in his queue this week either.
        let new = NewSubmission {
            job_id: 3,
            scorer_id: tom.id.clone(),
            scores: FactorScores::from_values([3, 3, 3, 3]).unwrap(),
            time_open_overridden: false,
            fee_size_overridden: false,
            comment: None,
        };
        let _ = store
            .write_blocking(|tx| commands::submit_score(tx, &new, wednesday() - Duration::days(2)))
            .unwrap();
        let cache = dashboard::DashboardCache::default();
        let queue = |who: &User, now: DateTime<Utc>| {
            let view = store
                .read_blocking(|c| cache.view(c, &who.id, now))
                .unwrap();
            crate::domain::scoring_queue(view.jobs())
        };
        let mut before = queue(&tom, wednesday());
        before.sort_unstable();
        assert_eq!(before, [1, 2]);
        skip(&store, 1, &tom, "new to the client", wednesday()).unwrap();
        assert_eq!(queue(&tom, wednesday()), [2]);
        let plain = store
            .read_blocking(|c| dashboard::dashboard_jobs(c, &tom.id, wednesday()))
            .unwrap();
        let one = plain.iter().find(|j| j.id == 1).unwrap();
        assert!(one.skipped_this_week && !one.needs_my_score);
        // Priya's queue is hers: the skip is Tom's.
        let mut hers = queue(&priya, wednesday());
        hers.sort_unstable();
        assert_eq!(hers, [1, 2, 3]);
        // Sunday night it is still skipped; from Monday it needs his score again,
        // from the same copy of the dashboard (no write in between).
        let sunday = wednesday() + Duration::days(4) + Duration::hours(13);
        assert_eq!(queue(&tom, sunday), [2]);
        let next_monday = crate::domain::week_end(monday());
        let mut after = queue(&tom, next_monday);
        after.sort_unstable();
        assert_eq!(after, [1, 2], "job 3 needs his score again at 10:00");
        let mut later = queue(&tom, next_monday + Duration::hours(12));
        later.sort_unstable();
        assert_eq!(later, [1, 2, 3]);
    }
}
