//! Closed jobs keep the rank they closed with, and the freshness rules change ranks
//! only when switched on and only from their version onward: on real SQLite files.

use chrono::Duration;

use super::tests::{
    add_job, add_user, assert_stored, change, history_len, job, open, rows_of, st, submit, t0,
};
use super::*;
use crate::domain::{Rank, Role, Settings, Thresholds};
use crate::store::{Store, expired, jobs, ranks, settings};

fn save(store: &Store, s: &Settings, hours: i64) -> Outcome<settings::SettingsVersion> {
    store
        .write_blocking(|tx| save_settings(tx, s, t0() + Duration::hours(hours), None))
        .unwrap()
}

fn rank_of(store: &Store, job_id: i64) -> Option<Standing> {
    store
        .read_blocking(|c| ranks::find_job_rank(c, job_id))
        .unwrap()
        .map(|r| r.standing())
}

fn history(store: &Store, job_id: i64) -> Vec<ranks::RankHistoryRow> {
    store
        .read_blocking(|c| ranks::history_for_job(c, job_id))
        .unwrap()
}

#[test]
fn a_settings_change_or_a_deactivation_after_a_job_closed_leaves_its_rank_and_history() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    add_job(&store, 1);
    add_job(&store, 2);
    for (id, minutes) in [(1, 0), (2, 2)] {
        let _ = submit(&store, id, &tom, [4, 4, 4, 4], minutes);
        let _ = submit(&store, id, &ann, [2, 2, 2, 2], minutes + 1); // 3.00, B
    }
    let closed = store
        .write_blocking(|tx| close_job(tx, 1, Some("Filled"), t0() + Duration::hours(1)))
        .unwrap();
    assert!(closed.result && closed.rank_changes.is_empty());
    let history_at_close = history(&store, 1);

    // A from 3.00: the open job moves, the closed one keeps its B.
    let lower = Settings {
        thresholds: Thresholds::new(300, 200).unwrap(),
        ..Settings::default()
    };
    let saved = save(&store, &lower, 2);
    assert_eq!(
        saved.rank_changes,
        vec![change(2, st(Rank::B, 60_000, 2), st(Rank::A, 60_000, 2))]
    );
    assert_eq!(rank_of(&store, 1), st(Rank::B, 60_000, 2));

    // Tom deactivated: the open job's team score is Ann's alone, the closed job's
    // stays the two scores it closed with.
    let off = store
        .write_blocking(|tx| set_user_active(tx, &tom.id, false, t0() + Duration::hours(3)))
        .unwrap();
    assert_eq!(
        off.rank_changes,
        vec![change(2, st(Rank::A, 60_000, 2), st(Rank::B, 20_000, 1))]
    );
    assert_eq!(rank_of(&store, 1), st(Rank::B, 60_000, 2));
    assert_eq!(history(&store, 1), history_at_close, "its history stays");
    // A check of every rank agrees.
    let checked = store.write_blocking(rerank_all_jobs).unwrap();
    assert!(
        checked.rank_changes.is_empty(),
        "{:?}",
        checked.rank_changes
    );
}

#[test]
fn a_job_closes_with_the_rank_of_the_scores_made_up_to_the_close_and_keeps_it_on_its_row() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 1);
    let _ = submit(&store, 1, &ann, [4, 4, 4, 4], 0);
    let closed = store
        .write_blocking(|tx| close_job(tx, 1, None, t0() + Duration::hours(1)))
        .unwrap();
    assert!(closed.result);
    let row = store
        .read_blocking(|c| jobs::find_job(c, 1))
        .unwrap()
        .unwrap();
    assert_eq!(row.rank_at_close, st(Rank::A, 40_000, 1));
    // The close travels with the row: the outbox's latest payload of the job has it.
    let payload: String = store
        .read_blocking(|c| {
            Ok(c.query_row(
                "SELECT payload FROM outbox WHERE table_name = 'jobs' AND row_id = '1' ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        (
            &v["rank_at_close"],
            &v["score_sum_at_close"],
            &v["scorer_count_at_close"]
        ),
        (
            &serde_json::json!("A"),
            &serde_json::json!(40_000),
            &serde_json::json!(1)
        )
    );
    // A job closed unscored closes with no rank.
    add_job(&store, 2);
    let _ = store
        .write_blocking(|tx| close_jobs_not_in(tx, &[], t0() + Duration::hours(2)))
        .unwrap();
    let two = store
        .read_blocking(|c| jobs::find_job(c, 2))
        .unwrap()
        .unwrap();
    assert_eq!((two.is_open, two.rank_at_close), (false, None));
}

#[test]
fn reopening_a_closed_job_ranks_it_afresh_under_the_current_settings() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 1);
    let _ = submit(&store, 1, &ann, [3, 3, 3, 3], 0); // 3.00, B
    let mut closing = job(1);
    closing.is_open = false;
    closing.status = "Closed".into();
    let closed = store
        .write_blocking(|tx| upsert_job(tx, &closing, t0() + Duration::hours(1)))
        .unwrap();
    assert!(closed.rank_changes.is_empty());
    let _ = save(
        &store,
        &Settings {
            thresholds: Thresholds::new(300, 200).unwrap(),
            ..Settings::default()
        },
        2,
    );
    assert_eq!(rank_of(&store, 1), st(Rank::B, 30_000, 1), "frozen");
    let reopened = store
        .write_blocking(|tx| upsert_job(tx, &job(1), t0() + Duration::hours(3)))
        .unwrap();
    assert_eq!(
        reopened.rank_changes,
        vec![change(1, st(Rank::B, 30_000, 1), st(Rank::A, 30_000, 1))]
    );
    assert_stored(&store, &reopened.rank_changes);
    let row = store
        .read_blocking(|c| jobs::find_job(c, 1))
        .unwrap()
        .unwrap();
    assert!(row.is_open && row.rank_at_close.is_none() && row.closed_at.is_none());
}

#[test]
fn a_replica_takes_the_rank_at_close_from_the_pulled_row_and_later_rows_never_move_it() {
    let (_a_dir, a) = open();
    let (_b_dir, b) = open();
    let ann = add_user(&a, "ann@agency.example", Role::Ceo);
    let tom = add_user(&a, "tom@agency.example", Role::AccountManager);
    add_job(&a, 1);
    let _ = submit(&a, 1, &ann, [4, 4, 4, 4], 0);
    let pull = |store: &Store, tables: &[&'static str]| {
        let mut changes = Vec::new();
        for (table, rows) in rows_of(&a, tables) {
            let out = store
                .write_blocking(|tx| apply_pulled_rows(tx, table, &rows))
                .unwrap();
            changes.extend(out.rank_changes);
        }
        changes
    };
    let _ = pull(&b, &["users", "jobs", "rank_history", "submissions"]);
    assert_eq!(rank_of(&b, 1), st(Rank::A, 40_000, 1));

    // Tom scores on A and the job closes there with both scores.
    let _ = submit(&a, 1, &tom, [2, 2, 2, 2], 5); // 3.00, B
    let _ = a
        .write_blocking(|tx| close_job(tx, 1, Some("Filled"), t0() + Duration::hours(1)))
        .unwrap();
    // B learns of the close before Tom's submission: it takes the rank from the row.
    let changes = pull(&b, &["jobs"]);
    assert_eq!(
        changes,
        vec![change(1, st(Rank::A, 40_000, 1), st(Rank::B, 60_000, 2))]
    );
    assert_stored(&b, &changes);
    // Then the submission, a user change and new settings arrive: nothing moves.
    let _ = a
        .write_blocking(|tx| set_user_active(tx, &tom.id, false, t0() + Duration::hours(2)))
        .unwrap();
    let _ = save(
        &a,
        &Settings {
            thresholds: Thresholds::new(300, 200).unwrap(),
            ..Settings::default()
        },
        3,
    );
    let later = pull(&b, &["settings", "users", "rank_history", "submissions"]);
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(rank_of(&a, 1), st(Rank::B, 60_000, 2));
    assert_eq!(rank_of(&b, 1), st(Rank::B, 60_000, 2));
}

#[test]
fn scores_expire_only_when_the_rule_is_on_and_from_its_version_on() {
    let (_dir, store) = open();
    // Settings in force from before the scores (the store's first version is dated
    // when the test runs).
    let _ = save(&store, &Settings::default(), -24);
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    add_job(&store, 1);
    let _ = submit(&store, 1, &ann, [5, 5, 5, 5], 0);
    let _ = submit(&store, 1, &tom, [1, 1, 1, 1], 60 * 24 * 21); // three weeks later: 3.00, B
    let expire = |at| {
        store
            .write_blocking(|tx| expire_scores(tx, at))
            .unwrap()
            .rank_changes
    };
    // Off by default: however late the clock, nothing expires.
    assert!(expire(t0() + Duration::weeks(200)).is_empty());
    assert_eq!(rank_of(&store, 1), st(Rank::B, 60_000, 2));
    let before = history(&store, 1);

    // Switched on (4 weeks) five weeks in: Ann's score is five weeks old and expires as
    // the version comes into force; Tom's (two weeks old) still counts.
    let on_at = t0() + Duration::weeks(5);
    let four = Settings {
        score_expiry_weeks: Some(4),
        ..Settings::default()
    };
    let saved = store
        .write_blocking(|tx| save_settings(tx, &four, on_at, None))
        .unwrap();
    assert_eq!(
        saved.rank_changes,
        vec![change(1, st(Rank::B, 60_000, 2), st(Rank::C, 10_000, 1))]
    );
    let after = history(&store, 1);
    assert_eq!(after[..before.len()], before[..], "earlier history stays");
    assert_eq!(after.last().unwrap().at, on_at, "from its version on");
    let gone = store
        .read_blocking(|c| expired::list_for_job(c, 1))
        .unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (gone[0].scorer_id.as_str(), gone[0].expired_at),
        (ann.id.as_str(), on_at)
    );
    // A day later the CEO saves another setting and keeps the rule: Ann's score still
    // expired when the rule came in, not at this save.
    let _ = save(
        &store,
        &Settings {
            stalled_after_days: 21,
            ..four.clone()
        },
        24 * 7 * 5 + 24,
    );
    let gone = store
        .read_blocking(|c| expired::list_for_job(c, 1))
        .unwrap();
    assert_eq!(
        (gone[0].scorer_id.as_str(), gone[0].expired_at),
        (ann.id.as_str(), on_at),
        "a later save leaves the expiry instant where it was"
    );

    // The clock moves: Tom's score expires four weeks after he gave it, and the
    // hourly command says so with that instant.
    let tom_expires = t0() + Duration::weeks(3) + Duration::weeks(4);
    assert!(expire(tom_expires - Duration::minutes(1)).is_empty());
    assert_eq!(
        expire(tom_expires + Duration::minutes(30)),
        vec![change(1, st(Rank::C, 10_000, 1), None)]
    );
    assert_eq!(rank_of(&store, 1), None);
    assert_eq!(
        store
            .read_blocking(|c| expired::list_for_job(c, 1))
            .unwrap()
            .len(),
        2
    );
    // A fresh score counts again at once.
    let back = submit(&store, 1, &ann, [4, 4, 4, 4], 60 * 24 * 7 * 8);
    assert_eq!(
        back.rank_changes,
        vec![change(1, None, st(Rank::A, 40_000, 1))]
    );
    // Switched off again: the expired score counts again.
    let _ = save(&store, &Settings::default(), 24 * 7 * 8 + 1);
    assert_eq!(rank_of(&store, 1), st(Rank::B, 50_000, 2));
    assert!(
        store
            .read_blocking(|c| expired::list_for_job(c, 1))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_job_closing_leaves_out_the_scores_expired_by_its_close() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let tom = add_user(&store, "tom@agency.example", Role::AccountManager);
    let _ = save(
        &store,
        &Settings {
            score_expiry_weeks: Some(2),
            ..Settings::default()
        },
        0,
    );
    add_job(&store, 1);
    let _ = submit(&store, 1, &ann, [5, 5, 5, 5], 60);
    let _ = submit(&store, 1, &tom, [1, 1, 1, 1], 60 * 24 * 10); // 3.00, B
    // No hourly run since Ann's score expired (day 14): the close finds it.
    let closed_at = t0() + Duration::days(15);
    let closed = store
        .write_blocking(|tx| close_job(tx, 1, None, closed_at))
        .unwrap();
    assert_eq!(
        closed.rank_changes,
        vec![change(1, st(Rank::B, 60_000, 2), st(Rank::C, 10_000, 1))]
    );
    let last = history(&store, 1).pop().unwrap();
    assert_eq!(last.at, t0() + Duration::days(14) + Duration::hours(1));
    // Closed, it no longer moves as the clock goes on.
    assert!(
        store
            .write_blocking(|tx| expire_scores(tx, closed_at + Duration::weeks(10)))
            .unwrap()
            .rank_changes
            .is_empty()
    );
    assert_eq!(rank_of(&store, 1), st(Rank::C, 10_000, 1));
}

#[test]
fn a_minimum_of_scorers_changes_no_rank() {
    let (_dir, store) = open();
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 1);
    let _ = submit(&store, 1, &ann, [4, 4, 4, 4], 0);
    let saved = save(
        &store,
        &Settings {
            min_scorers: 3,
            ..Settings::default()
        },
        1,
    );
    assert!(saved.rank_changes.is_empty(), "{:?}", saved.rank_changes);
    assert_eq!(history_len(&store, 1), 1);
    assert_eq!(rank_of(&store, 1), st(Rank::A, 40_000, 1));
}
