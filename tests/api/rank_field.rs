//! The Recruiterflow client's side of the rank write-back, against the fake: the job
//! custom-field list, checking the rank field, the value by field type, job updates
//! with their retries (429 storms, 500s) and a deleted job, and reading back what a
//! job reports.

use std::time::Duration;

use jobrank::domain::{Rank, Standing, TeamScore};
use jobrank::recruiterflow::RecruiterflowError;
use jobrank::recruiterflow::custom_fields::{self, Comparison, FieldError, FieldRole, FieldValue};
use serde_json::{Value, json};

use crate::fake_recruiterflow::{
    API_KEY, CUSTOM_FIELD_PATH, FakeRecruiterflow, Fault, UPDATE_PATH, select_field, typed_field,
};
use crate::recruiterflow::{client_for, fast_options};

const RANK_FIELD: i64 = 900;

fn score(hundredths: i64) -> TeamScore {
    TeamScore::from_parts(hundredths * 100, 1).unwrap()
}

/// A fake agency with three jobs and a select rank field "jobrank rank" (choices A, B,
/// C with ids 901-903) beside the reference fields.
async fn fake_with_rank_select() -> FakeRecruiterflow {
    let fake = FakeRecruiterflow::with_jobs(3).await;
    fake.put_custom_field(select_field(
        RANK_FIELD,
        "jobrank rank",
        &[(901, "A"), (902, "B"), (903, "C"), (904, "Unranked")],
    ));
    fake
}

#[tokio::test]
async fn the_field_list_is_read_in_pages_and_the_rank_field_is_found_by_name() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    // 5 reference fields and 12 more: two pages of 10.
    for i in 0..12 {
        fake.put_custom_field(typed_field(100 + i, &format!("Extra {i}"), "long_text"));
    }
    fake.put_custom_field(select_field(
        RANK_FIELD,
        "Jobrank Rank",
        &[(901, "A"), (902, "B"), (903, "C")],
    ));
    let client = client_for(&fake, fast_options());
    let list = client.list_job_custom_fields().await.unwrap();
    assert_eq!(list.fields.len(), 18);
    assert!(list.incomplete.is_none() && list.errors.is_empty());
    let pages: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with(CUSTOM_FIELD_PATH))
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(
        pages.iter().any(|r| r.contains("current_page=2")),
        "{pages:?}"
    );

    let field = client.check_rank_field(" jobrank rank ").await.unwrap();
    assert_eq!(field.id, RANK_FIELD);
    assert_eq!(field.choices.len(), 3);
}

#[tokio::test]
async fn check_names_a_missing_field_missing_choices_and_a_type_that_cannot_hold_a_rank() {
    let fake = FakeRecruiterflow::with_jobs(1).await;
    let client = client_for(&fake, fast_options());
    let err = client.check_rank_field("jobrank rank").await.unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, RecruiterflowError::Field(FieldError::NotFound { .. })),
        "{err:?}"
    );
    assert!(msg.contains("RECRUITERFLOW_RANK_FIELD"), "{msg}");
    assert!(msg.contains("\"jobrank rank\""), "{msg}");
    assert!(
        msg.contains("\"Status\""),
        "lists the fields there are: {msg}"
    );

    fake.put_custom_field(select_field(RANK_FIELD, "jobrank rank", &[(901, "A")]));
    let err = client.check_rank_field("jobrank rank").await.unwrap_err();
    assert!(err.to_string().contains("no choice named B, C"), "{err}");
    assert!(!err.is_temporary());

    fake.put_custom_field(typed_field(RANK_FIELD, "jobrank rank", "date"));
    let err = client.check_rank_field("jobrank rank").await.unwrap_err();
    assert!(
        matches!(
            err,
            RecruiterflowError::Field(FieldError::UnsupportedType { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"date\""), "{err}");

    // The score field may be text or a number, never a select.
    fake.put_custom_field(select_field(
        RANK_FIELD,
        "jobrank rank",
        &[(901, "A"), (902, "B"), (903, "C")],
    ));
    client.check_rank_field("jobrank rank").await.unwrap();
    let err = client
        .find_custom_field("jobrank rank", FieldRole::Score)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("RECRUITERFLOW_SCORE_FIELD"),
        "{err}"
    );
}

/// Writes `rank` and `score` into the field named `name` of job 2 and returns what the
/// job reports afterwards, compared with what was written.
async fn write_and_read_back(
    fake: &FakeRecruiterflow,
    name: &str,
    role: FieldRole,
    rank: Rank,
    score: TeamScore,
) -> (Value, Comparison) {
    let client = client_for(fake, fast_options());
    let field = client.find_custom_field(name, role).await.unwrap();
    let value =
        custom_fields::field_value(&field, role, Some(Standing { rank, team: score })).unwrap();
    client
        .update_job_custom_fields(
            2,
            &[FieldValue {
                id: field.id,
                value: value.clone(),
            }],
        )
        .await
        .unwrap();
    let job = client.get_job(2).await.unwrap();
    let seen = custom_fields::compare(&field, &value, &job.custom_fields);
    (value, seen)
}

#[tokio::test]
async fn each_field_type_gets_its_value_and_the_job_then_reports_it() {
    let fake = fake_with_rank_select().await;
    fake.put_custom_field(typed_field(910, "jobrank rank text", "long_text"));
    fake.put_custom_field(typed_field(911, "jobrank score", "number"));
    fake.put_custom_field(typed_field(912, "jobrank score text", "text"));

    let (v, seen) =
        write_and_read_back(&fake, "jobrank rank", FieldRole::Rank, Rank::B, score(310)).await;
    assert_eq!(v, json!(902));
    assert_eq!(seen, Comparison::Matches);
    // Recruiterflow shows a select by its choice's name.
    assert_eq!(fake.reported_field(2, RANK_FIELD), Some(json!("B")));

    let (v, seen) = write_and_read_back(
        &fake,
        "jobrank rank text",
        FieldRole::Rank,
        Rank::A,
        score(410),
    )
    .await;
    assert_eq!(v, json!("A · 4.10"));
    assert_eq!(seen, Comparison::Matches);

    let (v, seen) = write_and_read_back(
        &fake,
        "jobrank score",
        FieldRole::Score,
        Rank::C,
        score(245),
    )
    .await;
    assert_eq!(v, json!(2.45));
    assert_eq!(seen, Comparison::Matches);

    let (v, seen) = write_and_read_back(
        &fake,
        "jobrank score text",
        FieldRole::Score,
        Rank::C,
        score(245),
    )
    .await;
    assert_eq!(v, json!("2.45"));
    assert_eq!(seen, Comparison::Matches);

    // Every update was recorded with the job, the fields and the key, as JSON.
    let updates = fake.updates();
    assert_eq!(updates.len(), 4);
    assert!(
        updates
            .iter()
            .all(|u| u.status == 200 && u.job_id == Some(2))
    );
    assert_eq!(updates[0].fields, vec![(RANK_FIELD, json!(902))]);
    assert_eq!(
        updates[0].body,
        json!({"job_id": 2, "custom_fields": [{"id": RANK_FIELD, "value": 902}]})
    );
    assert_eq!(updates[0].method, axum::http::Method::POST);
    assert_eq!(updates[0].headers["rf-api-key"], API_KEY);
    assert_eq!(updates[0].headers["content-type"], "application/json");

    // Someone picks another choice in Recruiterflow: the next read shows the mismatch.
    fake.set_reported_field(2, RANK_FIELD, json!("A"));
    let client = client_for(&fake, fast_options());
    let field = client.check_rank_field("jobrank rank").await.unwrap();
    let job = client.get_job(2).await.unwrap();
    assert_eq!(
        custom_fields::compare(&field, &json!(902), &job.custom_fields),
        Comparison::Differs {
            reported: Some("A".into())
        }
    );
    // Or clears it.
    fake.set_reported_field(2, RANK_FIELD, Value::Null);
    let job = client.get_job(2).await.unwrap();
    assert_eq!(
        custom_fields::compare(&field, &json!(902), &job.custom_fields),
        Comparison::Differs { reported: None }
    );
    // The job list reports custom fields too.
    fake.set_reported_field(3, RANK_FIELD, json!("C"));
    let open = client.list_open_jobs(|_, _| {}).await.unwrap();
    let job3 = open.jobs.iter().find(|j| j.id == 3).unwrap();
    assert_eq!(
        custom_fields::compare(&field, &json!(903), &job3.custom_fields),
        Comparison::Matches
    );
}

fn rank_value(id: i64) -> Vec<FieldValue> {
    vec![FieldValue {
        id: RANK_FIELD,
        value: json!(id),
    }]
}

#[tokio::test]
async fn a_429_storm_is_waited_out_honouring_retry_after() {
    let fake = fake_with_rank_select().await;
    let client = client_for(&fake, fast_options());
    fake.push_faults(
        UPDATE_PATH,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
        2,
    );
    client
        .update_job_custom_fields(1, &rank_value(901))
        .await
        .unwrap();
    let updates = fake.updates();
    let statuses: Vec<u16> = updates.iter().map(|u| u.status).collect();
    assert_eq!(statuses, vec![429, 429, 200]);
    // Each retry came no sooner than Retry-After asked (the backoff alone is 5-40 ms).
    for pair in updates.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
    }
    assert_eq!(fake.reported_field(1, RANK_FIELD), Some(json!("A")));

    // A storm longer than the attempts fails as rate limited: temporary, for a queue
    // to try again later.
    fake.push_faults(
        UPDATE_PATH,
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        4,
    );
    let err = client
        .update_job_custom_fields(1, &rank_value(902))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RecruiterflowError::RateLimited { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(err.is_temporary());
    assert!(
        err.to_string()
            .contains("POST /api/external/job/update (job 1)"),
        "{err}"
    );
    assert_eq!(fake.reported_field(1, RANK_FIELD), Some(json!("A")));
}

#[tokio::test]
async fn a_500_is_retried_and_persistent_500s_are_temporary() {
    let fake = fake_with_rank_select().await;
    let client = client_for(&fake, fast_options());
    fake.push_fault(UPDATE_PATH, Fault::ServerError);
    client
        .update_job_custom_fields(1, &rank_value(903))
        .await
        .unwrap();
    let statuses: Vec<u16> = fake.updates().iter().map(|u| u.status).collect();
    assert_eq!(statuses, vec![500, 200]);
    assert_eq!(fake.reported_field(1, RANK_FIELD), Some(json!("C")));

    fake.push_faults(UPDATE_PATH, Fault::ServerError, 4);
    let err = client
        .update_job_custom_fields(1, &rank_value(901))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RecruiterflowError::Server {
                status: 500,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_temporary());
    assert_eq!(fake.updates().len(), 6);
}

#[tokio::test]
async fn a_deleted_job_is_gone_at_once_and_never_retried() {
    let fake = fake_with_rank_select().await;
    let client = client_for(&fake, fast_options());
    fake.remove_job(2);
    let err = client
        .update_job_custom_fields(2, &rank_value(901))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RecruiterflowError::JobGone { job_id: 2, .. }),
        "{err:?}"
    );
    assert!(!err.is_temporary());
    assert!(err.to_string().contains("no job 2"), "{err}");
    let updates = fake.updates();
    assert_eq!(updates.len(), 1, "a 404 is not retried");
    assert_eq!(updates[0].status, 404);
}

#[tokio::test]
async fn a_refused_value_or_a_failed_result_is_permanent() {
    let fake = fake_with_rank_select().await;
    let client = client_for(&fake, fast_options());
    // 999 is no choice of the field: Recruiterflow answers 400.
    let err = client
        .update_job_custom_fields(1, &rank_value(999))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RecruiterflowError::Refused { status: 400, .. }),
        "{err:?}"
    );
    assert!(!err.is_temporary());
    assert_eq!(fake.updates().len(), 1);
    assert_eq!(fake.reported_field(1, RANK_FIELD), None);

    // A 200 whose RESULT is not SUCCESS is refused too.
    fake.push_fault(UPDATE_PATH, Fault::WrongShape);
    let err = client.update_job_custom_fields(1, &rank_value(901)).await;
    // {"result": "ok", ...}: a result that is not SUCCESS.
    assert!(
        matches!(err, Err(RecruiterflowError::Refused { status: 200, .. })),
        "{err:?}"
    );
    // A bad key is not retried either.
    fake.push_fault(UPDATE_PATH, Fault::Unauthorized);
    let err = client
        .update_job_custom_fields(1, &rank_value(901))
        .await
        .unwrap_err();
    assert!(err.is_bad_key() && !err.is_temporary(), "{err:?}");
    assert_eq!(fake.updates().len(), 3);
}
