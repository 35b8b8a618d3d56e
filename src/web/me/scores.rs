//! "My scores" `/me/scores`: every score I submitted, newest first, with the job's
//! rank now, so a scorer sees how the jobs they scored stand. Any signed-in user may
//! open it (someone who does not score sees that they have none).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::store::scorer_history;
use crate::store::settings;
use crate::web::auth::CurrentUser;
use crate::web::jobs::{ScoreRow, score_row};
use crate::web::pages::{Chrome, render};
use crate::web::{AppState, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/me/scores", get(my_scores_page))
}

/// One of my scores with its job now.
pub struct MyScoreRow {
    pub job_id: i64,
    pub job: String,
    pub client: String,
    pub score: ScoreRow,
    /// The job's rank now ("A", "B", "C") or "" without one.
    pub rank: &'static str,
    pub team_score: String,
    pub closed: bool,
}

#[derive(Template)]
#[template(path = "me_scores.html")]
struct MyScoresPage {
    chrome: Chrome,
    scores_jobs: bool,
    rows: Vec<MyScoreRow>,
    jobs: usize,
}

async fn my_scores_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> Result<Response> {
    let me = session.user.id.clone();
    let (history, current) = state
        .store
        .read(move |c| {
            Ok((
                scorer_history::scorer_history(c, &me)?,
                settings::current_settings(c)?,
            ))
        })
        .await?;
    let names: HashMap<String, String> =
        [(session.user.id.clone(), session.user.name.clone())].into();
    let jobs = history
        .iter()
        .map(|h| h.submission.job_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    let rows = history
        .iter()
        .map(|h| MyScoreRow {
            job_id: h.submission.job_id,
            job: h.job_title.clone(),
            client: h.client.clone(),
            score: score_row(&h.submission, &names, &current),
            rank: h.job_rank.map_or("", |r| r.rank.as_str()),
            team_score: h
                .job_rank
                .map_or_else(|| "–".into(), |r| r.team.to_string()),
            closed: !h.job_is_open,
        })
        .collect();
    render(&MyScoresPage {
        chrome: Chrome::for_session(&session, "my_scores"),
        scores_jobs: session.user.scores,
        rows,
        jobs,
    })
}
