//! The table of settings: one [`Setting`] per setting jobrank reads, with its names,
//! secrecy, default, meaning and parser. A new setting is one entry here and one field
//! in [`Config`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveTime;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Config, JobUrl, LogFormat, WeeklyAt};

/// One setting jobrank reads.
pub struct Setting {
    /// The canonical name: the environment variable.
    pub env: &'static str,
    /// The key in the TOML file.
    pub key: &'static str,
    /// Secret: `Debug` shows `[redacted]` instead of its value, and an error about it
    /// never quotes the value.
    pub secret: bool,
    /// The value when no layer sets one; empty for none.
    pub default: &'static str,
    /// What it means (the README's table says the same).
    pub description: &'static str,
    /// Checks a value (the one set, else the default) and stores it in the
    /// configuration. The error says why; the caller names the setting and the layer.
    pub(super) parse: fn(&mut Config, &str) -> Result<(), String>,
    /// The value in effect as text, `None` when unset.
    pub(super) show: fn(&Config) -> Option<String>,
}

/// Every setting jobrank reads, in the README's order.
pub const SETTINGS: &[Setting] = &[
    Setting {
        env: "JOBRANK_DATA_DIR",
        key: "data_dir",
        secret: false,
        default: "./data",
        description: "Directory holding the SQLite store and backups (default ./data)",
        parse: |c, v| {
            if v.is_empty() {
                return Err("must not be empty".into());
            }
            c.data_dir = PathBuf::from(v);
            Ok(())
        },
        show: |c| Some(c.data_dir.display().to_string()),
    },
    Setting {
        env: "JOBRANK_BIND",
        key: "bind",
        secret: false,
        default: "127.0.0.1:8080",
        description: "Address and port to listen on (default 127.0.0.1:8080)",
        parse: |c, v| {
            c.bind = v
                .parse()
                .map_err(|_| format!("{v:?} is not an address and port such as 127.0.0.1:8080"))?;
            Ok(())
        },
        show: |c| Some(c.bind.to_string()),
    },
    Setting {
        env: "JOBRANK_PUBLIC_URL",
        key: "public_url",
        secret: false,
        default: "",
        description: "The URL users reach jobrank at; https makes cookies Secure",
        parse: |c, v| {
            c.public_url = if v.is_empty() {
                None
            } else {
                Some(web_url(v)?)
            };
            Ok(())
        },
        show: |c| c.public_url.as_ref().map(Url::to_string),
    },
    Setting {
        env: "JOBRANK_LOG_FORMAT",
        key: "log_format",
        secret: false,
        default: "text",
        description: "text (default) or json",
        parse: |c, v| {
            c.log_format = match v {
                "text" | "" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => return Err(format!("{other:?} is neither text nor json")),
            };
            Ok(())
        },
        show: |c| {
            Some(match c.log_format {
                LogFormat::Text => "text".into(),
                LogFormat::Json => "json".into(),
            })
        },
    },
    Setting {
        env: "JOBRANK_TRUSTED_PROXIES",
        key: "trusted_proxies",
        secret: false,
        default: "",
        description: "Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (default none; the deploy kit sets 127.0.0.1/32,::1/128 for Caddy)",
        parse: |c, v| {
            c.trusted_proxies = parse_networks(v)?;
            Ok(())
        },
        show: |c| {
            let shown: Vec<String> = c.trusted_proxies.iter().map(IpNet::to_string).collect();
            (!shown.is_empty()).then(|| shown.join(","))
        },
    },
    Setting {
        env: "RECRUITERFLOW_API_KEY",
        key: "recruiterflow_api_key",
        secret: true,
        default: "",
        description: "Recruiterflow API key; without it there is no sync",
        parse: |c, v| {
            c.recruiterflow.api_key = secret(v);
            Ok(())
        },
        show: |c| exposed(&c.recruiterflow.api_key),
    },
    Setting {
        env: "RECRUITERFLOW_WEBHOOK_SECRET",
        key: "recruiterflow_webhook_secret",
        secret: true,
        default: "",
        description: "Shared secret for webhook signatures",
        parse: |c, v| {
            c.recruiterflow.webhook_secret = secret(v);
            Ok(())
        },
        show: |c| exposed(&c.recruiterflow.webhook_secret),
    },
    Setting {
        env: "RECRUITERFLOW_WEBHOOK_TOKEN",
        key: "recruiterflow_webhook_token",
        secret: true,
        default: "",
        description: "Optional long random path token for senders that cannot sign",
        parse: |c, v| {
            let token = secret(v);
            if let Some(t) = &token {
                let t = t.expose_secret();
                if t.len() < 32
                    || !t
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                {
                    return Err("must be at least 32 letters, digits, - or _ (make one with `openssl rand -hex 32`)".into());
                }
            }
            c.recruiterflow.webhook_token = token;
            Ok(())
        },
        show: |c| exposed(&c.recruiterflow.webhook_token),
    },
    Setting {
        env: "RECRUITERFLOW_BASE_URL",
        key: "recruiterflow_base_url",
        secret: false,
        default: "https://api.recruiterflow.com",
        description: "Recruiterflow API base URL (default https://api.recruiterflow.com; https only, http on loopback)",
        parse: |c, v| {
            let url = web_url(v)?;
            https_unless_loopback(&url)?;
            c.recruiterflow.base_url = url;
            Ok(())
        },
        show: |c| Some(c.recruiterflow.base_url.to_string()),
    },
    Setting {
        env: "RECRUITERFLOW_JOB_URL",
        key: "recruiterflow_job_url",
        secret: false,
        default: "",
        description: "A job's page in the Recruiterflow app, with {id} where the job's number goes, for \"Open in Recruiterflow\" links (https; none when unset)",
        parse: |c, v| {
            c.recruiterflow.job_url = if v.trim().is_empty() {
                None
            } else {
                Some(JobUrl::parse(v)?)
            };
            Ok(())
        },
        show: |c| {
            c.recruiterflow
                .job_url
                .as_ref()
                .map(|u| u.as_str().to_string())
        },
    },
    Setting {
        env: "JOBRANK_SYNC_INTERVAL",
        key: "sync_interval",
        secret: false,
        default: "15m",
        description: "How often to poll Recruiterflow, e.g. 15m (default 15m)",
        parse: |c, v| match humantime::parse_duration(v) {
            Ok(d) if d >= Duration::from_secs(60) && d <= Duration::from_secs(24 * 3600) => {
                c.sync_interval = d;
                Ok(())
            }
            Ok(_) => Err("must be between 1m and 24h".into()),
            Err(e) => Err(format!("{v:?} is not a duration such as 15m ({e})")),
        },
        show: |c| Some(humantime::format_duration(c.sync_interval).to_string()),
    },
    Setting {
        env: "RECRUITERFLOW_RANK_FIELD",
        key: "recruiterflow_rank_field",
        secret: false,
        default: "",
        description: "Name of the Recruiterflow job custom field jobrank writes each open job's rank into (a single select with choices A, B and C, a text or a number field); unset: no write-back",
        parse: |c, v| {
            c.recruiterflow.rank_field = field_name(v)?;
            Ok(())
        },
        show: |c| c.recruiterflow.rank_field.clone(),
    },
    Setting {
        env: "RECRUITERFLOW_SCORE_FIELD",
        key: "recruiterflow_score_field",
        secret: false,
        default: "",
        description: "Optional name of a second job custom field (text or number) jobrank writes the team score into",
        parse: |c, v| {
            let name = field_name(v)?;
            match (&name, &c.recruiterflow.rank_field) {
                (Some(_), None) => {
                    return Err("needs RECRUITERFLOW_RANK_FIELD: the team score is written only beside the rank".into());
                }
                (Some(s), Some(r)) if s.eq_ignore_ascii_case(r) => {
                    return Err(format!(
                        "{s:?} is also RECRUITERFLOW_RANK_FIELD; name another field"
                    ));
                }
                _ => {}
            }
            c.recruiterflow.score_field = name;
            Ok(())
        },
        show: |c| c.recruiterflow.score_field.clone(),
    },
    Setting {
        env: "RECRUITERFLOW_WRITE_BACK_PER_MINUTE",
        key: "recruiterflow_write_back_per_minute",
        secret: false,
        default: "60",
        description: "Most job updates the rank write-back starts in any minute (default 60; 0 for no bound); an update's retries by the client and the custom-field list reads are not counted",
        parse: |c, v| match v.trim().parse::<u32>() {
            Ok(n) if n <= 10_000 => {
                c.recruiterflow.write_back_per_minute = n;
                Ok(())
            }
            _ => Err(format!(
                "{v:?} is not a whole number from 0 (no bound) to 10000"
            )),
        },
        show: |c| Some(c.recruiterflow.write_back_per_minute.to_string()),
    },
    Setting {
        env: "JOBRANK_SUPABASE_PULL_INTERVAL",
        key: "supabase_pull_interval",
        secret: false,
        default: "1m",
        description: "How often to pull other replicas' changes from Supabase, e.g. 1m (default 1m; pushes run every 5s or this, whichever is shorter)",
        parse: |c, v| match humantime::parse_duration(v) {
            Ok(d) if d >= Duration::from_secs(1) && d <= Duration::from_secs(3600) => {
                c.supabase_pull_interval = d;
                Ok(())
            }
            _ => Err("must be a duration between 1s and 1h, such as 1m".into()),
        },
        show: |c| Some(humantime::format_duration(c.supabase_pull_interval).to_string()),
    },
    Setting {
        env: "SUPABASE_DB_URL",
        key: "supabase_db_url",
        secret: true,
        default: "",
        description: "Supabase PostgreSQL connection URL; without it no replication",
        parse: |c, v| {
            let url = secret(v);
            if let Some(u) = &url {
                let ok = Url::parse(u.expose_secret())
                    .is_ok_and(|u| u.scheme() == "postgres" || u.scheme() == "postgresql");
                if !ok {
                    return Err("is not a postgresql:// URL".into());
                }
            }
            c.supabase_db_url = url;
            Ok(())
        },
        show: |c| exposed(&c.supabase_db_url),
    },
    Setting {
        env: "JOBRANK_RECONCILE_AT",
        key: "reconcile_at",
        secret: false,
        default: "02:30",
        description: "Local time of the nightly reconciliation, HH:MM (default 02:30)",
        parse: |c, v| {
            c.reconcile_at = time_of_day(v, "02:30")?;
            Ok(())
        },
        show: |c| Some(c.reconcile_at.format("%H:%M").to_string()),
    },
    Setting {
        env: "JOBRANK_BACKUP_AT",
        key: "backup_at",
        secret: false,
        default: "03:15",
        description: "Local time of the nightly backup, HH:MM (default 03:15)",
        parse: |c, v| {
            c.backup_at = time_of_day(v, "03:15")?;
            Ok(())
        },
        show: |c| Some(c.backup_at.format("%H:%M").to_string()),
    },
    Setting {
        env: "JOBRANK_BACKUP_KEEP_DAILY",
        key: "backup_keep_daily",
        secret: false,
        default: "7",
        description: "Daily backups to keep (default 7)",
        parse: |c, v| {
            c.backup_keep_daily = backup_count(v)?;
            Ok(())
        },
        show: |c| Some(c.backup_keep_daily.to_string()),
    },
    Setting {
        env: "JOBRANK_BACKUP_KEEP_WEEKLY",
        key: "backup_keep_weekly",
        secret: false,
        default: "4",
        description: "Weekly backups to keep (default 4)",
        parse: |c, v| {
            c.backup_keep_weekly = backup_count(v)?;
            Ok(())
        },
        show: |c| Some(c.backup_keep_weekly.to_string()),
    },
    Setting {
        env: "JOBRANK_SMTP_URL",
        key: "smtp_url",
        secret: true,
        default: "",
        description: "SMTP server for email, smtp://user:password@host:port (STARTTLS required except to a loopback address) or smtps://... (TLS); without it no email is sent",
        parse: |c, v| {
            let url = secret(v);
            if let Some(u) = &url {
                match Url::parse(u.expose_secret()) {
                    Ok(u) if u.scheme() == "smtp" || u.scheme() == "smtps" => {}
                    _ => {
                        return Err(
                            "is not an smtp:// or smtps:// URL (smtp://user:password@host:port)"
                                .into(),
                        );
                    }
                }
            }
            c.notify.smtp_url = url;
            Ok(())
        },
        show: |c| exposed(&c.notify.smtp_url),
    },
    Setting {
        env: "JOBRANK_SMTP_CA_FILE",
        key: "smtp_ca_file",
        secret: false,
        default: "",
        description: "PEM file of a private certificate authority the SMTP server's certificate may chain to (besides the usual public ones)",
        parse: |c, v| {
            c.notify.smtp_ca_file = (!v.trim().is_empty()).then(|| PathBuf::from(v.trim()));
            Ok(())
        },
        show: |c| {
            c.notify
                .smtp_ca_file
                .as_ref()
                .map(|p| p.display().to_string())
        },
    },
    Setting {
        env: "JOBRANK_MAIL_FROM",
        key: "mail_from",
        secret: false,
        default: "",
        description: "Sender of jobrank's email, e.g. jobrank <jobrank@agency.example> (required with JOBRANK_SMTP_URL)",
        parse: |c, v| {
            let v = v.trim();
            if !v.is_empty() && !v.contains('@') {
                return Err(format!(
                    "{v:?} is not an email address, e.g. jobrank <jobrank@agency.example>"
                ));
            }
            c.notify.mail_from = (!v.is_empty()).then(|| v.to_string());
            Ok(())
        },
        show: |c| c.notify.mail_from.clone(),
    },
    Setting {
        env: "JOBRANK_SLACK_WEBHOOK_URL",
        key: "slack_webhook_url",
        secret: true,
        default: "",
        description: "Slack incoming webhook that gets one team message per weekly digest and per alert batch (https only, http on loopback)",
        parse: |c, v| {
            let url = secret(v);
            if let Some(u) = &url {
                let parsed = Url::parse(u.expose_secret()).map_err(|_| {
                    "is not a URL (https://hooks.slack.com/services/...)".to_string()
                })?;
                // Its own words: the URL is a secret and must not be quoted.
                https_unless_loopback(&parsed).map_err(|_| {
                    "must start with https:// (plain http:// only to a loopback address such as 127.0.0.1)"
                        .to_string()
                })?;
            }
            c.notify.slack_webhook_url = url;
            Ok(())
        },
        show: |c| exposed(&c.notify.slack_webhook_url),
    },
    Setting {
        env: "JOBRANK_DIGEST_AT",
        key: "digest_at",
        secret: false,
        default: "mon 08:30",
        description: "Day and local time of the weekly digest, e.g. fri 16:00 (default mon 08:30)",
        parse: |c, v| {
            c.notify.digest_at = WeeklyAt::parse(v)?;
            Ok(())
        },
        show: |c| Some(c.notify.digest_at.to_string()),
    },
];

/// The setting of this canonical name.
pub fn setting(env: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.env == env)
}

/// A secret value, trimmed; empty means unset.
fn secret(v: &str) -> Option<SecretString> {
    let v = v.trim();
    (!v.is_empty()).then(|| SecretString::from(v.to_string()))
}

fn exposed(s: &Option<SecretString>) -> Option<String> {
    s.as_ref().map(|s| s.expose_secret().to_string())
}

/// An http or https URL.
fn web_url(v: &str) -> Result<Url, String> {
    let u = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e})"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("{v:?} must start with https:// or http://"));
    }
    Ok(u)
}

/// Whether `url` may carry a secret (an API key, a webhook URL's token): `https://`, or
/// `http://` on a loopback host (`localhost`, 127.0.0.0/8, `::1`) only, since over plain
/// HTTP anyone on the path reads it. The error says what is wrong, in words for a
/// configuration error naming the setting.
pub fn https_unless_loopback(url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{:?} must start with https:// (plain http:// is accepted only for a loopback address such as 127.0.0.1, since the secret would cross the network unencrypted)",
            url.as_str()
        )),
        other => Err(format!(
            "{:?} must start with https:// (not {other}://)",
            url.as_str()
        )),
    }
}

/// Whether a URL's host is a loopback one (`localhost`, 127.0.0.0/8, `::1`).
pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The name of a Recruiterflow custom field, trimmed (matched without regard to case);
/// empty means unset.
fn field_name(v: &str) -> Result<Option<String>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > 200 || v.chars().any(char::is_control) {
        return Err(format!(
            "{:?} is not a field name (at most 200 characters, no control characters)",
            v.chars().take(40).collect::<String>()
        ));
    }
    Ok(Some(v.to_string()))
}

/// A local time of day as HH:MM.
fn time_of_day(v: &str, example: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(v, "%H:%M")
        .map_err(|_| format!("{v:?} is not a time of day as HH:MM, e.g. {example}"))
}

/// How many backups to keep: 1 to 1000.
fn backup_count(v: &str) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!("{v:?} is not a whole number from 1 to 1000")),
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

/// The settings tables outside the code agree with [`SETTINGS`].
#[cfg(test)]
mod docs_tests {
    use super::{SETTINGS, setting};

    /// The README's Configuration table lists every setting, in order, with its TOML
    /// key, whether it is secret, and its description.
    #[test]
    fn the_readme_table_is_the_settings_table() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Configuration\n")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README.md has a Configuration section");
        let rows: Vec<Vec<&str>> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
            .collect();
        let expected: Vec<Vec<String>> = SETTINGS
            .iter()
            .map(|s| {
                vec![
                    format!("`{}`", s.env),
                    format!("`{}`", s.key),
                    if s.secret { "yes" } else { "" }.to_string(),
                    s.description.to_string(),
                ]
            })
            .collect();
        assert_eq!(
            rows, expected,
            "README.md's Configuration table differs from config::SETTINGS"
        );
    }

    /// The deploy kit documents every setting: the env template sets each one once,
    /// with a comment above it that starts `# SECRET` exactly for the secret ones, and
    /// deploy/README.md names each one.
    #[test]
    fn every_setting_is_in_the_env_template_and_the_deploy_readme() {
        let template = include_str!("../../deploy/jobrank.env.example");
        let readme = include_str!("../../deploy/README.md");
        let lines: Vec<&str> = template.lines().collect();
        for s in SETTINGS {
            let name = s.env;
            let set: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].starts_with(&format!("{name}=")))
                .collect();
            assert_eq!(
                set.len(),
                1,
                "{name} must be set exactly once in deploy/jobrank.env.example"
            );
            let at = set[0];
            let comment = (0..at)
                .rev()
                .take_while(|&i| lines[i].starts_with('#'))
                .last()
                .unwrap_or_else(|| {
                    panic!("{name} has no comment above it in deploy/jobrank.env.example")
                });
            assert_eq!(
                lines[comment].starts_with("# SECRET"),
                s.secret,
                "{name}: the comment above it in deploy/jobrank.env.example must start with \
                 `# SECRET` exactly when the setting is secret"
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
                setting(name).is_some(),
                "deploy/jobrank.env.example sets {name}, which jobrank does not read"
            );
        }
    }
}
