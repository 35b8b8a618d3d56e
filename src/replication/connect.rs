//! Connecting to Supabase PostgreSQL from `SUPABASE_DB_URL`: TLS with rustls (ring),
//! `sslmode` as libpq reads it, and a refusal of Supabase's transaction pooler.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{ReplicationError, Result};

/// How the connection is protected, as the URL's `sslmode` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP: only when the URL says `sslmode=disable`.
    Disable,
    /// Encrypted, certificate not checked (libpq's `require`, `prefer` and `allow`).
    Require,
    /// Encrypted, the certificate chain checked against `sslrootcert` (or the web's
    /// roots when none is given), and for `verify-full` also the host name.
    Verify {
        root_cert: Option<PathBuf>,
        check_host: bool,
    },
}

/// A parsed `SUPABASE_DB_URL`: what to connect to and how, without printing the password.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    ssl: SslMode,
    host: String,
    port: u16,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("ssl", &self.ssl)
            .finish_non_exhaustive()
    }
}

/// Supabase's transaction pooler (Supavisor in transaction mode) listens on 6543.
pub const TRANSACTION_POOLER_PORT: u16 = 6543;

impl PgTarget {
    /// Parses a PostgreSQL URL. Errors never quote the URL, which holds the password.
    pub fn parse(url: &SecretString) -> Result<PgTarget> {
        let bad = |reason: String| ReplicationError::Config(format!("SUPABASE_DB_URL {reason}"));
        let mut parsed = url::Url::parse(url.expose_secret())
            .map_err(|e| bad(format!("is not a valid URL ({e})")))?;
        if parsed.scheme() != "postgres" && parsed.scheme() != "postgresql" {
            return Err(bad("is not a postgresql:// URL".into()));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host".into()))?
            .to_string();
        let port = parsed.port().unwrap_or(5432);
        let mut sslmode = None;
        let mut sslrootcert = None;
        let mut kept: Vec<(String, String)> = Vec::new();
        for (k, v) in parsed.query_pairs() {
            match k.as_ref() {
                "sslmode" => sslmode = Some(v.into_owned()),
                "sslrootcert" => sslrootcert = Some(PathBuf::from(v.into_owned())),
                "pgbouncer" if v == "true" => {
                    return Err(ReplicationError::TransactionPooler);
                }
                _ => kept.push((k.into_owned(), v.into_owned())),
            }
        }
        if port == TRANSACTION_POOLER_PORT {
            return Err(ReplicationError::TransactionPooler);
        }
        let ssl = match sslmode.as_deref() {
            Some("disable") => SslMode::Disable,
            None | Some("allow" | "prefer" | "require") => {
                if sslrootcert.is_some() && sslmode.is_none() {
                    // libpq: a root certificate given without sslmode means verify-ca.
                    SslMode::Verify {
                        root_cert: sslrootcert.clone(),
                        check_host: false,
                    }
                } else {
                    SslMode::Require
                }
            }
            Some("verify-ca") => SslMode::Verify {
                root_cert: sslrootcert.clone(),
                check_host: false,
            },
            Some("verify-full") => SslMode::Verify {
                root_cert: sslrootcert.clone(),
                check_host: true,
            },
            Some(other) => {
                return Err(bad(format!(
                    "has sslmode={other}; use disable, require, verify-ca or verify-full"
                )));
            }
        };
        {
            let mut q = parsed.query_pairs_mut();
            q.clear();
            for (k, v) in &kept {
                q.append_pair(k, v);
            }
        }
        if kept.is_empty() {
            parsed.set_query(None);
        }
        let mut config: tokio_postgres::Config = parsed
            .as_str()
            .parse()
            .map_err(|e: tokio_postgres::Error| bad(format!("cannot be used: {e}")))?;
        config.ssl_mode(if ssl == SslMode::Disable {
            PgSslMode::Disable
        } else {
            PgSslMode::Require
        });
        config.application_name("jobrank");
        config.connect_timeout(std::time::Duration::from_secs(10));
        Ok(PgTarget {
            config,
            ssl,
            host,
            port,
        })
    }

    /// Host and port, for messages (never the password).
    pub fn describe(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The TLS mode in force.
    pub fn ssl(&self) -> &SslMode {
        &self.ssl
    }

    /// Opens one connection; its driver runs on a spawned task.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        let unreachable = |e: tokio_postgres::Error| ReplicationError::Unreachable {
            target: self.describe(),
            reason: describe_pg_error(&e),
        };
        match &self.ssl {
            SslMode::Disable => {
                let (client, conn) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(unreachable)?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "postgres connection ended");
                    }
                });
                Ok(client)
            }
            mode => {
                crate::install_crypto();
                let tls = MakeRustlsConnect::new(tls_config(mode)?);
                let (client, conn) = self.config.connect(tls).await.map_err(unreachable)?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "postgres connection ended");
                    }
                });
                Ok(client)
            }
        }
    }
}

/// A Postgres error with its cause chain, which tokio-postgres keeps out of Display.
pub fn describe_pg_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

fn load_roots(path: &Path) -> Result<RootCertStore> {
    let bad = |reason: String| {
        ReplicationError::Config(format!("sslrootcert {}: {reason}", path.display()))
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot be read ({e})")))?;
    let mut roots = RootCertStore::empty();
    let mut found = 0;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| bad(format!("is not PEM ({e})")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("holds a certificate rustls refuses ({e})")))?;
        found += 1;
    }
    if found == 0 {
        return Err(bad("holds no PEM certificate".into()));
    }
    Ok(roots)
}

fn tls_config(mode: &SslMode) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ReplicationError::Config(format!("TLS set-up failed: {e}")))?;
    let config = match mode {
        SslMode::Disable | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth(),
        SslMode::Verify {
            root_cert,
            check_host,
        } => {
            let roots = match root_cert {
                Some(p) => load_roots(p)?,
                None => RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            };
            let roots = Arc::new(roots);
            if *check_host {
                builder.with_root_certificates(roots).with_no_client_auth()
            } else {
                let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots,
                    provider.clone(),
                )
                .build()
                .map_err(|e| ReplicationError::Config(format!("TLS set-up failed: {e}")))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                    .with_no_client_auth()
            }
        }
    };
    Ok(config)
}

/// `sslmode=require`: encrypt, accept any certificate (what libpq does).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: the chain must lead to the root, the name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PgTarget> {
        PgTarget::parse(&SecretString::from(s.to_string()))
    }

    #[test]
    fn ssl_modes_follow_the_url() {
        assert_eq!(
            parse("postgres://u:pw@h/db?sslmode=disable").unwrap().ssl(),
            &SslMode::Disable
        );
        assert_eq!(
            parse("postgres://u:pw@h/db").unwrap().ssl(),
            &SslMode::Require
        );
        assert_eq!(
            parse("postgresql://u:pw@h:5432/db?sslmode=verify-full&sslrootcert=/x.crt")
                .unwrap()
                .ssl(),
            &SslMode::Verify {
                root_cert: Some("/x.crt".into()),
                check_host: true
            }
        );
    }

    #[test]
    fn transaction_pooler_is_refused_with_an_explanation() {
        let e = parse("postgres://u:secretpw@aws-0-eu.pooler.supabase.com:6543/postgres")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("transaction pooler") && e.contains("5432"),
            "{e}"
        );
        assert!(!e.contains("secretpw"));
    }

    #[test]
    fn errors_never_show_the_password() {
        for url in [
            "postgres://u:secretpw@h/db?sslmode=bogus",
            "postgres://u:secretpw@h/db?connect_timeout=notanumber",
            "mysql://u:secretpw@h/db",
        ] {
            let e = parse(url).unwrap_err().to_string();
            assert!(!e.contains("secretpw"), "{e}");
        }
        let t = parse("postgres://u:secretpw@h/db").unwrap();
        assert!(!format!("{t:?}").contains("secretpw"));
    }
}
