//! `POST /api/scores`: records a submission for the caller (a scorer) and answers 201
//! with the composite and the job's new team score and rank.
//!
//! With an `Idempotency-Key` header (optional; 1 to 255 printable ASCII characters), a
//! repeat of the request with the same key and the same body is answered with the first
//! answer (201, the same body, `Idempotent-Replayed: true`) and stores nothing; the
//! same key with another body is a 422 naming the header. Keys are the caller's own
//! and kept 30 days.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ApiUser, score_number};
use crate::domain::{DomainError, Factor, FactorScores, Level, Money, Suggestions, composite};
use crate::store::idempotency::{self, Purpose};
use crate::store::submissions::{self, NewSubmission};
use crate::store::{self, StoreError, commands, jobs, settings};
use crate::web::{AppState, FieldError, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/scores", post(post_score))
}

/// A validated `POST /api/scores` body.
struct ScoreBody {
    job_id: i64,
    levels: [i64; 4],
    comment: Option<String>,
}

/// Reads and validates the score body: 400 when it is not a JSON object, 422 naming
/// every missing or bad field.
fn read_score_body(bytes: &[u8]) -> Result<ScoreBody> {
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

/// The answer to a recorded score.
#[derive(Serialize)]
struct ScoreRecorded {
    id: String,
    job_id: i64,
    /// Under the weights in force.
    composite: Option<f64>,
    team_score: Option<f64>,
    rank: &'static str,
    submitted_at: String,
}

/// The `Idempotency-Key` header, when sent; a malformed one is a 400 naming it.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .map(str::trim)
        .filter(|k| idempotency::is_valid_key(k))
        .map(|k| Some(k.to_string()))
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "the Idempotency-Key header must be 1 to {} printable ASCII characters without spaces",
                idempotency::MAX_KEY_LEN
            ))
        })
}

/// `POST /api/scores`: records a submission for the token's user (a scorer) and
/// answers 201 with the composite and the job's new team score and rank; a repeated
/// `Idempotency-Key` gets the first answer.
async fn post_score(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    if !(user.active && user.scores) {
        return Err(WebError::Forbidden(format!(
            "{} does not score jobs; the CEO can change that on the admin page",
            user.name
        )));
    }
    let key = idempotency_key(&headers)?;
    let fingerprint = hex::encode(Sha256::digest(&body));
    let body = read_score_body(&body)?;
    let scores = FactorScores::from_values(body.levels)?;
    let now = store::now();
    let scorer = user.id.clone();
    let (answer, replayed) = state
        .store
        .write(move |tx| {
            if let Some(k) = &key
                && let Some(used) = idempotency::find_used_key(tx, &scorer, Purpose::ApiScore, k)?
            {
                if used.fingerprint.as_deref() != Some(fingerprint.as_str()) {
                    return Err(StoreError::Invalid(DomainError::Invalid {
                        field: "Idempotency-Key",
                        reason: "this key was already used for another request body; send a new key with a new score".into(),
                    }));
                }
                return Ok((used.answer, true));
            }
            let job = jobs::find_job(tx, body.job_id)?
                .ok_or_else(|| StoreError::NotFound(format!("job {}", body.job_id)))?;
            let current = settings::current_settings(tx)?;
            let fee = Money::from_parts(job.fee_minor, job.fee_currency.as_deref());
            let overrides =
                Suggestions::for_job(&current.settings, job.opened(), fee.as_ref(), now)
                    .overrides(&scores);
            let new = NewSubmission {
                job_id: body.job_id,
                scorer_id: scorer.clone(),
                time_open_overridden: overrides.time_open,
                fee_size_overridden: overrides.fee_size,
                scores,
                comment: body.comment,
            };
            let (saved, rank) = commands::submit_score(tx, &new, now)?.into_result();
            let recorded = ScoreRecorded {
                composite: score_number(composite(&saved.scores()?, &current.settings.weights)),
                team_score: score_number(rank.team),
                rank: rank.rank.as_str(),
                submitted_at: store::ts(&saved.submitted_at),
                job_id: saved.job_id,
                id: saved.id.clone(),
            };
            let answer =
                serde_json::to_string(&recorded).map_err(|e| StoreError::Data(e.to_string()))?;
            if let Some(k) = &key {
                idempotency::record_used_key(
                    tx,
                    &scorer,
                    Purpose::ApiScore,
                    k,
                    Some(&fingerprint),
                    &saved.id,
                    &answer,
                    now,
                )?;
            }
            Ok((answer, false))
        })
        .await
        .map_err(|e| WebError::from(e).not_saved("your score was not saved"))?;
    let mut res = (StatusCode::CREATED, answer).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}
