//! Each command returns exactly the rank changes it caused, on real SQLite files: the
//! changes agree with the ranks stored afterwards, and a second identical call returns
//! none.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::{FactorScores, JobRank, Rank, Role, Settings, TeamScore, Weights};
use crate::store::jobs::JobUpsert;
use crate::store::submissions::{NewSubmission, Submission};
use crate::store::users::{NewUser, User};
use crate::store::{Store, jobs, ranks, replicated, submissions, users};

/// A fixed argon2 hash keeps these tests fast; nobody signs in here.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

pub(super) fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

pub(super) fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn add_user(store: &Store, email: &str, role: Role) -> User {
    let new = NewUser {
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role,
        scores: true,
        password_hash: HASH.into(),
    };
    store
        .write_blocking(|tx| users::insert_user(tx, &new, t0()))
        .unwrap()
}

pub(super) fn job(id: i64) -> JobUpsert {
    JobUpsert {
        id,
        title: format!("Job {id}"),
        client: "Kestrel Fintech".into(),
        status: "Open".into(),
        is_open: true,
        opened_at: Some(t0() - Duration::days(20)),
        fee_minor: Some(3_500_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec![],
        description_html: None,
    }
}

pub(super) fn add_job(store: &Store, id: i64) {
    let out = store
        .write_blocking(|tx| upsert_job(tx, &job(id), t0()))
        .unwrap();
    assert!(out.rank_changes.is_empty(), "an unscored job has no rank");
}

pub(super) fn submit(
    store: &Store,
    job_id: i64,
    scorer: &User,
    v: [i64; 4],
    minutes: i64,
) -> Outcome<(Submission, JobRank)> {
    let new = NewSubmission {
        job_id,
        scorer_id: scorer.id.clone(),
        scores: FactorScores::from_values(v).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    store
        .write_blocking(|tx| submit_score(tx, &new, t0() + Duration::minutes(minutes)))
        .unwrap()
}

/// A standing from a rank and a team score given as sum (ten-thousandths) and count.
pub(super) fn st(rank: Rank, sum: i64, count: i64) -> Option<Standing> {
    Some(Standing {
        rank,
        team: TeamScore::from_parts(sum, count).unwrap(),
    })
}

pub(super) fn change(job_id: i64, old: Option<Standing>, new: Option<Standing>) -> RankChange {
    RankChange { job_id, old, new }
}

/// Every change's `new` is what the store now holds for that job.
pub(super) fn assert_stored(store: &Store, changes: &[RankChange]) {
    for c in changes {
        let stored = store
            .read_blocking(|conn| ranks::find_job_rank(conn, c.job_id))
            .unwrap()
            .map(|r| r.standing());
        assert_eq!(stored, c.new, "job {}", c.job_id);
    }
}

pub(super) fn history_len(store: &Store, job_id: i64) -> usize {
    store
        .read_blocking(|c| ranks::history_for_job(c, job_id))
        .unwrap()
        .len()
}

#[test]
fn a_submission_returns_its_jobs_change_and_none_when_the_standing_holds() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    let cat = add_user(&store, "cat@agency.example", Role::SalesPerson);
    add_job(&store, 1);
    add_job(&store, 2);

    // The first score ranks the job: from no rank to C 2.00.
    let first = submit(&store, 1, &ann, [2, 2, 2, 2], 0);
    assert_eq!(
        first.rank_changes,
        vec![change(1, None, st(Rank::C, 20_000, 1))]
    );
    assert_eq!(Some(first.result.1.standing()), first.rank_changes[0].new);
    assert_eq!(first.result.0.job_id, 1);

    // The same scores again: the team score is the same, so no change and no history.
    let again = submit(&store, 1, &ann, [2, 2, 2, 2], 1);
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);
    assert_eq!(history_len(&store, 1), 1);

    // A second scorer moves the mean to 3.00 (B).
    let moved = submit(&store, 1, &tom, [4, 4, 4, 4], 2);
    assert_eq!(
        moved.rank_changes,
        vec![change(1, st(Rank::C, 20_000, 1), st(Rank::B, 60_000, 2))]
    );
    assert_stored(&store, &moved.rank_changes);

    // A third scorer at the mean: 9/3 is the same team score as 6/2, so no change.
    let same_mean = submit(&store, 1, &cat, [3, 3, 3, 3], 3);
    assert!(
        same_mean.rank_changes.is_empty(),
        "{:?}",
        same_mean.rank_changes
    );
    assert_eq!(history_len(&store, 1), 2);

    // A submission touches its own job only.
    let other = submit(&store, 2, &ann, [5, 5, 5, 5], 4);
    assert_eq!(
        other.rank_changes,
        vec![change(2, None, st(Rank::A, 50_000, 1))]
    );
}

#[test]
fn a_refused_submission_changes_nothing() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let new = NewSubmission {
        job_id: 404,
        scorer_id: ann.id.clone(),
        scores: FactorScores::from_values([3, 3, 3, 3]).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    let err = store
        .write_blocking(|tx| submit_score(tx, &new, t0()))
        .unwrap_err();
    assert!(
        matches!(err, crate::store::StoreError::NotFound(_)),
        "{err}"
    );
    assert!(
        store
            .read_blocking(crate::store::ranks::all_job_ranks)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_settings_change_returns_the_jobs_it_moved_with_before_and_after() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    for id in 1..=3 {
        add_job(&store, id);
    }
    let _ = submit(&store, 1, &ann, [5, 5, 1, 1], 0); // 3.00, B
    let _ = submit(&store, 2, &ann, [5, 5, 2, 2], 1); // 3.50, B
    let _ = submit(&store, 3, &ann, [3, 3, 3, 3], 2); // 3.00, B whatever the weights

    let s = Settings {
        weights: Weights::from_fractions([0.4, 0.4, 0.1, 0.1]).unwrap(),
        ..Settings::default()
    };
    let saved = store
        .write_blocking(|tx| save_settings(tx, &s, t0() + Duration::hours(1), Some(&ann.id)))
        .unwrap();
    assert_eq!(saved.result.settings.version, 2);
    assert_eq!(
        saved.rank_changes,
        vec![
            change(1, st(Rank::B, 30_000, 1), st(Rank::A, 42_000, 1)),
            change(2, st(Rank::B, 35_000, 1), st(Rank::A, 44_000, 1)),
        ]
    );
    assert_stored(&store, &saved.rank_changes);

    // The same settings saved again: a new version, and no job moves.
    let again = store
        .write_blocking(|tx| save_settings(tx, &s, t0() + Duration::hours(2), Some(&ann.id)))
        .unwrap();
    assert_eq!(again.result.settings.version, 3);
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);
}

#[test]
fn deactivating_a_scorer_returns_the_jobs_whose_team_score_moved() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    for id in 1..=3 {
        add_job(&store, id);
    }
    let _ = submit(&store, 1, &tom, [4, 4, 4, 4], 0); // Tom alone: 4.00, A
    let _ = submit(&store, 2, &tom, [4, 4, 4, 4], 1); // Tom and Ann: 3.00, B
    let _ = submit(&store, 2, &ann, [2, 2, 2, 2], 2);
    let _ = submit(&store, 3, &ann, [2, 2, 2, 2], 3); // Ann alone: 2.00, C

    let off = store
        .write_blocking(|tx| set_user_active(tx, &tom.id, false, t0() + Duration::hours(1)))
        .unwrap();
    assert!(!off.result.active);
    assert_eq!(
        off.rank_changes,
        vec![
            change(1, st(Rank::A, 40_000, 1), None),
            change(2, st(Rank::B, 60_000, 2), st(Rank::C, 20_000, 1)),
        ]
    );
    assert_stored(&store, &off.rank_changes);

    let again = store
        .write_blocking(|tx| set_user_active(tx, &tom.id, false, t0() + Duration::hours(2)))
        .unwrap();
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);

    // Reactivated, Tom's submissions count again: the reverse changes.
    let on = store
        .write_blocking(|tx| set_user_active(tx, &tom.id, true, t0() + Duration::hours(3)))
        .unwrap();
    assert_eq!(
        on.rank_changes,
        vec![
            change(1, None, st(Rank::A, 40_000, 1)),
            change(2, st(Rank::C, 20_000, 1), st(Rank::B, 60_000, 2)),
        ]
    );
    assert_stored(&store, &on.rank_changes);
}

#[test]
fn switching_scoring_off_and_on_returns_the_changes_each_way() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    add_job(&store, 1);
    let _ = submit(&store, 1, &tom, [5, 5, 5, 5], 0);
    let _ = submit(&store, 1, &ann, [1, 1, 1, 1], 1); // 3.00, B

    let off = store
        .write_blocking(|tx| set_user_scores(tx, &ann.id, false, t0() + Duration::hours(1)))
        .unwrap();
    assert!(!off.result.scores);
    assert_eq!(
        off.rank_changes,
        vec![change(1, st(Rank::B, 60_000, 2), st(Rank::A, 50_000, 1))]
    );
    let again = store
        .write_blocking(|tx| set_user_scores(tx, &ann.id, false, t0() + Duration::hours(2)))
        .unwrap();
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);
    let on = store
        .write_blocking(|tx| set_user_scores(tx, &ann.id, true, t0() + Duration::hours(3)))
        .unwrap();
    assert_eq!(
        on.rank_changes,
        vec![change(1, st(Rank::A, 50_000, 1), st(Rank::B, 60_000, 2))]
    );
    assert_stored(&store, &on.rank_changes);
}

#[test]
fn upserting_and_closing_jobs_change_no_rank_and_keep_it() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 1);
    add_job(&store, 2);
    let _ = submit(&store, 1, &ann, [4, 4, 4, 4], 0);
    let _ = submit(&store, 2, &ann, [2, 2, 2, 2], 1);

    // A changed title re-ranks the job from the same inputs: nothing moves.
    let mut renamed = job(1);
    renamed.title = "Head of Finance".into();
    let up = store
        .write_blocking(|tx| upsert_job(tx, &renamed, t0() + Duration::hours(1)))
        .unwrap();
    assert_eq!(up.result, jobs::Upserted::Changed);
    assert!(up.rank_changes.is_empty(), "{:?}", up.rank_changes);

    // Closing keeps the rank; so does closing the jobs missing from the open list.
    let closed = store
        .write_blocking(|tx| close_job(tx, 1, Some("Filled"), t0() + Duration::hours(2)))
        .unwrap();
    assert!(closed.result);
    assert!(closed.rank_changes.is_empty(), "{:?}", closed.rank_changes);
    let swept = store
        .write_blocking(|tx| close_jobs_not_in(tx, &[], t0() + Duration::hours(3)))
        .unwrap();
    assert_eq!(swept.result, 1);
    assert!(swept.rank_changes.is_empty(), "{:?}", swept.rank_changes);
    let again = store
        .write_blocking(|tx| close_job(tx, 1, Some("Filled"), t0() + Duration::hours(4)))
        .unwrap();
    assert!(!again.result);
    let ranked = store
        .read_blocking(crate::store::ranks::all_job_ranks)
        .unwrap();
    assert_eq!(ranked.len(), 2, "closed jobs keep their ranks");
}

/// Rows of `tables` as another replica would receive them: (table, JSON rows).
pub(super) fn rows_of(store: &Store, tables: &[&'static str]) -> Vec<(&'static str, Vec<String>)> {
    store
        .read_blocking(|c| {
            let mut out = Vec::new();
            for table in tables {
                let (key, _) = crate::store::outbox::columns(table).unwrap();
                let ids: Vec<String> = c
                    .prepare(&format!(
                        "SELECT CAST({key} AS TEXT) FROM {table} ORDER BY {key}"
                    ))?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                out.push((*table, replicated::rows_by_id(c, table, &ids)?));
            }
            Ok(out)
        })
        .unwrap()
}

#[test]
fn pulled_rows_return_the_changes_they_cause_once() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let ann = add_user(&a, "ann@agency.example", Role::Ceo);
    let tom = add_user(&a, "tom@agency.example", Role::AccountManager);
    add_job(&a, 1);
    add_job(&a, 2);
    let pull = |table: &str, rows: &[String]| {
        b.write_blocking(|tx| apply_pulled_rows(tx, table, rows))
            .unwrap()
    };

    // Users and jobs arrive: nothing is scored yet, so no rank changes.
    for (table, rows) in rows_of(&a, &["users", "jobs"]) {
        let out = pull(table, &rows);
        assert_eq!(out.result.changed, 2, "{table}");
        assert!(
            out.rank_changes.is_empty(),
            "{table}: {:?}",
            out.rank_changes
        );
    }

    // A pulled submission ranks its job here as it did there.
    let _ = submit(&a, 1, &ann, [4, 4, 4, 4], 0);
    let [(_, subs)] = rows_of(&a, &["submissions"]).try_into().unwrap();
    let first = pull("submissions", &subs);
    assert_eq!(
        first.rank_changes,
        vec![change(1, None, st(Rank::A, 40_000, 1))]
    );
    assert_stored(&b, &first.rank_changes);
    // The same page pulled again changes nothing.
    let again = pull("submissions", &subs);
    assert_eq!(again.result.changed, 0);
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);

    // Two more submissions there, one per job, arrive in one page.
    let _ = submit(&a, 1, &tom, [2, 2, 2, 2], 1);
    let _ = submit(&a, 2, &tom, [2, 2, 2, 2], 2);
    let [(_, subs)] = rows_of(&a, &["submissions"]).try_into().unwrap();
    let both = pull("submissions", &subs);
    assert_eq!(both.result.changed, 2);
    assert_eq!(
        both.rank_changes,
        vec![
            change(1, st(Rank::A, 40_000, 1), st(Rank::B, 60_000, 2)),
            change(2, None, st(Rank::C, 20_000, 1)),
        ]
    );
    let here = |s: &Store| s.read_blocking(ranks::all_job_ranks).unwrap();
    let mut ra = here(&a);
    let mut rb = here(&b);
    ra.sort_by_key(|r| r.0);
    rb.sort_by_key(|r| r.0);
    assert_eq!(
        ra.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>(),
        rb.iter().map(|r| (r.0, r.1, r.2)).collect::<Vec<_>>()
    );

    // Tom deactivated there: his user row arrives and every rank is recomputed here.
    let _ = a
        .write_blocking(|tx| set_user_active(tx, &tom.id, false, t0() + Duration::hours(1)))
        .unwrap();
    let [(_, user_rows)] = rows_of(&a, &["users"]).try_into().unwrap();
    let off = pull("users", &user_rows);
    assert_eq!(
        off.rank_changes,
        vec![
            change(1, st(Rank::B, 60_000, 2), st(Rank::A, 40_000, 1)),
            change(2, st(Rank::C, 20_000, 1), None),
        ]
    );
    assert_stored(&b, &off.rank_changes);
}

#[test]
fn repairs_return_each_jobs_change_once_across_tables() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let ann = add_user(&a, "ann@agency.example", Role::Ceo);
    let tom = add_user(&a, "tom@agency.example", Role::AccountManager);
    add_job(&a, 1);
    let _ = submit(&a, 1, &ann, [4, 4, 4, 4], 0);
    let _ = submit(&a, 1, &tom, [2, 2, 2, 2], 1);
    let rows = rows_of(&a, &["users", "jobs", "submissions"]);
    let repaired = b.write_blocking(|tx| apply_repairs(tx, &rows)).unwrap();
    assert_eq!(
        repaired
            .result
            .iter()
            .map(|applied| applied.changed)
            .collect::<Vec<_>>(),
        vec![2, 1, 2]
    );
    assert_eq!(
        repaired.rank_changes,
        vec![change(1, None, st(Rank::B, 60_000, 2))]
    );
    assert_stored(&b, &repaired.rank_changes);
    let again = b.write_blocking(|tx| apply_repairs(tx, &rows)).unwrap();
    assert!(again.rank_changes.is_empty(), "{:?}", again.rank_changes);
}

#[test]
fn reranking_a_consistent_store_changes_nothing_and_mends_a_stale_rank() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 1);
    add_job(&store, 2);
    let _ = submit(&store, 1, &ann, [4, 4, 4, 4], 0);
    let _ = submit(&store, 2, &ann, [2, 2, 2, 2], 1);
    let none = store.write_blocking(rerank_all_jobs).unwrap();
    assert!(none.rank_changes.is_empty(), "{:?}", none.rank_changes);

    // A rank row edited behind the store's back is put right, and reported.
    store
        .write_blocking(|tx| {
            tx.execute(
                "UPDATE job_ranks SET score_sum = 10000, rank = 'C' WHERE job_id = 1",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let mended = store.write_blocking(rerank_all_jobs).unwrap();
    assert_eq!(
        mended.rank_changes,
        vec![change(1, st(Rank::C, 10_000, 1), st(Rank::A, 40_000, 1))]
    );
    assert_stored(&store, &mended.rank_changes);
}

#[test]
fn the_demo_returns_one_change_per_ranked_job_from_no_rank_to_its_rank() {
    let (_dir, store) = open();
    let people = [
        ("ann@agency.example", Role::Ceo),
        ("tom@agency.example", Role::AccountManager),
    ];
    let new_users: Vec<NewUser> = people
        .iter()
        .map(|(email, role)| NewUser {
            email: (*email).into(),
            name: email.split('@').next().unwrap().into(),
            role: *role,
            scores: true,
            password_hash: HASH.into(),
        })
        .collect();
    let start = t0() - Duration::weeks(3);
    let filled = store
        .write_blocking(|tx| {
            fill_demo(tx, start, &new_users, |added, origin| {
                let row = |id: &str, job_id: i64, scorer: &User, v: u8, week: i64| Submission {
                    id: id.into(),
                    job_id,
                    scorer_id: scorer.id.clone(),
                    client_engagement: v,
                    search_difficulty: v,
                    time_open: v,
                    fee_size: v,
                    time_open_overridden: false,
                    fee_size_overridden: false,
                    comment: None,
                    submitted_at: start + Duration::weeks(week) + Duration::hours(1),
                    origin: origin.into(),
                };
                let (ann, tom) = (&added[0], &added[1]);
                Ok(DemoAgency {
                    jobs: (1..=3)
                        .map(|id| DemoJob {
                            job: job(id),
                            first_seen: start,
                            stages: vec![],
                            stages_at: start,
                        })
                        .collect(),
                    // Job 1 is an A, then a C: one change, from no rank to C. Job 2 is
                    // a B and closes as one. Job 3 is never scored.
                    weeks: vec![
                        vec![row("s1", 1, ann, 4, 0), row("s2", 2, tom, 3, 0)],
                        vec![row("s3", 1, ann, 2, 1)],
                    ],
                    closed: vec![(2, "Filled".into(), start + Duration::weeks(2))],
                    placements: vec![],
                })
            })
        })
        .unwrap();
    assert_eq!(filled.result.len(), 2);
    assert_eq!(
        filled.rank_changes,
        vec![
            change(1, None, st(Rank::C, 20_000, 1)),
            change(2, None, st(Rank::B, 30_000, 1)),
        ]
    );
    assert_stored(&store, &filled.rank_changes);
    // The history still shows each week's rank.
    assert_eq!(history_len(&store, 1), 2);
    assert_eq!(
        store.read_blocking(submissions::count_submissions).unwrap(),
        3
    );
}
