//! The Recruiterflow layer's error type. Messages name the endpoint and what went
//! wrong in words an operator can act on; the API key never appears in them.

use std::time::Duration;

use super::custom_fields::FieldError;
use crate::store::StoreError;

/// Why talking to Recruiterflow (or recording what it said) failed.
#[derive(Debug, thiserror::Error)]
pub enum RecruiterflowError {
    #[error(
        "Recruiterflow refused the API key ({status} at {endpoint}); check RECRUITERFLOW_API_KEY"
    )]
    Unauthorized { endpoint: String, status: u16 },
    #[error(
        "Recruiterflow kept rate limiting (429 Too Many Requests at {endpoint}) after {attempts} attempts"
    )]
    RateLimited { endpoint: String, attempts: u32 },
    #[error("Recruiterflow failed with HTTP {status} at {endpoint} after {attempts} attempts")]
    Server {
        endpoint: String,
        status: u16,
        attempts: u32,
    },
    #[error(
        "no answer from Recruiterflow at {endpoint} within {timeout:?} after {attempts} attempts"
    )]
    Timeout {
        endpoint: String,
        timeout: Duration,
        attempts: u32,
    },
    #[error("cannot reach Recruiterflow at {endpoint} after {attempts} attempts: {detail}")]
    Unreachable {
        endpoint: String,
        attempts: u32,
        detail: String,
    },
    #[error(
        "Recruiterflow answered {endpoint} with an HTML page (HTTP {status}) instead of JSON: {snippet:?}"
    )]
    Html {
        endpoint: String,
        status: u16,
        snippet: String,
    },
    #[error("Recruiterflow answered {endpoint} with malformed JSON: {detail}")]
    MalformedJson { endpoint: String, detail: String },
    #[error("Recruiterflow answered {endpoint} with an unexpected shape: {detail}")]
    WrongShape { endpoint: String, detail: String },
    #[error("Recruiterflow has no such record at {endpoint} (404)")]
    NotFound { endpoint: String },
    #[error("Recruiterflow refused {endpoint} with HTTP {status}: {snippet:?}")]
    Refused {
        endpoint: String,
        status: u16,
        snippet: String,
    },
    #[error(
        "Recruiterflow answered {endpoint} with a redirect (HTTP {status}) to {location}; jobrank follows no redirect, so the API key never leaves RECRUITERFLOW_BASE_URL: check that setting"
    )]
    Redirect {
        endpoint: String,
        status: u16,
        /// Where the redirect pointed: origin and path only (never the query).
        location: String,
    },
    #[error("Recruiterflow has no job {job_id} any more (404 at {endpoint}): nothing to write to")]
    JobGone { endpoint: String, job_id: i64 },
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("the open-job list changed while it was read ({detail}); nothing was closed")]
    IncompleteList { detail: String },
    #[error("Recruiterflow is not configured: set RECRUITERFLOW_API_KEY")]
    NotConfigured,
    #[error("cannot set up the Recruiterflow client: {0}")]
    Setup(String),
    #[error("while recording Recruiterflow data: {0}")]
    Store(#[from] StoreError),
}

impl RecruiterflowError {
    /// Whether the API key was refused (shown by `jobrank check` and the admin page).
    pub fn is_bad_key(&self) -> bool {
        matches!(self, RecruiterflowError::Unauthorized { .. })
    }

    /// Whether the same request may succeed later: Recruiterflow kept rate limiting,
    /// failed with 5xx, did not answer in time or could not be reached, each after the
    /// client's own retries. Everything else (a refused key, a job that is gone, a
    /// refused value, a field set up wrong, an answer of the wrong shape) needs a person
    /// or never succeeds: a queue makes it a dead letter instead of retrying.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            RecruiterflowError::RateLimited { .. }
                | RecruiterflowError::Server { .. }
                | RecruiterflowError::Timeout { .. }
                | RecruiterflowError::Unreachable { .. }
        )
    }
}

/// The Recruiterflow layer's result.
pub type Result<T, E = RecruiterflowError> = std::result::Result<T, E>;
