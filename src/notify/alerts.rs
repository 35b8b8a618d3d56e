//! Alerts: what needs attention now rather than at the next digest.
//!
//! - **A job dropped to C** (from A or B): recorded by the store commands from the rank
//!   changes they return, in the same transaction (so a drop is never lost), for open
//!   jobs that are not provisional (`domain::is_provisional`: fewer scorers than
//!   `min_scorers`).
//! - **A new job nobody has scored** 2 days after it opened, and **a pipeline newly
//!   stalled** (its slowest stage waiting at least `stalled_after_days` on average):
//!   found by [`check`], which remembers what it alerted so each job is alerted once
//!   (a pipeline that moves again is forgotten, so a later stall alerts again). The
//!   first check only takes note of what is already so.
//!
//! [`make_batch`] turns the waiting events into messages, at most one batch an hour,
//! so nobody gets more than one alert message an hour: the first event after a quiet
//! hour goes out at once, later ones wait for the next batch. Who gets an alert about
//! a job: the CEO, and the job's hiring-team members who are jobrank users (matched
//! through Recruiterflow's users by email), or every active scorer when none of the
//! hiring team uses jobrank; each by email unless they switched alerts off on `/me`.
//! The team's Slack channel gets one post per batch with every alert.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::compose::{self, AlertLine, AlertsEmail};
use super::digest::mailbox;
use super::sender::slack_payload;
use super::{Channels, Result};
use crate::domain::{PipelineStatus, Role};
use crate::store::jobs::{self, Job};
use crate::store::notification_prefs::{self, Prefs};
use crate::store::notifications::{self, AlertEvent, AlertKind, Channel, Kind, NewMessage, TEAM};
use crate::store::recruiterflow_users::{self, RecruiterflowUser, match_hiring_team};
use crate::store::users::{self, User};
use crate::store::{Store, dashboard};

/// A job open this long with nobody's score is alerted.
pub const UNSCORED_AFTER: Duration = Duration::days(2);
/// At most one alert batch (so one alert message per recipient) in this time.
pub const BATCH_EVERY: Duration = Duration::hours(1);

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// New alert events: jobs nobody scored, pipelines newly stalled.
    pub unscored: usize,
    pub stalled: usize,
    /// This was the first check: what it found was taken note of, not alerted.
    pub first: bool,
}

/// Looks at every open job at `now`: records an alert for each job open for
/// [`UNSCORED_AFTER`] that nobody has scored and each pipeline that became stalled
/// since the last check, once per job. Writes only when something changed.
pub async fn check(store: &Store, now: DateTime<Utc>) -> Result<CheckReport> {
    let (jobs, unscored_seen, stalled_seen, seeded) = store
        .read(move |c| {
            Ok((
                dashboard::dashboard_jobs(c, "", now)?,
                notifications::watched_jobs(c, AlertKind::Unscored)?,
                notifications::watched_jobs(c, AlertKind::Stalled)?,
                notifications::watch_seeded_at(c)?.is_some(),
            ))
        })
        .await?;
    let open: HashSet<i64> = jobs.iter().map(|j| j.id).collect();
    let gone: Vec<(AlertKind, i64)> = unscored_seen
        .iter()
        .map(|id| (AlertKind::Unscored, *id))
        .chain(stalled_seen.iter().map(|id| (AlertKind::Stalled, *id)))
        .filter(|(_, id)| !open.contains(id))
        .collect();
    let unscored: Vec<(i64, i64)> = jobs
        .iter()
        .filter(|j| j.rank.is_none() && now - j.opened >= UNSCORED_AFTER)
        .filter(|j| !unscored_seen.contains(&j.id))
        .map(|j| (j.id, j.days_open))
        .collect();
    let mut stalled = Vec::new();
    let mut moving = Vec::new();
    for j in &jobs {
        let is_stalled = j.pipeline_status == PipelineStatus::Stalled;
        match (is_stalled, stalled_seen.contains(&j.id)) {
            (true, false) => {
                let slowest = j.pipeline.as_ref().and_then(|p| p.bottleneck().cloned());
                stalled.push((
                    j.id,
                    serde_json::json!({
                        "stage": slowest.as_ref().map(|s| s.stage.clone()),
                        "avg_days": slowest.and_then(|s| s.avg_days_in_stage),
                    }),
                ));
            }
            (false, true) => moving.push(j.id),
            _ => {}
        }
    }
    if seeded && gone.is_empty() && unscored.is_empty() && stalled.is_empty() && moving.is_empty() {
        return Ok(CheckReport::default());
    }
    let report = store
        .write(move |tx| {
            let first = notifications::watch_seeded_at(tx)?.is_none();
            let mut report = CheckReport {
                first,
                ..CheckReport::default()
            };
            for (kind, id) in gone {
                notifications::unwatch_job(tx, kind, id)?;
            }
            for id in moving {
                notifications::unwatch_job(tx, AlertKind::Stalled, id)?;
            }
            for (id, days_open) in unscored {
                // Scored since the read: not unscored any more.
                if crate::store::ranks::find_job_rank(tx, id)?.is_some() {
                    continue;
                }
                if notifications::watch_job(tx, AlertKind::Unscored, id, now)? && !first {
                    let detail = serde_json::json!({"days_open": days_open});
                    notifications::insert_alert_event(tx, AlertKind::Unscored, id, &detail, now)?;
                    report.unscored += 1;
                }
            }
            for (id, detail) in stalled {
                if notifications::watch_job(tx, AlertKind::Stalled, id, now)? && !first {
                    notifications::insert_alert_event(tx, AlertKind::Stalled, id, &detail, now)?;
                    report.stalled += 1;
                }
            }
            if first {
                notifications::set_watch_seeded(tx, now)?;
            }
            Ok(report)
        })
        .await?;
    Ok(report)
}

/// What [`make_batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Messages recorded (0 when no batch was made).
    pub messages: usize,
    /// Events still waiting for a batch.
    pub waiting: usize,
    /// The earliest the next batch may be made.
    pub next_possible: Option<DateTime<Utc>>,
}

/// Makes an alert batch of the events waiting at `now`, unless the last batch was made
/// less than [`BATCH_EVERY`] before: one message per recipient (of the events about
/// jobs they follow) and one Slack post, recorded with the batch in one transaction.
pub async fn make_batch(
    store: &Store,
    channels: &Channels,
    now: DateTime<Utc>,
) -> Result<BatchReport> {
    let inputs = store.read(Inputs::read).await?;
    let next_possible = inputs.last_batch.map(|at| at + BATCH_EVERY);
    if inputs.events.is_empty() || next_possible.is_some_and(|at| now < at) {
        return Ok(BatchReport {
            messages: 0,
            waiting: inputs.events.len(),
            next_possible,
        });
    }
    let messages = inputs.compose(channels)?;
    let ids: Vec<i64> = inputs.events.iter().map(|e| e.id).collect();
    let last = inputs.last_batch;
    let made = store
        .write(move |tx| {
            // Only the server makes batches; this guards against a second one anyway.
            if notifications::last_batch_at(tx)? != last {
                return Ok(None);
            }
            let batch = notifications::record_batch(tx, &ids, now, messages.len())?;
            let mut n = 0;
            for mut m in messages {
                m.batch = batch.to_string();
                if notifications::insert_message(tx, &m, now)? {
                    n += 1;
                }
            }
            Ok(Some(n))
        })
        .await?;
    Ok(BatchReport {
        messages: made.unwrap_or(0),
        waiting: if made.is_some() {
            0
        } else {
            inputs.events.len()
        },
        next_possible: Some(now + BATCH_EVERY),
    })
}

/// What a batch needs from the store.
struct Inputs {
    events: Vec<AlertEvent>,
    last_batch: Option<DateTime<Utc>>,
    jobs: HashMap<i64, Job>,
    users: Vec<User>,
    prefs: HashMap<String, Prefs>,
    recruiterflow: Vec<RecruiterflowUser>,
}

impl Inputs {
    fn read(c: &rusqlite::Connection) -> crate::store::Result<Inputs> {
        let events = notifications::waiting_events(c)?;
        let mut jobs = HashMap::new();
        for e in &events {
            if let Some(j) = jobs::find_job(c, e.job_id)? {
                jobs.insert(j.id, j);
            }
        }
        Ok(Inputs {
            events,
            last_batch: notifications::last_batch_at(c)?,
            jobs,
            users: users::list_users(c)?,
            prefs: notification_prefs::list_prefs(c)?,
            recruiterflow: recruiterflow_users::list_recruiterflow_users(c)?,
        })
    }

    /// The batch's messages (their batch is set when it is recorded): events about jobs
    /// closed since are left out.
    fn compose(&self, channels: &Channels) -> Result<Vec<NewMessage>> {
        let mut by_user: BTreeMap<usize, Vec<AlertLine>> = BTreeMap::new();
        let mut all = Vec::new();
        for e in &self.events {
            let Some(job) = self.jobs.get(&e.job_id).filter(|j| j.is_open) else {
                continue;
            };
            let line = alert_line(e, job, channels);
            for u in recipients(job, &self.users, &self.recruiterflow) {
                let i = self
                    .users
                    .iter()
                    .position(|x| x.id == u.id)
                    .unwrap_or(usize::MAX);
                by_user.entry(i).or_default().push(line.clone());
            }
            all.push(line);
        }
        let mut out = Vec::new();
        if channels.email_on() {
            for (i, lines) in by_user {
                let Some(u) = self.users.get(i) else { continue };
                if !self
                    .prefs
                    .get(&u.id)
                    .copied()
                    .unwrap_or_default()
                    .alerts_email
                {
                    continue;
                }
                let Some(to) = mailbox(u) else { continue };
                let email = AlertsEmail {
                    name: compose::first_name(&u.name),
                    lines,
                    me: channels.link("/me"),
                };
                out.push(NewMessage {
                    channel: Channel::Email,
                    recipient: u.id.clone(),
                    kind: Kind::Alerts,
                    batch: String::new(),
                    to_address: Some(to),
                    subject: email.subject(),
                    body_text: email.text(),
                    body_html: Some(email.html()?),
                    payload: None,
                });
            }
        }
        if channels.slack_on() && !all.is_empty() {
            let post = compose::slack_alerts(&all);
            out.push(NewMessage {
                channel: Channel::Slack,
                recipient: TEAM.into(),
                kind: Kind::Alerts,
                batch: String::new(),
                to_address: None,
                subject: post.text.clone(),
                body_text: post.text.clone(),
                body_html: None,
                payload: Some(slack_payload(&post)),
            });
        }
        Ok(out)
    }
}

/// Who is alerted about `job`: the active CEO, and the job's hiring-team members who
/// are active jobrank users, or every active scorer when none of them is.
pub fn recipients<'a>(
    job: &Job,
    users: &'a [User],
    recruiterflow: &[RecruiterflowUser],
) -> Vec<&'a User> {
    let mut out: Vec<&User> = users
        .iter()
        .filter(|u| u.active && u.role == Role::Ceo)
        .collect();
    let mut team: Vec<&User> = match_hiring_team(&job.hiring_team, recruiterflow, users)
        .into_iter()
        .flatten()
        .filter(|u| u.active)
        .collect();
    if team.is_empty() {
        team = users.iter().filter(|u| u.active && u.scores).collect();
    }
    for u in team {
        if !out.iter().any(|o| o.id == u.id) {
            out.push(u);
        }
    }
    out
}

/// An event in words.
fn alert_line(e: &AlertEvent, job: &Job, channels: &Channels) -> AlertLine {
    let d = &e.detail;
    let (what, short) = match e.kind {
        AlertKind::DroppedToC => {
            let from = d["from"].as_str().unwrap_or("a better rank");
            let what = match d["score"].as_f64() {
                Some(score) => format!("dropped to C (was {from}; team score {score:.2})"),
                None => format!("dropped to C (was {from})"),
            };
            (what, "dropped to C".to_string())
        }
        AlertKind::Unscored => {
            let days = d["days_open"].as_i64().unwrap_or(2);
            (
                format!(
                    "open {} and nobody has scored it yet",
                    compose::count(days.max(0) as usize, "day", "days")
                ),
                "is not scored yet".to_string(),
            )
        }
        AlertKind::Stalled => {
            let what = match (d["stage"].as_str(), d["avg_days"].as_f64()) {
                (Some(stage), Some(days)) => format!(
                    "the pipeline is stalled: candidates at {stage} have waited {days:.0} days on average"
                ),
                _ => "the pipeline is stalled".to_string(),
            };
            (what, "has a stalled pipeline".to_string())
        }
    };
    AlertLine {
        job: format!("{} ({})", job.title, job.client),
        what,
        short,
        url: channels.link(&format!("/jobs/{}", job.id)),
    }
}
