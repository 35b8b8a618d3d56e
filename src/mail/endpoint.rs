//! Where and how to reach the SMTP server, read from `JOBRANK_SMTP_URL`.

use std::borrow::Cow;

use secrecy::SecretString;
use url::Url;

use super::MailError;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte.
    ImplicitTls,
    /// `smtp://`: plain at first, then STARTTLS, which the server must offer; nothing
    /// (no password, no address) is sent before it.
    StartTls,
    /// `smtp://` to a loopback address: no TLS (a relay on the same machine).
    Plain,
}

/// The SMTP server, its port, the protection and the credentials a URL names.
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password, percent-decoded.
    pub credentials: Option<(String, SecretString)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl Endpoint {
    /// `host:port`, for messages.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

const SETTING: &str = "JOBRANK_SMTP_URL";

fn bad(reason: impl Into<String>) -> MailError {
    MailError::Config {
        setting: SETTING,
        reason: reason.into(),
    }
}

/// Whether `host` is a loopback address: `localhost`, 127.0.0.0/8 or `::1`. (In an
/// `smtp://` URL an IPv4 address is left as a domain by the URL parser.)
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn decoded(part: &str, what: &str) -> Result<String, MailError> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| {
            bad(format!(
                "the {what} is not valid UTF-8 once percent-decoded"
            ))
        })
}

/// Reads `smtp://user:pass@host:port` or `smtps://user:pass@host:port` (user and
/// password optional together, percent-encoded as URLs need; port 587 for `smtp`,
/// 465 for `smtps` by default). `smtp://` requires STARTTLS unless the host is a
/// loopback address, where it sends in plain unless `?tls=required` asks for STARTTLS
/// there too. Errors never repeat the URL (it holds the password).
pub fn parse(url: &str) -> Result<Endpoint, MailError> {
    let url = Url::parse(url.trim()).map_err(|e| bad(format!("is not a URL ({e})")))?;
    let implicit = match url.scheme() {
        "smtps" => true,
        "smtp" => false,
        other => {
            return Err(bad(format!(
                "must start with smtp:// (STARTTLS) or smtps:// (TLS), not {other}://"
            )));
        }
    };
    let host = url
        .host()
        .ok_or_else(|| bad("names no server (smtp://user:password@host:port)"))?;
    let loopback = is_loopback(&host);
    let host_name = match host {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
        return Err(bad(
            "has a path or fragment; it takes only smtp://user:password@host:port",
        ));
    }
    let mut require_tls = false;
    for (k, v) in url.query_pairs() {
        match (k.as_ref(), v.as_ref()) {
            ("tls", "required") if !implicit => require_tls = true,
            _ => {
                return Err(bad(format!(
                    "has an unknown option {k:?}; the only one is ?tls=required (STARTTLS to a loopback address too)"
                )));
            }
        }
    }
    let security = if implicit {
        Security::ImplicitTls
    } else if loopback && !require_tls {
        Security::Plain
    } else {
        Security::StartTls
    };
    let user = decoded(url.username(), "user name")?;
    let credentials = match (user.is_empty(), url.password()) {
        (true, None) => None,
        (false, Some(p)) => Some((user, SecretString::from(decoded(p, "password")?))),
        (true, Some(_)) => return Err(bad("has a password but no user name")),
        (false, None) => {
            return Err(bad(
                "has a user name but no password (smtp://user:password@host:port)",
            ));
        }
    };
    let port = url.port().unwrap_or(if implicit { 465 } else { 587 });
    Ok(Endpoint {
        host: host_name,
        port,
        security,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn starttls_is_required_except_to_a_loopback_address() {
        let e = parse("smtp://jobrank:s3cret@smtp.example.com:587").unwrap();
        assert_eq!(e.security, Security::StartTls);
        assert_eq!(e.server(), "smtp.example.com:587");
        let (user, pass) = e.credentials.unwrap();
        assert_eq!(user, "jobrank");
        assert_eq!(pass.expose_secret(), "s3cret");
        // Private addresses are not loopback: the password would cross a network.
        for remote in [
            "smtp://10.0.0.5:25",
            "smtp://localhost.example.com",
            "smtp://[::2]:25",
        ] {
            assert_eq!(
                parse(remote).unwrap().security,
                Security::StartTls,
                "{remote}"
            );
        }
        for local in [
            "smtp://127.0.0.1:25",
            "smtp://localhost:2525",
            "smtp://[::1]:25",
            "smtp://127.3.2.1",
        ] {
            assert_eq!(parse(local).unwrap().security, Security::Plain, "{local}");
        }
        let e = parse("smtp://127.0.0.1:2525?tls=required").unwrap();
        assert_eq!(e.security, Security::StartTls);
        let e = parse("smtps://mail.example.com").unwrap();
        assert_eq!((e.security, e.port), (Security::ImplicitTls, 465));
        assert_eq!(parse("smtp://mail.example.com").unwrap().port, 587);
        assert_eq!(
            parse("smtps://127.0.0.1:4650").unwrap().security,
            Security::ImplicitTls
        );
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let e = parse("smtps://me%40agency.example:p%3Ass%2Fw%40rd@mail.example.com").unwrap();
        let (user, pass) = e.credentials.unwrap();
        assert_eq!(user, "me@agency.example");
        assert_eq!(pass.expose_secret(), "p:ss/w@rd");
        assert!(!format!("{:?}", parse("smtps://u:hunter2hunter2@h").unwrap()).contains("hunter2"));
    }

    #[test]
    fn bad_urls_are_named_without_repeating_the_password() {
        for (url, says) in [
            ("http://u:hunter2@mail.example.com", "smtp://"),
            ("smtp://u:hunter2@mail.example.com/inbox", "path"),
            ("smtp://u:hunter2@mail.example.com?tls=off", "?tls=required"),
            (
                "smtps://u:hunter2@mail.example.com?tls=required",
                "unknown option",
            ),
            ("smtp://u@mail.example.com", "no password"),
            ("smtp://:hunter2@mail.example.com", "no user name"),
            ("smtp://u:%FF%FE@mail.example.com", "UTF-8"),
            ("mail.example.com:587", "smtp://"),
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(e.starts_with("JOBRANK_SMTP_URL "), "{url}: {e}");
            assert!(e.contains(says), "{url}: {e}");
            assert!(!e.contains("hunter2"), "{url}: {e}");
        }
    }
}
