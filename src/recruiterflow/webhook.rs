//! Recruiterflow webhooks: signature and path-token checks (constant time), replay
//! protection, and reading an event into what the inbox stores. An event is only a
//! notification: processing fetches the authoritative job from the API.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::model::value_i64;
use crate::store::inbox::NewEvent;

/// Largest webhook body accepted (1 MiB); larger ones are answered 413.
pub const MAX_BODY: usize = 1 << 20;

/// How far a signed timestamp may be from now before the event is refused as a replay.
pub const REPLAY_WINDOW_SECS: i64 = 5 * 60;

/// The signature header: hex HMAC-SHA256 of the body (or of `timestamp.body`).
pub const SIGNATURE_HEADER: &str = "x-recruiterflow-signature";

/// The optional timestamp header; when present the signature covers `timestamp.body`.
pub const TIMESTAMP_HEADER: &str = "x-recruiterflow-timestamp";

/// The events jobrank acts on; any other type is recorded and ignored.
pub const KNOWN_EVENTS: &[&str] = &[
    "job.created",
    "job.updated",
    "job.archived",
    "candidate.stage_changed",
    "candidate.added_to_job",
];

/// Why a webhook request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRejection {
    #[error("webhooks are refused: RECRUITERFLOW_WEBHOOK_SECRET is not set")]
    NoSecret,
    #[error("the X-Recruiterflow-Signature header is missing")]
    MissingSignature,
    #[error("the X-Recruiterflow-Signature header is not a hex HMAC-SHA256")]
    MalformedSignature,
    #[error("the X-Recruiterflow-Signature does not match the body")]
    BadSignature,
    #[error("the X-Recruiterflow-Timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the X-Recruiterflow-Timestamp is more than 5 minutes from now: refused as a replay")]
    Replay,
    #[error("the webhook path token is wrong")]
    BadToken,
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be a JSON object, not {0}")]
    NotAnObject(&'static str),
}

impl WebhookRejection {
    /// Whether the sender failed to prove who it is (401) rather than sent bad data (400).
    pub fn is_unauthorized(&self) -> bool {
        !matches!(
            self,
            WebhookRejection::MalformedJson(_) | WebhookRejection::NotAnObject(_)
        )
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length")
}

/// The hex signature a sender computes: HMAC-SHA256 over `timestamp.body` when a
/// timestamp is sent, else over the body.
pub fn sign(secret: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    let mut m = mac(secret);
    if let Some(t) = timestamp {
        m.update(t.as_bytes());
        m.update(b".");
    }
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Checks a request's signature in constant time, and its timestamp (when sent)
/// against the replay window.
pub fn verify_signature(
    secret: &[u8],
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookRejection> {
    let sig = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookRejection::MissingSignature)?;
    let hex_part = sig
        .strip_prefix("sha256=")
        .or_else(|| sig.strip_prefix("SHA256="))
        .unwrap_or(sig);
    let tag = hex::decode(hex_part).map_err(|_| WebhookRejection::MalformedSignature)?;
    if tag.len() != 32 {
        return Err(WebhookRejection::MalformedSignature);
    }
    let timestamp = timestamp.map(str::trim);
    let mut m = mac(secret);
    if let Some(t) = timestamp {
        m.update(t.as_bytes());
        m.update(b".");
    }
    m.update(body);
    m.verify_slice(&tag)
        .map_err(|_| WebhookRejection::BadSignature)?;
    // Only a signed timestamp is trusted, so it is checked after the signature.
    if let Some(t) = timestamp {
        let secs: i64 = t.parse().map_err(|_| WebhookRejection::BadTimestamp)?;
        if !within_replay_window(secs, now.timestamp()) {
            return Err(WebhookRejection::Replay);
        }
    }
    Ok(())
}

/// Whether a sender's timestamp (Unix seconds, or milliseconds when above 10^11) is
/// within [`REPLAY_WINDOW_SECS`] of `now`. Checked arithmetic: any value, however
/// absurd (`i64::MIN`, `i64::MAX`), is simply outside the window.
fn within_replay_window(sent: i64, now: i64) -> bool {
    let secs = if sent > 100_000_000_000 {
        sent / 1000
    } else {
        sent
    };
    now.checked_sub(secs)
        .and_then(i64::checked_abs)
        .is_some_and(|off| off <= REPLAY_WINDOW_SECS)
}

/// Compares a path token with the configured one in constant time (both are run
/// through HMAC and the tags compared with `verify_slice`).
pub fn token_matches(expected: &str, given: &str) -> bool {
    const KEY: &[u8] = b"jobrank webhook path token";
    let mut want = mac(KEY);
    want.update(expected.as_bytes());
    let want = want.finalize().into_bytes();
    let mut got = mac(KEY);
    got.update(given.as_bytes());
    got.verify_slice(&want).is_ok()
}

/// What the inbox needs to know about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEvent {
    /// `event:<id>` or, without an id, `sha256:<hex of the body>`.
    pub event_key: String,
    pub event_type: String,
    pub job_id: Option<i64>,
    pub known: bool,
}

/// Reads an event body. The type is `event`, `type` or `event_type`; the event id is
/// `event_id` or `id`; the job id is `data.job_id`, `data.job.id`, `job_id` or (for
/// job events) `data.id`, as a number or a string.
pub fn parse_event(body: &[u8]) -> Result<ParsedEvent, WebhookRejection> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        WebhookRejection::MalformedJson(if body.is_empty() {
            "the body is empty".into()
        } else {
            e.to_string()
        })
    })?;
    if !v.is_object() {
        return Err(WebhookRejection::NotAnObject(super::model::kind(&v)));
    }
    let event_type = ["event", "type", "event_type"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let event_id = ["event_id", "id"].iter().find_map(|k| match v.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    });
    let event_key = match event_id {
        Some(id) => format!("event:{id}"),
        None => format!("sha256:{}", hex::encode(Sha256::digest(body))),
    };
    let data = v.get("data");
    let mut job_id = data
        .and_then(|d| d.get("job_id"))
        .and_then(value_i64)
        .or_else(|| {
            data.and_then(|d| d.get("job"))
                .and_then(|j| j.get("id"))
                .and_then(value_i64)
        })
        .or_else(|| v.get("job_id").and_then(value_i64));
    if job_id.is_none() && event_type.starts_with("job.") {
        job_id = data.and_then(|d| d.get("id")).and_then(value_i64);
    }
    let known = KNOWN_EVENTS.contains(&event_type.as_str());
    Ok(ParsedEvent {
        event_key,
        event_type,
        job_id,
        known,
    })
}

impl ParsedEvent {
    /// The inbox row for this event: pending when it names a job jobrank acts on,
    /// ignored (recorded only) otherwise.
    pub fn to_new_event(&self, body: &[u8]) -> NewEvent {
        let (status, note) = match (self.known, self.job_id) {
            (true, Some(_)) => ("pending", None),
            (true, None) => ("ignored", Some("the event names no job".to_string())),
            (false, _) => (
                "ignored",
                Some(format!("unknown event type {:?}", self.event_type)),
            ),
        };
        NewEvent {
            event_key: self.event_key.clone(),
            event_type: self.event_type.clone(),
            job_id: self.job_id,
            body: String::from_utf8_lossy(body).into_owned(),
            status,
            note,
        }
    }

    /// Whether processing this event fetches a job.
    pub fn is_actionable(&self) -> bool {
        self.known && self.job_id.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test";

    #[test]
    fn signatures_verify_with_and_without_prefix_and_timestamp() {
        let now = Utc::now();
        let body = br#"{"event":"job.updated","data":{"job_id":5}}"#;
        let sig = sign(SECRET, None, body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig), None, body, now),
            Ok(())
        );
        let prefixed = format!("sha256={sig}");
        assert_eq!(
            verify_signature(SECRET, Some(&prefixed), None, body, now),
            Ok(())
        );
        let t = now.timestamp().to_string();
        let sig_t = sign(SECRET, Some(&t), body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig_t), Some(&t), body, now),
            Ok(())
        );
        // A signature over the body alone does not cover a timestamp.
        assert_eq!(
            verify_signature(SECRET, Some(&sig), Some(&t), body, now),
            Err(WebhookRejection::BadSignature)
        );
    }

    #[test]
    fn bad_signatures_and_replays_are_refused() {
        let now = Utc::now();
        let body = b"{}";
        assert_eq!(
            verify_signature(SECRET, None, None, body, now),
            Err(WebhookRejection::MissingSignature)
        );
        assert_eq!(
            verify_signature(SECRET, Some("zz"), None, body, now),
            Err(WebhookRejection::MalformedSignature)
        );
        let other = sign(b"another secret", None, body);
        assert_eq!(
            verify_signature(SECRET, Some(&other), None, body, now),
            Err(WebhookRejection::BadSignature)
        );
        let old = (now.timestamp() - 301).to_string();
        let sig = sign(SECRET, Some(&old), body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig), Some(&old), body, now),
            Err(WebhookRejection::Replay)
        );
        let recent = (now.timestamp() - 299).to_string();
        let sig = sign(SECRET, Some(&recent), body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig), Some(&recent), body, now),
            Ok(())
        );
        let junk = "yesterday";
        let sig = sign(SECRET, Some(junk), body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig), Some(junk), body, now),
            Err(WebhookRejection::BadTimestamp)
        );
    }

    #[test]
    fn absurd_timestamps_are_refused_and_never_overflow() {
        let now = Utc::now();
        let body = b"{}";
        let huge = "9".repeat(10_000);
        for t in [
            i64::MIN.to_string(),
            i64::MAX.to_string(),
            (i64::MIN + 1).to_string(),
            (i64::MAX - 1).to_string(),
            "-1".to_string(),
            "0".to_string(),
            // Milliseconds far in the past and the future.
            (-100_000_000_000_000i64).to_string(),
            (now.timestamp() * 1000 + 10_000_000).to_string(),
            "9223372036854775808".to_string(),
            huge,
        ] {
            let sig = sign(SECRET, Some(&t), body);
            let got = verify_signature(SECRET, Some(&sig), Some(&t), body, now);
            assert!(
                matches!(
                    got,
                    Err(WebhookRejection::Replay | WebhookRejection::BadTimestamp)
                ),
                "{t:.40}: {got:?}"
            );
        }
        // Now in milliseconds is still accepted.
        let ms = (now.timestamp() * 1000).to_string();
        let sig = sign(SECRET, Some(&ms), body);
        assert_eq!(
            verify_signature(SECRET, Some(&sig), Some(&ms), body, now),
            Ok(())
        );
    }

    #[test]
    fn tokens_compare_exactly() {
        let t = "a".repeat(40);
        assert!(token_matches(&t, &t));
        assert!(!token_matches(&t, &"a".repeat(39)));
        assert!(!token_matches(&t, ""));
    }

    #[test]
    fn job_ids_are_found_in_every_documented_place() {
        let id = |body: &str| parse_event(body.as_bytes()).unwrap().job_id;
        assert_eq!(
            id(r#"{"event":"job.updated","data":{"job_id":7}}"#),
            Some(7)
        );
        assert_eq!(
            id(r#"{"event":"job.updated","data":{"job":{"id":"8"}}}"#),
            Some(8)
        );
        assert_eq!(id(r#"{"event":"job.updated","data":{"id":"9"}}"#), Some(9));
        assert_eq!(
            id(r#"{"event":"candidate.stage_changed","job_id":10,"data":{"id":99}}"#),
            Some(10)
        );
        assert_eq!(
            id(r#"{"event":"candidate.stage_changed","data":{"id":99}}"#),
            None
        );
    }

    #[test]
    fn event_keys_use_the_id_else_the_body_hash() {
        let a = parse_event(br#"{"id":"evt_1","event":"job.created","data":{"id":1}}"#).unwrap();
        assert_eq!(a.event_key, "event:evt_1");
        assert!(a.known);
        let b = parse_event(br#"{"event":"job.created","data":{"id":1}}"#).unwrap();
        assert!(b.event_key.starts_with("sha256:") && b.event_key.len() == 7 + 64);
        let c = parse_event(br#"{"event":"invoice.paid"}"#).unwrap();
        assert!(!c.known);
        assert_eq!(c.to_new_event(b"{}").status, "ignored");
        assert!(matches!(
            parse_event(b"{not json"),
            Err(WebhookRejection::MalformedJson(_))
        ));
        assert!(matches!(
            parse_event(b"[1]"),
            Err(WebhookRejection::NotAnObject(_))
        ));
    }
}
