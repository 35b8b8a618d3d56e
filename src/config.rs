//! Configuration, layered: defaults -> optional TOML file (`--config PATH`) ->
//! environment -> command-line flags. Every setting has one canonical name (the
//! environment variable); the TOML file uses the same names in lower case without the
//! `JOBRANK_` prefix (`bind = "0.0.0.0:8080"`, `recruiterflow_api_key = "..."`).
//! Validation collects every bad setting into one error.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Every setting jobrank reads: (canonical name, TOML key, is secret, description).
pub const SETTINGS: &[(&str, &str, bool, &str)] = &[
    (
        "JOBRANK_DATA_DIR",
        "data_dir",
        false,
        "Directory holding the SQLite store and backups (default ./data)",
    ),
    (
        "JOBRANK_BIND",
        "bind",
        false,
        "Address and port to listen on (default 127.0.0.1:8080)",
    ),
    (
        "JOBRANK_PUBLIC_URL",
        "public_url",
        false,
        "The URL users reach jobrank at; https makes cookies Secure",
    ),
    (
        "JOBRANK_LOG_FORMAT",
        "log_format",
        false,
        "text (default) or json",
    ),
    (
        "JOBRANK_TRUSTED_PROXIES",
        "trusted_proxies",
        false,
        "Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (default none; the deploy kit sets 127.0.0.1/32,::1/128 for Caddy)",
    ),
    (
        "RECRUITERFLOW_API_KEY",
        "recruiterflow_api_key",
        true,
        "Recruiterflow API key; without it there is no sync",
    ),
    (
        "RECRUITERFLOW_WEBHOOK_SECRET",
        "recruiterflow_webhook_secret",
        true,
        "Shared secret for webhook signatures",
    ),
    (
        "RECRUITERFLOW_WEBHOOK_TOKEN",
        "recruiterflow_webhook_token",
        true,
        "Optional long random path token for senders that cannot sign",
    ),
    (
        "RECRUITERFLOW_BASE_URL",
        "recruiterflow_base_url",
        false,
        "Recruiterflow API base URL (default https://api.recruiterflow.com; https only, http on loopback)",
    ),
    (
        "JOBRANK_SYNC_INTERVAL",
        "sync_interval",
        false,
        "How often to poll Recruiterflow, e.g. 15m (default 15m)",
    ),
    (
        "JOBRANK_SUPABASE_PULL_INTERVAL",
        "supabase_pull_interval",
        false,
        "How often to pull other replicas' changes from Supabase, e.g. 1m (default 1m; pushes run every 5s or this, whichever is shorter)",
    ),
    (
        "SUPABASE_DB_URL",
        "supabase_db_url",
        true,
        "Supabase PostgreSQL connection URL; without it no replication",
    ),
    (
        "JOBRANK_RECONCILE_AT",
        "reconcile_at",
        false,
        "Local time of the nightly reconciliation, HH:MM (default 02:30)",
    ),
    (
        "JOBRANK_BACKUP_AT",
        "backup_at",
        false,
        "Local time of the nightly backup, HH:MM (default 03:15)",
    ),
    (
        "JOBRANK_BACKUP_KEEP_DAILY",
        "backup_keep_daily",
        false,
        "Daily backups to keep (default 7)",
    ),
    (
        "JOBRANK_BACKUP_KEEP_WEEKLY",
        "backup_keep_weekly",
        false,
        "Weekly backups to keep (default 4)",
    ),
];

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub public_url: Option<Url>,
    pub log_format: LogFormat,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see `web::auth::client_address`).
    pub trusted_proxies: Vec<IpNet>,
    pub recruiterflow: RecruiterflowConfig,
    pub sync_interval: Duration,
    pub supabase_db_url: Option<SecretString>,
    /// How often the puller runs (the pusher runs every 5 s, or this when shorter).
    pub supabase_pull_interval: Duration,
    pub reconcile_at: NaiveTime,
    pub backup_at: NaiveTime,
    pub backup_keep_daily: u32,
    pub backup_keep_weekly: u32,
}

/// Recruiterflow settings; all optional, jobrank runs on its local store alone.
#[derive(Clone)]
pub struct RecruiterflowConfig {
    pub api_key: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub webhook_token: Option<SecretString>,
    pub base_url: Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

fn redacted(s: &Option<SecretString>) -> &'static str {
    if s.is_some() {
        "Some([redacted])"
    } else {
        "None"
    }
}

impl std::fmt::Debug for RecruiterflowConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecruiterflowConfig")
            .field("api_key", &redacted(&self.api_key))
            .field("webhook_secret", &redacted(&self.webhook_secret))
            .field("webhook_token", &redacted(&self.webhook_token))
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("log_format", &self.log_format)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("recruiterflow", &self.recruiterflow)
            .field("sync_interval", &self.sync_interval)
            .field("supabase_db_url", &redacted(&self.supabase_db_url))
            .field("reconcile_at", &self.reconcile_at)
            .field("backup_at", &self.backup_at)
            .finish_non_exhaustive()
    }
}

/// One or more settings are invalid; the message lists each by name and why.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Raw settings by canonical name, gathered from the layers before validation.
#[derive(Default, Clone)]
pub struct Layers {
    values: BTreeMap<&'static str, (String, &'static str)>,
}

impl Layers {
    /// Sets a value from a named source, overriding earlier layers.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>, source: &'static str) {
        self.values.insert(name, (value.into(), source));
    }

    /// Reads the TOML file layer. Unknown keys are errors: a typo must not be ignored.
    pub fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![format!(
                "--config {}: cannot read the file: {e}",
                path.display()
            )],
        })?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError {
            problems: vec![format!(
                "--config {}: not valid TOML: {}",
                path.display(),
                e.message()
            )],
        })?;
        let mut problems = Vec::new();
        for (key, value) in table {
            let Some(&(name, ..)) = SETTINGS.iter().find(|s| s.1 == key) else {
                problems.push(format!(
                    "--config {}: unknown setting {key:?}",
                    path.display()
                ));
                continue;
            };
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    problems.push(format!(
                        "{name} (file key {key}): unsupported value {other}"
                    ));
                    continue;
                }
            };
            self.set(name, text, "config file");
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Reads the environment layer through a lookup function (the process environment in
    /// production, a map in tests).
    pub fn read_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        for &(name, ..) in SETTINGS {
            if let Some(v) = lookup(name) {
                self.set(name, v, "environment");
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(v, _)| v.as_str())
    }

    /// Validates every setting, collecting all problems.
    pub fn build(&self) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let mut bad = |name: &str, why: String| {
            let source = self.values.get(name).map(|(_, s)| *s).unwrap_or("default");
            problems.push(format!("{name} (from {source}): {why}"));
        };
        let data_dir = match self.get("JOBRANK_DATA_DIR") {
            Some("") => {
                bad("JOBRANK_DATA_DIR", "must not be empty".into());
                PathBuf::new()
            }
            Some(v) => PathBuf::from(v),
            None => PathBuf::from("./data"),
        };
        let bind = match self.get("JOBRANK_BIND").unwrap_or("127.0.0.1:8080").parse() {
            Ok(a) => a,
            Err(_) => {
                bad(
                    "JOBRANK_BIND",
                    format!(
                        "{:?} is not an address and port such as 127.0.0.1:8080",
                        self.get("JOBRANK_BIND").unwrap_or_default()
                    ),
                );
                SocketAddr::from(([127, 0, 0, 1], 8080))
            }
        };
        let parse_url = |name: &str, v: &str| -> Result<Url, String> {
            let u = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e})"))?;
            if u.scheme() != "http" && u.scheme() != "https" {
                return Err(format!("{v:?} must start with https:// or http://"));
            }
            let _ = name;
            Ok(u)
        };
        let public_url = match self.get("JOBRANK_PUBLIC_URL").filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => match parse_url("JOBRANK_PUBLIC_URL", v) {
                Ok(u) => Some(u),
                Err(e) => {
                    bad("JOBRANK_PUBLIC_URL", e);
                    None
                }
            },
        };
        let log_format = match self.get("JOBRANK_LOG_FORMAT").unwrap_or("text") {
            "text" | "" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                bad(
                    "JOBRANK_LOG_FORMAT",
                    format!("{other:?} is neither text nor json"),
                );
                LogFormat::Text
            }
        };
        let trusted_proxies =
            match parse_networks(self.get("JOBRANK_TRUSTED_PROXIES").unwrap_or("")) {
                Ok(n) => n,
                Err(e) => {
                    bad("JOBRANK_TRUSTED_PROXIES", e);
                    Vec::new()
                }
            };
        let base_url = match parse_url(
            "RECRUITERFLOW_BASE_URL",
            self.get("RECRUITERFLOW_BASE_URL")
                .unwrap_or("https://api.recruiterflow.com"),
        )
        .and_then(|u| crate::recruiterflow::client::check_base_url(&u).map(|()| u))
        {
            Ok(u) => u,
            Err(e) => {
                bad("RECRUITERFLOW_BASE_URL", e);
                Url::parse("https://api.recruiterflow.com").expect("constant URL")
            }
        };
        let secret = |name: &str| {
            self.get(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| SecretString::from(v.trim().to_string()))
        };
        let webhook_token = secret("RECRUITERFLOW_WEBHOOK_TOKEN");
        if let Some(t) = &webhook_token {
            let t = t.expose_secret();
            if t.len() < 32
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                bad(
                    "RECRUITERFLOW_WEBHOOK_TOKEN",
                    "must be at least 32 letters, digits, - or _ (make one with `openssl rand -hex 32`)".into(),
                );
            }
        }
        let sync_interval =
            match humantime::parse_duration(self.get("JOBRANK_SYNC_INTERVAL").unwrap_or("15m")) {
                Ok(d) if d >= Duration::from_secs(60) && d <= Duration::from_secs(24 * 3600) => d,
                Ok(_) => {
                    bad("JOBRANK_SYNC_INTERVAL", "must be between 1m and 24h".into());
                    Duration::from_secs(900)
                }
                Err(e) => {
                    bad(
                        "JOBRANK_SYNC_INTERVAL",
                        format!(
                            "{:?} is not a duration such as 15m ({e})",
                            self.get("JOBRANK_SYNC_INTERVAL").unwrap_or_default()
                        ),
                    );
                    Duration::from_secs(900)
                }
            };
        let supabase_pull_interval = match humantime::parse_duration(
            self.get("JOBRANK_SUPABASE_PULL_INTERVAL").unwrap_or("1m"),
        ) {
            Ok(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(3600) => d,
            _ => {
                bad(
                    "JOBRANK_SUPABASE_PULL_INTERVAL",
                    "must be a duration between 1s and 1h, such as 1m".into(),
                );
                Duration::from_secs(60)
            }
        };
        let supabase_db_url = secret("SUPABASE_DB_URL");
        if let Some(u) = &supabase_db_url {
            let ok = Url::parse(u.expose_secret())
                .map(|u| u.scheme() == "postgres" || u.scheme() == "postgresql")
                .unwrap_or(false);
            if !ok {
                // The value itself is a secret (it holds the password): never echo it.
                bad("SUPABASE_DB_URL", "is not a postgresql:// URL".into());
            }
        }
        let mut time = |name: &'static str, default: &str| {
            let v = self.get(name).unwrap_or(default);
            NaiveTime::parse_from_str(v, "%H:%M").unwrap_or_else(|_| {
                bad(
                    name,
                    format!("{v:?} is not a time of day as HH:MM, e.g. {default}"),
                );
                NaiveTime::MIN
            })
        };
        let reconcile_at = time("JOBRANK_RECONCILE_AT", "02:30");
        let backup_at = time("JOBRANK_BACKUP_AT", "03:15");
        let mut count = |name: &'static str, default: u32| match self.get(name) {
            None => default,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => {
                    bad(name, format!("{v:?} is not a whole number from 1 to 1000"));
                    default
                }
            },
        };
        let backup_keep_daily = count("JOBRANK_BACKUP_KEEP_DAILY", 7);
        let backup_keep_weekly = count("JOBRANK_BACKUP_KEEP_WEEKLY", 4);
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Config {
            data_dir,
            bind,
            public_url,
            log_format,
            trusted_proxies,
            recruiterflow: RecruiterflowConfig {
                api_key: secret("RECRUITERFLOW_API_KEY"),
                webhook_secret: secret("RECRUITERFLOW_WEBHOOK_SECRET"),
                webhook_token,
                base_url,
            },
            sync_interval,
            supabase_db_url,
            supabase_pull_interval,
            reconcile_at,
            backup_at,
            backup_keep_daily,
            backup_keep_weekly,
        })
    }
}

/// Parses a comma-separated list of addresses (`10.0.0.7`, `::1`) and networks in CIDR
/// notation (`10.0.0.0/8`); an address alone is a network of one. Empty means none.
fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<IpNet>()
                .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    format!("{t:?} is not an address or a network such as 127.0.0.1/32 or ::1/128")
                })
        })
        .collect()
}

impl Config {
    /// Loads defaults -> file -> process environment -> the given flag overrides.
    pub fn load(
        file: Option<&Path>,
        flags: &[(&'static str, String)],
    ) -> Result<Config, ConfigError> {
        let mut layers = Layers::default();
        if let Some(path) = file {
            layers.read_file(path)?;
        }
        layers.read_env(|k| std::env::var(k).ok());
        for (name, value) in flags {
            layers.set(name, value.clone(), "command line");
        }
        layers.build()
    }

    /// A configuration for tests and tools: defaults with this data directory.
    pub fn for_data_dir(dir: impl Into<PathBuf>) -> Config {
        let mut layers = Layers::default();
        layers.set(
            "JOBRANK_DATA_DIR",
            dir.into().to_string_lossy().into_owned(),
            "command line",
        );
        layers.build().expect("defaults are valid")
    }

    /// Whether cookies must carry `Secure`: the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// Warnings worth printing at start-up (never containing secret values).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        match &self.public_url {
            Some(u) if u.scheme() == "http" && u.host_str() != Some("localhost") && u.host_str() != Some("127.0.0.1") => {
                w.push(format!("JOBRANK_PUBLIC_URL is http ({u}): sign-in cookies travel unencrypted; use https"))
            }
            _ => {}
        }
        if self.recruiterflow.api_key.is_none() {
            w.push(
                "RECRUITERFLOW_API_KEY is not set: jobs are not synced from Recruiterflow".into(),
            );
        }
        if self.supabase_db_url.is_none() {
            w.push("SUPABASE_DB_URL is not set: changes stay in the local store only".into());
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(pairs: &[(&'static str, &str)]) -> Layers {
        let mut l = Layers::default();
        for (k, v) in pairs {
            l.set(k, *v, "environment");
        }
        l
    }

    #[test]
    fn defaults_are_valid() {
        let c = Layers::default().build().unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.sync_interval, Duration::from_secs(900));
        assert_eq!(c.reconcile_at.format("%H:%M").to_string(), "02:30");
        assert_eq!(
            c.recruiterflow.base_url.as_str(),
            "https://api.recruiterflow.com/"
        );
        assert!(c.recruiterflow.api_key.is_none() && c.supabase_db_url.is_none());
    }

    #[test]
    fn every_bad_setting_is_listed_by_name() {
        let err = layers(&[
            ("JOBRANK_BIND", "nonsense"),
            ("JOBRANK_SYNC_INTERVAL", "often"),
            ("JOBRANK_RECONCILE_AT", "25:99"),
            ("SUPABASE_DB_URL", "mysql://user:hunter2@host/db"),
        ])
        .build()
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "JOBRANK_BIND",
            "JOBRANK_SYNC_INTERVAL",
            "JOBRANK_RECONCILE_AT",
            "SUPABASE_DB_URL",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(!text.contains("hunter2"), "a secret leaked: {text}");
        assert_eq!(err.problems.len(), 4);
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobrank.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nsync_interval = \"5m\"\n").unwrap();
        let mut l = Layers::default();
        l.read_file(&file).unwrap();
        l.read_env(|k| (k == "JOBRANK_SYNC_INTERVAL").then(|| "30m".to_string()));
        let c = l.build().unwrap();
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.sync_interval, Duration::from_secs(1800));
        l.set("JOBRANK_BIND", "127.0.0.1:9001", "command line");
        assert_eq!(l.build().unwrap().bind.port(), 9001);
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = layers(&[(
            "JOBRANK_TRUSTED_PROXIES",
            " 127.0.0.1/32, ::1/128,10.1.2.3 ,192.168.7.9/24",
        )])
        .build()
        .unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            shown,
            ["127.0.0.1/32", "::1/128", "10.1.2.3/32", "192.168.7.0/24"]
        );
        assert!(
            Layers::default()
                .build()
                .unwrap()
                .trusted_proxies
                .is_empty()
        );
        let err = layers(&[("JOBRANK_TRUSTED_PROXIES", "127.0.0.1/32,caddy")])
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("JOBRANK_TRUSTED_PROXIES") && err.contains("\"caddy\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobrank.toml");
        std::fs::write(&file, "bnid = \"127.0.0.1:9000\"\n").unwrap();
        let err = Layers::default().read_file(&file).unwrap_err();
        assert!(err.to_string().contains("bnid"));
    }

    #[test]
    fn secrets_never_print() {
        let c = layers(&[
            ("RECRUITERFLOW_API_KEY", "rf-key-very-secret"),
            ("RECRUITERFLOW_WEBHOOK_SECRET", "whsec-very-secret"),
            (
                "SUPABASE_DB_URL",
                "postgresql://u:pg-very-secret@localhost/db",
            ),
        ])
        .build()
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        assert!(dbg.contains("[redacted]"));
    }
}

#[cfg(test)]
mod deploy_docs_tests {
    use super::SETTINGS;

    /// The deploy kit documents every setting: the env template sets each one (with a
    /// comment above it) and deploy/README.md names each one.
    #[test]
    fn every_setting_is_in_the_env_template_and_the_deploy_readme() {
        let template = include_str!("../deploy/jobrank.env.example");
        let readme = include_str!("../deploy/README.md");
        let lines: Vec<&str> = template.lines().collect();
        for &(name, ..) in SETTINGS {
            let at = lines
                .iter()
                .position(|l| l.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} is not set in deploy/jobrank.env.example"));
            assert!(
                at > 0 && lines[at - 1].starts_with('#'),
                "{name} has no comment above it in deploy/jobrank.env.example"
            );
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} is not in deploy/README.md"
            );
        }
        for line in lines
            .iter()
            .filter(|l| !l.starts_with('#') && l.contains('='))
        {
            let name = line.split('=').next().unwrap_or_default();
            assert!(
                SETTINGS.iter().any(|s| s.0 == name),
                "deploy/jobrank.env.example sets {name}, which jobrank does not read"
            );
        }
    }
}
