//! What the job page says about its rank beyond the score: why the job is provisional
//! (ranked on fewer scorers than `min_scorers`), which scores expired and when, and,
//! for a closed job, that its rank is the one it closed with.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::domain::RankFreshness;
use crate::store::jobs::Job;
use crate::store::ranks::JobRank;
use crate::store::settings::SettingsVersion;
use crate::store::{self, expired};
use crate::web::pages::date;

/// One expired score: whose, given when, expired when.
pub struct ExpiredRow {
    pub scorer: String,
    pub given: String,
    pub expired: String,
}

/// The job page's freshness notes.
#[derive(Default)]
pub struct FreshnessView {
    /// Why the job is provisional, or empty.
    pub provisional: String,
    pub expired: Vec<ExpiredRow>,
    /// For a closed job: "Closed on 3 Nov 2026 with rank B; …", or empty.
    pub closed: String,
}

/// The notes for `job` with its current `rank`; `names`: user id -> name.
pub fn freshness_view(
    c: &Connection,
    job: &Job,
    rank: &Option<JobRank>,
    current: &SettingsVersion,
    names: &HashMap<String, String>,
) -> store::Result<FreshnessView> {
    let expired: Vec<ExpiredRow> = expired::list_for_job(c, job.id)?
        .into_iter()
        .map(|e| ExpiredRow {
            scorer: names
                .get(&e.scorer_id)
                .cloned()
                .unwrap_or_else(|| "former user".into()),
            given: date(e.submitted_at),
            expired: date(e.expired_at),
        })
        .collect();
    if !job.is_open {
        let when = job.closed_at.map(date).unwrap_or_default();
        let closed = match &job.rank_at_close {
            Some(s) => format!(
                "Closed on {when} with rank {} (team score {}); a closed job keeps the rank it closed with.",
                s.rank, s.team
            ),
            None => format!("Closed on {when}, unranked: nobody had scored it by then."),
        };
        return Ok(FreshnessView {
            closed,
            expired,
            ..FreshnessView::default()
        });
    }
    let f = RankFreshness::of(rank.as_ref().map(|r| r.team.count()), 0, &current.settings);
    Ok(FreshnessView {
        provisional: match f.provisional {
            Some((n, min)) => format!(
                "Provisional: this rank rests on {n} scorer{}, and the team asks for at least {min}. It counts as usual but sorts after the other {} jobs until more scorers score it.",
                if n == 1 { "" } else { "s" },
                rank.as_ref().map_or("", |r| r.rank.as_str())
            ),
            None => String::new(),
        },
        expired,
        closed: String::new(),
    })
}
