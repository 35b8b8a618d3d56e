//! `GET /api/scores?scorer=me`: a scorer's own submissions, newest first, each with
//! its job's rank now. The CEO may pass any user's id for `scorer`; anyone else gets 403
//! for an id other than their own.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{ApiUser, score_number};
use crate::domain::composite;
use crate::store::scorer_history::{self, ScoredJob};
use crate::store::{self, StoreError, settings, users};
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/scores", get(list_scores))
}

/// `?scorer=`: `me` (the default) or a user id.
#[derive(Debug, Default, Deserialize)]
struct ScoresParams {
    scorer: Option<String>,
}

#[derive(Serialize)]
struct ScoreList {
    scores: Vec<ScoreItem>,
}

/// One submission with its job as it stands now.
#[derive(Serialize)]
struct ScoreItem {
    id: String,
    job_id: i64,
    job_title: String,
    client: String,
    submitted_at: String,
    client_engagement: u8,
    search_difficulty: u8,
    time_open: u8,
    fee_size: u8,
    /// Under the weights in force.
    composite: Option<f64>,
    comment: Option<String>,
    job_is_open: bool,
    /// The job's rank now ("A", "B", "C"; a closed job's rank at close), or null.
    job_rank: Option<&'static str>,
    job_team_score: Option<f64>,
}

async fn list_scores(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    crate::web::pages::Query(params): crate::web::pages::Query<ScoresParams>,
) -> Result<Response> {
    let wanted = match params.scorer.as_deref().map(str::trim) {
        None | Some("") | Some("me") => user.id.clone(),
        Some(id) if id == user.id => user.id.clone(),
        Some(id) if user.role.administers() => id.to_string(),
        Some(_) => {
            return Err(WebError::Forbidden(
                "only the CEO can list another user's scores; use scorer=me".into(),
            ));
        }
    };
    let (found, history, current) = state
        .store
        .read(move |c| {
            Ok((
                users::find_user(c, &wanted)?.is_some(),
                scorer_history::scorer_history(c, &wanted)?,
                settings::current_settings(c)?,
            ))
        })
        .await?;
    if !found {
        return Err(StoreError::NotFound("user with that id".into()).into());
    }
    let scores = history
        .into_iter()
        .map(|h: ScoredJob| {
            let s = h.submission;
            ScoreItem {
                composite: s
                    .scores()
                    .ok()
                    .and_then(|f| score_number(composite(&f, &current.settings.weights))),
                submitted_at: store::ts(&s.submitted_at),
                job_rank: h.job_rank.map(|r| r.rank.as_str()),
                job_team_score: h.job_rank.and_then(|r| score_number(r.team)),
                id: s.id,
                job_id: s.job_id,
                job_title: h.job_title,
                client: h.client,
                client_engagement: s.client_engagement,
                search_difficulty: s.search_difficulty,
                time_open: s.time_open,
                fee_size: s.fee_size,
                comment: s.comment,
                job_is_open: h.job_is_open,
            }
        })
        .collect();
    Ok(axum::Json(ScoreList { scores }).into_response())
}
