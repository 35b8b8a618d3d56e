//! `GET /api/participation?weeks=N` (the CEO's): each of the last N weeks (12 by
//! default, 1 to 104; the last is the week in progress), each counted scorer's done and
//! due jobs, as participation is defined everywhere ([`crate::domain::Participation`]).

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::ApiUser;
use crate::store::{self, participation};
use crate::web::pages::Query;
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/participation", get(weekly_participation))
}

/// The most weeks one request may ask for (two years).
pub const MAX_WEEKS: u32 = 104;
const DEFAULT_WEEKS: u32 = 12;

#[derive(Debug, Default, Deserialize)]
struct Params {
    weeks: Option<String>,
}

#[derive(Serialize)]
struct Answer {
    weeks: Vec<Week>,
}

#[derive(Serialize)]
struct Week {
    /// The week's Monday, `YYYY-MM-DD` (weeks run from Monday 00:00 UTC).
    week: String,
    /// Whether the week is over (the last one is counted up to now).
    complete: bool,
    scorers: Vec<ScorerWeek>,
}

#[derive(Serialize)]
struct ScorerWeek {
    user_id: String,
    name: String,
    done: usize,
    due: usize,
}

async fn weekly_participation(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(params): Query<Params>,
) -> Result<Response> {
    if !user.role.administers() {
        return Err(WebError::Forbidden(
            "only the CEO can see everyone's participation".into(),
        ));
    }
    let weeks = match params.weeks.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_WEEKS,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_WEEKS).contains(n))
            .ok_or_else(|| {
                WebError::field(
                    "weeks",
                    format!("must be a whole number of weeks from 1 to {MAX_WEEKS}, got {raw:?}"),
                )
            })?,
    };
    let now = store::now();
    let report = state
        .store
        .read(move |c| participation::participation(c, weeks, now))
        .await?;
    let answer = Answer {
        weeks: report
            .weeks
            .iter()
            .map(|w| Week {
                week: w.week.to_string(),
                complete: w.complete,
                scorers: w
                    .scorers
                    .iter()
                    .map(|s| ScorerWeek {
                        name: report.name_of(&s.scorer_id).unwrap_or("former user").into(),
                        user_id: s.scorer_id.clone(),
                        done: s.done_count(),
                        due: s.due_count(),
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(axum::Json(answer).into_response())
}
