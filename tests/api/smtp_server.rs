//! A real SMTP server process on loopback for the mail tests: `smtp_server.py` beside
//! this file, on Debian's `python3-aiosmtpd` (installed by `scripts/test`). The server
//! picks its own port and prints it; each message it accepts lands as a JSON file in a
//! temporary directory the test reads. Variants: plain, STARTTLS or implicit TLS with
//! a test CA and certificate made now (rcgen), AUTH required, a server refusing every
//! recipient (5xx or 4xx), and one dropping the connection mid-message.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The Python with aiosmtpd: Debian's first (a pyenv or venv `python3` earlier on the
/// PATH may lack Debian's packages). A missing aiosmtpd fails the test loudly.
fn python() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        for candidate in ["/usr/bin/python3", "python3"] {
            let ok = std::process::Command::new(candidate)
                .args(["-c", "import aiosmtpd"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return PathBuf::from(candidate);
            }
        }
        panic!(
            "the SMTP tests need Python's aiosmtpd: apt-get install python3-aiosmtpd (scripts/test installs it)"
        )
    })
}

/// A test certificate authority and a server certificate it signed for `localhost`
/// and 127.0.0.1, as PEM files.
pub struct TestCa {
    _dir: TempDir,
    /// The CA certificate: what `JOBRANK_SMTP_CA_FILE` names.
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestCa {
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "jobrank test CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, &ca_key);
        let key = KeyPair::generate().unwrap();
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        let write = |name: &str, text: String| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        TestCa {
            ca_file: write("ca.pem", ca_cert.pem()),
            cert_file: write("server.pem", cert.pem()),
            key_file: write("server.key", key.serialize_pem()),
            _dir: dir,
        }
    }
}

/// How the server protects connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTls {
    None,
    StartTls,
    Implicit,
}

/// What kind of server to start.
#[derive(Debug, Clone, Default)]
pub struct Variant {
    pub tls: Option<ServerTls>,
    /// AUTH required with this user and password.
    pub auth: Option<(String, String)>,
    /// Answer every RCPT TO with this code.
    pub refuse: Option<u16>,
    /// Drop the connection once the message data has arrived, before answering.
    pub drop: bool,
    /// Refuse or drop only the first this many times, then accept (a server that
    /// recovers); every time when `None`.
    pub times: Option<u32>,
}

/// A message the server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The whole message as sent (headers and body).
    pub data: String,
    /// Whether it arrived over TLS (STARTTLS or implicit).
    pub tls: bool,
    /// The user it authenticated as.
    pub login: Option<String>,
    /// The `To` header, decoded.
    #[serde(default)]
    pub to: String,
    /// The subject, decoded.
    #[serde(default)]
    pub subject: String,
    /// The plain-text part, decoded.
    #[serde(default)]
    pub text: Option<String>,
    /// The HTML part, decoded.
    #[serde(default)]
    pub html: Option<String>,
}

/// A running SMTP server; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    pub variant: Variant,
    /// The CA that signed the server's certificate (with TLS).
    pub ca: Option<TestCa>,
    messages: TempDir,
    _child: Child,
}

impl SmtpServer {
    pub async fn start(variant: Variant) -> SmtpServer {
        let messages = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/smtp_server.py");
        let log = messages.path().join("server.log");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg("--dir").arg(messages.path());
        let tls = variant.tls.unwrap_or(ServerTls::None);
        let ca = (tls != ServerTls::None).then(TestCa::new);
        if let Some(ca) = &ca {
            let mode = if tls == ServerTls::StartTls {
                "starttls"
            } else {
                "implicit"
            };
            cmd.args(["--tls", mode])
                .arg("--cert")
                .arg(&ca.cert_file)
                .arg("--key")
                .arg(&ca.key_file);
        }
        if let Some((user, password)) = &variant.auth {
            cmd.arg("--auth").arg(format!("{user}:{password}"));
        }
        if let Some(code) = variant.refuse {
            cmd.arg("--refuse").arg(code.to_string());
        }
        if variant.drop {
            cmd.arg("--drop");
        }
        if let Some(n) = variant.times {
            cmd.arg("--times").arg(n.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start the SMTP test server");
        let stdout = child.stdout.take().unwrap();
        let mut first = String::new();
        let read = tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).read_line(&mut first),
        )
        .await;
        let port = first
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "the SMTP test server printed no port ({read:?}, {first:?}); its log: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        SmtpServer {
            port,
            variant,
            ca,
            messages,
            _child: child,
        }
    }

    /// A plain server without authentication.
    pub async fn plain() -> SmtpServer {
        SmtpServer::start(Variant::default()).await
    }

    /// The URL jobrank should use: `smtps://` for implicit TLS, `?tls=required` for
    /// STARTTLS (the server is on loopback, where STARTTLS is otherwise optional), the
    /// credentials when the server requires them.
    pub fn url(&self) -> String {
        let creds = match &self.variant.auth {
            Some((u, p)) => format!("{u}:{p}@"),
            None => String::new(),
        };
        match self.variant.tls.unwrap_or(ServerTls::None) {
            ServerTls::None => format!("smtp://{creds}127.0.0.1:{}", self.port),
            ServerTls::StartTls => format!("smtp://{creds}127.0.0.1:{}?tls=required", self.port),
            ServerTls::Implicit => format!("smtps://{creds}127.0.0.1:{}", self.port),
        }
    }

    /// The CA file to trust (with TLS).
    pub fn ca_file(&self) -> Option<PathBuf> {
        self.ca.as_ref().map(|c| c.ca_file.clone())
    }

    /// The messages accepted so far. The server writes each one before it answers 250,
    /// so a message jobrank was told was accepted is here.
    pub fn messages(&self) -> Vec<Received> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.messages.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push(serde_json::from_str(&text).unwrap());
            }
        }
        out
    }

    /// What the server logged (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.messages.path().join("server.log")).unwrap_or_default()
    }
}
