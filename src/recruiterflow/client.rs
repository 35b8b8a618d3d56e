//! The Recruiterflow HTTP client: timeouts, a bound on concurrent requests, retries
//! with exponential backoff and jitter on 429, 5xx and timeouts (honouring
//! `Retry-After`), and tolerant parsing of the answers. The API key travels only in
//! the `RF-Api-Key` header, marked sensitive, and never appears in logs or errors.
//!
//! The client follows no redirect at all: the key is a custom header, which HTTP
//! clients do not strip when a redirect leads elsewhere, and Recruiterflow's API has no
//! reason to redirect (a redirect means a wrong `RECRUITERFLOW_BASE_URL`, such as
//! `http://` for an `https://` API, or a proxy in the way), so a 3xx answer fails the
//! request with a message naming where it pointed. Same-origin redirects would be
//! safe but would hide such a misconfiguration. The base URL must be `https://`,
//! except on a loopback address (the test server, a local tunnel): see
//! [`check_base_url`].

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

mod endpoints;
pub(super) use endpoints::merge_pages;

use super::error::{RecruiterflowError, Result};
use super::model::{ItemError, Job, User};

/// Timeouts, retry and concurrency bounds. The defaults suit production; tests
/// shorten the delays so they never sleep for real minutes.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Whole-request timeout (connect, send, read the body).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff delay; doubles on each retry, with jitter.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// `items_per_page` for list endpoints.
    pub page_size: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            concurrency: 8,
            page_size: 100,
        }
    }
}

/// A Recruiterflow API client. Cheap to clone; clones share the concurrency bound.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    key: SecretString,
    opts: ClientOptions,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("key", &"[redacted]")
            .field("opts", &self.opts)
            .finish()
    }
}

/// The open-job list as read in full.
#[derive(Debug, Clone, Default)]
pub struct OpenJobs {
    pub jobs: Vec<Job>,
    /// Elements that could not be read (their ids, when readable, are kept open).
    pub errors: Vec<ItemError>,
    /// Set when the pages did not add up to the reported total: the list changed while
    /// it was read, so it must not be used to close jobs.
    pub incomplete: Option<String>,
}

/// The account's user list as read in full.
#[derive(Debug, Clone, Default)]
pub struct UserList {
    pub users: Vec<User>,
    /// Elements that could not be read.
    pub errors: Vec<ItemError>,
    /// Set when the pages did not add up to the reported total: the list changed while
    /// it was read, so it must not be used to remove users.
    pub incomplete: Option<String>,
}

/// One request as [`Client::attempt`] sends it.
struct Request<'a> {
    method: Method,
    url: &'a Url,
    query: &'a [(&'a str, String)],
    body: Option<&'a Value>,
    endpoint: &'a str,
}

enum Attempt {
    Done(Value),
    Retry {
        why: Retry,
        retry_after: Option<Duration>,
    },
    Fail(RecruiterflowError),
}

enum Retry {
    RateLimited,
    Server(u16),
    Timeout,
    Unreachable(String),
}

/// Whether `url` may be Recruiterflow's base URL: `https://`, or `http://` on a
/// loopback host only, since over plain HTTP anyone on the path reads the API key (the
/// rule is [`crate::config::https_unless_loopback`]).
pub fn check_base_url(url: &Url) -> std::result::Result<(), String> {
    crate::config::https_unless_loopback(url)
}

impl Client {
    /// Builds a client for `base` (e.g. `https://api.recruiterflow.com`) with `key`.
    /// Refuses a base URL [`check_base_url`] refuses. Installs the TLS crypto provider
    /// if nothing has yet.
    pub fn new(base: Url, key: SecretString, opts: ClientOptions) -> Result<Client> {
        check_base_url(&base)
            .map_err(|e| RecruiterflowError::Setup(format!("RECRUITERFLOW_BASE_URL {e}")))?;
        crate::install_crypto();
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jobrank/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RecruiterflowError::Setup(e.to_string()))?;
        let permits = Arc::new(Semaphore::new(opts.concurrency.max(1)));
        Ok(Client {
            http,
            base,
            key,
            opts,
            permits,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    fn endpoint(path: &str, query: &[(&str, String)]) -> String {
        if query.is_empty() {
            return path.to_string();
        }
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{path}?{}", q.join("&"))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .opts
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.opts.max_delay);
        // Equal jitter: half fixed, half random, so retries spread but still grow.
        let half = capped / 2;
        half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
    }

    /// GETs a JSON body, retrying 429, 5xx, timeouts and connection failures.
    pub async fn get_json(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let endpoint = Self::endpoint(path, query);
        self.send_json(Method::GET, path, query, None, endpoint)
            .await
    }

    /// POSTs a JSON body and reads the JSON answer (an empty 2xx answer reads as null),
    /// with the same retries as [`Client::get_json`]: only for requests that may be
    /// repeated without harm, such as setting a field to a value.
    pub async fn post_json(&self, path: &str, body: &Value, endpoint: String) -> Result<Value> {
        self.send_json(Method::POST, path, &[], Some(body), endpoint)
            .await
    }

    /// Sends a request, retrying 429, 5xx, timeouts and connection failures.
    /// `endpoint` names the request in errors and logs.
    async fn send_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        endpoint: String,
    ) -> Result<Value> {
        let url = self
            .base
            .join(path)
            .map_err(|e| RecruiterflowError::Setup(format!("bad URL for {path}: {e}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = {
                let _permit = self
                    .permits
                    .acquire()
                    .await
                    .map_err(|e| RecruiterflowError::Setup(e.to_string()))?;
                let request = Request {
                    method: method.clone(),
                    url: &url,
                    query,
                    body,
                    endpoint: &endpoint,
                };
                self.attempt(request).await
            };
            let (why, retry_after) = match outcome {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { why, retry_after } => (why, retry_after),
            };
            if attempt >= self.opts.max_attempts {
                return Err(match why {
                    Retry::RateLimited => RecruiterflowError::RateLimited {
                        endpoint,
                        attempts: attempt,
                    },
                    Retry::Server(status) => RecruiterflowError::Server {
                        endpoint,
                        status,
                        attempts: attempt,
                    },
                    Retry::Timeout => RecruiterflowError::Timeout {
                        endpoint,
                        timeout: self.opts.timeout,
                        attempts: attempt,
                    },
                    Retry::Unreachable(detail) => RecruiterflowError::Unreachable {
                        endpoint,
                        attempts: attempt,
                        detail,
                    },
                });
            }
            let delay = match retry_after {
                Some(d) => d.min(self.opts.max_retry_after),
                None => self.backoff(attempt),
            };
            tracing::debug!(endpoint = %endpoint, attempt, delay_ms = delay.as_millis() as u64, "retrying Recruiterflow request");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, request: Request<'_>) -> Attempt {
        let Request {
            method,
            url,
            query,
            body,
            endpoint,
        } = request;
        let mut key = match HeaderValue::from_str(self.key.expose_secret()) {
            Ok(k) => k,
            Err(_) => {
                return Attempt::Fail(RecruiterflowError::Setup(
                    "RECRUITERFLOW_API_KEY contains characters not allowed in a header".into(),
                ));
            }
        };
        key.set_sensitive(true);
        let is_get = method == Method::GET;
        let mut builder = self
            .http
            .request(method, url.clone())
            .query(query)
            .header("RF-Api-Key", key)
            .header("Accept", "application/json");
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let sent = builder.send().await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return transport_failure(&e),
        };
        let status = resp.status();
        let retry_after = parse_retry_after(resp.headers());
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let is_html = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html"));
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return transport_failure(&e),
        };
        let endpoint = endpoint.to_string();
        if body.is_empty() && status.is_success() && !is_get {
            return Attempt::Done(Value::Null);
        }
        if status.is_redirection() {
            return Attempt::Fail(RecruiterflowError::Redirect {
                endpoint,
                status: status.as_u16(),
                location: redirect_target(url, location.as_deref()),
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Attempt::Fail(RecruiterflowError::Unauthorized {
                endpoint,
                status: status.as_u16(),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Retry {
                why: Retry::RateLimited,
                retry_after,
            };
        }
        if status.is_server_error() {
            return Attempt::Retry {
                why: Retry::Server(status.as_u16()),
                retry_after,
            };
        }
        let text = String::from_utf8_lossy(&body);
        let looks_html = is_html || text.trim_start().starts_with('<');
        if looks_html {
            return Attempt::Fail(RecruiterflowError::Html {
                endpoint,
                status: status.as_u16(),
                snippet: snippet(&text),
            });
        }
        if status == StatusCode::NOT_FOUND {
            return Attempt::Fail(RecruiterflowError::NotFound { endpoint });
        }
        if !status.is_success() {
            return Attempt::Fail(RecruiterflowError::Refused {
                endpoint,
                status: status.as_u16(),
                snippet: snippet(&text),
            });
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Attempt::Done(v),
            Err(e) => Attempt::Fail(RecruiterflowError::MalformedJson {
                endpoint,
                detail: if body.is_empty() {
                    "the body is empty".into()
                } else {
                    e.to_string()
                },
            }),
        }
    }
}

fn transport_failure(e: &reqwest::Error) -> Attempt {
    if e.is_timeout() {
        return Attempt::Retry {
            why: Retry::Timeout,
            retry_after: None,
        };
    }
    // The URL holds no secret (the key is a header), but keep only the cause.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    Attempt::Retry {
        why: Retry::Unreachable(detail),
        retry_after: None,
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.to_utc() - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// Where a redirect pointed, for the error: resolved against the request's URL, origin
/// and path only (a query could carry anything).
fn redirect_target(from: &Url, location: Option<&str>) -> String {
    match location.map(|l| from.join(l)) {
        Some(Ok(mut u)) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Some(Err(_)) => "an unreadable address".into(),
        None => "nowhere (no Location header)".into(),
    }
}

pub(super) fn snippet(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = flat.chars().take(160).collect();
    if flat.chars().count() > 160 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(3)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        let d = parse_retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        for ok in [
            "https://api.recruiterflow.com",
            "https://10.0.0.5",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://localhost:9",
            "http://LOCALHOST",
            "http://[::1]:9",
        ] {
            assert_eq!(check_base_url(&Url::parse(ok).unwrap()), Ok(()), "{ok}");
        }
        for bad in [
            "http://api.recruiterflow.com",
            "http://10.0.0.5",
            "http://localhost.example.com",
            "http://[::2]",
            "http://0.0.0.0",
            "ftp://api.recruiterflow.com",
        ] {
            let e = check_base_url(&Url::parse(bad).unwrap()).unwrap_err();
            assert!(e.contains("https://"), "{bad}: {e}");
        }
        assert!(
            Client::new(
                Url::parse("http://api.recruiterflow.com").unwrap(),
                SecretString::from("k"),
                ClientOptions::default(),
            )
            .is_err()
        );
    }

    #[test]
    fn redirect_targets_are_shown_without_query_or_credentials() {
        let from = Url::parse("https://api.recruiterflow.com/api/external/job?job_id=1").unwrap();
        assert_eq!(
            redirect_target(&from, Some("https://u:p@evil.example/x?key=1#f")),
            "https://evil.example/x"
        );
        assert_eq!(
            redirect_target(&from, Some("/login?next=1")),
            "https://api.recruiterflow.com/login"
        );
        assert_eq!(redirect_target(&from, None), "nowhere (no Location header)");
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let c = Client::new(
            Url::parse("http://127.0.0.1:1").unwrap(),
            SecretString::from("k"),
            ClientOptions {
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(1000),
                ..ClientOptions::default()
            },
        )
        .unwrap();
        for _ in 0..20 {
            let d1 = c.backoff(1);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = c.backoff(3);
            assert!(d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400));
            assert!(c.backoff(30) <= Duration::from_millis(1000));
        }
        assert!(!format!("{c:?}").contains("\"k\""));
    }
}
