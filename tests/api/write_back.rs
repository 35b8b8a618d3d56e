//! The rank written back to Recruiterflow, against the fake Recruiterflow with real
//! SQLite stores: each field type, the latest value superseding a queued one (also
//! while the older one is in flight), a 429 storm, 500s, a deleted job (a dead letter
//! at once), a closed job never written, a job that loses its rank (its fields
//! cleared), the bound on updates (with the clock as a parameter), the comparison at
//! the next sync, the webhook a write-back causes, the setting unset, the admin page,
//! the command line, and a SIGKILL between queueing and sending.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobrank::domain::{FactorScores, Rank, RankChange, Role};
use jobrank::recruiterflow::webhook::sign;
use jobrank::recruiterflow::write_back::{self, Round};
use jobrank::recruiterflow::{InboxOptions, Syncer, WriteBack, WriteBackOptions, sync};
use jobrank::store::submissions::NewSubmission;
use jobrank::store::users::{self, NewUser, User};
use jobrank::store::{self, Store, StoreError, commands, inbox, write_back as queue};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::Notify;

use crate::fake_recruiterflow::{
    API_KEY, CUSTOM_FIELD_PATH, FakeRecruiterflow, Fault, RecordedUpdate, UPDATE_PATH,
    select_field, typed_field,
};
use crate::helpers::{
    ServeProcess, TestApp, eventually, run_cli, serve_process, spawn_app_with, stderr, stdout,
};
use crate::recruiterflow::{client_for, fast_options, fresh_store};
use crate::web_support::{add_user, sign_in};

/// The select rank field "jobrank rank": choices A, B, C are 901, 902, 903.
const RANK: i64 = 900;
/// The number field "jobrank score".
const SCORE: i64 = 911;
/// A fixed argon2 hash keeps these tests fast; nobody signs in with it.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
const SECRET: &str = "whsec-write-back-3c9d2e7f1a";

/// Scores giving each rank (equal weights; A from 4.00, B from 2.50): 4.25, 3.00, 1.75.
const A: [i64; 4] = [5, 4, 4, 4];
const B: [i64; 4] = [3, 3, 3, 3];
const C: [i64; 4] = [1, 2, 2, 2];

/// Custom fields as an update carries them: (field id, value).
type Fields = Vec<(i64, Value)>;

fn opts() -> WriteBackOptions {
    WriteBackOptions {
        per_minute: 0,
        retry_base: Duration::from_secs(60),
        retry_max: Duration::from_secs(3600),
        max_attempts: 3,
        batch: 100,
        poll: Duration::from_secs(3600),
        fields_for: Duration::from_secs(300),
        gather: Duration::from_millis(250),
    }
}

/// A clock stopped `secs` seconds from now.
fn later(secs: i64) -> impl Fn() -> DateTime<Utc> + Sync + Send + 'static {
    let at = store::now() + chrono::Duration::seconds(secs);
    move || at
}

fn with_rank_fields(fake: &FakeRecruiterflow) {
    fake.put_custom_field(select_field(
        RANK,
        "jobrank rank",
        &[(901, "A"), (902, "B"), (903, "C")],
    ));
    fake.put_custom_field(typed_field(SCORE, "jobrank score", "number"));
}

async fn add_scorer(store: &Store, email: &str) -> User {
    let new = NewUser {
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        role: Role::AccountManager,
        scores: true,
        password_hash: HASH.into(),
    };
    store
        .write(move |tx| users::insert_user(tx, &new, store::now()))
        .await
        .unwrap()
}

async fn submit(store: &Store, job_id: i64, scorer: &User, v: [i64; 4]) -> Vec<RankChange> {
    let new = NewSubmission {
        job_id,
        scorer_id: scorer.id.clone(),
        scores: FactorScores::from_values(v).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    store
        .write(move |tx| commands::submit_score(tx, &new, store::now()))
        .await
        .unwrap()
        .rank_changes
}

/// A fake agency with the rank fields, synced into a fresh store with write-back on,
/// and two scorers.
struct Agency {
    fake: FakeRecruiterflow,
    _dir: TempDir,
    store: Store,
    tom: User,
    priya: User,
}

async fn agency(jobs: i64) -> Agency {
    let fake = FakeRecruiterflow::with_jobs(jobs).await;
    with_rank_fields(&fake);
    let (dir, store) = fresh_store().await;
    sync::full_sync(&store, &client_for(&fake, fast_options()), &|_| {})
        .await
        .unwrap();
    write_back::switch(&store, true).await.unwrap();
    let tom = add_scorer(&store, "tom@agency.example").await;
    let priya = add_scorer(&store, "priya@agency.example").await;
    Agency {
        fake,
        _dir: dir,
        store,
        tom,
        priya,
    }
}

impl Agency {
    fn sender(&self, rank: &str, score: Option<&str>, opts: WriteBackOptions) -> WriteBack {
        WriteBack::new(
            self.store.clone(),
            client_for(&self.fake, fast_options()),
            rank,
            score,
            opts,
        )
    }

    async fn queued(&self) -> Vec<queue::Queued> {
        self.store.read(queue::list_queued).await.unwrap()
    }

    /// The updates the fake received for a job.
    fn updates_of(&self, job: i64) -> Vec<RecordedUpdate> {
        self.fake
            .updates()
            .into_iter()
            .filter(|u| u.job_id == Some(job))
            .collect()
    }

    fn update_requests(&self) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.starts_with(UPDATE_PATH))
            .count()
    }

    async fn queue_every_open_job(&self) -> usize {
        self.store
            .write(|tx| queue::enqueue_open_jobs(tx, store::now()))
            .await
            .unwrap()
    }

    fn syncer(&self, write_back: &WriteBack) -> Syncer {
        Syncer::with_write_back(
            self.store.clone(),
            client_for(&self.fake, fast_options()),
            InboxOptions::default(),
            Some(write_back.clone()),
        )
    }
}

fn round(sent: usize, closed: usize, retrying: usize, dead: usize, held: usize) -> Round {
    Round {
        sent,
        closed,
        retrying,
        dead,
        held,
        ..Round::default()
    }
}

fn without_bound(r: Round) -> Round {
    Round {
        bound_until: None,
        ..r
    }
}

#[tokio::test]
async fn each_field_type_gets_the_rank_and_score_the_submissions_gave() {
    let a = agency(3).await;
    a.fake
        .put_custom_field(typed_field(910, "jobrank rank text", "long_text"));
    a.fake
        .put_custom_field(typed_field(912, "jobrank score text", "text"));
    a.fake
        .put_custom_field(typed_field(913, "jobrank rank number", "number"));
    for (job, v) in [(1, A), (2, B), (3, C)] {
        let changes = submit(&a.store, job, &a.tom, v).await;
        assert_eq!(changes.len(), 1);
    }
    // Queued in the transaction of each submission.
    let queued: Vec<(i64, Option<Rank>)> = a
        .queued()
        .await
        .iter()
        .map(|q| (q.job_id, q.standing.map(|s| s.rank)))
        .collect();
    assert_eq!(
        queued,
        [(1, Some(Rank::A)), (2, Some(Rank::B)), (3, Some(Rank::C))]
    );

    // (rank field, score field, the fields each of jobs 1 to 3 is sent)
    let cases: [(&str, Option<&str>, [Fields; 3]); 3] = [
        (
            "jobrank rank",
            Some("jobrank score"),
            [
                vec![(RANK, json!(901)), (SCORE, json!(4.25))],
                vec![(RANK, json!(902)), (SCORE, json!(3.0))],
                vec![(RANK, json!(903)), (SCORE, json!(1.75))],
            ],
        ),
        (
            "jobrank rank text",
            Some("jobrank score text"),
            [
                vec![(910, json!("A · 4.25")), (912, json!("4.25"))],
                vec![(910, json!("B · 3.00")), (912, json!("3.00"))],
                vec![(910, json!("C · 1.75")), (912, json!("1.75"))],
            ],
        ),
        (
            "jobrank rank number",
            None,
            [
                vec![(913, json!(4.25))],
                vec![(913, json!(3.0))],
                vec![(913, json!(1.75))],
            ],
        ),
    ];
    for (i, (rank, score, expected)) in cases.into_iter().enumerate() {
        if i > 0 {
            assert_eq!(a.queue_every_open_job().await, 3);
        }
        let before = a.fake.updates().len();
        let w = a.sender(rank, score, opts());
        let r = w.send_due(&later(0)).await.unwrap();
        assert_eq!(r, round(3, 0, 0, 0, 0), "{rank}");
        let updates = &a.fake.updates()[before..];
        for (job, want) in (1..=3).zip(&expected) {
            let u = updates
                .iter()
                .find(|u| u.job_id == Some(job))
                .unwrap_or_else(|| panic!("{rank}: no update of job {job}"));
            assert_eq!(u.status, 200);
            assert_eq!(&u.fields, want, "{rank}, job {job}");
        }
        assert!(
            a.queued().await.is_empty(),
            "{rank}: acknowledged values leave the queue"
        );
    }
    // Recruiterflow shows a select by its choice's name.
    assert_eq!(a.fake.reported_field(1, RANK), Some(json!("A")));
    assert_eq!(a.fake.reported_field(3, RANK), Some(json!("C")));
    // What was acknowledged is remembered, for the comparison at the next sync.
    let sent = a
        .store
        .read(|c| queue::find_sent(c, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.standing.map(|s| s.rank), Some(Rank::B));
    assert_eq!(sent.fields, r#"[{"id":913,"value":3.0}]"#);
}

#[tokio::test]
async fn a_rank_change_and_its_queued_value_commit_or_roll_back_together() {
    let a = agency(1).await;
    let new = NewSubmission {
        job_id: 1,
        scorer_id: a.tom.id.clone(),
        scores: FactorScores::from_values(A).unwrap(),
        time_open_overridden: false,
        fee_size_overridden: false,
        comment: None,
    };
    // The submission's transaction fails after the command: neither stays.
    let refused = a
        .store
        .write(move |tx| {
            let changes = commands::submit_score(tx, &new, store::now())?.rank_changes;
            assert_eq!(changes.len(), 1);
            assert_eq!(
                queue::list_queued(tx)?.len(),
                1,
                "queued inside the transaction"
            );
            Err::<(), _>(StoreError::Conflict("the transaction ends here".into()))
        })
        .await;
    assert!(refused.is_err());
    assert!(a.queued().await.is_empty());
    assert!(
        a.store
            .read(|c| store::ranks::find_job_rank(c, 1))
            .await
            .unwrap()
            .is_none()
    );
    // Committed: both.
    submit(&a.store, 1, &a.tom, A).await;
    assert_eq!(a.queued().await.len(), 1);
}

#[tokio::test]
async fn a_newer_rank_supersedes_the_queued_one_even_while_that_one_is_in_flight() {
    let a = agency(2).await;
    let w = a.sender("jobrank rank", None, opts());
    submit(&a.store, 1, &a.tom, B).await;
    submit(&a.store, 1, &a.priya, [5, 5, 5, 5]).await;
    // (3.00 + 5.00) / 2 = 4.00: one row for the job, holding the latest standing.
    let queued = a.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].standing.unwrap().rank, Rank::A);
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    let sent: Vec<Fields> = a.updates_of(1).iter().map(|u| u.fields.clone()).collect();
    assert_eq!(
        sent,
        [vec![(RANK, json!(901))]],
        "only the latest value went out"
    );

    // A value is in flight when a newer one is queued: the older one is acknowledged,
    // the newer one stays queued and goes next.
    let release = Arc::new(Notify::new());
    a.fake.push_fault(UPDATE_PATH, Fault::Held(release.clone()));
    submit(&a.store, 1, &a.tom, [1, 1, 1, 1]).await; // (1 + 5) / 2 = 3.00: B
    let sending = tokio::spawn({
        let w = w.clone();
        async move {
            let clock = later(0);
            w.send_due(&clock).await
        }
    });
    eventually("the update of job 1 in flight", || async {
        a.update_requests() == 2
    })
    .await;
    submit(&a.store, 1, &a.priya, [1, 1, 1, 1]).await; // 1.00: C
    release.notify_one();
    assert_eq!(sending.await.unwrap().unwrap(), round(1, 0, 0, 0, 0));
    let queued = a.queued().await;
    assert_eq!(queued.len(), 1, "the newer value is still queued");
    assert_eq!(queued[0].standing.unwrap().rank, Rank::C);
    assert_eq!(a.fake.reported_field(1, RANK), Some(json!("B")));
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    assert_eq!(a.fake.reported_field(1, RANK), Some(json!("C")));
    assert!(a.queued().await.is_empty());
    let values: Vec<Value> = a
        .updates_of(1)
        .iter()
        .map(|u| u.fields[0].1.clone())
        .collect();
    assert_eq!(values, [json!(901), json!(902), json!(903)]);
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_a_longer_one_is_tried_again_later() {
    let a = agency(2).await;
    let w = a.sender("jobrank rank", None, opts());
    submit(&a.store, 1, &a.tom, A).await;
    a.fake.push_faults(
        UPDATE_PATH,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        2,
    );
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    let statuses: Vec<u16> = a.updates_of(1).iter().map(|u| u.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
    let updates = a.updates_of(1);
    assert!(
        updates[2].at - updates[1].at >= Duration::from_secs(1),
        "Retry-After was honoured"
    );

    // A storm outlasting the client's 4 attempts: the value waits for another round.
    submit(&a.store, 2, &a.tom, B).await;
    a.fake.push_faults(
        UPDATE_PATH,
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        4,
    );
    let before = store::now();
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(0, 0, 1, 0, 0));
    let q = a.queued().await;
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].attempts, 1);
    assert!(q[0].dead_at.is_none());
    assert!(
        q[0].last_error.as_deref().unwrap().contains("429"),
        "{:?}",
        q[0].last_error
    );
    assert!(q[0].next_attempt_at >= before + chrono::Duration::seconds(60));
    // Not tried again before its time.
    let requests = a.update_requests();
    assert_eq!(w.send_due(&later(30)).await.unwrap(), Round::default());
    assert_eq!(a.update_requests(), requests);
    // A minute on, the storm is over.
    assert_eq!(w.send_due(&later(61)).await.unwrap(), round(1, 0, 0, 0, 0));
    assert_eq!(a.fake.reported_field(2, RANK), Some(json!("B")));
    assert!(a.queued().await.is_empty());
}

#[tokio::test]
async fn a_500_is_retried_and_persistent_500s_become_a_dead_letter_that_retry_sends() {
    let a = agency(2).await;
    let w = a.sender(
        "jobrank rank",
        None,
        WriteBackOptions {
            max_attempts: 2,
            ..opts()
        },
    );
    submit(&a.store, 1, &a.tom, A).await;
    a.fake.push_fault(UPDATE_PATH, Fault::ServerError);
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    let statuses: Vec<u16> = a.updates_of(1).iter().map(|u| u.status).collect();
    assert_eq!(statuses, [500, 200]);

    submit(&a.store, 2, &a.tom, B).await;
    a.fake.push_faults(UPDATE_PATH, Fault::ServerError, 4);
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(0, 0, 1, 0, 0));
    a.fake.push_faults(UPDATE_PATH, Fault::ServerError, 4);
    assert_eq!(w.send_due(&later(61)).await.unwrap(), round(0, 0, 0, 1, 0));
    let dead = a.store.read(|c| queue::list_dead(c, 10)).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].job_id, dead[0].attempts), (2, 2));
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("HTTP 500"),
        "{:?}",
        dead[0].last_error
    );
    assert_eq!(
        a.store.read(queue::counts).await.unwrap(),
        (0, 1),
        "nothing waits, one dead letter"
    );
    // A dead letter is not tried again, however long one waits.
    let requests = a.update_requests();
    assert_eq!(w.send_due(&later(86_400)).await.unwrap(), Round::default());
    assert_eq!(a.update_requests(), requests);
    // Retry (as the admin page does) queues it again; Recruiterflow is back.
    let retried = a
        .store
        .write(|tx| queue::retry_dead(tx, 2, store::now()))
        .await
        .unwrap();
    assert_eq!(retried.attempts, 2);
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    assert_eq!(a.fake.reported_field(2, RANK), Some(json!("B")));
    assert_eq!(a.store.read(queue::counts).await.unwrap(), (0, 0));
}

#[tokio::test]
async fn a_deleted_job_is_a_dead_letter_at_once_and_never_retried() {
    let a = agency(3).await;
    let w = a.sender("jobrank rank", None, opts());
    submit(&a.store, 2, &a.tom, B).await;
    submit(&a.store, 3, &a.tom, C).await;
    a.fake.remove_job(2);
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 1, 0));
    let updates = a.updates_of(2);
    assert_eq!(updates.len(), 1, "a 404 is not retried");
    assert_eq!(updates[0].status, 404);
    let dead = a.store.read(|c| queue::list_dead(c, 10)).await.unwrap();
    assert_eq!((dead[0].job_id, dead[0].attempts), (2, 1));
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("no job 2"),
        "{:?}",
        dead[0].last_error
    );
    // Job 3 went through beside it.
    assert_eq!(a.fake.reported_field(3, RANK), Some(json!("C")));
    assert_eq!(w.send_due(&later(86_400)).await.unwrap(), Round::default());
    assert_eq!(a.updates_of(2).len(), 1);
}

#[tokio::test]
async fn a_closed_job_is_never_written() {
    let a = agency(3).await;
    let w = a.sender("jobrank rank", None, opts());
    submit(&a.store, 1, &a.tom, A).await;
    submit(&a.store, 2, &a.tom, B).await;
    // Job 2 closes (as a sync or webhook would record it) with its value still queued.
    a.store
        .write(|tx| commands::close_job(tx, 2, Some("Filled"), store::now()))
        .await
        .unwrap()
        .into_result();
    assert_eq!(
        w.send_due(&later(0)).await.unwrap(),
        round(1, 1, 0, 0, 0),
        "job 2's value is dropped at send time"
    );
    assert!(a.updates_of(2).is_empty());
    assert!(a.queued().await.is_empty());
    // A rank change of a closed job is not even queued: deactivating Tom re-ranks
    // every job, job 1 loses its rank (queued, to clear it) and closed job 2 too.
    let changes = a
        .store
        .write({
            let id = a.tom.id.clone();
            move |tx| commands::set_user_active(tx, &id, false, store::now())
        })
        .await
        .unwrap()
        .rank_changes;
    assert!(changes.iter().any(|c| c.job_id == 1 && c.new.is_none()));
    let queued: Vec<i64> = a.queued().await.iter().map(|q| q.job_id).collect();
    assert_eq!(queued, [1]);
    // Nor does `--write-back`'s queueing of every open job reach it.
    a.queue_every_open_job().await;
    let queued: Vec<i64> = a.queued().await.iter().map(|q| q.job_id).collect();
    assert_eq!(queued, [1]);
}

/// When a job loses its rank entirely (nobody who counts has scored it any more, as
/// when its last scorer is deactivated), its fields are cleared: Recruiterflow must not
/// go on showing a rank jobrank no longer holds.
#[tokio::test]
async fn a_job_that_loses_its_rank_has_its_fields_cleared() {
    let a = agency(2).await;
    let w = a.sender("jobrank rank", Some("jobrank score"), opts());
    submit(&a.store, 1, &a.tom, A).await;
    w.send_due(&later(0)).await.unwrap();
    assert_eq!(a.fake.reported_field(1, RANK), Some(json!("A")));
    assert_eq!(a.fake.reported_field(1, SCORE), Some(json!(4.25)));

    a.store
        .write({
            let id = a.tom.id.clone();
            move |tx| commands::set_user_active(tx, &id, false, store::now())
        })
        .await
        .unwrap()
        .into_result();
    let queued = a.queued().await;
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].job_id, queued[0].standing), (1, None));
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    let last = a.updates_of(1).pop().unwrap();
    assert_eq!(last.fields, [(RANK, Value::Null), (SCORE, Value::Null)]);
    assert_eq!(a.fake.reported_field(1, RANK), None);
    assert_eq!(a.fake.reported_field(1, SCORE), None);
    // The next sync finds the fields as written: empty.
    let syncer = a.syncer(&w);
    syncer.sync_now().await.unwrap();
    let sent = a
        .store
        .read(|c| queue::find_sent(c, 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.standing, None);
    assert!(sent.checked_at.is_some(), "compared at the sync");
    assert_eq!(sent.mismatch, None);
    // Reactivated, Tom's score counts again: the rank is written back.
    a.store
        .write({
            let id = a.tom.id.clone();
            move |tx| commands::set_user_active(tx, &id, true, store::now())
        })
        .await
        .unwrap()
        .into_result();
    w.send_due(&later(0)).await.unwrap();
    assert_eq!(a.fake.reported_field(1, RANK), Some(json!("A")));
}

#[tokio::test]
async fn the_bound_on_updates_holds_the_rest_for_the_next_minute() {
    let a = agency(5).await;
    for job in 1..=5 {
        submit(&a.store, job, &a.tom, B).await;
    }
    let w = a.sender(
        "jobrank rank",
        None,
        WriteBackOptions {
            per_minute: 2,
            ..opts()
        },
    );
    let t0 = store::now() + chrono::Duration::seconds(1);
    let at = |secs: i64| move || t0 + chrono::Duration::seconds(secs);
    let first = w.send_due(&at(0)).await.unwrap();
    assert_eq!(without_bound(first), round(2, 0, 0, 0, 3));
    assert_eq!(first.bound_until, Some(t0 + chrono::Duration::seconds(60)));
    assert_eq!(
        without_bound(w.send_due(&at(59)).await.unwrap()),
        round(0, 0, 0, 0, 3)
    );
    assert_eq!(a.update_requests(), 2);
    assert_eq!(
        without_bound(w.send_due(&at(60)).await.unwrap()),
        round(2, 0, 0, 0, 1)
    );
    assert_eq!(w.send_due(&at(120)).await.unwrap(), round(1, 0, 0, 0, 0));
    let mut jobs: Vec<i64> = a.fake.updates().iter().filter_map(|u| u.job_id).collect();
    jobs.sort_unstable();
    assert_eq!(jobs, [1, 2, 3, 4, 5], "each job written once");
}

/// What the bound counts (README, "What the bound counts"): job updates, not HTTP
/// requests. At one update a minute, the update let through is retried after a 500 (two
/// requests) and the custom-field list is read for it, while the other job's value is
/// held for the next minute.
#[tokio::test]
async fn the_bound_counts_job_updates_not_their_retries_or_the_field_list() {
    let a = agency(2).await;
    submit(&a.store, 1, &a.tom, A).await;
    submit(&a.store, 2, &a.tom, B).await;
    let w = a.sender(
        "jobrank rank",
        None,
        WriteBackOptions {
            per_minute: 1,
            ..opts()
        },
    );
    a.fake.push_fault(UPDATE_PATH, Fault::ServerError);
    let before = a.fake.requests().len();
    let t0 = store::now() + chrono::Duration::seconds(1);
    let at = |secs: i64| move || t0 + chrono::Duration::seconds(secs);
    let first = w.send_due(&at(0)).await.unwrap();
    assert_eq!(without_bound(first), round(1, 0, 0, 0, 1));
    let statuses: Vec<u16> = a.fake.updates().iter().map(|u| u.status).collect();
    assert_eq!(statuses, [500, 200], "one update, two requests");
    let lists = a.fake.requests()[before..]
        .iter()
        .filter(|r| r.starts_with(CUSTOM_FIELD_PATH))
        .count();
    assert_eq!(lists, 1, "the field list read beside it");
    assert_eq!(w.send_due(&at(60)).await.unwrap(), round(1, 0, 0, 0, 0));
    assert_eq!(a.update_requests(), 3);
}

#[tokio::test]
async fn the_next_sync_compares_what_the_jobs_report_with_what_was_written() {
    let a = agency(3).await;
    let w = a.sender("jobrank rank", Some("jobrank score"), opts());
    submit(&a.store, 1, &a.tom, A).await;
    submit(&a.store, 2, &a.tom, B).await;
    submit(&a.store, 3, &a.tom, C).await;
    w.send_due(&later(0)).await.unwrap();
    // Someone picks another choice on job 1 and clears job 2's score in Recruiterflow.
    a.fake.set_reported_field(1, RANK, json!("C"));
    a.fake.set_reported_field(2, SCORE, Value::Null);
    let syncer = a.syncer(&w);
    syncer.sync_now().await.unwrap();
    let mismatches: Vec<(i64, String)> = a
        .store
        .read(|c| queue::list_mismatches(c, 10))
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.job_id, s.mismatch.unwrap()))
        .collect();
    assert_eq!(
        mismatches,
        [
            (1, "\"jobrank rank\": \"C\"".to_string()),
            (2, "\"jobrank score\": no value".to_string()),
        ]
    );
    // Job 3 was compared and matched.
    let job3 = a
        .store
        .read(|c| queue::find_sent(c, 3))
        .await
        .unwrap()
        .unwrap();
    assert!(job3.checked_at.is_some() && job3.mismatch.is_none());
    // Written again (`jobrank sync recruiterflow --write-back`): nothing differs.
    assert_eq!(a.queue_every_open_job().await, 3);
    w.send_due(&later(0)).await.unwrap();
    syncer.sync_now().await.unwrap();
    assert!(
        a.store
            .read(|c| queue::list_mismatches(c, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_field_set_up_wrong_stops_the_round_and_keeps_the_values_queued() {
    let a = agency(2).await;
    submit(&a.store, 1, &a.tom, A).await;
    // The rank field lacks the choice C.
    a.fake.put_custom_field(select_field(
        RANK,
        "jobrank rank",
        &[(901, "A"), (902, "B")],
    ));
    let w = a.sender("jobrank rank", None, opts());
    let err = w.send_due(&later(0)).await.unwrap_err();
    assert!(err.to_string().contains("no choice named C"), "{err}");
    assert_eq!(a.update_requests(), 0);
    let queued = a.queued().await;
    assert_eq!((queued.len(), queued[0].attempts), (1, 0), "kept as it was");
    let problem = a.store.read(queue::problem).await.unwrap().unwrap().0;
    assert!(problem.contains("RECRUITERFLOW_RANK_FIELD"), "{problem}");
    // Fixed in Recruiterflow: the next round writes it and clears the problem.
    with_rank_fields(&a.fake);
    w.check_fields().await.unwrap();
    assert_eq!(w.send_due(&later(0)).await.unwrap(), round(1, 0, 0, 0, 0));
    assert_eq!(a.store.read(queue::problem).await.unwrap(), None);
}

// ---------- through the running application ----------

fn app_settings(fake: &FakeRecruiterflow, rank_field: Option<&str>) -> Vec<(&'static str, String)> {
    let mut s = vec![
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
        ("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string()),
        ("RECRUITERFLOW_WRITE_BACK_PER_MINUTE", "0".to_string()),
    ];
    if let Some(f) = rank_field {
        s.push(("RECRUITERFLOW_RANK_FIELD", f.to_string()));
    }
    s
}

async fn post_webhook(app: &TestApp, body: &Value) -> StatusCode {
    let bytes = serde_json::to_vec(body).unwrap();
    app.client
        .post(app.url("/webhooks/recruiterflow"))
        .header("content-type", "application/json")
        .header(
            "x-recruiterflow-signature",
            sign(SECRET.as_bytes(), None, &bytes),
        )
        .body(bytes)
        .send()
        .await
        .unwrap()
        .status()
}

async fn app_queue(app: &TestApp) -> Vec<queue::Queued> {
    app.store.read(queue::list_queued).await.unwrap()
}

#[tokio::test]
async fn the_webhook_a_write_back_causes_writes_nothing_back() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    with_rank_fields(&fake);
    let app = spawn_app_with(&app_settings(&fake, Some("jobrank rank"))).await;
    app.syncs_finished(1).await;
    let tom = add_scorer(&app.store, "tom@agency.example").await;
    submit(&app.store, 2, &tom, A).await;
    // The server's sender is woken by the submission's commit.
    eventually("the rank written back", || async {
        fake.reported_field(2, RANK) == Some(json!("A")) && app_queue(&app).await.is_empty()
    })
    .await;
    assert_eq!(fake.updates().len(), 1);
    // Recruiterflow announces the change the write-back made.
    let event = json!({"id": "evt_write_back_1", "event": "job.updated", "data": {"job_id": 2}});
    assert_eq!(post_webhook(&app, &event).await, StatusCode::ACCEPTED);
    eventually("the webhook event processed", || async {
        let events = app.store.read(inbox::list_events).await.unwrap();
        !events.is_empty() && events.iter().all(|e| e.status == "done")
    })
    .await;
    assert!(
        fake.job_fetches(2) >= 2,
        "the event re-read the job from Recruiterflow"
    );
    // Re-syncing the unchanged job moved no rank: nothing was queued in its
    // transaction (a queued value stays until Recruiterflow acknowledges it) and
    // nothing more was sent.
    assert!(app_queue(&app).await.is_empty());
    assert_eq!(fake.updates().len(), 1, "no second write-back");
}

#[tokio::test]
async fn with_the_rank_field_unset_nothing_is_queued_and_an_explicit_drain_sends_nothing() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    with_rank_fields(&fake);
    let app = spawn_app_with(&app_settings(&fake, None)).await;
    app.syncs_finished(1).await;
    assert!(
        app.state.syncer.as_ref().unwrap().write_back().is_none(),
        "no write-back without RECRUITERFLOW_RANK_FIELD"
    );
    assert!(!app.store.read(queue::is_enabled).await.unwrap());
    let tom = add_scorer(&app.store, "tom@agency.example").await;
    assert_eq!(submit(&app.store, 1, &tom, A).await.len(), 1);
    assert!(
        app_queue(&app).await.is_empty(),
        "a rank change queues nothing"
    );
    // Values left from a time write-back was on...
    write_back::switch(&app.store, true).await.unwrap();
    submit(&app.store, 2, &tom, B).await;
    assert_eq!(app_queue(&app).await.len(), 1);
    // ...are discarded by a drain run with the setting unset, unsent.
    let (sent, discarded) = write_back::drain(&app.store, None).await.unwrap();
    assert_eq!((sent, discarded), (Round::default(), 1));
    assert!(app_queue(&app).await.is_empty());
    assert!(fake.updates().is_empty(), "no update reached Recruiterflow");
    // The admin page says it is off.
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    let ceo = sign_in(&app, "claire@agency.example").await;
    let html = ceo.get("/admin").await.text().await.unwrap();
    assert!(html.contains("Off: set RECRUITERFLOW_RANK_FIELD"), "{html}");
}

#[tokio::test]
async fn the_admin_page_lists_dead_letters_with_retry_and_jobs_that_show_another_rank() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    with_rank_fields(&fake);
    let app = spawn_app_with(&app_settings(&fake, Some("jobrank rank"))).await;
    app.syncs_finished(1).await;
    add_user(&app, "claire@agency.example", Role::Ceo, true).await;
    let tom = add_scorer(&app.store, "tom@agency.example").await;
    // Recruiterflow answers the first update with something else than SUCCESS.
    fake.push_fault(UPDATE_PATH, Fault::WrongShape);
    submit(&app.store, 1, &tom, A).await;
    eventually("a dead letter", || async {
        app.store.read(queue::counts).await.unwrap() == (0, 1)
    })
    .await;
    submit(&app.store, 2, &tom, B).await;
    eventually("job 2 written", || async {
        fake.reported_field(2, RANK) == Some(json!("B"))
    })
    .await;
    // Someone sets job 2 to A in Recruiterflow; the next sync notices.
    fake.set_reported_field(2, RANK, json!("A"));
    app.state.syncer.as_ref().unwrap().sync_now().await.unwrap();

    let ceo = sign_in(&app, "claire@agency.example").await;
    let html = ceo.get("/admin").await.text().await.unwrap();
    let section = html
        .split("id=\"write-back\"")
        .nth(1)
        .expect("the admin page has the write-back section");
    assert!(
        section.contains("into the job field “jobrank rank”"),
        "{section}"
    );
    assert!(
        section.contains("0 ranks waiting to be written, 1 dead letter."),
        "{section}"
    );
    let dead = section
        .split("id=\"write-back-dead-1\"")
        .nth(1)
        .expect("job 1's dead letter is listed");
    let dead = dead.split("</tr>").next().unwrap();
    assert!(
        dead.contains("Role 1") && dead.contains("A · 4.25"),
        "{dead}"
    );
    assert!(
        dead.contains("/admin/write-back/1/retry") && dead.contains("Retry"),
        "{dead}"
    );
    let differs = section
        .split("id=\"write-back-mismatch-2\"")
        .nth(1)
        .expect("job 2 is listed as different");
    let differs = differs.split("</tr>").next().unwrap();
    assert!(differs.contains("B · 3.00"), "{differs}");
    // The page escapes the quotes of `"jobrank rank": "A"`.
    assert!(
        differs.contains("&#34;jobrank rank&#34;: &#34;A&#34;"),
        "{differs}"
    );

    // Retry: queued again, audited, and written.
    let res = ceo.post("/admin/write-back/1/retry", &[]).await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/admin?done=write_back_retried");
    eventually("job 1 written after the retry", || async {
        fake.reported_field(1, RANK) == Some(json!("A"))
    })
    .await;
    let html = ceo.get(&to).await.text().await.unwrap();
    assert!(
        html.contains("The rank write-back is queued again."),
        "{html}"
    );
    let audit = html.split("id=\"audit\"").nth(1).unwrap();
    assert!(audit.contains("Rank write-back retried"), "{audit}");
    assert!(
        audit.contains("rank write-back of job 1 (Role 1)"),
        "{audit}"
    );
    assert!(
        audit.contains("queued again after 1 failed attempt"),
        "{audit}"
    );
    // No dead letter to retry any more; a job id that is not one.
    assert_eq!(
        ceo.post("/admin/write-back/1/retry", &[]).await.status(),
        404
    );
    assert_eq!(
        ceo.post("/admin/write-back/x/retry", &[]).await.status(),
        400
    );
}

// ---------- the command line ----------

/// A data directory holding the fake agency's jobs, synced, with job 1 ranked A, job 2
/// B and job 3 C, and write-back off (as a server without the setting left it).
async fn scored_data_dir(fake: &FakeRecruiterflow) -> TempDir {
    let (dir, store) = fresh_store().await;
    sync::full_sync(&store, &client_for(fake, fast_options()), &|_| {})
        .await
        .unwrap();
    let tom = add_scorer(&store, "tom@agency.example").await;
    for (job, v) in [(1, A), (2, B), (3, C)] {
        submit(&store, job, &tom, v).await;
    }
    dir
}

fn cli_env(
    fake: &FakeRecruiterflow,
    rank_field: Option<&'static str>,
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
        ("RECRUITERFLOW_WRITE_BACK_PER_MINUTE", "0".to_string()),
    ];
    if let Some(f) = rank_field {
        env.push(("RECRUITERFLOW_RANK_FIELD", f.to_string()));
    }
    env
}

/// Runs `jobrank --data-dir DIR ARGS` off the runtime's thread, so the fake
/// Recruiterflow on this test's runtime answers it.
async fn cli(dir: &TempDir, args: &[&str], env: &[(&'static str, String)]) -> std::process::Output {
    let mut all = vec![
        "--data-dir".to_string(),
        dir.path().to_str().unwrap().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_cli(&args, &env, None)
    })
    .await
    .unwrap()
}

/// `jobrank serve` on `dir`, started off the runtime's thread.
async fn serve(dir: &TempDir, env: &[(&'static str, String)]) -> ServeProcess {
    let (dir, env) = (dir.path().to_owned(), env.to_vec());
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        serve_process(&dir, &env)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn sync_with_write_back_writes_every_open_job_and_exits_1_on_a_dead_letter() {
    let fake = FakeRecruiterflow::with_jobs(4).await;
    with_rank_fields(&fake);
    let dir = scored_data_dir(&fake).await;
    let env = cli_env(&fake, Some("jobrank rank"));

    let o = cli(&dir, &["sync", "recruiterflow", "--write-back"], &env).await;
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("recruiterflow sync ok"), "{text}");
    assert!(
        text.contains("rank write-back: 3 open jobs queued, 3 written"),
        "{text}"
    );
    for (job, rank) in [(1, "A"), (2, "B"), (3, "C")] {
        assert_eq!(fake.reported_field(job, RANK), Some(json!(rank)));
    }
    assert_eq!(fake.reported_field(4, RANK), None, "job 4 has no rank");

    // Recruiterflow refuses one of the values: a dead letter, exit 1, named.
    fake.push_fault(UPDATE_PATH, Fault::WrongShape);
    let o = cli(&dir, &["sync", "recruiterflow", "--write-back"], &env).await;
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("1 became dead letters"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("dead letter"), "{}", stderr(&o));
    let audit = {
        let path = dir.path().to_owned();
        let store = tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .unwrap()
            .unwrap();
        store
            .read(|c| store::audit::list_entries(c, None, 10))
            .await
            .unwrap()
    };
    assert!(
        audit
            .iter()
            .any(|e| e.details == "jobrank sync recruiterflow --write-back"),
        "{audit:?}"
    );

    // Without the setting, --write-back is a usage error (exit 2) naming it.
    let o = cli(
        &dir,
        &["sync", "recruiterflow", "--write-back"],
        &cli_env(&fake, None),
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("RECRUITERFLOW_RANK_FIELD"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn check_verifies_the_rank_field_and_its_choices() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    with_rank_fields(&fake);
    let dir = tempfile::tempdir().unwrap();
    let mut env = cli_env(&fake, Some("jobrank rank"));
    env.push(("RECRUITERFLOW_SCORE_FIELD", "jobrank score".to_string()));
    let o = cli(&dir, &["check"], &env).await;
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(
            "recruiterflow rank field: ok (the rank into \"jobrank rank\" (a single select with the choices A, B and C), the team score into \"jobrank score\" (number))"
        ),
        "{}",
        stdout(&o)
    );
    // A choice missing: named, exit 1.
    fake.put_custom_field(select_field(
        RANK,
        "jobrank rank",
        &[(901, "A"), (903, "C")],
    ));
    let o = cli(&dir, &["check"], &env).await;
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("recruiterflow rank field: FAILED: RECRUITERFLOW_RANK_FIELD: the job custom field \"jobrank rank\" has no choice named B"),
        "{}",
        stdout(&o)
    );
    // A field that does not exist.
    let o = cli(&dir, &["check"], &cli_env(&fake, Some("Priority"))).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("no job custom field named \"Priority\""),
        "{}",
        stdout(&o)
    );
    // Unset: said so, not a failure.
    let o = cli(&dir, &["check"], &cli_env(&fake, None)).await;
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("recruiterflow rank field: not configured"),
        "{}",
        stdout(&o)
    );
}

// ---------- a crash between queueing and sending ----------

#[tokio::test]
async fn a_value_queued_before_a_sigkill_goes_out_once_after_the_restart() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    with_rank_fields(&fake);
    let dir = scored_data_dir(&fake).await;
    // Written once already; then job 2 moves to A while the server runs.
    let env = cli_env(&fake, Some("jobrank rank"));
    let o = cli(&dir, &["sync", "recruiterflow", "--write-back"], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let before = fake.updates().len();
    let token = {
        let path = dir.path().to_owned();
        let store = tokio::task::spawn_blocking(move || Store::open(&path))
            .await
            .unwrap()
            .unwrap();
        let token = jobrank::credentials::new_api_token();
        let hash = jobrank::credentials::hash_token(&token);
        store
            .write(move |tx| {
                let u = users::find_user_by_email(tx, "tom@agency.example")?.unwrap();
                store::api_tokens::insert_token(
                    tx,
                    &u.id,
                    "test",
                    &hash,
                    &store::audit::Actor::user(&u),
                    store::now(),
                )
            })
            .await
            .unwrap();
        token
    };
    // Recruiterflow holds the next update: the server sends it and is killed before
    // any answer (the request dies with the connection, so nothing is written).
    let release = Arc::new(Notify::new());
    fake.push_fault(UPDATE_PATH, Fault::Held(release.clone()));
    let mut server = serve(&dir, &env).await;
    let client = reqwest::Client::new();
    let res = client
        .post(server.url("/api/scores"))
        .header("authorization", format!("Bearer {token}"))
        .json(
            &json!({"job_id": 2, "client_engagement": 5, "search_difficulty": 5,
            "time_open": 5, "fee_size": 5}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    eventually("the update of job 2 in flight", || async {
        fake.requests()
            .iter()
            .filter(|r| r.starts_with(UPDATE_PATH))
            .count()
            > before
    })
    .await;
    server.kill();
    assert_eq!(fake.updates().len(), before, "nothing was acknowledged");
    assert_eq!(fake.reported_field(2, RANK), Some(json!("B")));

    // Restarted, the server sends the queued value: once.
    let server = serve(&dir, &env).await;
    eventually("job 2 written after the restart", || async {
        fake.reported_field(2, RANK) == Some(json!("A"))
    })
    .await;
    let path = dir.path().to_owned();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .unwrap()
        .unwrap();
    eventually("the queue empty", || async {
        store.read(queue::list_queued).await.unwrap().is_empty()
    })
    .await;
    let after: Vec<RecordedUpdate> = fake.updates()[before..].to_vec();
    let done: Vec<(Option<i64>, u16, Fields)> = after
        .iter()
        .map(|u| (u.job_id, u.status, u.fields.clone()))
        .collect();
    assert_eq!(done, [(Some(2), 200, vec![(RANK, json!(901))])]);
    drop(server);
}
