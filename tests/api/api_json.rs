//! The JSON API over real HTTP: bearer tokens, field names, filters, score
//! submission and every kind of bad input (400/401/403/404/409/413/422).

use jobrank::domain::Role;
use jobrank::store::{api_tokens, commands, users};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::helpers::{TestApp, run_cli, spawn_app, stderr, stdout};
use crate::web_support::*;

/// Creates an API token for a user the way the admin page does; returns the secret.
pub async fn api_token(app: &TestApp, email: &str) -> String {
    let token = jobrank::credentials::new_api_token();
    let hash = jobrank::credentials::hash_token(&token);
    let email = email.to_string();
    app.store
        .write(move |tx| {
            let u = users::find_user_by_email(tx, &email)?.expect("user exists");
            api_tokens::insert_token(
                tx,
                &u.id,
                "test",
                &hash,
                &jobrank::store::audit::Actor::user(&u),
                jobrank::store::now(),
            )
        })
        .await
        .unwrap();
    token
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
}

async fn api_post(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.client
        .post(app.url("/api/scores"))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Asserts a JSON error with this status and code; returns the body.
async fn json_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status);
    let ct = res.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{status}: {ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

#[tokio::test]
async fn api_requests_need_a_valid_unrevoked_token() {
    let app = spawn_app().await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    let token = api_token(&app, "ann@agency.example").await;

    json_error(app.get("/api/jobs").await, 401, "unauthorized").await;
    json_error(
        api_get(&app, "jrk_nonsense", "/api/jobs").await,
        401,
        "unauthorized",
    )
    .await;
    let res = app
        .client
        .get(app.url("/api/jobs"))
        .header(AUTHORIZATION, format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    json_error(res, 401, "unauthorized").await;

    let res = api_get(&app, &token, "/api/jobs").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["jobs"], json!([]));
    let listed = app.store.read(api_tokens::list_tokens).await.unwrap();
    assert!(listed[0].0.last_used_at.is_some(), "last use is recorded");

    // A deactivated user's token stops working, and stays revoked on reactivation.
    let uid = listed[0].0.user_id.clone();
    let set_active = |active: bool| {
        let uid = uid.clone();
        app.store.write(move |tx| {
            commands::set_user_active(tx, &uid, active, jobrank::store::now()).map(|_| ())
        })
    };
    set_active(false).await.unwrap();
    json_error(
        api_get(&app, &token, "/api/jobs").await,
        401,
        "unauthorized",
    )
    .await;
    set_active(true).await.unwrap();
    json_error(
        api_get(&app, &token, "/api/jobs").await,
        401,
        "unauthorized",
    )
    .await;

    // A revoked token says so.
    let email = users_email(&app, &uid).await;
    let token = api_token(&app, &email).await;
    assert_eq!(api_get(&app, &token, "/api/jobs").await.status(), 200);
    let id = app
        .store
        .read(api_tokens::list_tokens)
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t.revoked_at.is_none())
        .unwrap()
        .0
        .id;
    app.store
        .write(move |tx| api_tokens::revoke_token(tx, &id, jobrank::store::now()))
        .await
        .unwrap();
    let body = json_error(
        api_get(&app, &token, "/api/jobs").await,
        401,
        "unauthorized",
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
}

async fn users_email(app: &TestApp, id: &str) -> String {
    let id = id.to_string();
    app.store
        .read(move |c| users::find_user(c, &id))
        .await
        .unwrap()
        .unwrap()
        .email
}

#[tokio::test]
async fn api_jobs_answer_the_documented_fields_and_filters() {
    let app = spawn_app().await;
    let demo = jobrank::cli::fill_demo(&app.store).await.unwrap();
    let email = demo.accounts[1].0.clone();
    let token = api_token(&app, &email).await;

    let body: Value = api_get(&app, &token, "/api/jobs")
        .await
        .json()
        .await
        .unwrap();
    let jobs = body["jobs"].as_array().unwrap();
    assert!(!jobs.is_empty());
    for j in jobs {
        for key in [
            "id",
            "title",
            "client",
            "days_open",
            "rank",
            "team_score",
            "needs_score_from",
        ] {
            assert!(j.get(key).is_some(), "{key} missing in {j}");
        }
        assert!(j["needs_score_from"].is_array());
        match j["rank"].as_str() {
            Some(r) => {
                assert!(["A", "B", "C"].contains(&r));
                assert!(j["team_score"].as_f64().is_some());
            }
            None => assert!(j["team_score"].is_null()),
        }
    }
    let a: Value = api_get(&app, &token, "/api/jobs?rank=A&sort=days")
        .await
        .json()
        .await
        .unwrap();
    let a = a["jobs"].as_array().unwrap();
    assert!(a.iter().all(|j| j["rank"] == "A"));
    assert_eq!(
        a.len(),
        jobs.iter().filter(|j| j["rank"] == "A").count(),
        "the filter keeps every A job"
    );
    let days: Vec<i64> = a.iter().map(|j| j["days_open"].as_i64().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");

    let body = json_error(
        api_get(&app, &token, "/api/jobs?rank=Z").await,
        400,
        "bad_request",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().starts_with("Rank must be"));
    json_error(
        api_get(&app, &token, "/api/jobs?min_days=soon").await,
        400,
        "bad_request",
    )
    .await;

    let id = jobs[0]["id"].as_i64().unwrap();
    let detail: Value = api_get(&app, &token, &format!("/api/jobs/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["id"], id);
    assert_eq!(detail["title"], jobs[0]["title"]);
    let pipeline = detail["pipeline"].as_array().unwrap();
    assert!(!pipeline.is_empty(), "demo jobs have pipelines: {detail}");
    for s in pipeline {
        assert!(s["stage"].is_string() && s["candidates"].is_i64(), "{s}");
        assert!(s.get("avg_days_in_stage").is_some());
    }
    assert!(detail["latest_scores"].is_array());
    json_error(
        api_get(&app, &token, "/api/jobs/999999").await,
        404,
        "not_found",
    )
    .await;
    json_error(
        api_get(&app, &token, "/api/jobs/abc").await,
        400,
        "bad_request",
    )
    .await;

    let dash: Value = api_get(&app, &token, "/api/dashboard")
        .await
        .json()
        .await
        .unwrap();
    let ranks = &dash["ranks"];
    let counted = ["A", "B", "C"]
        .iter()
        .map(|r| ranks[r].as_i64().unwrap())
        .sum::<i64>()
        + dash["unscored"].as_i64().unwrap();
    assert_eq!(counted as usize, jobs.len());
    assert_eq!(
        ranks["A"].as_i64().unwrap() as usize,
        jobs.iter().filter(|j| j["rank"] == "A").count()
    );
    assert!(
        dash["needs_scores"].as_array().unwrap().len() >= 3,
        "{dash}"
    );
    assert!(dash["freshness"]["recruiterflow"].is_string(), "{dash}");
}

#[tokio::test]
async fn scores_posted_by_api_are_stored_and_bad_ones_refused() {
    let app = spawn_app().await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    add_user(&app, "sam@agency.example", Role::Other, false).await;
    add_job(&app, 101, "Head of Data", "Acme", 10, true, "").await;
    add_job(&app, 102, "Old role", "Acme", 40, false, "").await;
    let ann = api_token(&app, "ann@agency.example").await;
    let sam = api_token(&app, "sam@agency.example").await;
    let good = json!({"job_id": 101, "client_engagement": 5, "search_difficulty": 4,
        "time_open": 5, "fee_size": 3, "comment": "keen client"});

    // Every refusal first: nothing may be stored.
    json_error(
        api_post(&app, &ann, "{\"job_id\": 101,").await,
        400,
        "bad_request",
    )
    .await;
    json_error(api_post(&app, &ann, "[1, 2]").await, 400, "bad_request").await;
    let body = json_error(
        api_post(
            &app,
            &ann,
            json!({"job_id": 101, "client_engagement": 7, "search_difficulty": "x", "time_open": 0})
                .to_string(),
        )
        .await,
        422,
        "invalid",
    )
    .await;
    let fields = body["fields"].as_object().unwrap();
    for f in [
        "client_engagement",
        "search_difficulty",
        "time_open",
        "fee_size",
    ] {
        assert!(fields.contains_key(f), "{f} not named: {body}");
    }
    assert!(!fields.contains_key("job_id"));
    let mut missing_job = good.clone();
    missing_job.as_object_mut().unwrap().remove("job_id");
    let body = json_error(
        api_post(&app, &ann, missing_job.to_string()).await,
        422,
        "invalid",
    )
    .await;
    assert!(body["fields"]["job_id"].is_string(), "{body}");
    let mut unknown = good.clone();
    unknown["job_id"] = json!(999);
    json_error(
        api_post(&app, &ann, unknown.to_string()).await,
        404,
        "not_found",
    )
    .await;
    let mut closed = good.clone();
    closed["job_id"] = json!(102);
    json_error(
        api_post(&app, &ann, closed.to_string()).await,
        409,
        "conflict",
    )
    .await;
    json_error(
        api_post(&app, &sam, good.to_string()).await,
        403,
        "forbidden",
    )
    .await;
    json_error(
        api_post(&app, "jrk_wrong", good.to_string()).await,
        401,
        "unauthorized",
    )
    .await;
    let huge = json!({"job_id": 101, "comment": "x".repeat(70 * 1024)}).to_string();
    json_error(api_post(&app, &ann, huge).await, 413, "payload_too_large").await;
    assert_eq!(
        submission_count(&app).await,
        0,
        "nothing stored by refusals"
    );

    let res = api_post(&app, &ann, good.to_string()).await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert!(body["id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    // 0.25 * (5 + 4 + 5 + 3) = 4.25: an A at the default threshold of 4.00.
    assert_eq!(body["composite"], json!(4.25));
    assert_eq!(body["team_score"], json!(4.25));
    assert_eq!(body["rank"], "A");
    assert_eq!(submission_count(&app).await, 1);

    let detail: Value = api_get(&app, &ann, "/api/jobs/101")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["rank"], "A");
    assert_eq!(detail["latest_scores"][0]["client_engagement"], 5);
    assert_eq!(detail["latest_scores"][0]["comment"], "keen client");
    assert_eq!(detail["needs_score_from"], json!([]), "ann just scored");
}

#[tokio::test]
async fn a_cookie_authenticated_api_post_still_needs_the_csrf_token() {
    let app = spawn_app().await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    add_job(&app, 101, "Head of Data", "Acme", 10, true, "").await;
    let b = sign_in(&app, "ann@agency.example").await;
    let body = json!({"job_id": 101, "client_engagement": 3, "search_difficulty": 3,
        "time_open": 5, "fee_size": 3})
    .to_string();
    let post = |csrf: Option<&str>| {
        let mut r = app
            .client
            .post(app.url("/api/scores"))
            .header(COOKIE, format!("jobrank_session={}", b.cookie))
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(t) = csrf {
            r = r.header("X-CSRF-Token", t);
        }
        r.send()
    };
    json_error(post(None).await.unwrap(), 403, "forbidden").await;
    json_error(post(Some("wrong")).await.unwrap(), 403, "forbidden").await;
    assert_eq!(submission_count(&app).await, 0);
    assert_eq!(post(Some(&b.csrf)).await.unwrap().status(), 201);
    // A read with the cookie works without a token.
    assert_eq!(b.get("/api/dashboard").await.status(), 200);
}

#[tokio::test]
async fn token_create_prints_only_the_token() {
    let app = spawn_app().await;
    add_user(&app, "ann@agency.example", Role::AccountManager, true).await;
    let dir = app.data_dir.path().to_str().unwrap().to_string();
    let out = run_cli(
        &[
            "token",
            "create",
            "--email",
            "ann@agency.example",
            "--label",
            "reports",
        ],
        &[("JOBRANK_DATA_DIR", &dir)],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = stdout(&out);
    let token = printed.trim();
    assert_eq!(printed.lines().count(), 1, "{printed}");
    assert!(token.starts_with("jrk_") && token.len() == 68, "{token}");
    let res = api_get(&app, token, "/api/dashboard").await;
    assert_eq!(res.status(), 200);
    let tokens = app.store.read(api_tokens::list_tokens).await.unwrap();
    assert_eq!(tokens[0].0.label, "reports");

    let out = run_cli(
        &["token", "create", "--email", "nobody@agency.example"],
        &[("JOBRANK_DATA_DIR", &dir)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("nobody@agency.example"),
        "{}",
        stderr(&out)
    );
}
