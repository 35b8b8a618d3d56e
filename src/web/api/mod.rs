//! The JSON API under `/api/`, for scripts and integrations.
//!
//! Requests authenticate with `Authorization: Bearer <token>` (an API token created on
//! the admin page or with `jobrank token create`; the store keeps only its SHA-256).
//! A signed-in browser may call the API with its session cookie too, and then a
//! state-changing request needs the CSRF token like any form. Errors are JSON
//! `{"error", "detail"}` (and `"fields"` naming each bad field) with the right status.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::auth::Session;
use super::dashboard::DashboardParams;
use super::pages::Query;
use super::{AppState, FieldError, WebError};
use crate::credentials::hash_token;
use crate::domain::{
    DashboardJob, Factor, FactorScores, Level, Money, Suggestions, composite, latest_per_scorer,
    needs_score,
};
use crate::store::submissions::{self, NewSubmission};
use crate::store::users::{self, User};
use crate::store::{self, api_tokens, commands, jobs, pipeline, ranks, settings};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/jobs", get(list_jobs))
        .route("/api/jobs/{id}", get(job_detail))
        .route("/api/scores", post(post_score))
        .route("/api/dashboard", get(dashboard_summary))
}

/// Whoever calls the API: the owner of a valid bearer token, or the signed-in user of
/// a browser session. 401 JSON otherwise.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

fn unauthorized(detail: &str) -> Response {
    let mut res = WebError::Unauthenticated(detail.to_string()).into_response();
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(auth) = parts.headers.get(header::AUTHORIZATION) else {
            if let Some(s) = parts.extensions.get::<Session>() {
                return Ok(ApiUser(s.user.clone()));
            }
            return Err(unauthorized(
                "send an API token as `Authorization: Bearer <token>`",
            ));
        };
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let hash = hash_token(token);
        let found = state
            .store
            .read(move |c| api_tokens::find_active_by_hash(c, &hash))
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        let Some((t, user)) = found else {
            return Err(unauthorized("the API token is unknown or revoked"));
        };
        let now = store::now();
        if t.last_used_at
            .is_none_or(|at| now - at > api_tokens::TOUCH_EVERY)
        {
            let id = t.id.clone();
            state
                .store
                .write(move |tx| api_tokens::touch_token(tx, &id, now))
                .await
                .map_err(|e| WebError::from(e).into_response())?;
        }
        Ok(ApiUser(user))
    }
}

/// A team score as a number with two decimals (as shown on the pages).
fn score_number(text: String) -> Value {
    text.parse::<f64>().map(Value::from).unwrap_or(Value::Null)
}

/// Who owes each open job a score: job id -> scorer display names, by name.
fn scores_due(
    scorers: &[User],
    latest: &[(i64, String, DateTime<Utc>)],
    job_ids: impl Iterator<Item = i64>,
    now: DateTime<Utc>,
    cadence: u32,
) -> HashMap<i64, Vec<String>> {
    let by: HashMap<(i64, &str), DateTime<Utc>> = latest
        .iter()
        .map(|(j, s, at)| ((*j, s.as_str()), *at))
        .collect();
    job_ids
        .map(|job| {
            let names = scorers
                .iter()
                .filter(|u| needs_score(by.get(&(job, u.id.as_str())).copied(), now, cadence))
                .map(display_name)
                .collect();
            (job, names)
        })
        .collect()
}

fn display_name(u: &User) -> String {
    if u.name.trim().is_empty() {
        u.email.clone()
    } else {
        u.name.clone()
    }
}

fn job_json(j: &DashboardJob, due: &HashMap<i64, Vec<String>>) -> Value {
    json!({
        "id": j.id,
        "title": j.title,
        "client": j.client,
        "days_open": j.days_open,
        "rank": j.rank.as_ref().map(|r| r.rank.as_str()),
        "team_score": j.rank.as_ref().map(|r| score_number(r.team.to_string())).unwrap_or(Value::Null),
        "scorers_counted": j.rank.as_ref().map(|r| r.team.count()).unwrap_or(0),
        "last_scored_at": j.rank.as_ref().map(|r| store::ts(&r.last_scored_at)),
        "needs_score_from": due.get(&j.id).cloned().unwrap_or_default(),
        "needs_my_score": j.needs_my_score,
        "candidates": j.total_candidates(),
        "fee_minor": j.fee.as_ref().map(|m| m.minor),
        "fee_currency": j.fee.as_ref().and_then(|m| m.currency.as_deref()),
    })
}

/// `GET /api/jobs`: the open jobs with the dashboard's filters and sort.
async fn list_jobs(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(params): Query<DashboardParams>,
) -> Result<Response, WebError> {
    let query = params.to_query()?;
    let now = store::now();
    let viewer = user.id.clone();
    let cache = state.dashboard.clone();
    let (view, scorers, latest, cadence) = state
        .store
        .read(move |c| {
            Ok((
                cache.view(c, &viewer, now)?,
                users::list_scorers(c)?,
                submissions::latest_on_open_jobs(c)?,
                settings::current_settings(c)?.settings.cadence_days,
            ))
        })
        .await?;
    let jobs = query.select(view.jobs());
    let due = scores_due(&scorers, &latest, jobs.iter().map(|j| j.id), now, cadence);
    let list: Vec<Value> = jobs.iter().map(|j| job_json(j, &due)).collect();
    Ok(axum::Json(json!({ "jobs": list })).into_response())
}

fn parse_job_id(raw: &str) -> Result<i64, WebError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        WebError::BadRequest(format!(
            "{raw:?} is not a job id (Recruiterflow job ids are whole numbers)"
        ))
    })
}

/// `GET /api/jobs/{id}`: one job (open or closed) with its pipeline and each
/// scorer's latest scores.
async fn job_detail(
    State(state): State<AppState>,
    ApiUser(_user): ApiUser,
    Path(raw): Path<String>,
) -> Result<Response, WebError> {
    let id = parse_job_id(&raw)?;
    let now = store::now();
    let (job, rank, snapshot, subs, all_users, scorers, latest, current) = state
        .store
        .read(move |c| {
            let job = jobs::find_job(c, id)?
                .ok_or_else(|| store::StoreError::NotFound(format!("job {id}")))?;
            Ok((
                job,
                ranks::find_job_rank(c, id)?,
                pipeline::latest_snapshot(c, id)?,
                submissions::list_for_job(c, id)?,
                users::list_users(c)?,
                users::list_scorers(c)?,
                submissions::latest_on_open_jobs(c)?,
                settings::current_settings(c)?,
            ))
        })
        .await?;
    let names: HashMap<&str, String> = all_users
        .iter()
        .map(|u| (u.id.as_str(), display_name(u)))
        .collect();
    // Each scorer's latest, newest first.
    let mut each_latest = latest_per_scorer(&subs);
    each_latest.sort_by(|a, b| (b.submitted_at, &b.id).cmp(&(a.submitted_at, &a.id)));
    let latest_scores: Vec<Value> = each_latest
        .into_iter()
        .map(|s| {
            json!({
                "submission_id": s.id,
                "scorer": names.get(s.scorer_id.as_str()).cloned().unwrap_or_else(|| "former user".into()),
                "submitted_at": store::ts(&s.submitted_at),
                "client_engagement": s.client_engagement,
                "search_difficulty": s.search_difficulty,
                "time_open": s.time_open,
                "fee_size": s.fee_size,
                "composite": s.scores().ok().map(|f| score_number(composite(&f, &current.settings.weights).to_string())),
                "comment": s.comment,
            })
        })
        .collect();
    let due = if job.is_open {
        scores_due(
            &scorers,
            &latest,
            std::iter::once(id),
            now,
            current.settings.cadence_days,
        )
    } else {
        HashMap::new()
    };
    let pipeline: Vec<Value> = snapshot
        .as_ref()
        .map(|p| {
            p.stages
                .iter()
                .map(|s| {
                    json!({
                        "stage": s.stage,
                        "candidates": s.candidates,
                        "avg_days_in_stage": s.avg_days_in_stage,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(axum::Json(json!({
        "id": job.id,
        "title": job.title,
        "client": job.client,
        "status": job.status,
        "is_open": job.is_open,
        "days_open": job.days_open(now),
        "rank": rank.as_ref().map(|r| r.rank.as_str()),
        "team_score": rank.as_ref().map(|r| score_number(r.team.to_string())).unwrap_or(Value::Null),
        "needs_score_from": due.get(&id).cloned().unwrap_or_default(),
        "fee_minor": job.fee_minor,
        "fee_currency": job.fee_currency,
        "pipeline": pipeline,
        "pipeline_taken_at": snapshot.as_ref().map(|p| store::ts(&p.taken_at)),
        "latest_scores": latest_scores,
    }))
    .into_response())
}

/// A validated `POST /api/scores` body.
struct ScoreBody {
    job_id: i64,
    levels: [i64; 4],
    comment: Option<String>,
}

/// Reads and validates the score body: 400 when it is not a JSON object, 422 naming
/// every missing or bad field.
fn read_score_body(bytes: &[u8]) -> Result<ScoreBody, WebError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| WebError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(WebError::BadRequest(
            "the body must be a JSON object like {\"job_id\": 1, \"client_engagement\": 4, ...}"
                .into(),
        ));
    };
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_string(),
            message,
        })
    };
    let job_id = match obj.get("job_id") {
        None | Some(Value::Null) => {
            bad("job_id", "job_id is required".into());
            0
        }
        Some(v) => match v.as_i64().filter(|id| *id > 0) {
            Some(id) => id,
            None => {
                bad(
                    "job_id",
                    format!("job_id must be a positive whole number, got {v}"),
                );
                0
            }
        },
    };
    let mut levels = [0i64; 4];
    for (i, f) in Factor::ALL.iter().enumerate() {
        let key = f.key();
        match obj.get(key) {
            None | Some(Value::Null) => bad(
                key,
                format!("{key} is required (a whole number from 1 to 5)"),
            ),
            Some(v) => match v.as_i64().map(|n| Level::new(key, n)) {
                Some(Ok(l)) => levels[i] = i64::from(l.get()),
                _ => bad(
                    key,
                    format!("{key} must be a whole number from 1 to 5, got {v}"),
                ),
            },
        }
    }
    let comment = match obj.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            if s.trim().chars().count() > submissions::MAX_COMMENT_CHARS {
                bad(
                    "comment",
                    format!(
                        "comment must be at most {} characters",
                        submissions::MAX_COMMENT_CHARS
                    ),
                );
            }
            Some(s.clone())
        }
        Some(v) => {
            bad("comment", format!("comment must be a string, got {v}"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(WebError::Invalid(errors));
    }
    Ok(ScoreBody {
        job_id,
        levels,
        comment,
    })
}

/// `POST /api/scores`: records a submission for the token's user (a scorer) and
/// answers 201 with the composite and the job's new team score and rank.
async fn post_score(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    body: Bytes,
) -> Result<Response, WebError> {
    if !(user.active && user.scores) {
        return Err(WebError::Forbidden(format!(
            "{} does not score jobs; the CEO can change that on the admin page",
            user.name
        )));
    }
    let body = read_score_body(&body)?;
    let scores = FactorScores::from_values(body.levels)?;
    let now = store::now();
    let scorer = user.id.clone();
    let (saved, rank, current) = state
        .store
        .write(move |tx| {
            let job = jobs::find_job(tx, body.job_id)?
                .ok_or_else(|| store::StoreError::NotFound(format!("job {}", body.job_id)))?;
            let current = settings::current_settings(tx)?;
            let fee = Money::from_parts(job.fee_minor, job.fee_currency.as_deref());
            let overrides =
                Suggestions::for_job(&current.settings, job.opened(), fee.as_ref(), now)
                    .overrides(&scores);
            let new = NewSubmission {
                job_id: body.job_id,
                scorer_id: scorer,
                time_open_overridden: overrides.time_open,
                fee_size_overridden: overrides.fee_size,
                scores,
                comment: body.comment,
            };
            let (saved, rank) = commands::submit_score(tx, &new, now)?.into_result();
            Ok((saved, rank, current))
        })
        .await
        .map_err(|e| WebError::from(e).not_saved("your score was not saved"))?;
    let c = saved
        .scores()
        .map(|f| composite(&f, &current.settings.weights).to_string())
        .map_err(|e| WebError::Internal(e.into()))?;
    let mut res = axum::Json(json!({
        "id": saved.id,
        "job_id": saved.job_id,
        "composite": score_number(c),
        "team_score": score_number(rank.team.to_string()),
        "rank": rank.rank.as_str(),
        "submitted_at": store::ts(&saved.submitted_at),
    }))
    .into_response();
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// `GET /api/dashboard`: open jobs per rank, how many jobs need each scorer's score,
/// and how fresh the data is.
async fn dashboard_summary(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Response, WebError> {
    let now = store::now();
    let viewer = user.id.clone();
    let cache = state.dashboard.clone();
    let (view, scorers, latest, cadence) = state
        .store
        .read(move |c| {
            Ok((
                cache.view(c, &viewer, now)?,
                users::list_scorers(c)?,
                submissions::latest_on_open_jobs(c)?,
                settings::current_settings(c)?.settings.cadence_days,
            ))
        })
        .await?;
    let jobs = view.jobs();
    let fresh = view.freshness();
    let mut ranks: BTreeMap<&str, i64> = [("A", 0), ("B", 0), ("C", 0)].into_iter().collect();
    let mut unscored = 0;
    for j in jobs {
        match &j.rank {
            Some(r) => *ranks.entry(r.rank.as_str()).or_default() += 1,
            None => unscored += 1,
        }
    }
    let by: HashMap<(i64, &str), DateTime<Utc>> = latest
        .iter()
        .map(|(j, s, at)| ((*j, s.as_str()), *at))
        .collect();
    let needing: Vec<Value> = scorers
        .iter()
        .map(|u| {
            let n = jobs
                .iter()
                .filter(|j| needs_score(by.get(&(j.id, u.id.as_str())).copied(), now, cadence))
                .count();
            json!({ "name": display_name(u), "email": u.email, "jobs_needing_score": n })
        })
        .collect();
    let view = super::dashboard::freshness_view(fresh, &state.config, now);
    let run = |r: &Option<crate::store::sync_runs::SyncRun>| {
        r.as_ref().map(|r| {
            json!({
                "status": r.status,
                "started_at": store::ts(&r.started_at),
                "finished_at": r.finished_at.as_ref().map(store::ts),
            })
        })
    };
    Ok(axum::Json(json!({
        "open_jobs": jobs.len(),
        "ranks": ranks,
        "unscored": unscored,
        "needs_scores": needing,
        "freshness": {
            "recruiterflow": view.sync_text,
            "recruiterflow_state": view.sync_class,
            "recruiterflow_latest_run": run(&fresh.recruiterflow_latest),
            "recruiterflow_last_ok_run": run(&fresh.recruiterflow_ok),
            "replication": view.replication_text,
            "replication_state": view.replication_class,
            "outbox_pending": fresh.outbox_pending,
            "outbox_dead": fresh.outbox_dead,
            "last_push": fresh.last_push.as_ref().map(store::ts),
        },
    }))
    .into_response())
}
