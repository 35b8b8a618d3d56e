//! The mail module against a real SMTP server on loopback (aiosmtpd): each server
//! variant, the temporary/permanent classification of failures, `check()`, and that
//! addresses and contents stay out of logs and errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobrank::mail::{Email, MailError, MailSettings, Mailer, Security};
use secrecy::SecretString;

use crate::smtp_server::{ServerTls, SmtpServer, TestCa, Variant};

const FROM: &str = "jobrank <jobrank@agency.example>";
const TO: &str = "Priya Shah <priya.shah@agency.example>";

fn settings(server: &SmtpServer) -> MailSettings {
    let mut s = MailSettings::new(SecretString::from(server.url()), FROM);
    s.ca_file = server.ca_file();
    s.timeout = Duration::from_secs(20);
    s
}

fn mailer(server: &SmtpServer) -> Mailer {
    Mailer::new(&settings(server)).unwrap()
}

fn email() -> Email {
    Email {
        to: TO.into(),
        subject: "3 jobs need your score — week 14".into(),
        text: "Hello Priya,\n\n3 jobs need your score:\n- Senior Analyst (Acme), rank B\n".into(),
        html: "<!DOCTYPE html><html><body><p>Hello Priya,</p><ul><li>Senior Analyst (Acme), rank B</li></ul></body></html>".into(),
    }
}

fn with_auth(tls: ServerTls) -> Variant {
    Variant {
        tls: Some(tls),
        auth: Some(("jobrank".into(), "correct-horse-battery".into())),
        ..Variant::default()
    }
}

#[tokio::test]
async fn a_plain_server_on_loopback_gets_one_message_with_text_and_html() {
    let server = SmtpServer::plain().await;
    let m = mailer(&server);
    assert_eq!(m.endpoint().security, Security::Plain);
    m.check().await.unwrap();
    assert!(server.messages().is_empty(), "check sends nothing");
    m.send(&email()).await.unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1, "{}", server.log());
    let msg = &got[0];
    assert_eq!(msg.mail_from, "jobrank@agency.example");
    assert_eq!(msg.rcpt_tos, vec!["priya.shah@agency.example"]);
    assert!(!msg.tls);
    let data = &msg.data;
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(
        data.contains("Content-Type: text/plain; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("Content-Type: text/html; charset=utf-8"),
        "{data}"
    );
    assert!(
        data.contains("From: jobrank <jobrank@agency.example>"),
        "{data}"
    );
    assert!(data.contains("Senior Analyst (Acme), rank B"), "{data}");
    // The subject's non-ASCII dash is encoded, not sent raw.
    assert!(
        data.contains("Subject: 3 jobs need your score =?utf-8?b?4oCU?= week 14"),
        "{data}"
    );
}

#[tokio::test]
async fn starttls_uses_the_private_ca_and_refuses_a_certificate_it_does_not_trust() {
    let server = SmtpServer::start(Variant {
        tls: Some(ServerTls::StartTls),
        ..Variant::default()
    })
    .await;
    let m = mailer(&server);
    assert_eq!(m.endpoint().security, Security::StartTls);
    m.check().await.unwrap();
    m.send(&email()).await.unwrap();
    let got = server.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "the message went over TLS");

    // Without the CA file, or with another CA, the certificate is not trusted: a
    // permanent failure (a setting must change), and nothing is sent.
    for ca_file in [None, Some(TestCa::new().ca_file)] {
        let mut s = settings(&server);
        s.ca_file = ca_file.clone();
        let m = Mailer::new(&s).unwrap();
        let err = m.send(&email()).await.unwrap_err();
        assert!(
            matches!(err, MailError::Permanent { .. }),
            "{ca_file:?}: {err:?}"
        );
        assert!(err.to_string().contains("certificate"), "{err}");
        let err = m.check().await.unwrap_err();
        assert!(!err.is_temporary(), "{err:?}");
    }
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn smtps_is_tls_from_the_first_byte() {
    let server = SmtpServer::start(Variant {
        tls: Some(ServerTls::Implicit),
        ..Variant::default()
    })
    .await;
    let m = mailer(&server);
    assert_eq!(m.endpoint().security, Security::ImplicitTls);
    m.check().await.unwrap();
    m.send(&email()).await.unwrap();
    assert!(server.messages()[0].tls);
    // The CA is needed here too.
    let mut s = settings(&server);
    s.ca_file = None;
    let err = Mailer::new(&s).unwrap().send(&email()).await.unwrap_err();
    assert!(matches!(err, MailError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_without_starttls_is_refused_when_tls_is_required() {
    let server = SmtpServer::plain().await;
    let url = format!("smtp://127.0.0.1:{}?tls=required", server.port);
    let m = Mailer::new(&MailSettings::new(SecretString::from(url), FROM)).unwrap();
    let err = m.send(&email()).await.unwrap_err();
    assert!(matches!(err, MailError::Permanent { .. }), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("starttls"), "{err}");
    assert!(m.check().await.is_err());
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn authentication_is_required_checked_and_its_failure_permanent() {
    for tls in [ServerTls::StartTls, ServerTls::Implicit] {
        let server = SmtpServer::start(with_auth(tls)).await;
        let m = mailer(&server);
        m.check().await.unwrap();
        m.send(&email()).await.unwrap();
        let got = server.messages();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].login.as_deref(), Some("jobrank"));

        // A wrong password: check and send fail for good, without saying the password.
        let wrong = server
            .url()
            .replace("correct-horse-battery", "wrong-password-42");
        let mut s = settings(&server);
        s.url = SecretString::from(wrong);
        let m = Mailer::new(&s).unwrap();
        let err = m.check().await.unwrap_err();
        assert!(matches!(err, MailError::Permanent { .. }), "{err:?}");
        assert!(err.to_string().contains("535"), "{err}");
        let err = m.send(&email()).await.unwrap_err();
        assert!(!err.is_temporary(), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("wrong-password-42") && !shown.contains("correct-horse"));

        // No credentials at all: the server wants them before MAIL.
        let bare = format!(
            "{}://127.0.0.1:{}{}",
            if tls == ServerTls::Implicit {
                "smtps"
            } else {
                "smtp"
            },
            server.port,
            if tls == ServerTls::StartTls {
                "?tls=required"
            } else {
                ""
            }
        );
        s.url = SecretString::from(bare);
        let err = Mailer::new(&s).unwrap().send(&email()).await.unwrap_err();
        assert!(matches!(err, MailError::Permanent { .. }), "{err:?}");
        assert_eq!(server.messages().len(), 1, "{tls:?}");
    }
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_for_5xx_and_temporary_for_4xx_and_not_named() {
    for (code, temporary) in [(550, false), (451, true)] {
        let server = SmtpServer::start(Variant {
            refuse: Some(code),
            ..Variant::default()
        })
        .await;
        let err = mailer(&server).send(&email()).await.unwrap_err();
        assert_eq!(err.is_temporary(), temporary, "{code}: {err:?}");
        let shown = err.to_string();
        assert!(shown.contains(&code.to_string()), "{shown}");
        assert!(shown.contains("[address]"), "{shown}");
        assert!(!shown.contains("priya"), "the address stays out: {shown}");
        assert!(server.messages().is_empty());
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_message_is_temporary() {
    let server = SmtpServer::start(Variant {
        drop: true,
        ..Variant::default()
    })
    .await;
    let err = mailer(&server).send(&email()).await.unwrap_err();
    assert!(matches!(err, MailError::Temporary { .. }), "{err:?}");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn no_server_or_a_silent_one_is_temporary() {
    // Nothing listens on port 1 of loopback: connection refused.
    let refused = Mailer::new(&MailSettings::new(
        SecretString::from("smtp://127.0.0.1:1"),
        FROM,
    ))
    .unwrap();
    let err = refused.check().await.unwrap_err();
    assert!(matches!(err, MailError::Temporary { .. }), "{err:?}");
    assert!(refused.send(&email()).await.unwrap_err().is_temporary());

    // A server that accepts the connection and never says hello.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let mut s = MailSettings::new(SecretString::from(format!("smtp://127.0.0.1:{port}")), FROM);
    s.timeout = Duration::from_millis(300);
    let err = Mailer::new(&s).unwrap().send(&email()).await.unwrap_err();
    assert!(matches!(err, MailError::Temporary { .. }), "{err:?}");
    assert!(err.to_string().contains("no answer within"), "{err}");
    held.abort();
}

#[tokio::test]
async fn a_recipient_that_is_not_an_address_is_refused_before_connecting() {
    let server = SmtpServer::plain().await;
    let mut e = email();
    e.to = "priya at agency".into();
    let err = mailer(&server).send(&e).await.unwrap_err();
    assert!(matches!(err, MailError::InvalidRecipient), "{err:?}");
    assert!(!err.is_temporary());
    assert!(!err.to_string().contains("priya"));
}

/// Collects every log line written while it is the default subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_carry_the_recipient_count_and_never_addresses_or_contents() {
    let server = SmtpServer::plain().await;
    let refusing = SmtpServer::start(Variant {
        refuse: Some(550),
        ..Variant::default()
    })
    .await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread runtime: the subscriber sees every log line of the sends.
    let _guard = tracing::subscriber::set_default(subscriber);
    mailer(&server).send(&email()).await.unwrap();
    mailer(&refusing).send(&email()).await.unwrap_err();
    drop(_guard);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("recipients=1"), "{logs}");
    for secret in [
        "priya",
        "Priya",
        "Senior Analyst",
        "need your score",
        "jobrank@agency",
    ] {
        assert!(!logs.contains(secret), "{secret:?} in the logs: {logs}");
    }
}
