//! What every page shares: the [`Chrome`] the base layout (`templates/base.html`)
//! reads, rendering a template into a response, telling htmx requests apart, and form
//! and query extractors whose rejections become [`WebError`]s with the right status.

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, request::Parts};
use axum::response::{Html, IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::assets;
use super::auth::Session;
use super::{Result, WebError};

/// The signed-in user as the layout shows them.
#[derive(Debug, Clone)]
pub struct ChromeUser {
    pub name: String,
    pub role: &'static str,
    pub is_ceo: bool,
    pub scores: bool,
}

/// The parts of the base layout that do not depend on the page: who is signed in,
/// the CSRF token (sent by htmx through `hx-headers` and by forms as `csrf`), and the
/// content-hashed asset URLs. Every page template has a `chrome` field.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user: Option<ChromeUser>,
    pub csrf: String,
    pub css: &'static str,
    pub htmx_js: &'static str,
    pub app_js: &'static str,
    /// Which navigation entry is current ("dashboard", "review", "admin", "").
    pub nav: &'static str,
    /// The confirmation of the action before this page, shown once at the top.
    pub flash: Option<String>,
}

impl Chrome {
    /// The chrome for a page seen by a signed-in user.
    pub fn for_session(session: &Session, nav: &'static str) -> Chrome {
        Chrome {
            user: Some(ChromeUser {
                name: session.user.name.clone(),
                role: session.user.role.label_for(session.user.scores),
                is_ceo: session.user.role.administers(),
                scores: session.user.scores,
            }),
            csrf: session.csrf.clone(),
            nav,
            flash: session.flash.clone(),
            ..Chrome::anonymous()
        }
    }

    /// The chrome for a page seen before signing in (sign-in, error pages).
    pub fn anonymous() -> Chrome {
        Chrome {
            user: None,
            csrf: String::new(),
            css: assets::url("app.css"),
            htmx_js: assets::url("htmx.min.js"),
            app_js: assets::url("app.js"),
            nav: "",
            flash: None,
        }
    }
}

/// Whether a request came from htmx and wants a fragment (not a history restore,
/// which needs the whole page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
        && headers.get("hx-history-restore-request").is_none()
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Response> {
    render_with(StatusCode::OK, t)
}

/// Renders a template as an HTML response with a given status (a form re-rendered
/// with 422, say).
pub fn render_with<T: Template>(status: StatusCode, t: &T) -> Result<Response> {
    let mut res = Html(t.render()?).into_response();
    *res.status_mut() = status;
    Ok(res)
}

/// `axum::Form` whose rejections are [`WebError`]s: 413 when too large, 415 for
/// another content type, 422 naming the problem for a malformed body.
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Form(v)),
            Err(e) => Err(form_rejection(e)),
        }
    }
}

fn form_rejection(e: FormRejection) -> WebError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => WebError::PayloadTooLarge(super::FORM_LIMIT / 1024),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            WebError::BadRequest("send the form as application/x-www-form-urlencoded".into())
        }
        _ => WebError::Unprocessable(format!("the form could not be read: {}", e.body_text())),
    }
}

/// `axum::Query` whose rejection is a 400 naming the bad parameter.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> WebError {
    WebError::BadRequest(format!("bad query string: {}", e.body_text()))
}

/// "3 min ago", "2 h ago", "4 days ago": how long ago a moment was, for people.
pub fn ago(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => {
            let d = secs / 86_400;
            if d == 1 {
                "1 day ago".into()
            } else {
                format!("{d} days ago")
            }
        }
    }
}

/// A moment's date as every page shows it: "4 Dec 2026" (in UTC). The one date format
/// of the pages; CSV exports and the JSON API keep ISO 8601 for scripts.
pub fn date(at: chrono::DateTime<chrono::Utc>) -> String {
    day(at.date_naive())
}

/// A calendar day (a week by its Monday) as every page shows it: "4 Dec 2026".
pub fn day(d: chrono::NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// A moment as every page shows it, in UTC: "4 Dec 2026, 14:05".
pub fn date_time(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}, {}", date(at), at.format("%H:%M"))
}

/// A day without its year, where room is short and the year shows nearby (a chart's
/// axis): "4 Dec".
pub fn day_short(d: chrono::NaiveDate) -> String {
    d.format("%-d %b").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_reads_like_people_speak() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let before = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(ago(before(10), now), "just now");
        assert_eq!(ago(before(180), now), "3 min ago");
        assert_eq!(ago(before(7200), now), "2 h ago");
        assert_eq!(ago(before(86_400), now), "1 day ago");
        assert_eq!(ago(before(3 * 86_400), now), "3 days ago");
        assert_eq!(ago(now + chrono::Duration::seconds(30), now), "just now");
    }

    #[test]
    fn one_date_format_everywhere() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-04T14:05:59Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(date(at), "4 Dec 2026");
        assert_eq!(date_time(at), "4 Dec 2026, 14:05");
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(day(d), "23 Nov 2026");
        assert_eq!(day_short(d), "23 Nov");
        let late = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:30:00+02:00")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(date_time(late), "31 Dec 2026, 22:30", "in UTC");
    }
}
