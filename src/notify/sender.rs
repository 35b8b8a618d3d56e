//! Sends the queue: claims the messages that are due, sends each through its channel
//! and records the outcome. A temporary failure (a 4xx answer, a connection refused or
//! dropped, a timeout, Slack's 429 or 5xx) is tried again after [`backoff`]; a
//! permanent one, or the [`MAX_ATTEMPTS`]th failure, makes the message a dead letter
//! (the admin page lists them with Retry). A password reset link not sent within its
//! 30 minutes is given up: it would no longer work.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Channels, Result};
use crate::mail::Email;
use crate::slack::SlackMessage;
use crate::store::Store;
use crate::store::notifications::{self, Channel, Kind, Message};

/// Failed attempts before a message becomes a dead letter.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a sender holds the messages it claimed (longer than one send may take).
const CLAIM: Duration = Duration::from_secs(300);
/// How many messages one claim takes.
const CLAIM_BATCH: i64 = 20;
/// How long a reset link works.
pub const RESET_LINK_VALID: chrono::Duration = chrono::Duration::minutes(30);

/// How long to wait after the `attempts`th failed attempt: 1 minute, doubling, at most
/// an hour (1, 2, 4, 8, 16, 32, 60 minutes: a dead letter about two hours after the
/// first try).
pub fn backoff(attempts: i64) -> chrono::Duration {
    let exp = attempts.clamp(1, 10) - 1;
    chrono::Duration::minutes((1i64 << exp).min(60))
}

/// What one drain did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    /// Failed for now, tried again later.
    pub retried: usize,
    /// Given up: dead letters.
    pub dead: usize,
    /// When the next pending message falls due.
    pub next_due: Option<DateTime<Utc>>,
}

impl DrainReport {
    /// Logs the counts (never an address or a message).
    pub fn log(&self) {
        if self.sent + self.retried + self.dead > 0 {
            tracing::info!(
                sent = self.sent,
                retried = self.retried,
                dead = self.dead,
                "notifications sent"
            );
        }
    }
}

/// How one attempt ended.
enum Attempt {
    Sent,
    Failed {
        error: String,
        temporary: bool,
        /// The least wait the server asked for (Slack's `Retry-After`).
        wait: Option<Duration>,
    },
}

/// Sends every message due at `now()` (claiming them first, a batch at a time) and
/// records each outcome.
pub async fn drain(
    store: &Store,
    channels: &Channels,
    now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
) -> Result<DrainReport> {
    let mut report = DrainReport::default();
    // A read first: a sender with nothing due writes nothing.
    let first_due = store.read(notifications::next_due_at).await?;
    if first_due.is_none_or(|at| at > now()) {
        report.next_due = first_due;
        return Ok(report);
    }
    loop {
        let at = now();
        let until = at + chrono::Duration::from_std(CLAIM).unwrap_or_default();
        let due = store
            .write(move |tx| notifications::claim_due(tx, at, until, CLAIM_BATCH))
            .await?;
        if due.is_empty() {
            break;
        }
        for m in due {
            let attempt = send_one(channels, &m, now()).await;
            let id = m.id;
            let at = now();
            match attempt {
                Attempt::Sent => {
                    store
                        .write(move |tx| notifications::mark_sent(tx, id, at))
                        .await?;
                    report.sent += 1;
                }
                Attempt::Failed {
                    error,
                    temporary,
                    wait,
                } => {
                    let retry_at = (temporary && m.attempts + 1 < MAX_ATTEMPTS).then(|| {
                        let wait = wait
                            .and_then(|w| chrono::Duration::from_std(w).ok())
                            .unwrap_or_default();
                        at + backoff(m.attempts + 1).max(wait)
                    });
                    if retry_at.is_some() {
                        report.retried += 1;
                    } else {
                        report.dead += 1;
                        tracing::warn!(
                            message = id,
                            kind = m.kind.as_str(),
                            channel = m.channel.as_str(),
                            recipients = 1,
                            error = %error,
                            "a notification became a dead letter"
                        );
                    }
                    store
                        .write(move |tx| notifications::mark_failed(tx, id, &error, retry_at))
                        .await?;
                }
            }
        }
    }
    report.next_due = store.read(notifications::next_due_at).await?;
    Ok(report)
}

/// One attempt at one message.
async fn send_one(channels: &Channels, m: &Message, now: DateTime<Utc>) -> Attempt {
    let refused = |error: String| Attempt::Failed {
        error,
        temporary: false,
        wait: None,
    };
    if m.kind == Kind::PasswordReset && now - m.created_at >= RESET_LINK_VALID {
        return refused(
            "the reset link expired before it could be sent; the user can ask for a new one".into(),
        );
    }
    match m.channel {
        Channel::Email => {
            let Some(mailer) = channels.mailer() else {
                return refused("email is not set up (JOBRANK_SMTP_URL)".into());
            };
            let Some(to) = m.to_address.clone() else {
                return refused("the message has no recipient address".into());
            };
            let email = Email {
                to,
                subject: m.subject.clone(),
                text: m.body_text.clone(),
                html: m.body_html.clone().unwrap_or_default(),
            };
            match mailer.send(&email).await {
                Ok(()) => Attempt::Sent,
                Err(e) => Attempt::Failed {
                    temporary: e.is_temporary(),
                    error: e.to_string(),
                    wait: None,
                },
            }
        }
        Channel::Slack => {
            let Some(hook) = channels.slack() else {
                return refused("Slack is not set up (JOBRANK_SLACK_WEBHOOK_URL)".into());
            };
            let body = match m
                .payload
                .as_deref()
                .map(serde_json::from_str::<serde_json::Value>)
            {
                Some(Ok(body)) => body,
                _ => return refused("the stored Slack message could not be read".into()),
            };
            match hook.post_json(&body).await {
                Ok(()) => Attempt::Sent,
                Err(e) => Attempt::Failed {
                    temporary: e.is_temporary(),
                    wait: e.retry_after(),
                    error: e.to_string(),
                },
            }
        }
    }
}

/// The JSON a Slack message is stored as.
pub fn slack_payload(message: &SlackMessage) -> String {
    serde_json::to_string(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let minutes: Vec<i64> = (1..=MAX_ATTEMPTS)
            .map(|n| backoff(n).num_minutes())
            .collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff(0).num_minutes(), 1);
        assert_eq!(backoff(1000).num_minutes(), 60);
    }
}
