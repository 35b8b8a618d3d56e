//! A Slack-compatible incoming webhook: posts one team message (text, optionally with
//! simple blocks) and checks that the URL answers.
//!
//! The webhook URL is a secret (whoever has it can post to the channel): it never
//! appears in logs, errors or `Debug` output. Like the Recruiterflow client, no
//! redirect is followed (it would carry the message elsewhere) and the URL must be
//! `https://`, or `http://` on a loopback address only.
//!
//! Failures say whether trying again later may help ([`SlackError::is_temporary`]):
//! 429 (with its `Retry-After`), 5xx, timeouts and connections refused or dropped are
//! temporary; every other answer (`invalid_token`, `no_service`,
//! `channel_is_archived`, a redirect, ...) is permanent.

use std::time::Duration;

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use url::Url;

const SETTING: &str = "JOBRANK_SLACK_WEBHOOK_URL";

/// One message: `text` is shown in notifications and by clients without blocks;
/// `blocks`, when given, are what the channel shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlackMessage {
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
}

/// The few Block Kit blocks jobrank uses. Text in `Section` and `Context` is Slack's
/// mrkdwn: pass anything that came from people or Recruiterflow through [`escape`].
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading (plain text, at most 150 characters).
    Header(String),
    /// A paragraph of mrkdwn.
    Section(String),
    /// Small print in mrkdwn.
    Context(String),
    Divider,
}

impl Serialize for Block {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = |kind: &str, t: &str| serde_json::json!({"type": kind, "text": t});
        let v = match self {
            Block::Header(t) => {
                let short: String = t.chars().take(150).collect();
                serde_json::json!({"type": "header", "text": text("plain_text", &short)})
            }
            Block::Section(t) => serde_json::json!({"type": "section", "text": text("mrkdwn", t)}),
            Block::Context(t) => {
                serde_json::json!({"type": "context", "elements": [text("mrkdwn", t)]})
            }
            Block::Divider => serde_json::json!({"type": "divider"}),
        };
        v.serialize(s)
    }
}

/// `text` safe inside mrkdwn: `&`, `<` and `>` escaped as Slack asks, so a job title
/// cannot become a link, a mention or markup.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A mrkdwn link `<url|label>`, the label escaped (and `|` kept out of the URL).
pub fn link(url: &str, label: &str) -> String {
    format!("<{}|{}>", escape(url).replace('|', "%7C"), escape(label))
}

/// Why a post failed.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// The webhook URL is unusable; nothing was sent.
    #[error("{SETTING} {0}")]
    Config(String),
    /// Trying again later may work.
    #[error("the Slack webhook failed for now: {detail}")]
    Temporary {
        detail: String,
        /// How long the server asked to wait (429 `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Trying again will not work until something changes.
    #[error("the Slack webhook refused the message: {detail}")]
    Permanent { detail: String },
}

impl SlackError {
    /// Whether the same post may go through later.
    pub fn is_temporary(&self) -> bool {
        matches!(self, SlackError::Temporary { .. })
    }

    /// How long the server asked to wait before the next post.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SlackError::Temporary { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Posts to one incoming webhook. Cheap to clone.
#[derive(Clone)]
pub struct SlackWebhook {
    http: reqwest::Client,
    url: SecretString,
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackWebhook")
            .field("url", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// Whether `url` may be the webhook: `https://`, or `http://` on a loopback address.
/// The message does not repeat the URL.
fn check_url(url: &Url) -> Result<(), SlackError> {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(SlackError::Config(
            "must start with https:// (plain http:// only to a loopback address such as 127.0.0.1)"
                .into(),
        )),
        _ => Err(SlackError::Config(
            "must be an https:// URL (e.g. https://hooks.slack.com/services/...)".into(),
        )),
    }
}

impl SlackWebhook {
    /// A webhook client for `url`, waiting at most `timeout` for each post. Installs
    /// the TLS crypto provider if nothing has.
    pub fn new(url: SecretString, timeout: Duration) -> Result<SlackWebhook, SlackError> {
        let parsed = Url::parse(url.expose_secret().trim())
            .map_err(|_| SlackError::Config("is not a URL".into()))?;
        check_url(&parsed)?;
        crate::install_crypto();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jobrank/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SlackError::Config(format!("cannot set up HTTPS: {}", e.without_url())))?;
        Ok(SlackWebhook {
            http,
            url: SecretString::from(parsed.to_string()),
        })
    }

    /// Posts one message.
    pub async fn post(&self, message: &SlackMessage) -> Result<(), SlackError> {
        let body = serde_json::to_value(message).map_err(|e| SlackError::Permanent {
            detail: format!("the message could not be written: {e}"),
        })?;
        self.post_json(&body).await
    }

    /// Posts one message already written as Slack's JSON (`{"text", "blocks"}`), as a
    /// queue stores it.
    pub async fn post_json(&self, body: &serde_json::Value) -> Result<(), SlackError> {
        tracing::debug!("posting to Slack");
        let (status, answer, retry_after) = self.send(body).await?;
        if status.is_success() {
            return Ok(());
        }
        Err(failure(status, &answer, retry_after))
    }

    /// Proves the URL without posting anything visible: sends a message with no text,
    /// which Slack refuses with 400 `no_text` once it has found the webhook (a wrong
    /// URL gets `invalid_token`, `no_service` or a 404 instead). A server that accepts
    /// the empty message proves the URL as well.
    pub async fn check(&self) -> Result<(), SlackError> {
        let (status, answer, retry_after) = self.send(&serde_json::json!({})).await?;
        if status.is_success() || (status == StatusCode::BAD_REQUEST && answer == "no_text") {
            return Ok(());
        }
        Err(failure(status, &answer, retry_after))
    }

    /// Sends a JSON body; the status, the answer's text (trimmed, shortened, control
    /// characters dropped) and `Retry-After`.
    async fn send(
        &self,
        body: &serde_json::Value,
    ) -> Result<(StatusCode, String, Option<Duration>), SlackError> {
        let resp = self
            .http
            .post(self.url.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(transport_failure)?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp.text().await.map_err(transport_failure)?;
        let answer: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect();
        Ok((status, answer, retry_after))
    }
}

/// A failed answer, classified: 429 and 5xx temporary, anything else permanent.
fn failure(status: StatusCode, answer: &str, retry_after: Option<Duration>) -> SlackError {
    let detail = if answer.is_empty() {
        format!("HTTP {}", status.as_u16())
    } else {
        format!("HTTP {} {answer}", status.as_u16())
    };
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        SlackError::Temporary {
            detail,
            retry_after,
        }
    } else if status.is_redirection() {
        SlackError::Permanent {
            detail: format!("{detail}: a redirect, which jobrank does not follow; check {SETTING}"),
        }
    } else {
        SlackError::Permanent { detail }
    }
}

/// A request that got no answer: temporary, described without the URL.
fn transport_failure(e: reqwest::Error) -> SlackError {
    let timeout = e.is_timeout();
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    SlackError::Temporary {
        detail: if timeout {
            "no answer in time".into()
        } else {
            format!("cannot reach the webhook: {detail}")
        },
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_serialise_as_slack_expects() {
        let m = SlackMessage {
            text: "Weekly digest".into(),
            blocks: vec![
                Block::Header("Weekly digest".into()),
                Block::Section(format!("*{}*", escape("R&D <Lead>"))),
                Block::Divider,
                Block::Context(link("https://jobrank.example/jobs/7?a=1|2", "Job <7>")),
            ],
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({
                "text": "Weekly digest",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Weekly digest"}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": "*R&amp;D &lt;Lead&gt;*"}},
                    {"type": "divider"},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "<https://jobrank.example/jobs/7?a=1%7C2|Job &lt;7&gt;>"}]}
                ]
            })
        );
        let plain = SlackMessage {
            text: "hi".into(),
            blocks: vec![],
        };
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"text":"hi"}"#);
    }

    #[test]
    fn the_url_must_be_https_unless_loopback_and_is_never_repeated() {
        let new = |u: &str| SlackWebhook::new(SecretString::from(u), Duration::from_secs(5));
        new("https://hooks.slack.com/services/T0/B0/abc").unwrap();
        new("http://127.0.0.1:9/services/x").unwrap();
        new("http://[::1]:9/hook").unwrap();
        for bad in [
            "http://hooks.slack.com/services/T0/B0/s3cr3tpart",
            "ftp://hooks.slack.com/services/T0/B0/s3cr3tpart",
            "hooks.slack.com/services/T0/B0/s3cr3tpart",
        ] {
            let e = new(bad).unwrap_err().to_string();
            assert!(e.starts_with("JOBRANK_SLACK_WEBHOOK_URL "), "{e}");
            assert!(!e.contains("s3cr3tpart"), "{e}");
        }
        let w = new("https://hooks.slack.com/services/T0/B0/s3cr3tpart").unwrap();
        assert!(!format!("{w:?}").contains("s3cr3tpart"));
    }

    #[test]
    fn answers_are_classified() {
        let f = |code: u16, body: &str| {
            failure(StatusCode::from_u16(code).unwrap(), body, None).is_temporary()
        };
        assert!(f(429, "rate_limited"));
        assert!(f(500, "rollup_error"));
        assert!(f(503, ""));
        assert!(!f(403, "invalid_token"));
        assert!(!f(404, "no_service"));
        assert!(!f(410, "channel_is_archived"));
        assert!(!f(400, "invalid_payload"));
        assert!(!f(302, ""));
    }
}
