//! The dashboard's rendered answers, kept so that a repeated view is sent without
//! rendering (or compressing) it again.
//!
//! An answer is kept under everything it was drawn from ([`PageKey`]): the viewer
//! (user id, name, role, whether they score, and the session's CSRF token, which the
//! page embeds), the [`DashboardView::version`](crate::store::dashboard::DashboardView)
//! of the data (a new one with every store write, and when a job's days open or the
//! viewer's "needs my score" changes with the clock), the whole second of the clock the
//! page's time texts ("3 min ago", "synced 2 h ago", amber after twice the sync
//! interval) were computed at, the raw query string, whether it is the htmx fragment,
//! the "Refresh now" control's state (held in memory by the syncer, not in the store)
//! and whether it is gzip-compressed. A change is therefore visible at the next
//! request, exactly as without the cache, and an answer is never served to another
//! session. Pages that show a flash are never kept (a flash shows once).
//!
//! The memory is bounded: at most [`MAX_ENTRIES`] answers and [`MAX_BYTES`] of bodies,
//! least recently used first out; answers of a past second are dropped as new ones come.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hashlink::LruCache;
use std::io::Write;

use crate::domain::Role;

/// The most answers kept.
pub const MAX_ENTRIES: usize = 256;
/// The most bytes of answers' bodies kept (gzip answers are about 7 KB, plain ones
/// about 60 KB on a page of 50 jobs).
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Everything a dashboard answer depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub scores: bool,
    pub csrf: String,
    /// [`crate::store::dashboard::DashboardView::version`].
    pub version: u64,
    /// Unix seconds of the clock the page was drawn at.
    pub second: i64,
    pub query: String,
    pub htmx: bool,
    /// The "Refresh now" control's state in the full page: (running, text).
    pub sync: Option<(bool, String)>,
    pub gzip: bool,
}

/// One kept answer.
#[derive(Clone)]
pub struct Answer {
    status: StatusCode,
    body: Bytes,
    gzip: bool,
}

impl Answer {
    /// An answer of `html`, gzip-compressed (at the fastest level, as the compression
    /// layer does) when `gzip`.
    pub fn new(status: StatusCode, html: String, gzip: bool) -> Answer {
        let body = if gzip {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(html.len() / 6),
                flate2::Compression::fast(),
            );
            // Writing into a Vec cannot fail.
            match enc.write_all(html.as_bytes()).and_then(|()| enc.finish()) {
                Ok(z) => Bytes::from(z),
                Err(_) => return Answer::new(status, html, false),
            }
        } else {
            Bytes::from(html)
        };
        Answer { status, body, gzip }
    }

    /// The HTTP answer (the security headers and `Cache-Control: no-store` are added
    /// by the layers around every handler).
    pub fn response(&self) -> Response {
        let mut res = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            self.body.clone(),
        )
            .into_response();
        if self.gzip {
            let h = res.headers_mut();
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        res
    }
}

/// Whether the client takes gzip (`Accept-Encoding` names `gzip`, `x-gzip` or `*`
/// with a weight above 0).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            weight > 0.0
                && ["gzip", "x-gzip", "*"]
                    .iter()
                    .any(|n| name.eq_ignore_ascii_case(n))
        })
}

/// The kept answers (see the module's documentation).
pub struct RenderedPages {
    inner: Mutex<Kept>,
}

struct Kept {
    answers: LruCache<PageKey, Answer>,
    bytes: usize,
}

impl Default for RenderedPages {
    fn default() -> RenderedPages {
        RenderedPages {
            inner: Mutex::new(Kept {
                answers: LruCache::new_unbounded(),
                bytes: 0,
            }),
        }
    }
}

impl RenderedPages {
    /// The answer kept under `key`, if any.
    pub fn get(&self, key: &PageKey) -> Option<Answer> {
        let mut kept = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        kept.answers.get(key).cloned()
    }

    /// Keeps `answer` under `key`, dropping the least recently used answers beyond the
    /// bounds, and those of seconds before `key`'s (no request asks for them again).
    pub fn put(&self, key: PageKey, answer: Answer) {
        if answer.body.len() > MAX_BYTES {
            return;
        }
        let second = key.second;
        let mut kept = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        kept.bytes += answer.body.len();
        if let Some(old) = kept.answers.insert(key, answer) {
            kept.bytes -= old.body.len();
        }
        loop {
            let over = kept.answers.len() > MAX_ENTRIES || kept.bytes > MAX_BYTES;
            let past = kept
                .answers
                .iter()
                .next()
                .is_some_and(|(k, _)| k.second < second);
            if !(over || past) {
                break;
            }
            match kept.answers.remove_lru() {
                Some((_, old)) => kept.bytes -= old.body.len(),
                None => break,
            }
        }
    }

    /// How many answers are kept and their bytes (for tests and benches).
    pub fn size(&self) -> (usize, usize) {
        let kept = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (kept.answers.len(), kept.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(user: &str, second: i64, query: &str) -> PageKey {
        PageKey {
            user_id: user.into(),
            name: "N".into(),
            role: Role::Ceo,
            scores: true,
            csrf: format!("csrf-{user}"),
            version: 1,
            second,
            query: query.into(),
            htmx: false,
            sync: None,
            gzip: false,
        }
    }

    #[test]
    fn answers_are_kept_per_viewer_and_query_and_bounded() {
        let pages = RenderedPages::default();
        pages.put(
            key("a", 10, ""),
            Answer::new(StatusCode::OK, "a".into(), false),
        );
        assert!(pages.get(&key("a", 10, "")).is_some());
        assert!(pages.get(&key("b", 10, "")).is_none(), "another viewer");
        assert!(
            pages.get(&key("a", 10, "rank=A")).is_none(),
            "another query"
        );
        assert!(pages.get(&key("a", 11, "")).is_none(), "another second");
        let mut other_version = key("a", 10, "");
        other_version.version = 2;
        assert!(pages.get(&other_version).is_none(), "another store state");
        // A new second drops the past one's answers.
        pages.put(
            key("a", 11, ""),
            Answer::new(StatusCode::OK, "a".into(), false),
        );
        assert!(pages.get(&key("a", 10, "")).is_none());
        assert_eq!(pages.size(), (1, 1));
        // Never more than MAX_ENTRIES, nor MAX_BYTES.
        for i in 0..MAX_ENTRIES + 10 {
            pages.put(
                key("a", 11, &i.to_string()),
                Answer::new(StatusCode::OK, "x".repeat(10), false),
            );
        }
        assert_eq!(pages.size().0, MAX_ENTRIES);
        assert!(pages.get(&key("a", 11, "0")).is_none(), "least recent out");
        let big = "y".repeat(MAX_BYTES / 3);
        for i in 0..5 {
            pages.put(
                key("b", 11, &i.to_string()),
                Answer::new(StatusCode::OK, big.clone(), false),
            );
        }
        assert!(pages.size().1 <= MAX_BYTES);
    }

    #[test]
    fn gzip_is_taken_when_the_client_names_it() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip")));
        assert!(accepts_gzip(&h("br, gzip;q=0.5, deflate")));
        assert!(accepts_gzip(&h("*")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
        let answer = Answer::new(StatusCode::OK, "<p>hello</p>".repeat(100), true);
        let res = answer.response();
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let mut plain = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&answer.body[..]),
            &mut plain,
        )
        .unwrap();
        assert_eq!(plain, "<p>hello</p>".repeat(100));
    }
}
