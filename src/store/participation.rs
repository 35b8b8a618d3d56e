//! The participation read: for the last weeks, each scorer's due and done jobs (the
//! definition is [`crate::domain::Participation`]'s), from the jobs' open intervals,
//! the submissions, the skips and the settings, in a fixed number of queries.
//!
//! What the store can tell about who scored when:
//! - A job counts as open from its open date (or when jobrank first saw it, whichever
//!   is later: nobody could score it before) until it closed. The store keeps one open
//!   interval per job, so a job closed and reopened counts as open in between too.
//! - An active user who scores counts from the moment their account was created. The
//!   store keeps no history of who scored when, so a user whose scoring was switched
//!   on late counts in earlier weeks too.
//! - A user who is inactive or no longer scores counts only in the weeks they
//!   submitted a score in (proof they scored then), and never after their account last
//!   changed (they stopped by then).
//! - Each week is counted with the cadence of the settings in force when it ended (for
//!   the week in progress, now).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::Connection;

use super::{Result, col_ts, col_ts_opt, settings, skips, ts, users};
use crate::domain::{
    OpenJob, Participant, Participation, WeekParticipation, WeekSkip, week_end, week_of, week_start,
};

/// A user counted in at least one of the weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantUser {
    pub id: String,
    pub name: String,
    pub active: bool,
    pub scores: bool,
}

/// Participation over several weeks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipationReport {
    /// The users counted in any of the weeks, by name.
    pub users: Vec<ParticipantUser>,
    /// Oldest first; the last is the week in progress at `now` (not complete).
    pub weeks: Vec<WeekParticipation>,
}

impl ParticipationReport {
    /// A counted user's name.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.as_str())
    }
}

/// Participation in the last `weeks` weeks up to `now`: the week in progress and the
/// `weeks - 1` before it (none for 0).
pub fn participation(
    conn: &Connection,
    weeks: u32,
    now: DateTime<Utc>,
) -> Result<ParticipationReport> {
    let last = week_of(now);
    let Some(back) = weeks.checked_sub(1) else {
        return Ok(ParticipationReport {
            users: Vec::new(),
            weeks: Vec::new(),
        });
    };
    participation_between(conn, last - Duration::weeks(i64::from(back)), last, now)
}

/// Participation in the weeks from `first` to `last` (their Mondays, or any day of
/// them; both included), counted up to `now`.
pub fn participation_between(
    conn: &Connection,
    first: NaiveDate,
    last: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ParticipationReport> {
    let (first, last) = (week_of(week_start(first)), week_of(week_start(last)));
    // One snapshot for every read.
    let tx = conn.unchecked_transaction()?;
    let start = week_start(first);
    let end = week_end(last).min(now);
    let jobs = open_jobs(&tx, start)?;
    let people = users::list_users(&tx)?;
    let mut participants = Vec::new();
    for u in &people {
        let current = u.active && u.scores;
        participants.push(Participant {
            scorer_id: u.id.clone(),
            scoring_from: u.created_at,
            scoring_until: (!current).then_some(u.updated_at),
            certain: current,
        });
    }
    let submissions = submission_times(&tx, start, end)?;
    let skipped = skips::list_between(&tx, first, last)?
        .into_iter()
        .map(|s| WeekSkip {
            scorer_id: s.scorer_id,
            job_id: s.job_id,
            week: s.week,
        });
    // The settings in force at each moment: the greatest version created by then.
    let versions = settings::list_settings(&tx)?;
    tx.finish()?;
    let index = Participation::new(jobs, participants, submissions, skipped);
    let mut out = Vec::new();
    let mut week = first;
    while week <= last && week_start(week) < now {
        let until = week_end(week).min(now);
        let cadence = versions
            .iter()
            .find(|v| v.created_at < until)
            .or(versions.last())
            .map_or(7, |v| v.settings.cadence_days);
        out.push(index.week(week, now, cadence));
        week += Duration::weeks(1);
    }
    let mut counted: Vec<ParticipantUser> = people
        .into_iter()
        .filter(|u| {
            out.iter()
                .any(|w| w.scorers.iter().any(|s| s.scorer_id == u.id))
        })
        .map(|u| ParticipantUser {
            id: u.id,
            name: u.name,
            active: u.active,
            scores: u.scores,
        })
        .collect();
    counted.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    for w in &mut out {
        w.scorers.sort_by_key(|s| {
            counted
                .iter()
                .position(|u| u.id == s.scorer_id)
                .unwrap_or(usize::MAX)
        });
    }
    Ok(ParticipationReport {
        users: counted,
        weeks: out,
    })
}

/// Every job open at some moment from `start` on, with its open interval.
fn open_jobs(conn: &Connection, start: DateTime<Utc>) -> Result<Vec<OpenJob>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, COALESCE(opened_at, first_seen_at), first_seen_at, is_open, closed_at, updated_at
         FROM jobs WHERE is_open = 1 OR COALESCE(closed_at, updated_at) >= ?1",
    )?;
    let rows = stmt.query_map([ts(&start)], |r| {
        let opened = col_ts(r, 1)?.max(col_ts(r, 2)?);
        let is_open: bool = r.get(3)?;
        // A closed job without a close time (never the case when jobrank closed it)
        // closed at the latest when it last changed.
        let closed = if is_open {
            None
        } else {
            Some(col_ts_opt(r, 4)?.map_or_else(|| col_ts(r, 5), Ok)?)
        };
        Ok(OpenJob {
            job_id: r.get(0)?,
            opened,
            closed,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The submission times that decide participation from `start` to `end`: every
/// submission in between, and each scorer's latest on each job before `start`.
fn submission_times(
    conn: &Connection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(String, i64, DateTime<Utc>)>> {
    let (start, end) = (ts(&start), ts(&end));
    let mut out: Vec<(String, i64, DateTime<Utc>)> = conn
        .prepare_cached(
            "SELECT scorer_id, job_id, MAX(submitted_at) FROM submissions
             WHERE submitted_at < ?1 GROUP BY job_id, scorer_id",
        )?
        .query_map([&start], row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut during = conn.prepare_cached(
        "SELECT scorer_id, job_id, submitted_at FROM submissions
         WHERE submitted_at >= ?1 AND submitted_at < ?2",
    )?;
    for r in during.query_map([&start, &end], row)? {
        out.push(r?);
    }
    Ok(out)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, i64, DateTime<Utc>)> {
    Ok((r.get(0)?, r.get(1)?, col_ts(r, 2)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FactorScores, Role, Settings};
    use crate::store::jobs::JobUpsert;
    use crate::store::submissions::NewSubmission;
    use crate::store::users::User;
    use crate::store::{Store, commands, test_support};

    /// A moment in November or December 2026 (UTC).
    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-{s}:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn monday(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(&format!("2026-{s}"), "%Y-%m-%d").unwrap()
    }

    fn user(store: &Store, name: &str, role: Role) -> User {
        test_support::add_user(store, name, role, t("10-01T09:00"))
    }

    fn job(store: &Store, id: i64, opened: DateTime<Utc>) {
        let j = JobUpsert {
            id,
            title: format!("Job {id}"),
            client: "Kestrel Fintech".into(),
            status: "Open".into(),
            is_open: true,
            opened_at: Some(opened),
            fee_minor: None,
            fee_currency: None,
            hiring_team: vec![],
            description_html: None,
        };
        let _ = store
            .write_blocking(|tx| commands::upsert_job(tx, &j, opened))
            .unwrap();
    }

    fn score(store: &Store, job_id: i64, who: &User, at: DateTime<Utc>) {
        let new = NewSubmission {
            job_id,
            scorer_id: who.id.clone(),
            scores: FactorScores::from_values([3, 3, 3, 3]).unwrap(),
            time_open_overridden: false,
            fee_size_overridden: false,
            comment: None,
        };
        let _ = store
            .write_blocking(|tx| commands::submit_score(tx, &new, at))
            .unwrap();
    }

    fn row(w: &WeekParticipation, id: &str) -> Option<(Vec<i64>, Vec<i64>, Vec<i64>)> {
        w.scorers
            .iter()
            .find(|s| s.scorer_id == id)
            .map(|s| (s.due.clone(), s.done.clone(), s.skipped.clone()))
    }

    #[test]
    fn participation_over_three_weeks_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tom = user(&store, "tom", Role::AccountManager);
        let priya = user(&store, "priya", Role::SalesPerson);
        let olga = user(&store, "olga", Role::AccountManager);
        let sam = user(&store, "sam", Role::Other);
        job(&store, 1, t("10-01T09:00"));
        job(&store, 2, t("10-01T09:00"));
        job(&store, 4, t("10-01T09:00"));
        let _ = store
            .write_blocking(|tx| commands::close_job(tx, 4, Some("Filled"), t("10-20T09:00")))
            .unwrap();
        score(&store, 1, &priya, t("11-10T09:00"));
        // The week of 16 November.
        score(&store, 1, &tom, t("11-17T09:00"));
        score(&store, 1, &olga, t("11-17T12:00"));
        score(&store, 2, &tom, t("11-18T09:00"));
        let _ = store
            .write_blocking(|tx| commands::set_user_active(tx, &olga.id, false, t("11-20T09:00")))
            .unwrap();
        // The week of 23 November: job 2 closes on Wednesday.
        let _ = store
            .write_blocking(|tx| commands::close_job(tx, 2, Some("Filled"), t("11-25T12:00")))
            .unwrap();
        score(&store, 1, &tom, t("11-27T09:00"));
        // The week of 30 November, up to Wednesday: job 3 opens on Tuesday.
        job(&store, 3, t("12-01T09:00"));
        store
            .write_blocking(|tx| {
                crate::store::skips::insert_skip(tx, 1, &priya.id, "on leave", t("12-01T10:00"))
            })
            .unwrap();
        score(&store, 3, &tom, t("12-02T09:00"));

        let now = t("12-02T10:00");
        let report = store.read_blocking(|c| participation(c, 3, now)).unwrap();
        let names: Vec<&str> = report.users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["olga", "priya", "tom"], "sam never scores");
        assert!(report.name_of(&sam.id).is_none());
        let weeks: Vec<(NaiveDate, bool, u32)> = report
            .weeks
            .iter()
            .map(|w| (w.week, w.complete, w.cadence_days))
            .collect();
        assert_eq!(
            weeks,
            [
                (monday("11-16"), true, 7),
                (monday("11-23"), true, 7),
                (monday("11-30"), false, 7)
            ]
        );
        let [w16, w23, w30] = &report.weeks[..] else {
            panic!("three weeks")
        };
        let ids = |w: &WeekParticipation| -> Vec<String> {
            w.scorers.iter().map(|s| s.scorer_id.clone()).collect()
        };
        assert_eq!(
            ids(w16),
            [olga.id.clone(), priya.id.clone(), tom.id.clone()]
        );
        assert_eq!(row(w16, &tom.id), Some((vec![1, 2], vec![1, 2], vec![])));
        assert_eq!(row(w16, &priya.id), Some((vec![1, 2], vec![], vec![])));
        // Olga scored that week before she was deactivated.
        assert_eq!(row(w16, &olga.id), Some((vec![1, 2], vec![1], vec![])));
        // Job 2 needed Tom's score again on Wednesday at 09:00 and closed at noon.
        assert_eq!(ids(w23), [priya.id.clone(), tom.id.clone()]);
        assert_eq!(row(w23, &tom.id), Some((vec![1, 2], vec![1], vec![])));
        assert_eq!(row(w23, &priya.id), Some((vec![1, 2], vec![], vec![])));
        // So far this week: Tom's score of job 1 covers it until Friday; job 3 opened.
        assert_eq!(row(w30, &tom.id), Some((vec![3], vec![3], vec![])));
        assert_eq!(row(w30, &priya.id), Some((vec![3], vec![], vec![1])));
        assert_eq!(row(w30, &olga.id), None);

        // A week is counted with the cadence in force when it ended.
        let fortnightly = Settings {
            cadence_days: 14,
            ..store
                .read_blocking(settings::current_settings)
                .unwrap()
                .settings
        };
        let _ = store
            .write_blocking(|tx| commands::save_settings(tx, &fortnightly, t("11-23T12:00"), None))
            .unwrap();
        let report = store.read_blocking(|c| participation(c, 3, now)).unwrap();
        let cadences: Vec<u32> = report.weeks.iter().map(|w| w.cadence_days).collect();
        assert_eq!(cadences, [7, 14, 14]);
        // Under 14 days Tom's score of job 2 on 18 November covered it until it closed.
        assert_eq!(
            row(&report.weeks[1], &tom.id),
            Some((vec![1], vec![1], vec![]))
        );

        assert!(
            store
                .read_blocking(|c| participation(c, 0, now))
                .unwrap()
                .weeks
                .is_empty()
        );
        let one = store.read_blocking(|c| participation(c, 1, now)).unwrap();
        assert_eq!(one.weeks.len(), 1);
        assert_eq!(one.weeks[0].week, monday("11-30"));
    }
}
