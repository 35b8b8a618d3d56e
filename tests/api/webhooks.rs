//! `POST /webhooks/recruiterflow`: signatures, replays, path tokens, limits, the durable
//! inbox (duplicates, unknown events, retries and dead letters), and processing that
//! fetches the authoritative job from the fake Recruiterflow, in and out of order and
//! while a full sync runs.

use std::time::{Duration, Instant};

use jobrank::recruiterflow::webhook::sign;
use jobrank::recruiterflow::{ClientOptions, InboxOptions, Syncer, sync};
use jobrank::store::{self, inbox, jobs, pipeline, sync_runs};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_recruiterflow::{API_KEY, FakeRecruiterflow, Fault};
use crate::helpers::{TestApp, eventually, spawn_app_with};
use crate::recruiterflow::{client_for, fast_options, fresh_store};
use crate::web_support::{add_user, sign_in};
use jobrank::domain::Role;

const SECRET: &str = "whsec-7f3a9c2e51b84d06a1e2";
const TOKEN: &str = "tok_4f9d2b7c1e8a5f3d6b0c9e2a7d4f1b8c";

fn settings(fake: &FakeRecruiterflow) -> Vec<(&'static str, String)> {
    vec![
        ("RECRUITERFLOW_API_KEY", API_KEY.to_string()),
        ("RECRUITERFLOW_BASE_URL", fake.base_url()),
        ("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string()),
        ("RECRUITERFLOW_WEBHOOK_TOKEN", TOKEN.to_string()),
    ]
}

/// jobrank synced once from a fake agency of `n` jobs, with webhooks configured.
async fn synced_app(fake: &FakeRecruiterflow) -> TestApp {
    let app = spawn_app_with(&settings(fake)).await;
    app.syncs_finished(1).await;
    app
}

async fn job(app: &TestApp, id: i64) -> Option<jobs::Job> {
    app.store
        .read(move |c| jobs::find_job(c, id))
        .await
        .unwrap()
}

async fn events(app: &TestApp) -> Vec<inbox::InboxEvent> {
    app.store.read(inbox::list_events).await.unwrap()
}

async fn post(
    app: &TestApp,
    path: &str,
    body: &[u8],
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn signature(body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(
        "x-recruiterflow-signature",
        sign(SECRET.as_bytes(), None, body),
    )]
}

async fn post_signed(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    post(app, "/webhooks/recruiterflow", &bytes, &signature(&bytes)).await
}

async fn all_done(app: &TestApp) -> bool {
    events(app)
        .await
        .iter()
        .all(|e| e.status == "done" || e.status == "ignored")
}

#[tokio::test]
async fn a_signed_webhook_updates_the_job_and_an_unsigned_one_changes_nothing() {
    let fake = FakeRecruiterflow::with_jobs(5).await;
    let app = synced_app(&fake).await;
    fake.edit_job(3, |j| j.title = "Head of Data (signed)".into());
    let body = json!({"id": "evt_1", "event": "job.updated", "data": {"job_id": 3}});
    let t = Instant::now();
    let (status, answer) = post_signed(&app, &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    eventually("the signed change", || async {
        job(&app, 3).await.unwrap().title == "Head of Data (signed)"
    })
    .await;
    let took = t.elapsed();
    eventually("the event to be done", || all_done(&app)).await;
    let ev = &events(&app).await[0];
    assert_eq!((ev.status.as_str(), ev.job_id), ("done", Some(3)));
    eprintln!("signed webhook visible in the store after {took:?}");
    add_user(&app, "ceo@agency.example", Role::Ceo, true).await;
    let browser = sign_in(&app, "ceo@agency.example").await;
    let html = browser.get("/").await.text().await.unwrap();
    assert!(html.contains("Head of Data (signed)"), "{html}");

    fake.edit_job(4, |j| j.title = "Should not arrive".into());
    let fetches = fake.job_fetches(4);
    let unsigned =
        serde_json::to_vec(&json!({"event": "job.updated", "data": {"job_id": 4}})).unwrap();
    let (status, answer) = post(&app, "/webhooks/recruiterflow", &unsigned, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        answer["detail"].as_str().unwrap().contains("missing"),
        "{answer}"
    );
    // A signed event sent after it, and done: the worker has taken every event stored
    // before it, so the unsigned one would have been fetched by now had it been kept.
    let barrier = json!({"id": "evt_2", "event": "job.updated", "data": {"job_id": 5}});
    assert_eq!(post_signed(&app, &barrier).await.0, StatusCode::ACCEPTED);
    eventually("the later signed event to be done", || all_done(&app)).await;
    assert_eq!(job(&app, 4).await.unwrap().title, "Role 4");
    assert_eq!(
        fake.job_fetches(4),
        fetches,
        "an unsigned event reached Recruiterflow"
    );
    let stored: Vec<Option<i64>> = events(&app).await.iter().map(|e| e.job_id).collect();
    assert_eq!(stored, [Some(3), Some(5)], "the unsigned event was stored");
    app.stop().await;
}

#[tokio::test]
async fn bad_signatures_are_refused_with_401_and_nothing_is_stored() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let app = synced_app(&fake).await;
    let body = br#"{"event":"job.updated","data":{"job_id":1}}"#;
    let other = sign(b"not the secret", None, body);
    let tampered = sign(
        SECRET.as_bytes(),
        None,
        br#"{"event":"job.updated","data":{"job_id":2}}"#,
    );
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![], "missing"),
        (
            vec![("x-recruiterflow-signature", String::new())],
            "missing",
        ),
        (
            vec![("x-recruiterflow-signature", "not-hex".into())],
            "not a hex",
        ),
        (
            vec![("x-recruiterflow-signature", "abcd".into())],
            "not a hex",
        ),
        (vec![("x-recruiterflow-signature", other)], "does not match"),
        (
            vec![("x-recruiterflow-signature", format!("sha256={tampered}"))],
            "does not match",
        ),
    ];
    for (headers, expect) in cases {
        let (status, answer) = post(&app, "/webhooks/recruiterflow", body, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert!(
            answer["detail"].as_str().unwrap().contains(expect),
            "{answer}"
        );
        assert!(!answer.to_string().contains(SECRET));
    }
    assert!(events(&app).await.is_empty());
    app.stop().await;

    // Without a configured secret nothing can be verified: refused too.
    let app = spawn_app_with(&[]).await;
    let (status, answer) = post(&app, "/webhooks/recruiterflow", body, &signature(body)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("RECRUITERFLOW_WEBHOOK_SECRET")
    );
    assert!(events(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn prefixed_and_timestamped_signatures_are_accepted_and_replays_refused() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    let app = synced_app(&fake).await;
    let body = br#"{"id":"evt_pref","event":"job.updated","data":{"job":{"id":"1"}}}"#;
    let sig = format!("sha256={}", sign(SECRET.as_bytes(), None, body));
    let (status, _) = post(
        &app,
        "/webhooks/recruiterflow",
        body,
        &[("x-recruiterflow-signature", sig)],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let now = store::now().timestamp();
    let body = br#"{"id":"evt_ts","event":"job.updated","data":{"id":2}}"#;
    let ts = now.to_string();
    let headers = vec![
        ("x-recruiterflow-timestamp", ts.clone()),
        (
            "x-recruiterflow-signature",
            sign(SECRET.as_bytes(), Some(&ts), body),
        ),
    ];
    let (status, _) = post(&app, "/webhooks/recruiterflow", body, &headers).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // The body-only signature does not cover the timestamp.
    let body = br#"{"id":"evt_ts2","event":"job.updated","data":{"id":2}}"#;
    let headers = vec![
        ("x-recruiterflow-timestamp", ts.clone()),
        (
            "x-recruiterflow-signature",
            sign(SECRET.as_bytes(), None, body),
        ),
    ];
    let (status, _) = post(&app, "/webhooks/recruiterflow", body, &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Correctly signed but six minutes old: a replay.
    let old = (now - 360).to_string();
    let body = br#"{"id":"evt_old","event":"job.updated","data":{"id":3}}"#;
    let headers = vec![
        ("x-recruiterflow-timestamp", old.clone()),
        (
            "x-recruiterflow-signature",
            sign(SECRET.as_bytes(), Some(&old), body),
        ),
    ];
    let (status, answer) = post(&app, "/webhooks/recruiterflow", body, &headers).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        answer["detail"].as_str().unwrap().contains("replay"),
        "{answer}"
    );

    let keys: Vec<String> = events(&app)
        .await
        .into_iter()
        .map(|e| e.event_key)
        .collect();
    assert_eq!(keys, vec!["event:evt_pref", "event:evt_ts"]);
    app.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_and_malformed_json_400_and_neither_is_stored_but_up_to_1_mib_is_accepted()
 {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let app = synced_app(&fake).await;
    let mut big = br#"{"event":"job.updated","data":{"job_id":1},"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 1 << 20));
    big.extend(br#""}"#);
    let (status, _) = post(&app, "/webhooks/recruiterflow", &big, &signature(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit (far above the 64 KiB form limit) is accepted.
    let mut large = br#"{"event":"job.updated","data":{"job_id":1},"pad":""#.to_vec();
    large.extend(std::iter::repeat_n(b'x', (1 << 20) - 100));
    large.extend(br#""}"#);
    let (status, answer) = post(&app, "/webhooks/recruiterflow", &large, &signature(&large)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    for body in [
        &b"{\"event\": \"job.updated\", "[..],
        b"",
        b"[1, 2]",
        b"\"job.updated\"",
    ] {
        let (status, answer) = post(&app, "/webhooks/recruiterflow", body, &signature(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert!(
            answer["detail"].as_str().unwrap().contains("JSON"),
            "{answer}"
        );
    }
    assert_eq!(
        events(&app).await.len(),
        1,
        "only the accepted event is stored"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_duplicate_event_is_answered_200_and_processed_once() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    let app = synced_app(&fake).await;
    let before = fake.job_fetches(2);
    let with_id = json!({"id": 991, "event": "job.updated", "data": {"job_id": "2"}});
    let (first, _) = post_signed(&app, &with_id).await;
    let (second, answer) = post_signed(&app, &with_id).await;
    assert_eq!(first, StatusCode::ACCEPTED);
    assert_eq!(second, StatusCode::OK);
    assert_eq!(answer["status"], "duplicate");
    // Without an event id, the body's hash identifies it.
    let no_id = json!({"event": "job.updated", "job_id": 2});
    assert_eq!(post_signed(&app, &no_id).await.0, StatusCode::ACCEPTED);
    assert_eq!(post_signed(&app, &no_id).await.0, StatusCode::OK);
    // The same event sent ten times at once (committed together): stored once.
    let burst = json!({"id": "burst", "event": "job.updated", "data": {"job_id": 3}});
    let answers = futures_util::future::join_all((0..10).map(|_| post_signed(&app, &burst))).await;
    let accepted = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::ACCEPTED)
        .count();
    let duplicates = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((accepted, duplicates), (1, 9));
    eventually("processing", || all_done(&app)).await;
    let stored = events(&app).await;
    assert_eq!(stored.len(), 3);
    assert!(stored[1].event_key.starts_with("sha256:"));
    assert!(
        fake.job_fetches(2) - before <= 2,
        "each event is processed once"
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_events_and_events_without_a_job_are_recorded_and_answered_202() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let app = synced_app(&fake).await;
    let (status, answer) =
        post_signed(&app, &json!({"event": "invoice.paid", "data": {"id": 5}})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(answer["status"], "ignored");
    let (status, _) = post_signed(
        &app,
        &json!({"event": "candidate.stage_changed", "data": {"id": 77}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let stored = events(&app).await;
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|e| e.status == "ignored" && e.processed_at.is_some())
    );
    assert_eq!(stored[0].event_type, "invoice.paid");
    assert!(
        stored[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("unknown event type")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_path_token_admits_senders_that_cannot_sign() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let app = synced_app(&fake).await;
    fake.edit_job(2, |j| j.company = "Token Client Ltd".into());
    let body = br#"{"event":"job.updated","data":{"job_id":2}}"#;
    let (status, _) = post(&app, &format!("/webhooks/recruiterflow/{TOKEN}"), body, &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    eventually("the token event", || async {
        job(&app, 2).await.unwrap().client == "Token Client Ltd"
    })
    .await;
    let wrong = format!("/webhooks/recruiterflow/{}x", &TOKEN[..TOKEN.len() - 1]);
    let body2 = br#"{"event":"job.updated","data":{"job_id":1}}"#;
    let (status, _) = post(&app, &wrong, body2, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(events(&app).await.len(), 1);
    app.stop().await;

    // Not configured: the token route does not exist in effect.
    let app = spawn_app_with(&[("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string())]).await;
    let (status, _) = post(&app, &format!("/webhooks/recruiterflow/{TOKEN}"), body, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(events(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn an_update_arriving_after_the_archive_keeps_the_job_closed() {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    let app = synced_app(&fake).await;
    // Recruiterflow archived the job; its events arrive out of order.
    fake.edit_job(1, |j| {
        j.is_open = false;
        j.status = "Archived".into();
    });
    let archived = json!({"id": "a1", "event": "job.archived", "data": {"id": 1}});
    let updated = json!({"id": "u1", "event": "job.updated", "data": {"id": 1}});
    assert_eq!(post_signed(&app, &archived).await.0, StatusCode::ACCEPTED);
    eventually("the archive", || all_done(&app)).await;
    assert_eq!(post_signed(&app, &updated).await.0, StatusCode::ACCEPTED);
    eventually("the late update", || all_done(&app)).await;
    let j = job(&app, 1).await.unwrap();
    assert!(!j.is_open, "a late job.updated reopened an archived job");
    assert_eq!(j.status, "Archived");
    // A job deleted in Recruiterflow (404) is closed too.
    fake.remove_job(2);
    assert_eq!(
        post_signed(
            &app,
            &json!({"id": "d2", "event": "job.updated", "data": {"job_id": 2}})
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    eventually("the deleted job", || async {
        !job(&app, 2).await.unwrap().is_open
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_candidate_stage_change_records_the_new_pipeline() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let app = synced_app(&fake).await;
    fake.edit_job(2, |j| j.candidates.push((9001, "Offer", 1)));
    let ev = json!({"id": "c1", "event": "candidate.stage_changed", "data": {"job_id": 2, "candidate_id": 9001}});
    assert_eq!(post_signed(&app, &ev).await.0, StatusCode::ACCEPTED);
    eventually("the new snapshot", || async {
        app.store
            .read(|c| pipeline::latest_snapshot(c, 2))
            .await
            .unwrap()
            .is_some_and(|s| s.total_candidates() == 4)
    })
    .await;
    let snap = app
        .store
        .read(|c| pipeline::latest_snapshot(c, 2))
        .await
        .unwrap()
        .unwrap();
    let offer = snap.stages.iter().find(|s| s.stage == "Offer").unwrap();
    assert_eq!((offer.candidates, offer.avg_days_in_stage), (1, Some(1.0)));
    app.stop().await;
}

#[tokio::test]
async fn a_webhook_arriving_while_a_full_sync_runs_is_not_undone_by_it() {
    let fake = FakeRecruiterflow::with_jobs(5).await;
    // The first sync reads every job, then waits for its last answer (placements)
    // before writing: its view of the jobs goes stale meanwhile.
    let last = "/api/external/placement-record/list";
    fake.set_delay(last, Duration::from_millis(1500));
    let app = spawn_app_with(&settings(&fake)).await;
    eventually("the sync to read the jobs", || async {
        fake.requests().iter().any(|r| r.starts_with(last))
    })
    .await;
    fake.edit_job(3, |j| j.is_open = false);
    fake.edit_job(4, |j| j.title = "Changed during the sync".into());
    for (id, event) in [(3, "job.archived"), (4, "job.updated")] {
        let ev = json!({"id": format!("e{id}"), "event": event, "data": {"job_id": id}});
        assert_eq!(post_signed(&app, &ev).await.0, StatusCode::ACCEPTED);
    }
    eventually("the webhooks", || async {
        events(&app).await.len() == 2 && all_done(&app).await
    })
    .await;
    let running = app
        .store
        .read(|c| sync_runs::latest_run(c, sync::RUN_KIND))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        running.status, "running",
        "the sync should still be running"
    );
    app.syncs_finished(1).await;
    let run = app
        .store
        .read(|c| sync_runs::latest_run(c, sync::RUN_KIND))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "ok", "{:?}", run.message);
    assert!(
        !job(&app, 3).await.unwrap().is_open,
        "the stale sync reopened job 3"
    );
    assert_eq!(job(&app, 4).await.unwrap().title, "Changed during the sync");
    assert_eq!(app.store.read(jobs::list_open_jobs).await.unwrap().len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn failed_events_are_retried_with_backoff_then_dead_lettered_and_can_be_retried() {
    let fake = FakeRecruiterflow::with_jobs(2).await;
    let (_dir, store) = fresh_store().await;
    let client = client_for(
        &fake,
        ClientOptions {
            max_attempts: 1,
            ..fast_options()
        },
    );
    let syncer = Syncer::new(
        store.clone(),
        client,
        InboxOptions {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(40),
            max_attempts: 3,
            batch: 50,
            poll: Duration::from_millis(20),
        },
    );
    let body = br#"{"id":"evt_dead","event":"job.created","data":{"id":2}}"#;
    let event = jobrank::recruiterflow::webhook::parse_event(body)
        .unwrap()
        .to_new_event(body);
    store
        .write(move |tx| inbox::insert_event(tx, &event, store::now()))
        .await
        .unwrap();
    fake.push_faults("/api/external/job", Fault::ServerError, 3);
    // The inbox's clock moves only when the test moves it, past each backoff delay.
    let time = std::sync::Arc::new(std::sync::Mutex::new(store::now()));
    let clock = {
        let time = time.clone();
        move || *time.lock().unwrap()
    };
    let mut rounds = 0;
    loop {
        let round = syncer.process_inbox_on(&clock).await.unwrap();
        rounds += round.failed;
        if round.dead > 0 {
            break;
        }
        assert!(rounds < 3, "not dead after {rounds} failures");
        // Not retried before its backoff delay has passed.
        assert_eq!(syncer.process_inbox_on(&clock).await.unwrap().failed, 0);
        *time.lock().unwrap() += chrono::Duration::milliseconds(45);
    }
    assert_eq!(rounds, 3);
    let dead = store.read(|c| inbox::list_dead(c, 10)).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("HTTP 500"),
        "{:?}",
        dead[0].last_error
    );
    assert!(
        store
            .read(|c| jobs::find_job(c, 2))
            .await
            .unwrap()
            .is_none()
    );
    let id = dead[0].id;
    store
        .write(move |tx| inbox::retry_dead(tx, id, store::now()))
        .await
        .unwrap();
    assert_eq!(syncer.process_inbox().await.unwrap().done, 1);
    assert!(
        store
            .read(|c| jobs::find_job(c, 2))
            .await
            .unwrap()
            .is_some_and(|j| j.is_open)
    );
    // Retrying something that is not a dead letter is a clear error.
    let err = store
        .write(move |tx| inbox::retry_dead(tx, id, store::now()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
}

#[tokio::test]
async fn absurd_signed_timestamps_are_401_and_the_server_keeps_serving() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let app = synced_app(&fake).await;
    let body = br#"{"id":"evt_absurd","event":"job.updated","data":{"id":1}}"#;
    let huge = "7".repeat(4_000);
    for ts in [
        i64::MIN.to_string(),
        i64::MAX.to_string(),
        (i64::MIN + 1).to_string(),
        "-100000000000000".to_string(),
        "99999999999999999999".to_string(),
        huge,
    ] {
        let headers = vec![
            ("x-recruiterflow-timestamp", ts.clone()),
            (
                "x-recruiterflow-signature",
                sign(SECRET.as_bytes(), Some(&ts), body),
            ),
        ];
        let (status, answer) = post(&app, "/webhooks/recruiterflow", body, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ts:.30}: {answer}");
    }
    assert!(events(&app).await.is_empty(), "nothing stored");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    app.stop().await;
}

/// The inbox writer starts with the application (held in its state, not started by the
/// first webhook) and stops with the other background tasks: afterwards it refuses
/// events, and what it acknowledged is stored.
#[tokio::test]
async fn the_inbox_writer_runs_from_the_start_and_stops_with_the_app() {
    let app = spawn_app_with(&[("RECRUITERFLOW_WEBHOOK_SECRET", SECRET.to_string())]).await;
    let writer = app.state.inbox_writer.clone();
    let event = |key: &str| inbox::NewEvent {
        event_key: key.into(),
        event_type: "invoice.paid".into(),
        job_id: None,
        body: "{}".into(),
        status: "ignored",
        note: Some("unknown event type".into()),
    };
    assert!(writer.insert(event("event:before")).await.unwrap());
    let store = app.store.clone();
    app.stop().await;
    let err = writer.insert(event("event:after")).await.unwrap_err();
    assert!(
        err.to_string().contains("the inbox writer has stopped"),
        "{err}"
    );
    let keys: Vec<String> = store
        .read(inbox::list_events)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_key)
        .collect();
    assert_eq!(keys, ["event:before"]);
}
