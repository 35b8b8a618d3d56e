//! The one-line confirmation shown on the page after an action ("Fleet Manager scored
//! 3.50; team 3.60, B (was C)."): a flash that survives the redirect in a short-lived
//! cookie and is shown once, by the base layout, in a `role="status"` region.
//!
//! The cookie (`jobrank_flash`, HttpOnly, SameSite=Lax, two minutes) holds the text,
//! its expiry and an HMAC-SHA256 keyed with the session's CSRF token: a flash is read
//! only by the session that set it and before it expires, so nobody who can plant a
//! cookie can put words on a jobrank page. The session layer reads it into
//! [`Session::flash`](super::auth::Session) and clears it once a full page (or an
//! error page) has shown it; redirects, htmx fragments and the API leave it in place.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::auth::{Session, cookie, set_cookie};

/// The flash cookie's name.
pub const FLASH_COOKIE: &str = "jobrank_flash";

/// How long a flash waits for the page that shows it.
pub const LIFETIME: Duration = Duration::minutes(2);

/// The longest flash kept, in bytes (a cookie holds about 4 KiB; the text is hex).
const MAX_TEXT: usize = 1024;

fn mac(csrf: &str, expires: i64, text_hex: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(csrf.as_bytes())
        .expect("HMAC accepts any key length");
    m.update(b"jobrank flash\0");
    m.update(expires.to_string().as_bytes());
    m.update(b"\0");
    m.update(text_hex.as_bytes());
    m
}

/// The cookie value carrying `text` for this session: `EXPIRES.HEXTEXT.HEXMAC`.
pub fn seal(csrf: &str, text: &str, now: DateTime<Utc>) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let expires = (now + LIFETIME).timestamp();
    let text_hex = hex::encode(&text.as_bytes()[..end]);
    let tag = hex::encode(mac(csrf, expires, &text_hex).finalize().into_bytes());
    format!("{expires}.{text_hex}.{tag}")
}

/// The text of a sealed value, if this session sealed it and it has not expired.
pub fn open(csrf: &str, value: &str, now: DateTime<Utc>) -> Option<String> {
    let mut parts = value.split('.');
    let (expires, text_hex, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    if now.timestamp() > expires {
        return None;
    }
    let tag = hex::decode(tag).ok()?;
    mac(csrf, expires, text_hex).verify_slice(&tag).ok()?;
    String::from_utf8(hex::decode(text_hex).ok()?).ok()
}

/// The flash a request carries for this session, if any.
pub fn read(headers: &axum::http::HeaderMap, csrf: &str, now: DateTime<Utc>) -> Option<String> {
    cookie(headers, FLASH_COOKIE).and_then(|v| open(csrf, v, now))
}

/// A redirect (303) to `to` that shows `text` on the page it leads to.
pub fn redirect(
    session: &Session,
    to: &str,
    text: &str,
    secure: bool,
    now: DateTime<Utc>,
) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            FLASH_COOKIE,
            &seal(&session.csrf, text, now),
            LIFETIME.num_seconds(),
            secure,
            "Lax",
        ),
    );
    res
}

/// The header that removes the flash once shown.
pub fn clear(secure: bool) -> HeaderValue {
    set_cookie(FLASH_COOKIE, "", 0, secure, "Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_opens_only_for_its_session_and_before_it_expires() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let sealed = seal(
            "csrf-a",
            "Fleet Manager scored 3.50; team 3.60, B (was C).",
            now,
        );
        assert_eq!(
            open("csrf-a", &sealed, now + Duration::seconds(30)).as_deref(),
            Some("Fleet Manager scored 3.50; team 3.60, B (was C).")
        );
        assert_eq!(open("csrf-b", &sealed, now), None, "another session");
        assert_eq!(
            open("csrf-a", &sealed, now + LIFETIME + Duration::seconds(1)),
            None
        );
        // Tampering with the text, the expiry or the tag breaks it.
        let (exp, rest) = sealed.split_once('.').unwrap();
        let later = format!("{}.{rest}", exp.parse::<i64>().unwrap() + 600);
        assert_eq!(open("csrf-a", &later, now), None);
        let forged = sealed.replacen(".46", ".47", 1);
        assert_ne!(forged, sealed);
        assert_eq!(open("csrf-a", &forged, now), None);
        for junk in ["", "x", "1.2", "1.zz.00", &format!("{sealed}.x")] {
            assert_eq!(open("csrf-a", junk, now), None, "{junk}");
        }
        // Long texts are cut at a character boundary.
        let long = "é".repeat(900);
        let opened = open("k", &seal("k", &long, now), now).unwrap();
        assert!(opened.len() <= MAX_TEXT && long.starts_with(&opened));
    }
}
