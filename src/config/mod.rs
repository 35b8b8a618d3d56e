//! Configuration, layered: defaults -> optional TOML file (`--config PATH`) ->
//! environment -> command-line flags. Every setting has one canonical name (the
//! environment variable); the TOML file uses the same names in lower case without the
//! `JOBRANK_` prefix (`bind = "0.0.0.0:8080"`, `recruiterflow_api_key = "..."`).
//! Validation collects every bad setting into one error.
//!
//! [`SETTINGS`] describes each setting once: its names, whether it is secret, its
//! default, its meaning and its parser. That table drives the file and environment
//! layers, validation, redaction, the README's table and the deploy kit's env template
//! (both checked by tests here). A new setting is one [`Setting`] and one field.
//!
//! A leaf module: any layer may read the configuration; it uses nothing else of jobrank.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveTime, Weekday};
use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

mod settings;

pub use settings::{SETTINGS, Setting, https_unless_loopback, setting};

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
    pub notify: NotifyConfig,
}

/// Email, Slack and the weekly digest's time; without SMTP and Slack nothing is sent.
#[derive(Clone)]
pub struct NotifyConfig {
    /// `JOBRANK_SMTP_URL`: `smtp://user:password@host:port` or `smtps://...`.
    pub smtp_url: Option<SecretString>,
    /// `JOBRANK_SMTP_CA_FILE`: PEM certificates of a private CA to trust as well.
    pub smtp_ca_file: Option<PathBuf>,
    /// `JOBRANK_MAIL_FROM`: the sender, required with `JOBRANK_SMTP_URL`.
    pub mail_from: Option<String>,
    /// `JOBRANK_SLACK_WEBHOOK_URL`: the team channel's incoming webhook.
    pub slack_webhook_url: Option<SecretString>,
    /// `JOBRANK_DIGEST_AT`: when the weekly digest goes out, local time.
    pub digest_at: WeeklyAt,
}

impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("smtp_url", &self.smtp_url)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("slack_webhook_url", &self.slack_webhook_url)
            .field("digest_at", &self.digest_at.to_string())
            .finish()
    }
}

/// A day of the week and a local time of day: `mon 08:30`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyAt {
    pub weekday: Weekday,
    pub time: NaiveTime,
}

impl WeeklyAt {
    /// Reads `mon 08:30` (a day's first three letters or its whole name, any case, then
    /// HH:MM).
    pub fn parse(v: &str) -> Result<WeeklyAt, String> {
        let bad = || format!("{v:?} is not a day of the week and a time as HH:MM, e.g. mon 08:30");
        let mut parts = v.split_whitespace();
        let (Some(day), Some(time), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let day = day.to_ascii_lowercase();
        let weekday = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ]
        .into_iter()
        .find(|w| {
            let name = format!("{w:?}").to_ascii_lowercase();
            day == name || day == full_day_name(*w)
        })
        .ok_or_else(bad)?;
        let time = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| bad())?;
        Ok(WeeklyAt { weekday, time })
    }
}

fn full_day_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

impl WeeklyAt {
    /// "Monday at 08:30".
    pub fn in_words(&self) -> String {
        let day = full_day_name(self.weekday);
        let mut cs = day.chars();
        let day = cs
            .next()
            .map(|c| c.to_ascii_uppercase().to_string())
            .unwrap_or_default()
            + cs.as_str();
        format!("{day} at {}", self.time.format("%H:%M"))
    }
}

impl std::fmt::Display for WeeklyAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let day = format!("{:?}", self.weekday).to_ascii_lowercase();
        write!(f, "{day} {}", self.time.format("%H:%M"))
    }
}

/// Recruiterflow settings; all optional, jobrank runs on its local store alone.
#[derive(Clone)]
pub struct RecruiterflowConfig {
    pub api_key: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub webhook_token: Option<SecretString>,
    pub base_url: Url,
    /// Where a job's page is in the Recruiterflow app ("Open in Recruiterflow" links);
    /// no link when unset.
    pub job_url: Option<JobUrl>,
    /// The job custom field the rank is written into; `None`: no write-back.
    pub rank_field: Option<String>,
    /// A second field for the team score (only beside `rank_field`).
    pub score_field: Option<String>,
    /// Most job updates the write-back starts in any minute; 0 for no bound. Counts
    /// updates, not HTTP requests (an update's retries are not counted).
    pub write_back_per_minute: u32,
}

/// The address of a job's page in the Recruiterflow app, as a pattern with `{id}`
/// where the job's id goes (`RECRUITERFLOW_JOB_URL`): an http(s) URL once the id is in,
/// https unless on a loopback address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobUrl(String);

impl JobUrl {
    /// Checks a pattern; the error says what is wrong.
    pub fn parse(pattern: &str) -> Result<JobUrl, String> {
        let pattern = pattern.trim();
        if !pattern.contains("{id}") {
            return Err(format!(
                "{pattern:?} has no {{id}}: copy a job's address from Recruiterflow and put {{id}} where the job's number is"
            ));
        }
        let url = Url::parse(&pattern.replace("{id}", "4101"))
            .map_err(|e| format!("{pattern:?} is not a URL once {{id}} is a job's number ({e})"))?;
        match url.scheme() {
            "https" => {}
            "http" if settings::is_loopback(&url) => {}
            _ => {
                return Err(format!(
                    "{pattern:?} must start with https:// (http:// only for a loopback address such as 127.0.0.1)"
                ));
            }
        }
        Ok(JobUrl(pattern.to_string()))
    }

    /// The address of job `id`'s page.
    pub fn for_job(&self, id: i64) -> String {
        self.0.replace("{id}", &id.to_string())
    }

    /// The pattern as set.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::fmt::Debug for RecruiterflowConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SecretString's own Debug never shows the value.
        f.debug_struct("RecruiterflowConfig")
            .field("api_key", &self.api_key)
            .field("webhook_secret", &self.webhook_secret)
            .field("webhook_token", &self.webhook_token)
            .field("base_url", &self.base_url.as_str())
            .field("job_url", &self.job_url.as_ref().map(JobUrl::as_str))
            .field("rank_field", &self.rank_field)
            .field("score_field", &self.score_field)
            .field("write_back_per_minute", &self.write_back_per_minute)
            .finish()
    }
}

/// Each setting by its TOML key with the value in effect, `[redacted]` for every
/// setting marked secret.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Shown(Option<String>, bool);
        impl std::fmt::Debug for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Shown(None, _) => f.write_str("None"),
                    Shown(Some(_), true) => f.write_str("[redacted]"),
                    Shown(Some(v), false) => write!(f, "{v:?}"),
                }
            }
        }
        let mut d = f.debug_struct("Config");
        for s in SETTINGS {
            d.field(s.key, &Shown((s.show)(self), s.secret));
        }
        d.finish()
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
    /// Sets a value from a named source, overriding earlier layers. `name` is a
    /// canonical name from [`SETTINGS`].
    pub fn set(&mut self, name: &'static str, value: impl Into<String>, source: &'static str) {
        debug_assert!(setting(name).is_some(), "{name} is not a setting");
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
            let Some(s) = SETTINGS.iter().find(|s| s.key == key) else {
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
                    let shown = if s.secret {
                        format!("a {}", other.type_str())
                    } else {
                        other.to_string()
                    };
                    problems.push(format!(
                        "{} (file key {key}): unsupported value {shown}",
                        s.env
                    ));
                    continue;
                }
            };
            self.set(s.env, text, "config file");
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
        for s in SETTINGS {
            if let Some(v) = lookup(s.env) {
                self.set(s.env, v, "environment");
            }
        }
    }

    /// Validates every setting, collecting all problems: each is named with the layer
    /// its value came from, and a secret value is never quoted.
    pub fn build(&self) -> Result<Config, ConfigError> {
        let mut config = Config::unset();
        let mut problems = Vec::new();
        for s in SETTINGS {
            let (value, source) = match self.values.get(s.env) {
                Some((v, source)) => (v.as_str(), *source),
                None => (s.default, "default"),
            };
            if let Err(mut why) = (s.parse)(&mut config, value) {
                if s.secret && !value.trim().is_empty() {
                    why = why.replace(value.trim(), "[redacted]");
                }
                problems.push(format!("{} (from {source}): {why}", s.env));
            }
        }
        if config.notify.smtp_url.is_some() && config.notify.mail_from.is_none() {
            problems.push(
                "JOBRANK_MAIL_FROM: must be set when JOBRANK_SMTP_URL is, e.g. jobrank <jobrank@agency.example>"
                    .into(),
            );
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }
}

impl Config {
    /// The configuration before any setting is parsed: every field is then set by its
    /// setting's parser, from a layer or the default.
    pub(super) fn unset() -> Config {
        Config {
            data_dir: PathBuf::new(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
            recruiterflow: RecruiterflowConfig {
                api_key: None,
                webhook_secret: None,
                webhook_token: None,
                base_url: Url::parse("http://unset.invalid/").expect("constant URL"),
                job_url: None,
                rank_field: None,
                score_field: None,
                write_back_per_minute: 0,
            },
            sync_interval: Duration::ZERO,
            supabase_db_url: None,
            supabase_pull_interval: Duration::ZERO,
            reconcile_at: NaiveTime::MIN,
            backup_at: NaiveTime::MIN,
            backup_keep_daily: 0,
            backup_keep_weekly: 0,
            notify: NotifyConfig {
                smtp_url: None,
                smtp_ca_file: None,
                mail_from: None,
                slack_webhook_url: None,
                digest_at: WeeklyAt {
                    weekday: Weekday::Mon,
                    time: NaiveTime::MIN,
                },
            },
        }
    }

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
        if self.recruiterflow.rank_field.is_some() && self.recruiterflow.api_key.is_none() {
            w.push(
                "RECRUITERFLOW_RANK_FIELD is set but RECRUITERFLOW_API_KEY is not: no rank is written back".into(),
            );
        }
        if self.supabase_db_url.is_none() {
            w.push("SUPABASE_DB_URL is not set: changes stay in the local store only".into());
        }
        let notifies = self.notify.smtp_url.is_some() || self.notify.slack_webhook_url.is_some();
        if notifies && self.public_url.is_none() {
            w.push(
                "JOBRANK_PUBLIC_URL is not set: digests and alerts carry no links, and \"Forgot password\" is off"
                    .into(),
            );
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
    fn the_recruiterflow_job_url_needs_its_id_and_https() {
        let c = layers(&[(
            "RECRUITERFLOW_JOB_URL",
            "https://recruiterflow.example/jobs/{id}/overview",
        )])
        .build()
        .unwrap();
        let url = c.recruiterflow.job_url.expect("set");
        assert_eq!(
            url.for_job(4107),
            "https://recruiterflow.example/jobs/4107/overview"
        );
        assert!(
            Layers::default()
                .build()
                .unwrap()
                .recruiterflow
                .job_url
                .is_none()
        );
        assert!(
            layers(&[("RECRUITERFLOW_JOB_URL", "http://127.0.0.1:9/job?id={id}")])
                .build()
                .is_ok(),
            "http on loopback"
        );
        for (bad, why) in [
            ("https://recruiterflow.example/jobs/4107", "has no {id}"),
            (
                "http://recruiterflow.example/jobs/{id}",
                "must start with https://",
            ),
            ("javascript:alert({id})", "must start with https://"),
            ("recruiterflow/jobs/{id}", "is not a URL"),
        ] {
            let err = layers(&[("RECRUITERFLOW_JOB_URL", bad)])
                .build()
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("RECRUITERFLOW_JOB_URL") && err.contains(why),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_notification_settings_are_checked_and_named() {
        let c = layers(&[
            ("JOBRANK_DIGEST_AT", "Friday 16:00"),
            ("JOBRANK_SMTP_URL", "smtps://u:p@mail.example.com"),
            ("JOBRANK_MAIL_FROM", "jobrank <jobrank@agency.example>"),
            ("JOBRANK_SLACK_WEBHOOK_URL", "http://127.0.0.1:9/services/x"),
        ])
        .build()
        .unwrap();
        assert_eq!(c.notify.digest_at.to_string(), "fri 16:00");
        assert_eq!(c.notify.digest_at.in_words(), "Friday at 16:00");
        let d = Layers::default().build().unwrap();
        assert_eq!(d.notify.digest_at.to_string(), "mon 08:30");
        assert!(d.notify.smtp_url.is_none() && d.notify.slack_webhook_url.is_none());

        let err = layers(&[
            ("JOBRANK_DIGEST_AT", "someday 8"),
            ("JOBRANK_SMTP_URL", "http://u:hunter2@mail.example.com"),
            (
                "JOBRANK_SLACK_WEBHOOK_URL",
                "HTTP://Hooks.Slack.com/services/T0/B0/s3cr3tpart",
            ),
        ])
        .build()
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "JOBRANK_DIGEST_AT",
            "JOBRANK_SMTP_URL",
            "JOBRANK_SLACK_WEBHOOK_URL",
        ] {
            assert!(text.contains(name), "{name} missing from {text}");
        }
        assert!(text.contains("e.g. mon 08:30"), "{text}");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cr3tpart"),
            "{text}"
        );

        let err = layers(&[("JOBRANK_SMTP_URL", "smtp://127.0.0.1:25")])
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("JOBRANK_MAIL_FROM") && err.contains("JOBRANK_SMTP_URL"),
            "{err}"
        );
    }

    #[test]
    fn the_rank_write_back_settings_name_fields_and_bound_updates() {
        let c = Layers::default().build().unwrap();
        assert_eq!(c.recruiterflow.rank_field, None);
        assert_eq!(c.recruiterflow.score_field, None);
        assert_eq!(c.recruiterflow.write_back_per_minute, 60);
        let c = layers(&[
            ("RECRUITERFLOW_RANK_FIELD", "  jobrank rank "),
            ("RECRUITERFLOW_SCORE_FIELD", "jobrank score"),
            ("RECRUITERFLOW_WRITE_BACK_PER_MINUTE", "0"),
        ])
        .build()
        .unwrap();
        assert_eq!(c.recruiterflow.rank_field.as_deref(), Some("jobrank rank"));
        assert_eq!(
            c.recruiterflow.score_field.as_deref(),
            Some("jobrank score")
        );
        assert_eq!(c.recruiterflow.write_back_per_minute, 0);
        for (pairs, named, why) in [
            (
                vec![("RECRUITERFLOW_SCORE_FIELD", "jobrank score")],
                "RECRUITERFLOW_SCORE_FIELD",
                "needs RECRUITERFLOW_RANK_FIELD",
            ),
            (
                vec![
                    ("RECRUITERFLOW_RANK_FIELD", "Rank"),
                    ("RECRUITERFLOW_SCORE_FIELD", "rank"),
                ],
                "RECRUITERFLOW_SCORE_FIELD",
                "is also RECRUITERFLOW_RANK_FIELD",
            ),
            (
                vec![("RECRUITERFLOW_RANK_FIELD", "rank\u{7}")],
                "RECRUITERFLOW_RANK_FIELD",
                "not a field name",
            ),
            (
                vec![("RECRUITERFLOW_WRITE_BACK_PER_MINUTE", "-1")],
                "RECRUITERFLOW_WRITE_BACK_PER_MINUTE",
                "from 0 (no bound) to 10000",
            ),
            (
                vec![("RECRUITERFLOW_WRITE_BACK_PER_MINUTE", "10001")],
                "RECRUITERFLOW_WRITE_BACK_PER_MINUTE",
                "from 0 (no bound) to 10000",
            ),
        ] {
            let err = layers(&pairs).build().unwrap_err().to_string();
            assert!(err.contains(named) && err.contains(why), "{err}");
        }
        // Set without a key: said at start.
        let c = layers(&[("RECRUITERFLOW_RANK_FIELD", "jobrank rank")])
            .build()
            .unwrap();
        assert!(
            c.warnings()
                .iter()
                .any(|w| w
                    .contains("RECRUITERFLOW_RANK_FIELD is set but RECRUITERFLOW_API_KEY is not")),
            "{:?}",
            c.warnings()
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
    fn every_setting_has_one_name_and_key_and_its_description_gives_its_default() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(
                SETTINGS[..i]
                    .iter()
                    .all(|o| o.env != s.env && o.key != s.key),
                "{} is described twice",
                s.env
            );
            let key = s.env.trim_start_matches("JOBRANK_").to_ascii_lowercase();
            assert_eq!(s.key, key, "the TOML key of {}", s.env);
            assert!(
                s.description.contains(s.default),
                "the description of {} does not give its default {:?}",
                s.env,
                s.default
            );
            if let Ok(Err(why)) = NaiveTime::parse_from_str(s.default, "%H:%M")
                .map(|_| (s.parse)(&mut Config::unset(), "25:99"))
            {
                assert!(
                    why.ends_with(&format!("e.g. {}", s.default)),
                    "{}: {why}",
                    s.env
                );
            }
        }
    }

    /// What `Debug` hides is what the table marks secret: every secret setting shows
    /// as `[redacted]`, every other one with its value.
    #[test]
    fn the_secret_column_decides_redaction() {
        let samples = [
            ("RECRUITERFLOW_API_KEY", "marker-api-key"),
            ("RECRUITERFLOW_WEBHOOK_SECRET", "marker-webhook-secret"),
            (
                "RECRUITERFLOW_WEBHOOK_TOKEN",
                "marker-webhook-token-0123456789abcdef",
            ),
            ("SUPABASE_DB_URL", "postgresql://u:marker-pg@localhost/db"),
            (
                "JOBRANK_SMTP_URL",
                "smtp://u:marker-smtp@mail.example.com:587",
            ),
            (
                "JOBRANK_SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/marker-slack",
            ),
            ("JOBRANK_MAIL_FROM", "jobrank <jobrank@agency.example>"),
        ];
        for s in SETTINGS.iter().filter(|s| s.secret) {
            assert!(
                samples.iter().any(|(name, _)| *name == s.env),
                "give this test a valid value for the secret setting {}",
                s.env
            );
        }
        let c = layers(&samples).build().unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("marker"), "{dbg}");
        for s in SETTINGS {
            let field = format!("{}: ", s.key);
            let shown = dbg
                .split(&field)
                .nth(1)
                .unwrap_or_else(|| panic!("{} missing from {dbg}", s.key));
            if s.secret {
                assert!(shown.starts_with("[redacted]"), "{}: {dbg}", s.key);
            } else if let Some(v) = (s.show)(&c) {
                assert!(shown.starts_with(&format!("{v:?}")), "{}: {dbg}", s.key);
            }
        }
        assert!(dbg.contains("bind: \"127.0.0.1:8080\""), "{dbg}");

        // A file value of the wrong type is not quoted for a secret setting.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("jobrank.toml");
        std::fs::write(
            &file,
            "recruiterflow_api_key = [\"marker-in-array\"]\nbind = [\"shown\"]\n",
        )
        .unwrap();
        let err = Layers::default().read_file(&file).unwrap_err().to_string();
        assert!(!err.contains("marker"), "{err}");
        assert!(
            err.contains("RECRUITERFLOW_API_KEY") && err.contains("shown"),
            "{err}"
        );
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
