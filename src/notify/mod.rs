//! Notifications: the weekly digest, alerts and password reset links, by email
//! ([`crate::mail`]) and to the team's Slack channel ([`crate::slack`]).
//!
//! Every message goes through the store's durable queue
//! ([`crate::store::notifications`]): it is recorded first, once per recipient and
//! week, alert batch or link, and then sent by [`sender`], which retries temporary
//! failures with backoff and makes a dead letter of the rest. What each message says
//! is written by [`compose`] (plain text and simple HTML, or Slack blocks).
//!
//! - [`digest`]: at `JOBRANK_DIGEST_AT` each week, to each active scorer the jobs that
//!   need their score, to the CEO last week's participation and the week's rank
//!   changes, and one post to the team channel.
//! - [`alerts`]: a job dropped to C (recorded by the store commands), a new job nobody
//!   scored after 2 days and a pipeline newly stalled (found by a periodic check),
//!   batched: at most one alert message per recipient per hour.
//!
//! Three background tasks run them while serving: `notify_digest`, `notify_alerts` and
//! `notify_sender`. Every rule that depends on the time takes it as a parameter (the
//! tasks read the application's clock), so tests move the clock instead of waiting.
//! Logs name how many recipients, never an address or what a message says.

pub mod alerts;
pub mod compose;
pub mod digest;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use url::Url;

use crate::config::{Config, WeeklyAt};
use crate::mail::{MailError, MailSettings, Mailer};
use crate::slack::{SlackError, SlackWebhook};
use crate::store::{Store, StoreError};
use crate::tasks::{Next, Running, StopSignal, Task};

/// Why notifications could not be set up or made.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a message could not be written: {0}")]
    Template(#[from] askama::Error),
}

impl NotifyError {
    /// Whether a setting is wrong (the command line exits 2 for these).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            NotifyError::Mail(MailError::Config { .. }) | NotifyError::Slack(SlackError::Config(_))
        )
    }
}

pub type Result<T, E = NotifyError> = std::result::Result<T, E>;

/// How long one Slack post may take.
const SLACK_TIMEOUT: Duration = Duration::from_secs(30);

/// The ways out: email and the Slack channel (either may be off), and the public URL
/// links point to.
#[derive(Clone, Default)]
pub struct Channels {
    mailer: Option<Mailer>,
    slack: Option<SlackWebhook>,
    public_url: Option<Url>,
}

impl std::fmt::Debug for Channels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("email", &self.mailer.is_some())
            .field("slack", &self.slack.is_some())
            .finish_non_exhaustive()
    }
}

impl Channels {
    /// The channels the configuration sets up. A wrong setting is an error naming it.
    pub fn from_config(config: &Config) -> Result<Channels> {
        let n = &config.notify;
        let mailer = match &n.smtp_url {
            Some(url) => {
                let mut s = MailSettings::new(url.clone(), n.mail_from.clone().unwrap_or_default());
                s.ca_file = n.smtp_ca_file.clone();
                Some(Mailer::new(&s)?)
            }
            None => None,
        };
        let slack = match &n.slack_webhook_url {
            Some(url) => Some(SlackWebhook::new(url.clone(), SLACK_TIMEOUT)?),
            None => None,
        };
        Ok(Channels::new(mailer, slack, config.public_url.clone()))
    }

    pub fn new(
        mailer: Option<Mailer>,
        slack: Option<SlackWebhook>,
        public_url: Option<Url>,
    ) -> Self {
        Channels {
            mailer,
            slack,
            public_url,
        }
    }

    pub fn mailer(&self) -> Option<&Mailer> {
        self.mailer.as_ref()
    }

    pub fn slack(&self) -> Option<&SlackWebhook> {
        self.slack.as_ref()
    }

    /// Whether email can be sent.
    pub fn email_on(&self) -> bool {
        self.mailer.is_some()
    }

    /// Whether the team channel gets posts.
    pub fn slack_on(&self) -> bool {
        self.slack.is_some()
    }

    /// Whether anything can be sent at all.
    pub fn any(&self) -> bool {
        self.email_on() || self.slack_on()
    }

    pub fn public_url(&self) -> Option<&Url> {
        self.public_url.as_ref()
    }

    /// The absolute link to `path` on this site, when the public URL is known (under
    /// its path, when jobrank is served under one).
    pub fn link(&self, path: &str) -> Option<String> {
        let base = self.public_url.as_ref()?;
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path.trim_start_matches('/'))
            .ok()
            .map(|u| u.to_string())
    }
}

/// Reads the time: the application's clock while serving, the system's on the command
/// line, the test's in tests.
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The running notifications of a server: its channels, when the digest goes out, and
/// the triggers that wake each task. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    channels: Channels,
    digest_at: WeeklyAt,
    send: Arc<Notify>,
    alerts: Arc<Notify>,
    digest: Arc<Notify>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("channels", &self.channels)
            .field("digest_at", &self.digest_at.to_string())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// The notifier the configuration asks for: `None` when neither email nor Slack is
    /// set up.
    pub fn from_config(config: &Config) -> Result<Option<Notifier>> {
        let channels = Channels::from_config(config)?;
        Ok(channels
            .any()
            .then(|| Notifier::new(channels, config.notify.digest_at)))
    }

    pub fn new(channels: Channels, digest_at: WeeklyAt) -> Notifier {
        Notifier {
            channels,
            digest_at,
            send: Arc::default(),
            alerts: Arc::default(),
            digest: Arc::default(),
        }
    }

    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    pub fn digest_at(&self) -> WeeklyAt {
        self.digest_at
    }

    /// Sends what is due now rather than at the sender's next turn.
    pub fn wake_sender(&self) {
        self.send.notify_one();
    }

    /// Runs the alert check and batching now.
    pub fn wake_alerts(&self) {
        self.alerts.notify_one();
    }

    /// Looks now whether the weekly digest is due.
    pub fn wake_digest(&self) {
        self.digest.notify_one();
    }

    /// Starts `notify_digest`, `notify_alerts` and `notify_sender`, each looking every
    /// `every` (and when woken), reading the time from `now`.
    pub fn spawn(
        &self,
        store: &Store,
        now: Now,
        every: Duration,
        stop: &StopSignal,
    ) -> Vec<Running> {
        vec![
            self.spawn_digest(store, now.clone(), every, stop),
            self.spawn_alerts(store, now.clone(), every, stop),
            self.spawn_sender(store, now, every, stop),
        ]
    }

    fn spawn_digest(&self, store: &Store, now: Now, every: Duration, stop: &StopSignal) -> Running {
        let (me, store) = (self.clone(), store.clone());
        Task::new("notify_digest")
            .every(every)
            .woken_by(self.digest.clone())
            .spawn(stop, move |_| {
                let (me, store, now) = (me.clone(), store.clone(), now());
                async move {
                    let Some(week) = digest::due_week(now, me.digest_at) else {
                        return Ok(());
                    };
                    if let digest::Made::New { messages, .. } =
                        digest::make(&store, &me.channels, now, week).await?
                    {
                        tracing::info!(messages, "weekly digest made");
                        me.wake_sender();
                    }
                    Ok(())
                }
            })
    }

    fn spawn_alerts(&self, store: &Store, now: Now, every: Duration, stop: &StopSignal) -> Running {
        let (me, store) = (self.clone(), store.clone());
        Task::new("notify_alerts")
            .every(every)
            .woken_by(self.alerts.clone())
            .spawn(stop, move |_| {
                let (me, store, now) = (me.clone(), store.clone(), now());
                async move {
                    alerts::check(&store, now).await?;
                    let batch = alerts::make_batch(&store, &me.channels, now).await?;
                    if batch.messages > 0 {
                        tracing::info!(messages = batch.messages, "alert batch made");
                        me.wake_sender();
                    }
                    Ok(match batch.next_possible {
                        Some(at) if batch.waiting > 0 => Next::Within(until(now, at)),
                        _ => Next::OnSchedule,
                    })
                }
            })
    }

    fn spawn_sender(&self, store: &Store, now: Now, every: Duration, stop: &StopSignal) -> Running {
        let (me, store) = (self.clone(), store.clone());
        Task::new("notify_sender")
            .every(every)
            .woken_by(self.send.clone())
            .spawn(stop, move |_| {
                let (me, store, now) = (me.clone(), store.clone(), now.clone());
                async move {
                    let report = sender::drain(&store, &me.channels, &*now).await?;
                    report.log();
                    Ok(match report.next_due {
                        Some(at) => Next::Within(until(now(), at)),
                        None => Next::OnSchedule,
                    })
                }
            })
    }
}

/// How long from `now` until `at` (nothing when it has passed).
fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    (at - now).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_under_the_public_url() {
        let at = |base: &str| Channels::new(None, None, Some(Url::parse(base).unwrap()));
        assert_eq!(
            at("https://jobrank.example").link("/jobs/7/score").unwrap(),
            "https://jobrank.example/jobs/7/score"
        );
        assert_eq!(
            at("https://agency.example/jobrank").link("/me").unwrap(),
            "https://agency.example/jobrank/me"
        );
        assert_eq!(
            at("https://agency.example/jobrank/")
                .link("/login/reset?token=ab")
                .unwrap(),
            "https://agency.example/jobrank/login/reset?token=ab"
        );
        assert_eq!(Channels::default().link("/me"), None);
    }
}
