//! Store tests on real temporary SQLite files.

use chrono::Duration;
use jobrank::domain::{FactorScores, Rank, Role, Settings, Weights};
use jobrank::store::jobs::JobUpsert;
use jobrank::store::submissions::NewSubmission;
use jobrank::store::{
    self, DB_FILE, Store, StoreError, backup, commands, jobs, outbox, ranks, settings, submissions,
    users,
};
use rusqlite::Connection;

fn open(dir: &std::path::Path) -> Store {
    Store::open(dir).expect("store opens")
}

fn add_user(store: &Store, email: &str, role: Role) -> users::User {
    let new = users::NewUser {
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role,
        scores: role.scores_by_default(),
        // A fixed hash keeps these tests fast; sign-in tests use real hashing.
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
    };
    store
        .write_blocking(|tx| users::insert_user(tx, &new, store::now()))
        .unwrap()
}

fn add_job(store: &Store, id: i64, open: bool) {
    let job = JobUpsert {
        id,
        title: format!("Job {id}"),
        client: "Kestrel Fintech".into(),
        status: if open { "Open" } else { "Closed" }.into(),
        is_open: open,
        opened_at: Some(store::now() - Duration::days(20)),
        fee_minor: Some(3_500_000),
        fee_currency: Some("GBP".into()),
        hiring_team: vec!["Tom".into()],
        description_html: Some("<p>hi</p>".into()),
    };
    store
        .write_blocking(|tx| commands::upsert_job(tx, &job, store::now()))
        .unwrap()
        .into_result();
}

fn submit(
    store: &Store,
    job: i64,
    scorer: &str,
    v: [i64; 4],
) -> Result<(submissions::Submission, ranks::JobRank), StoreError> {
    let new = NewSubmission {
        job_id: job,
        scorer_id: scorer.into(),
        scores: FactorScores::from_values(v).map_err(|e| StoreError::Invalid(e[0].clone()))?,
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    store
        .write_blocking(|tx| commands::submit_score(tx, &new, store::now()))
        .map(commands::Outcome::into_result)
}

/// Every row of every table, as text, for comparing whole stores.
fn dump(path: &std::path::Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY 1"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                let mut cells = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    cells.push(format!("{v:?}"));
                }
                Ok(format!("{t}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.extend(rows);
    }
    out
}

#[test]
fn migrations_apply_to_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("nested/data"));
    let conn = Connection::open(store.path()).unwrap();
    assert_eq!(
        store::schema_version(&conn).unwrap(),
        store::supported_schema_version()
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, store::APPLICATION_ID);
    let s = store.read_blocking(settings::current_settings).unwrap();
    assert_eq!(s.settings, Settings::default());
    assert!(!store.replica_id().is_empty());
    drop(store);
    // Opening again keeps the same replica identity and applies nothing new.
    let again = open(&dir.path().join("nested/data"));
    assert_eq!(
        again.read_blocking(settings::list_settings).unwrap().len(),
        1
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (999, 'future', '2030-01-01', '0')",
        [],
    )
    .unwrap();
    drop(conn);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn foreign_and_corrupt_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (7);",
    )
    .unwrap();
    drop(conn);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "nothing was added to the foreign database");

    let dir = tempfile::tempdir().unwrap();
    let garbage = b"this is not a database, just some bytes that happen to be here".repeat(100);
    std::fs::write(dir.path().join(DB_FILE), &garbage).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), garbage);
}

#[test]
fn a_failing_migration_leaves_the_database_as_it_was() {
    use refinery::Migration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let mut conn = Connection::open(&path).unwrap();
    let mut all: Vec<Migration> = store::embedded::migrations::runner()
        .get_migrations()
        .to_vec();
    all.push(Migration::unapplied("V900__broken", "CREATE TABLE broken (;").unwrap());
    let result = refinery::Runner::new(&all).set_grouped(true).run(&mut conn);
    assert!(result.is_err(), "the broken migration fails");
    let tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name <> 'refinery_schema_history'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "no table of the good migrations was left behind");
    assert_eq!(store::schema_version(&conn).unwrap(), 0);
}

#[test]
fn an_unusable_data_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = Store::open(&file.join("data")).unwrap_err();
    assert!(matches!(err, StoreError::DataDir { .. }), "{err}");
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn the_same_team_score_from_more_scorers_is_no_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let bob = add_user(&store, "bob@agency.example", Role::SalesPerson);
    let cat = add_user(&store, "cat@agency.example", Role::AccountManager);
    add_job(&store, 1, true);
    submit(&store, 1, &ann.id, [4; 4]).unwrap();
    let (_, r) = submit(&store, 1, &bob.id, [3; 4]).unwrap();
    assert_eq!((r.team.sum(), r.team.count()), (70_000, 2));
    // A third scorer at the team's mean: 10.5 / 3 is the same 3.50 as 7 / 2.
    let (_, r) = submit(&store, 1, &cat.id, [4, 4, 3, 3]).unwrap();
    assert_eq!((r.team.sum(), r.team.count()), (105_000, 3));
    assert_eq!(
        r.previous.map(|p| p.1),
        Some(Rank::A),
        "movement still from A"
    );
    let history = store
        .read_blocking(|c| ranks::history_for_job(c, 1))
        .unwrap();
    assert_eq!(history.len(), 2, "no history row for an unchanged score");
}

#[test]
fn submissions_rank_jobs_and_history_records_only_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    let bob = add_user(&store, "bob@agency.example", Role::SalesPerson);
    let other = add_user(&store, "olly@agency.example", Role::Other);
    add_job(&store, 1, true);
    add_job(&store, 2, false);

    let (_, r) = submit(&store, 1, &ann.id, [5, 4, 4, 3]).unwrap();
    assert_eq!((r.rank, r.team.to_string()), (Rank::A, "4.00".to_string()));
    let (_, r) = submit(&store, 1, &bob.id, [2, 2, 3, 3]).unwrap();
    assert_eq!((r.rank, r.team.to_string()), (Rank::B, "3.25".to_string()));
    assert_eq!(r.previous.map(|p| p.1), Some(Rank::A));
    // The same composite again: the team score does not change, no history row.
    submit(&store, 1, &bob.id, [3, 2, 2, 3]).unwrap();
    let history = store
        .read_blocking(|c| ranks::history_for_job(c, 1))
        .unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].rank, Rank::B);

    // Closed job, unknown job, non-scorer: refused, nothing stored.
    let before = store.read_blocking(submissions::count_submissions).unwrap();
    assert!(matches!(
        submit(&store, 2, &ann.id, [3; 4]),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        submit(&store, 99, &ann.id, [3; 4]),
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        submit(&store, 1, &other.id, [3; 4]),
        Err(StoreError::Forbidden(_))
    ));
    assert!(submit(&store, 1, &ann.id, [3, 3, 6, 3]).is_err());
    assert_eq!(
        store.read_blocking(submissions::count_submissions).unwrap(),
        before
    );

    // Submissions are immutable even to SQL.
    let err = store
        .write_blocking(|tx| Ok(tx.execute("UPDATE submissions SET fee_size = 1", [])?))
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
}

#[test]
fn a_settings_change_recomputes_ranks_and_is_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 7, true);
    let (_, r) = submit(&store, 7, &ann.id, [5, 5, 1, 1]).unwrap();
    assert_eq!(r.rank, Rank::B); // 3.00
    let s = Settings {
        weights: Weights::from_fractions([0.4, 0.4, 0.1, 0.1]).unwrap(),
        ..Settings::default()
    };
    let saved = store
        .write_blocking(|tx| commands::save_settings(tx, &s, store::now(), Some(&ann.id)))
        .unwrap()
        .into_result();
    assert_eq!(saved.settings.version, 2);
    let r = store
        .read_blocking(|c| ranks::find_job_rank(c, 7))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.rank, r.team.to_string(), r.settings_version),
        (Rank::A, "4.20".to_string(), 2)
    );
    let history = store
        .read_blocking(|c| ranks::history_for_job(c, 7))
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| h.settings_version)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
}

#[test]
fn every_replicated_change_enters_the_outbox_in_its_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ann = add_user(&store, "ann@agency.example", Role::Ceo);
    add_job(&store, 3, true);
    let before = store.read_blocking(outbox::pending_count).unwrap();
    submit(&store, 3, &ann.id, [4, 4, 4, 4]).unwrap();
    let tables: Vec<String> = store
        .read_blocking(|c| {
            let mut s = c.prepare("SELECT table_name FROM outbox ORDER BY seq")?;
            let v = s
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(v)
        })
        .unwrap();
    assert_eq!(
        store.read_blocking(outbox::pending_count).unwrap(),
        before + 2
    );
    assert_eq!(&tables[tables.len() - 2..], ["submissions", "rank_history"]);
    // A failed write leaves no outbox row behind.
    let n = store.read_blocking(outbox::pending_count).unwrap();
    assert!(submit(&store, 999, &ann.id, [4, 4, 4, 4]).is_err());
    assert_eq!(store.read_blocking(outbox::pending_count).unwrap(), n);
}

#[tokio::test]
async fn backup_then_restore_gives_identical_contents() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = Store::open(&data).unwrap();
    jobrank::cli::fill_demo(&store).await.unwrap();
    let copy = dir.path().join("backups/one.sqlite3");
    backup::backup_data_dir(&data, &copy).unwrap();
    // A backup never overwrites an existing file.
    assert!(backup::backup_data_dir(&data, &copy).is_err());
    store.checkpoint().unwrap();
    let at_backup = dump(&data.join(DB_FILE));
    assert_eq!(dump(&copy), at_backup);

    // More work after the backup, then restore: the store is as it was at the backup.
    add_job(&store, 9999, true);
    drop(store);
    let _lock = Store::lock_data_dir(&data).unwrap();
    let kept = backup::restore_data_dir(&data, &copy).unwrap();
    assert!(kept.exists(), "the replaced store is kept");
    assert_eq!(dump(&data.join(DB_FILE)), at_backup);

    // A corrupt backup is refused and the store is left alone.
    let bad = dir.path().join("bad.sqlite3");
    std::fs::write(&bad, b"not a backup at all".repeat(300)).unwrap();
    let err = backup::restore_data_dir(&data, &bad).unwrap_err();
    assert!(err.to_string().contains("bad.sqlite3"), "{err}");
    assert_eq!(dump(&data.join(DB_FILE)), at_backup);
}

#[tokio::test]
async fn the_demo_is_a_realistic_agency_and_refuses_a_second_fill() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let accounts = jobrank::cli::fill_demo(&store).await.unwrap();
    assert_eq!(accounts.accounts.len(), 4);
    let (users_n, jobs_n, subs_n, ranked) = store
        .read(|c| {
            Ok((
                users::count_users(c)?,
                jobs::count_jobs(c)?,
                submissions::count_submissions(c)?,
                ranks::all_job_ranks(c)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(users_n, 4);
    // The 40 jobs of the open demo (a few closed in the last days) and its past
    // quarter of 24 closed jobs, about half of them filled.
    assert_eq!(jobs_n, 64);
    let (open_n, placed, frozen) = store
        .read(|c| {
            Ok((
                jobs::list_open_jobs(c)?.len(),
                jobrank::store::placements::count_placements(c)?,
                c.query_row(
                    "SELECT COUNT(*) FROM jobs WHERE is_open = 0 AND rank_at_close IS NOT NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(open_n, 36);
    assert!((10..=24).contains(&placed), "{placed} placements");
    assert!(
        frozen >= 20,
        "closed jobs keep the rank they closed with: {frozen}"
    );
    // The outcome report shows the current calendar quarter by default: a third of
    // the past quarter's jobs closed in it (unless it began less than 2 hours ago).
    let now = chrono::Utc::now();
    let quarter = jobrank::domain::quarter_of(now.date_naive())
        .0
        .and_time(chrono::NaiveTime::MIN)
        .and_utc();
    let in_quarter: i64 = store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM jobs WHERE is_open = 0 AND closed_at >= ?1",
                [quarter.format("%Y-%m-%dT%H:%M:%S").to_string()],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    if now - quarter > chrono::Duration::hours(3) {
        assert!(in_quarter >= 8, "{in_quarter} jobs closed this quarter");
    }
    assert!(subs_n > 500, "8 weeks of scores from 3 scorers: {subs_n}");
    let mut seen = std::collections::HashSet::new();
    for (_, rank, _, _) in &ranked {
        seen.insert(*rank);
    }
    assert!(
        seen.len() >= 2,
        "the demo spreads jobs over ranks: {seen:?}"
    );
    assert!(jobrank::cli::fill_demo(&store).await.is_err());
}

#[test]
fn the_dashboard_copy_keeps_pipelines_across_submissions_and_sees_every_pipeline_change() {
    use jobrank::store::dashboard::DashboardCache;
    use jobrank::store::pipeline::{self, StageCount};

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let scorer = add_user(&store, "ana@agency.example", Role::AccountManager);
    add_job(&store, 1, true);
    add_job(&store, 2, false);
    let stages = |n: i64| {
        vec![StageCount {
            stage: "Interview".into(),
            stage_order: 1,
            candidates: n,
            avg_days_in_stage: Some(3.0),
        }]
    };
    let record = |job: i64, n: i64| {
        store
            .write_blocking(|tx| pipeline::record_snapshot(tx, job, &stages(n), store::now()))
            .unwrap()
    };
    assert!(record(1, 4));
    assert!(record(2, 9));

    let cache = DashboardCache::default();
    let view = |viewer: &str| {
        store
            .read_blocking(|c| cache.view(c, viewer, store::now()))
            .unwrap()
    };
    let pipeline_of = |v: &jobrank::store::dashboard::DashboardView, id: i64| {
        v.jobs()
            .iter()
            .find(|j| j.id == id)
            .and_then(|j| j.pipeline.clone())
    };
    let first = view(&scorer.id);
    let p1 = pipeline_of(&first, 1).expect("job 1's pipeline");
    assert_eq!(p1.total_candidates(), 4);
    assert!(first.jobs().iter().all(|j| j.id != 2), "job 2 is closed");

    // A submission changes the rank, not the pipelines: the parsed ones are kept.
    submit(&store, 1, &scorer.id, [5, 4, 3, 2]).unwrap();
    let after_submit = view(&scorer.id);
    assert!(after_submit.jobs()[0].rank.is_some());
    assert!(std::sync::Arc::ptr_eq(
        &p1,
        &pipeline_of(&after_submit, 1).unwrap()
    ));

    // A job that opens without a new snapshot still shows its latest pipeline.
    store
        .write_blocking(|tx| {
            tx.execute("UPDATE jobs SET is_open = 1 WHERE id = 2", [])?;
            Ok(())
        })
        .unwrap();
    let reopened = view(&scorer.id);
    assert_eq!(pipeline_of(&reopened, 2).unwrap().total_candidates(), 9);

    // A new snapshot, however it is written, is seen at once.
    assert!(record(1, 7));
    assert_eq!(
        pipeline_of(&view(&scorer.id), 1)
            .unwrap()
            .total_candidates(),
        7
    );
    store
        .write_blocking(|tx| {
            tx.execute("DELETE FROM pipeline_snapshots WHERE job_id = 2", [])?;
            Ok(())
        })
        .unwrap();
    assert!(pipeline_of(&view(&scorer.id), 2).is_none());
}

#[test]
fn a_confirmed_dashboard_copy_is_trusted_until_this_process_writes_and_one_second_at_most() {
    use jobrank::store::TRUST_READ_FOR;
    use jobrank::store::dashboard::DashboardCache;

    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // The trust window's clock moves only when the test moves it, so a slow machine
    // cannot end the window early (nor a fast one keep it open).
    store.stop_read_clock();
    // A command-line tool working on the same data directory.
    let tool = open(dir.path());
    let scorer = add_user(&store, "ana@agency.example", Role::AccountManager);
    add_job(&store, 1, true);
    let cache = DashboardCache::default();
    let now = store::now();
    let confirm = |now| {
        let stamp = store.read_stamp();
        store
            .read_blocking(|c| cache.view_confirmed(c, stamp, &scorer.id, now))
            .unwrap()
    };

    let lw = store.local_writes();
    assert!(
        cache
            .recent_view(&store.read_stamp(), &scorer.id, now)
            .is_none(),
        "nothing confirmed yet"
    );
    assert_eq!(confirm(now).jobs().len(), 1);
    let fast = cache
        .recent_view(&store.read_stamp(), &scorer.id, now)
        .expect("trusted right after the store confirmed it");
    assert_eq!(fast.jobs().len(), 1);
    assert!(
        cache
            .recent_view(&store.read_stamp(), "another-viewer", now)
            .is_none(),
        "another viewer's part is read from the store first"
    );

    // A write by this process: the copy is not trusted any more, whatever the time.
    add_job(&store, 2, true);
    assert_eq!(store.local_writes(), lw + 1);
    assert!(
        cache
            .recent_view(&store.read_stamp(), &scorer.id, now)
            .is_none()
    );
    let lw = store.local_writes();
    assert_eq!(confirm(now).jobs().len(), 2);

    // A write by the tool does not move this process's count: the copy stands for
    // just under a second, and shows the write once the second of trust is over.
    add_job(&tool, 3, true);
    assert_eq!(store.local_writes(), lw);
    store.advance_read_clock(TRUST_READ_FOR - std::time::Duration::from_millis(1));
    assert_eq!(
        cache
            .recent_view(&store.read_stamp(), &scorer.id, now)
            .expect("trusted within the second")
            .jobs()
            .len(),
        2
    );
    store.advance_read_clock(std::time::Duration::from_millis(1));
    let now = store::now();
    assert!(
        cache
            .recent_view(&store.read_stamp(), &scorer.id, now)
            .is_none(),
        "trusted for one second at most"
    );
    assert_eq!(confirm(now).jobs().len(), 3);
}

/// Issue 16, group commit: writes made at once share transactions, but each keeps its
/// own outcome. A write that fails (or panics) after writing leaves nothing and is told
/// so; every other write is kept, answered with its own value, and moves the store's
/// generation and this process's write count, whichever batch it shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_made_at_once_share_commits_but_keep_their_own_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let generation = |s: &Store| s.read_blocking(Store::generation).unwrap();
    let (gen_before, writes_before) = (generation(&store), store.local_writes());
    let mut tasks = Vec::new();
    for i in 0..120 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let out = store
                .write(move |tx| {
                    let user = users::insert_user(
                        tx,
                        &users::NewUser {
                            email: format!("u{i}@group.example"),
                            name: format!("U{i}"),
                            role: Role::AccountManager,
                            scores: true,
                            password_hash: "x".into(),
                        },
                        store::now(),
                    )?;
                    match i % 10 {
                        3 => Err(StoreError::Conflict(format!("write {i} refused"))),
                        7 => panic!("write {i} panicked"),
                        _ => Ok((i, user.id)),
                    }
                })
                .await;
            (i, out)
        }));
    }
    let mut kept = 0u64;
    for t in tasks {
        let (i, out) = t.await.unwrap();
        match (i % 10, out) {
            (3, Err(StoreError::Conflict(m))) => assert_eq!(m, format!("write {i} refused")),
            (7, Err(StoreError::Task(m))) => assert!(m.contains("panicked"), "{m}"),
            (3 | 7, other) => panic!("write {i} should have failed: {:?}", other.map(|v| v.0)),
            (_, Ok((j, _))) => {
                assert_eq!(j, i, "each write gets its own value");
                kept += 1;
            }
            (_, Err(e)) => panic!("write {i} failed: {e}"),
        }
    }
    for i in 0..120 {
        let email = format!("u{i}@group.example");
        let found = store
            .read(move |c| users::find_user_by_email(c, &email))
            .await
            .unwrap();
        assert_eq!(found.is_some(), !matches!(i % 10, 3 | 7), "write {i}");
    }
    assert_eq!(kept, 96);
    assert_eq!(store.local_writes(), writes_before + kept);
    assert_eq!(generation(&store), gen_before + kept as i64);
}

/// Issue 16: storing a webhook event (before it is processed) changes nothing the
/// dashboard shows, so it leaves the store's generation, and the dashboard's copy, as
/// they are; any other write moves it, alone or in a group commit with such a write.
#[tokio::test]
async fn a_stored_webhook_event_leaves_the_dashboards_copy_standing() {
    use jobrank::store::inbox;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let generation = |s: &Store| s.read_blocking(Store::generation).unwrap();
    let event = |key: &str| inbox::NewEvent {
        event_key: key.into(),
        event_type: "job.updated".into(),
        job_id: Some(1),
        body: "{}".into(),
        status: "pending",
        note: None,
    };
    let before = generation(&store);
    let e = event("evt-1");
    let stored = store
        .write(move |tx| {
            tx.unseen_by_dashboard();
            inbox::insert_event(tx, &e, store::now())
        })
        .await
        .unwrap();
    assert!(stored);
    assert_eq!(generation(&store), before, "an inbox event alone");
    let (s1, s2) = (store.clone(), store.clone());
    let e = event("evt-2");
    let (a, b) = tokio::join!(
        s1.write(move |tx| {
            tx.unseen_by_dashboard();
            inbox::insert_event(tx, &e, store::now())
        }),
        s2.write(|tx| {
            add_job_in(tx, 2);
            Ok(())
        }),
    );
    assert!(a.unwrap());
    b.unwrap();
    assert_eq!(
        generation(&store),
        before + 1,
        "the job moved it, the event did not"
    );
}

fn add_job_in(tx: &store::Tx<'_>, id: i64) {
    let job = JobUpsert {
        id,
        title: format!("Job {id}"),
        client: "Kestrel Fintech".into(),
        status: "Open".into(),
        is_open: true,
        opened_at: Some(store::now() - Duration::days(20)),
        fee_minor: None,
        fee_currency: None,
        hiring_team: vec![],
        description_html: None,
    };
    let _ = commands::upsert_job(tx, &job, store::now()).unwrap();
}

/// refinery's checksum of every released migration (SQLite and PostgreSQL). A store that
/// ran a migration refuses to open once its text changes ("divergent"), so a released
/// migration is never edited: add a new one, and its checksum here once it is released.
const RELEASED_SQLITE: &[(u32, u64)] = &[
    (1, 870_366_777_750_778_815),
    (2, 17_281_538_541_633_360_795),
    (3, 11_673_277_211_517_305_773),
    (4, 14_145_855_734_131_471_055),
    (5, 6_599_758_575_498_518_397),
    (6, 13_317_571_164_352_774_201),
    (7, 7_564_642_432_493_853_248),
    (8, 9_815_843_956_525_536_593),
    (9, 6_862_768_009_683_181_577),
    // Amended once after its release; `store::schema` repairs stores that ran the
    // first text.
    (10, 13_395_963_540_762_713_283),
    (11, 13_560_177_326_629_831_557),
    (12, 10_400_574_666_051_087_739),
];
const RELEASED_POSTGRES: &[(u32, u64)] = &[
    (1, 13_355_316_569_578_440_246),
    (2, 11_523_101_836_455_696_149),
    (3, 24_961_679_776_962_986),
    (4, 15_206_200_593_971_033_116),
];

#[test]
fn released_migrations_are_never_edited() {
    for (kind, released, embedded) in [
        (
            "migrations/sqlite",
            RELEASED_SQLITE,
            store::embedded::migrations::runner()
                .get_migrations()
                .to_vec(),
        ),
        (
            "migrations/postgres",
            RELEASED_POSTGRES,
            jobrank::replication::embedded::migrations::runner()
                .get_migrations()
                .to_vec(),
        ),
    ] {
        for &(version, checksum) in released {
            let m = embedded
                .iter()
                .find(|m| m.version() == version as i32)
                .unwrap_or_else(|| panic!("{kind}: released V{version} is gone"));
            assert_eq!(
                m.checksum(),
                checksum,
                "{kind}: V{version} ({}) changed after its release; stores that ran it would \
                 refuse to open. Put it back and add a new migration",
                m.name()
            );
        }
    }
}

#[test]
fn a_store_that_ran_the_first_release_of_v10_opens_repaired() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    // The store as the first release of V10 left it: its checksum, and the shared
    // counter column that release had.
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.execute_batch(
        "ALTER TABLE write_back_state ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
         UPDATE refinery_schema_history SET checksum = '16000663199356204854' WHERE version = 10;",
    )
    .unwrap();
    drop(conn);

    let store = Store::open(dir.path()).expect("a store of the first V10 opens");
    drop(store);
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let checksum: String = conn
        .query_row(
            "SELECT checksum FROM refinery_schema_history WHERE version = 10",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(checksum, "13395963540762713283");
    let columns: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('write_back_state') WHERE name = 'last_seq'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(columns, 0, "the released text's extra column is gone");
    drop(conn);
    // Opening again changes nothing.
    drop(open(dir.path()));
}
