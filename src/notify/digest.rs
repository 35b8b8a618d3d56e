//! The weekly digest, made once a week at `JOBRANK_DIGEST_AT` (local time):
//!
//! - to each active scorer with jobs that need their score (the dashboard's "needs my
//!   score": never scored, or their latest score at least the cadence old, and not
//!   skipped this week): how many and which (title, client, current rank), each with
//!   its scoring link;
//! - to the CEO: each scorer's participation last week (done of due, as
//!   [`crate::domain::Participation`] counts it) and the open jobs whose rank changed
//!   in the last 7 days (and their own jobs to score when they score);
//! - to the team's Slack channel, one post: how many jobs each scorer has to score,
//!   and the rank changes (participation goes to the CEO only).
//!
//! Nothing goes to someone with nothing to do, nor by email to someone who switched
//! the digest off on `/me`. A week's digest is made once (the week being the local
//! calendar week, Monday first): the messages and the record that the week's digest
//! was made are written in one transaction, so a second run in the same week, by the
//! server or by `jobrank notify digest`, records nothing new.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Local, NaiveDate, NaiveDateTime, Utc};

use super::compose::{self, DigestEmail, JobLine, MoveLine, ScorerLine, WeekLines};
use super::sender::slack_payload;
use super::{Channels, Result};
use crate::config::WeeklyAt;
use crate::domain::{Role, week_end, week_start};
use crate::store::notification_prefs::{self, Prefs};
use crate::store::notifications::{self, Channel, Kind, NewMessage, RankMove, TEAM};
use crate::store::users::{self, User};
use crate::store::{Store, dashboard, participation};

/// The Monday of the local calendar week holding `now`.
pub fn local_week(now: DateTime<Utc>) -> NaiveDate {
    monday_of(now.with_timezone(&Local).date_naive())
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The week (its Monday) whose digest is due at `now`: the local week, once its
/// `JOBRANK_DIGEST_AT` has passed (so a server that was down at that time catches up
/// when it starts, later that week).
pub fn due_week(now: DateTime<Utc>, at: WeeklyAt) -> Option<NaiveDate> {
    due_week_local(now.with_timezone(&Local).naive_local(), at)
}

/// [`due_week`] on a local date and time.
pub fn due_week_local(now: NaiveDateTime, at: WeeklyAt) -> Option<NaiveDate> {
    let monday = monday_of(now.date());
    let day = monday + Duration::days(i64::from(at.weekday.num_days_from_monday()));
    (now >= day.and_time(at.time)).then_some(monday)
}

/// One message of a digest, with whom it is for in words (for `--dry-run`).
#[derive(Debug, Clone)]
pub struct Planned {
    /// "Tom Okafor <tom@agency.example>", or "the team's Slack channel".
    pub to: String,
    pub message: NewMessage,
}

/// What the digest of `week` would send, as read at `now`, through the configured
/// channels (email as well when `preview_email`, for a dry run without SMTP).
pub async fn plan(
    store: &Store,
    channels: &Channels,
    now: DateTime<Utc>,
    week: NaiveDate,
    preview_email: bool,
) -> Result<Vec<Planned>> {
    let inputs = store.read(move |c| Inputs::read(c, now)).await?;
    inputs.compose(channels, week, channels.email_on() || preview_email)
}

/// What making a week's digest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// Made now, recording this many messages (0 when nobody had anything to do).
    New { week: NaiveDate, messages: usize },
    /// The week's digest was made before, at `made_at`; nothing new was recorded.
    Already {
        week: NaiveDate,
        made_at: DateTime<Utc>,
        messages: i64,
    },
}

/// Makes the digest of `week` as of `now`: records its messages (the sender sends
/// them) and that the week's digest was made, in one transaction; nothing when it was
/// made before.
pub async fn make(
    store: &Store,
    channels: &Channels,
    now: DateTime<Utc>,
    week: NaiveDate,
) -> Result<Made> {
    if let Some((made_at, messages)) = store
        .read(move |c| notifications::find_digest(c, week))
        .await?
    {
        return Ok(Made::Already {
            week,
            made_at,
            messages,
        });
    }
    let planned = plan(store, channels, now, week, false).await?;
    let made = store
        .write(move |tx| {
            if let Some((made_at, messages)) = notifications::find_digest(tx, week)? {
                return Ok(Made::Already {
                    week,
                    made_at,
                    messages,
                });
            }
            let mut n = 0;
            for p in &planned {
                if notifications::insert_message(tx, &p.message, now)? {
                    n += 1;
                }
            }
            notifications::record_digest(tx, week, now, n)?;
            Ok(Made::New { week, messages: n })
        })
        .await?;
    Ok(made)
}

/// A job that needs someone's score.
struct ToScore {
    id: i64,
    title: String,
    client: String,
    rank: Option<String>,
}

/// Last week's participation: its Monday and each scorer who had jobs due.
struct LastWeek {
    monday: NaiveDate,
    scorers: Vec<ScorerLine>,
}

/// Everything a digest says, read from the store at one moment.
struct Inputs {
    users: Vec<User>,
    prefs: HashMap<String, Prefs>,
    /// Each active scorer's jobs that need their score, in the dashboard's order.
    to_score: HashMap<String, Vec<ToScore>>,
    last_week: Option<LastWeek>,
    moves: Vec<RankMove>,
}

impl Inputs {
    fn read(c: &rusqlite::Connection, now: DateTime<Utc>) -> crate::store::Result<Inputs> {
        let users = users::list_users(c)?;
        let prefs = notification_prefs::list_prefs(c)?;
        let mut to_score = HashMap::new();
        for u in users.iter().filter(|u| u.active && u.scores) {
            let jobs = dashboard::dashboard_jobs(c, &u.id, now)?
                .into_iter()
                .filter(|j| j.needs_my_score)
                .map(|j| ToScore {
                    rank: j.rank.as_ref().map(|r| r.rank.as_str().to_string()),
                    id: j.id,
                    title: j.title,
                    client: j.client,
                })
                .collect();
            to_score.insert(u.id.clone(), jobs);
        }
        let report = participation::participation(c, 2, now)?;
        let last_week = report.weeks.iter().find(|w| w.complete).map(|w| LastWeek {
            monday: w.week,
            scorers: w
                .scorers
                .iter()
                .filter(|s| s.due_count() > 0)
                .map(|s| ScorerLine {
                    name: report
                        .name_of(&s.scorer_id)
                        .unwrap_or("A former scorer")
                        .to_string(),
                    done: s.done_count(),
                    due: s.due_count(),
                })
                .collect(),
        });
        let moves = notifications::rank_moves_between(c, now - Duration::days(7), now)?;
        Ok(Inputs {
            users,
            prefs,
            to_score,
            last_week,
            moves,
        })
    }

    /// The messages: an email to each person with something to do (when `email`), one
    /// Slack post when the channel is on and there is anything to say.
    fn compose(&self, channels: &Channels, week: NaiveDate, email: bool) -> Result<Vec<Planned>> {
        let batch = week.to_string();
        let week_words = compose::day(week);
        let moves: Vec<MoveLine> = self
            .moves
            .iter()
            .map(|m| MoveLine {
                title: m.title.clone(),
                client: m.client.clone(),
                from: m.from.map_or("no rank".into(), |r| r.as_str().to_string()),
                to: m.to.as_str().to_string(),
                url: channels.link(&format!("/jobs/{}", m.job_id)),
            })
            .collect();
        let participation = self.last_week.as_ref().map(|w| WeekLines {
            period: format!(
                "{} to {}",
                compose::day(week_start(w.monday).date_naive()),
                compose::day((week_end(w.monday) - Duration::days(1)).date_naive())
            ),
            scorers: w.scorers.clone(),
        });
        let mut out = Vec::new();
        for u in self.users.iter().filter(|u| u.active) {
            let wants = self
                .prefs
                .get(&u.id)
                .copied()
                .unwrap_or_default()
                .digest_email;
            if !email || !wants {
                continue;
            }
            let ceo = u.role == Role::Ceo;
            let to_score = self
                .to_score
                .get(&u.id)
                .map(|jobs| {
                    jobs.iter()
                        .map(|j| JobLine {
                            title: j.title.clone(),
                            client: j.client.clone(),
                            rank: j.rank.clone().unwrap_or_else(|| "no rank yet".into()),
                            url: channels.link(&format!("/jobs/{}/score", j.id)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let d = DigestEmail {
                name: compose::first_name(&u.name),
                week: week_words.clone(),
                to_score,
                participation: if ceo { participation.clone() } else { None },
                moves: ceo.then(|| moves.clone()),
                dashboard: channels.link("/"),
                me: channels.link("/me"),
            };
            if !d.has_news() {
                continue;
            }
            let Some(to) = mailbox(u) else {
                continue;
            };
            out.push(Planned {
                to: to.clone(),
                message: NewMessage {
                    channel: Channel::Email,
                    recipient: u.id.clone(),
                    kind: Kind::Digest,
                    batch: batch.clone(),
                    to_address: Some(to),
                    subject: d.subject(),
                    body_text: d.text(),
                    body_html: Some(d.html()?),
                    payload: None,
                },
            });
        }
        if channels.slack_on() {
            let counts: Vec<(String, usize)> = self
                .users
                .iter()
                .filter(|u| u.active && u.scores)
                .filter_map(|u| {
                    let n = self.to_score.get(&u.id).map_or(0, Vec::len);
                    (n > 0).then(|| (u.name.clone(), n))
                })
                .collect();
            if !counts.is_empty() || !moves.is_empty() {
                let post = compose::slack_digest(
                    &week_words,
                    &counts,
                    &moves,
                    channels.link("/").as_deref(),
                );
                out.push(Planned {
                    to: "the team's Slack channel".into(),
                    message: NewMessage {
                        channel: Channel::Slack,
                        recipient: TEAM.into(),
                        kind: Kind::Digest,
                        batch,
                        to_address: None,
                        subject: post.text.clone(),
                        body_text: post.text.clone(),
                        body_html: None,
                        payload: Some(slack_payload(&post)),
                    },
                });
            }
        }
        Ok(out)
    }
}

/// A user's address as a message's recipient, `"Name" <address>` quoted as email
/// needs; `None` when their address is not one an SMTP server takes.
pub fn mailbox(u: &User) -> Option<String> {
    let address = u.email.trim().parse().ok()?;
    Some(lettre::message::Mailbox::new(Some(u.name.clone()), address).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Weekday};

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_digest_is_due_from_its_day_and_time_until_the_week_ends() {
        let mon = WeeklyAt {
            weekday: Weekday::Mon,
            time: NaiveTime::from_hms_opt(8, 30, 0).unwrap(),
        };
        let week = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(due_week_local(at("2026-12-07 08:29"), mon), None);
        assert_eq!(due_week_local(at("2026-12-07 08:30"), mon), Some(week));
        assert_eq!(due_week_local(at("2026-12-13 23:59"), mon), Some(week));
        assert_eq!(
            due_week_local(at("2026-12-14 08:00"), mon),
            None,
            "the next week's is not due before its Monday 08:30"
        );
        let fri = WeeklyAt {
            weekday: Weekday::Fri,
            time: NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
        };
        assert_eq!(due_week_local(at("2026-12-10 18:00"), fri), None);
        assert_eq!(due_week_local(at("2026-12-11 16:00"), fri), Some(week));
        assert_eq!(due_week_local(at("2026-12-13 09:00"), fri), Some(week));
    }

    #[test]
    fn addresses_are_quoted_as_email_needs() {
        let mut u = User {
            id: "u".into(),
            email: "tom@agency.example".into(),
            name: "Okafor, Tom".into(),
            role: Role::AccountManager,
            scores: true,
            active: true,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(mailbox(&u).unwrap(), "\"Okafor, Tom\" <tom@agency.example>");
        u.email = "not an address".into();
        assert_eq!(mailbox(&u), None);
    }
}
