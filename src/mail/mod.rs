//! Email through SMTP (lettre over tokio with rustls): a [`Mailer`] built from the
//! settings, sending one message with a plain-text and an HTML part, and a
//! [`Mailer::check`] that connects and authenticates without sending.
//!
//! TLS: `smtps://` is TLS from the first byte; `smtp://` requires STARTTLS, except to
//! a loopback address (see [`endpoint::parse`]). Certificates are always checked,
//! against Mozilla's roots plus, with `JOBRANK_SMTP_CA_FILE`, a private CA; there is no
//! way to switch the check off.
//!
//! Failures are [`MailError`]s that say whether trying again later may help
//! ([`MailError::is_temporary`]): a 4xx answer, a connection refused or dropped and a
//! timeout are temporary; a 5xx answer, a certificate that is not trusted, a server
//! without STARTTLS or without a way to authenticate are permanent. Addresses and
//! message contents never reach logs or errors: a server's answer is kept with every
//! word holding an `@` replaced by `[address]`.

pub mod endpoint;

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

pub use endpoint::{Endpoint, Security};

/// What the mailer needs, as plain values (the configuration layer fills it).
#[derive(Clone)]
pub struct MailSettings {
    /// `JOBRANK_SMTP_URL`: `smtp://user:password@host:port` or `smtps://...`.
    pub url: SecretString,
    /// `JOBRANK_SMTP_CA_FILE`: PEM certificates of a private CA to trust as well.
    pub ca_file: Option<PathBuf>,
    /// `JOBRANK_MAIL_FROM`: `jobrank <jobrank@agency.example>` or a bare address.
    pub from: String,
    /// The longest one send or check may take, connecting included (lettre bounds only
    /// the connect itself on tokio, so the whole exchange is bounded here).
    pub timeout: Duration,
}

impl MailSettings {
    /// Settings with the default timeout (60 s).
    pub fn new(url: SecretString, from: impl Into<String>) -> MailSettings {
        MailSettings {
            url,
            ca_file: None,
            from: from.into(),
            timeout: Duration::from_secs(60),
        }
    }
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("url", &"[redacted]")
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// One message to one person.
#[derive(Clone)]
pub struct Email {
    /// The recipient: `Name <address>` or a bare address.
    pub to: String,
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part: a complete, already escaped document.
    pub html: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email { .. }")
    }
}

/// Why mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting is wrong; nothing was sent.
    #[error("{setting} {reason}")]
    Config {
        setting: &'static str,
        reason: String,
    },
    /// The recipient is not an email address (it is not repeated here).
    #[error("the recipient is not a valid email address")]
    InvalidRecipient,
    /// Trying again later may work.
    #[error("the mail server {server} failed for now: {detail}")]
    Temporary { server: String, detail: String },
    /// Trying again will not work until something changes.
    #[error("the mail server {server} refused: {detail}")]
    Permanent { server: String, detail: String },
}

impl MailError {
    /// Whether the same message may go through later (4xx, connection refused or
    /// dropped, timeout).
    pub fn is_temporary(&self) -> bool {
        matches!(self, MailError::Temporary { .. })
    }
}

/// Sends email through one SMTP server. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    endpoint: Endpoint,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The private CA's certificates, checked to hold at least one.
fn read_ca_file(path: &std::path::Path) -> Result<Certificate, MailError> {
    let bad = |reason: String| MailError::Config {
        setting: "JOBRANK_SMTP_CA_FILE",
        reason,
    };
    let pem =
        std::fs::read(path).map_err(|e| bad(format!("{} cannot be read: {e}", path.display())))?;
    let count = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("{} is not PEM: {e}", path.display())))?
        .len();
    if count == 0 {
        return Err(bad(format!(
            "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Certificate::from_pem(&pem).map_err(|e| bad(format!("{}: {e}", path.display())))
}

impl Mailer {
    /// Builds a mailer; checks the URL, the From address and the CA file, but does not
    /// connect (see [`Mailer::check`]). Installs the TLS crypto provider if nothing has.
    pub fn new(settings: &MailSettings) -> Result<Mailer, MailError> {
        crate::install_crypto();
        let endpoint = endpoint::parse(settings.url.expose_secret())?;
        let from: Mailbox = settings
            .from
            .trim()
            .parse()
            .map_err(|_| MailError::Config {
                setting: "JOBRANK_MAIL_FROM",
                reason: "is not an email address (e.g. jobrank <jobrank@agency.example>)".into(),
            })?;
        let tls_parameters = || -> Result<TlsParameters, MailError> {
            let mut b = TlsParameters::builder(endpoint.host.clone());
            if let Some(path) = &settings.ca_file {
                b = b.add_root_certificate(read_ca_file(path)?);
            }
            b.build_rustls().map_err(|e| MailError::Config {
                setting: "JOBRANK_SMTP_URL",
                reason: format!("cannot set up TLS: {e}"),
            })
        };
        let tls = match endpoint.security {
            Security::ImplicitTls => Tls::Wrapper(tls_parameters()?),
            Security::StartTls => Tls::Required(tls_parameters()?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&endpoint.host)
            .port(endpoint.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some((user, password)) = &endpoint.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_string(),
            ));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            endpoint,
            timeout: settings.timeout,
        })
    }

    /// The server, port and protection in use.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Connects, says hello, starts TLS as configured and authenticates, then quits
    /// without sending anything (`jobrank check`).
    pub async fn check(&self) -> Result<(), MailError> {
        match tokio::time::timeout(self.timeout, self.transport.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(MailError::Temporary {
                server: self.endpoint.server(),
                detail: "the server did not answer NOOP".into(),
            }),
            Ok(Err(e)) => Err(self.failure(&e)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Sends one message (plain text and HTML as alternatives) on a connection of its
    /// own. Logs only that one message to one recipient is being sent.
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let to: Mailbox = email
            .to
            .trim()
            .parse()
            .map_err(|_| MailError::InvalidRecipient)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str())
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Permanent {
                server: self.endpoint.server(),
                detail: format!("the message could not be built: {e}"),
            })?;
        tracing::debug!(recipients = 1, server = %self.endpoint.server(), "sending mail");
        let err = match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => self.failure(&e),
            Err(_) => self.timed_out(),
        };
        tracing::debug!(
            recipients = 1,
            temporary = err.is_temporary(),
            "mail not sent"
        );
        Err(err)
    }

    fn timed_out(&self) -> MailError {
        MailError::Temporary {
            server: self.endpoint.server(),
            detail: format!("no answer within {:?}", self.timeout),
        }
    }

    /// Classifies lettre's error and words it without addresses.
    fn failure(&self, e: &lettre::transport::smtp::Error) -> MailError {
        let server = self.endpoint.server();
        let detail = redact(&describe(e));
        let temporary = if e.status().is_some() {
            // 4xx: try later; 5xx: refused.
            e.is_transient()
        } else if e.is_timeout() {
            return self.timed_out();
        } else if e.is_tls() || e.is_client() || rustls_cause(e) {
            // A certificate that is not trusted, no STARTTLS, no usable AUTH: a setting
            // or the server must change first.
            false
        } else {
            // Connection refused, reset or dropped; an answer cut short.
            true
        };
        if temporary {
            MailError::Temporary { server, detail }
        } else {
            MailError::Permanent { server, detail }
        }
    }
}

/// What went wrong, in words: the server's answer with its code, or the cause of a
/// failed connection.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut causes: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = s.source();
    }
    let causes = causes.join(": ");
    if let Some(code) = e.status() {
        format!("answered {code}: {causes}")
    } else if rustls_cause(e) {
        let hint = if causes.contains("UnknownIssuer") {
            " (set JOBRANK_SMTP_CA_FILE to trust a private CA)"
        } else {
            ""
        };
        format!("TLS failed: {causes}{hint}")
    } else if e.is_client() {
        causes
    } else if e.is_response() {
        format!("the answer was cut short or unreadable ({causes})")
    } else {
        format!("the connection failed: {causes}")
    }
}

/// Whether a TLS (certificate, handshake) failure is behind `e`.
fn rustls_cause(e: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(inner) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && inner.downcast_ref::<rustls::Error>().is_some()
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// `text` with every word holding an `@` replaced by `[address]`, and line breaks
/// flattened: servers name the addresses they refuse.
pub fn redact(text: &str) -> String {
    text.split_whitespace()
        .map(|w| if w.contains('@') { "[address]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_server_answers_are_redacted() {
        assert_eq!(
            redact("permanent error (550): 5.7.1 Refused for\n<bob@agency.example>"),
            "permanent error (550): 5.7.1 Refused for [address]"
        );
        assert_eq!(
            redact("user bob@x.example, unknown"),
            "user [address] unknown"
        );
    }

    #[test]
    fn settings_errors_name_the_setting() {
        let s = |url: &str, from: &str| MailSettings::new(SecretString::from(url), from);
        let e = Mailer::new(&s("smtp://127.0.0.1:25", "not an address")).unwrap_err();
        assert!(e.to_string().starts_with("JOBRANK_MAIL_FROM "), "{e}");
        let mut with_ca = s(
            "smtps://mail.example.com",
            "jobrank <jobrank@agency.example>",
        );
        with_ca.ca_file = Some("/nonexistent/ca.pem".into());
        let e = Mailer::new(&with_ca).unwrap_err();
        assert!(e.to_string().starts_with("JOBRANK_SMTP_CA_FILE "), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        with_ca.ca_file = Some(empty);
        let e = Mailer::new(&with_ca).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        let m = Mailer::new(&s(
            "smtp://u:hunter2@127.0.0.1:25",
            "jobrank@agency.example",
        ))
        .unwrap();
        assert!(!format!("{m:?}").contains("hunter2"));
        assert!(!format!("{:?}", s("smtp://u:hunter2@h", "x@y.example")).contains("hunter2"));
    }
}
