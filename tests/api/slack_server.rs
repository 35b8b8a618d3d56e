//! A local stand-in for a Slack incoming webhook on 127.0.0.1:0 (axum), answering as
//! Slack does: 200 `ok`; 400 `no_text` for a message without text or blocks, 400
//! `invalid_payload` for a body that is not JSON; 403 `invalid_token` for a wrong
//! secret under `/services/`, 404 `no_service` elsewhere. Answers can be queued
//! (429 `rate_limited` with `Retry-After`, 500 `rollup_error`, 410
//! `channel_is_archived`, a redirect). Every request is recorded.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// The webhook's path (the last part is the secret).
pub const HOOK_PATH: &str = "/services/T0JOBRANK/B0DIGEST/q9Zp3xKf8LmW2vRt";

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Post {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// The body as JSON (null when it was not JSON).
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

/// A canned answer for the next request.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 429 `rate_limited` with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// 500 `rollup_error`.
    ServerError,
    /// 410 `channel_is_archived`.
    Archived,
    /// 302 to this URL.
    Redirect(String),
}

#[derive(Default)]
struct SlackState {
    posts: Vec<Post>,
    queued: VecDeque<Answer>,
}

/// A running stand-in webhook.
#[derive(Clone)]
pub struct SlackServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<SlackState>>,
}

impl SlackServer {
    pub async fn start() -> SlackServer {
        let state = Arc::new(Mutex::new(SlackState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        SlackServer { addr, state }
    }

    /// The webhook URL to give jobrank.
    pub fn url(&self) -> String {
        format!("http://{}{HOOK_PATH}", self.addr)
    }

    /// A URL under `/services/` with the wrong secret.
    pub fn wrong_token_url(&self) -> String {
        format!("http://{}/services/T0JOBRANK/B0DIGEST/wrong", self.addr)
    }

    /// Queues an answer for the next request.
    pub fn queue(&self, answer: Answer) {
        self.state.lock().unwrap().queued.push_back(answer);
    }

    /// Every request so far.
    pub fn posts(&self) -> Vec<Post> {
        self.state.lock().unwrap().posts.clone()
    }
}

fn slack(status: StatusCode, word: &'static str) -> Response {
    (status, [("content-type", "text/plain")], word).into_response()
}

async fn handle(
    State(state): State<Arc<Mutex<SlackState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let queued = state.lock().unwrap().queued.pop_front();
    let resp = match queued {
        Some(Answer::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after_secs.to_string())],
            "rate_limited",
        )
            .into_response(),
        Some(Answer::ServerError) => slack(StatusCode::INTERNAL_SERVER_ERROR, "rollup_error"),
        Some(Answer::Archived) => slack(StatusCode::GONE, "channel_is_archived"),
        Some(Answer::Redirect(to)) => (StatusCode::FOUND, [("location", to)], "").into_response(),
        None if uri.path() == HOOK_PATH && method == Method::POST => match &json {
            None => slack(StatusCode::BAD_REQUEST, "invalid_payload"),
            Some(v) => {
                let has_text = v["text"].as_str().is_some_and(|t| !t.trim().is_empty());
                let has_blocks = v["blocks"].as_array().is_some_and(|b| !b.is_empty());
                if has_text || has_blocks {
                    slack(StatusCode::OK, "ok")
                } else {
                    slack(StatusCode::BAD_REQUEST, "no_text")
                }
            }
        },
        None if uri.path().starts_with("/services/") => {
            slack(StatusCode::FORBIDDEN, "invalid_token")
        }
        None => slack(StatusCode::NOT_FOUND, "no_service"),
    };
    state.lock().unwrap().posts.push(Post {
        method,
        path: uri.path().to_string(),
        headers,
        body: json.unwrap_or(Value::Null),
        status: resp.status().as_u16(),
    });
    resp
}
