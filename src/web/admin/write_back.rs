//! The rank written back to Recruiterflow, on the admin page: whether it is on and
//! into which fields, what waits to be written, why nothing can be written (a field
//! set up wrong), the dead letters with a Retry button, and the jobs whose field showed
//! something else than jobrank wrote at the latest sync.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};

use super::record_act;
use crate::config::Config;
use crate::domain::Standing;
use crate::store::audit::{self, Action};
use crate::store::write_back::{self, Queued, Sent};
use crate::web::auth::RequireCeo;
use crate::web::pages::ago;
use crate::web::{AppState, Result, WebError};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/write-back/{id}/retry", post(retry_dead_letter))
}

/// How many dead letters and mismatches the page lists.
const LISTED: i64 = 20;

/// What the section shows from the store.
pub struct Stored {
    enabled: bool,
    waiting: i64,
    dead_count: i64,
    dead: Vec<Queued>,
    mismatches: Vec<Sent>,
    problem: Option<(String, DateTime<Utc>)>,
}

impl Stored {
    pub fn read(c: &rusqlite::Connection) -> crate::store::Result<Stored> {
        let (waiting, dead_count) = write_back::counts(c)?;
        Ok(Stored {
            enabled: write_back::is_enabled(c)?,
            waiting,
            dead_count,
            dead: write_back::list_dead(c, LISTED)?,
            mismatches: write_back::list_mismatches(c, LISTED)?,
            problem: write_back::problem(c)?,
        })
    }
}

/// The section as the template shows it.
pub struct WriteBackView {
    pub on: bool,
    /// Into which fields, or why it is off, in a sentence.
    pub about: String,
    /// What waits, in a sentence.
    pub state: String,
    /// Why nothing can be written, in a sentence.
    pub problem: Option<String>,
    pub dead: Vec<DeadRow>,
    pub mismatches: Vec<MismatchRow>,
}

/// One dead letter in the list.
pub struct DeadRow {
    pub job_id: i64,
    pub job: String,
    pub value: String,
    pub attempts: i64,
    pub failed: String,
    pub error: String,
}

/// One job whose field showed something else.
pub struct MismatchRow {
    pub job_id: i64,
    pub job: String,
    pub written: String,
    pub reported: String,
    pub checked: String,
}

/// What is written for a standing, in words: "B · 3.10", or the field cleared.
fn value_words(s: Option<&Standing>) -> String {
    match s {
        Some(s) => format!("{} · {}", s.rank, s.team),
        None => "no rank: the field cleared".into(),
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn view(config: &Config, stored: Stored, now: DateTime<Utc>) -> WriteBackView {
    let rf = &config.recruiterflow;
    let about = match (&rf.rank_field, stored.enabled) {
        (Some(rank), true) => {
            let mut a = format!("On: each open job's rank is written into the job field “{rank}”");
            if let Some(score) = &rf.score_field {
                a.push_str(&format!(" and its team score into “{score}”"));
            }
            a.push_str(" in Recruiterflow whenever it changes.");
            a
        }
        (Some(rank), false) => format!(
            "Off: RECRUITERFLOW_RANK_FIELD names “{rank}”, but this server does not write back (RECRUITERFLOW_API_KEY is not set)."
        ),
        (None, _) => "Off: set RECRUITERFLOW_RANK_FIELD to write each open job's rank into a job field in Recruiterflow.".into(),
    };
    let state = format!(
        "{} waiting to be written, {}.",
        plural(stored.waiting, "rank", "ranks"),
        plural(stored.dead_count, "dead letter", "dead letters")
    );
    WriteBackView {
        on: stored.enabled,
        about,
        state,
        problem: stored.problem.map(|(why, since)| {
            format!(
                "Nothing can be written into Recruiterflow (since {}): {why}",
                ago(since, now)
            )
        }),
        dead: stored
            .dead
            .iter()
            .map(|q| DeadRow {
                job_id: q.job_id,
                job: q.job_title.clone(),
                value: value_words(q.standing.as_ref()),
                attempts: q.attempts,
                failed: q.dead_at.map(|at| ago(at, now)).unwrap_or_default(),
                error: q.last_error.clone().unwrap_or_default(),
            })
            .collect(),
        mismatches: stored
            .mismatches
            .iter()
            .map(|s| MismatchRow {
                job_id: s.job_id,
                job: s.job_title.clone(),
                written: value_words(s.standing.as_ref()),
                reported: s.mismatch.clone().unwrap_or_default(),
                checked: s.checked_at.map(|at| ago(at, now)).unwrap_or_default(),
            })
            .collect(),
    }
}

async fn retry_dead_letter(
    State(state): State<AppState>,
    RequireCeo(session): RequireCeo,
    Path(raw): Path<String>,
) -> Result<Response> {
    let job_id = raw
        .parse::<i64>()
        .map_err(|_| WebError::BadRequest(format!("{raw:?} is not a job id")))?;
    record_act(
        &state,
        &session,
        Action::WriteBackRetried,
        move |tx, now| {
            let dead = write_back::retry_dead(tx, job_id, now)?;
            Ok((
                format!("rank write-back of job {job_id} ({})", dead.job_title),
                format!(
                    "{} queued again after {}",
                    value_words(dead.standing.as_ref()),
                    audit::count(dead.attempts, "failed attempt")
                ),
            ))
        },
    )
    .await
}
