//! The command line: one binary with subcommands, each a small function.

mod demo;
mod demo_history;
mod notify;
mod supabase;
mod token;
mod user;
mod write_back;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::{Config, ConfigError};
use crate::store::{self, Store, backup};

pub use demo::{DemoAccounts, fill_demo};

/// jobrank ranks the agency's open jobs A/B/C from weekly team scores.
#[derive(Debug, Parser)]
#[command(name = "jobrank", version, about)]
pub struct Cli {
    /// TOML configuration file (settings as in the README's table, lower case).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data directory (overrides JOBRANK_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web pages and the API.
    Serve {
        /// Fill an empty store with a realistic demo agency first.
        #[arg(long)]
        demo: bool,
        /// Address to listen on (overrides JOBRANK_BIND).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Migrate the Supabase PostgreSQL schema (SUPABASE_DB_URL) instead of the local store.
        #[arg(long)]
        supabase: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Fill an empty store with a realistic demo agency (refuses a non-empty one).
    Demo,
    /// Take an online backup of the store into PATH, verified with integrity_check.
    Backup { path: PathBuf },
    /// Replace the store with a backup (stop the server first).
    Restore {
        #[arg(required_unless_present = "from_supabase")]
        path: Option<PathBuf>,
        /// Rebuild an empty local store from Supabase PostgreSQL instead.
        #[arg(long, conflicts_with = "path")]
        from_supabase: bool,
    },
    /// Compare the local store with Supabase and repair missing rows.
    Reconcile {
        /// Only report the differences.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate the configuration and report what works.
    Check,
    /// Sync now from an external system.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Notifications: the weekly digest now.
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
}

/// What `jobrank sync` syncs.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Run one full Recruiterflow sync (jobs, pipelines, placements) and report it.
    Recruiterflow {
        /// Then write every open job's current rank into RECRUITERFLOW_RANK_FIELD and
        /// wait until it is written (exit 1 if any became a dead letter).
        #[arg(long)]
        write_back: bool,
    },
    /// One push of the outbox to Supabase and one pull of other replicas' changes;
    /// exits non-zero with the reason when PostgreSQL cannot be reached.
    Supabase,
}

/// Runs a parsed command line and returns the process exit code: 0 on success,
/// 2 for invalid configuration, 1 for any other failure.
pub fn run(cli: Cli) -> ExitCode {
    let mut flags: Vec<(&'static str, String)> = Vec::new();
    if let Some(d) = &cli.data_dir {
        flags.push(("JOBRANK_DATA_DIR", d.to_string_lossy().into_owned()));
    }
    if let Command::Serve { bind: Some(b), .. } = &cli.command {
        flags.push(("JOBRANK_BIND", b.clone()));
    }
    let config = match Config::load(cli.config.as_deref(), &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("jobrank: {e}");
            return ExitCode::from(2);
        }
    };
    let audience = if matches!(cli.command, Command::Serve { .. }) {
        crate::telemetry::Audience::Server
    } else {
        crate::telemetry::Audience::Command
    };
    crate::telemetry::init(
        config.log_format == crate::config::LogFormat::Json,
        audience,
    );
    crate::install_crypto();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jobrank: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<ConfigError>().is_some() => {
            eprintln!("jobrank: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("jobrank: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { demo, .. } => serve(config, demo).await,
        Command::Migrate { supabase: true } => supabase::migrate(&config).await,
        Command::Migrate { supabase: false } => {
            let dir = config.data_dir.clone();
            tokio::task::spawn_blocking(move || Store::open(&dir)).await??;
            println!(
                "store migrated to schema version {}",
                store::supported_schema_version()
            );
            Ok(())
        }
        Command::User(cmd) => user::run(cmd, &config).await,
        Command::Token(cmd) => token::run(cmd, &config).await,
        Command::Demo => {
            let store = open_store(&config).await?;
            refuse_demo_with_supabase(&config)?;
            let bar = spinner("filling the store with the demo agency");
            let accounts = fill_demo(&store).await;
            bar.finish_and_clear();
            accounts?.print();
            Ok(())
        }
        Command::Backup { path } => {
            let dir = config.data_dir.clone();
            let dest = path.clone();
            let bar = spinner("backing up and verifying");
            let result =
                tokio::task::spawn_blocking(move || backup::backup_data_dir(&dir, &dest)).await;
            bar.finish_and_clear();
            result??;
            println!("backup written and verified: {}", path.display());
            Ok(())
        }
        Command::Restore {
            from_supabase: true,
            ..
        } => supabase::restore(&config).await,
        Command::Restore { path: None, .. } => {
            anyhow::bail!("restore needs a backup PATH or --from-supabase")
        }
        Command::Restore {
            path: Some(path), ..
        } => {
            let dir = config.data_dir.clone();
            let bar = spinner("verifying and restoring the backup");
            let kept = tokio::task::spawn_blocking(move || -> anyhow::Result<PathBuf> {
                let _lock = Store::lock_data_dir(&dir)?;
                let kept = backup::restore_data_dir(&dir, &path)?;
                Store::open(&dir)?;
                Ok(kept)
            })
            .await;
            bar.finish_and_clear();
            let kept = kept??;
            println!(
                "store restored; the replaced store was kept as {}",
                kept.display()
            );
            Ok(())
        }
        Command::Check => check(&config).await,
        Command::Sync(SyncCommand::Recruiterflow { write_back }) => {
            sync_recruiterflow(&config, write_back).await
        }
        Command::Sync(SyncCommand::Supabase) => supabase::sync(&config).await,
        Command::Reconcile { dry_run } => supabase::run_reconcile(&config, dry_run).await,
        Command::Notify(cmd) => notify::run(cmd, &config).await,
    }
}

/// Whoever runs this command, for the audit log and token records: "command line
/// (unix user NAME)", with the account that ran `sudo` when there is one.
pub fn command_line_actor() -> store::audit::Actor {
    let name = whoami::username().unwrap_or_else(|_| "unknown".into());
    let unix_user = match std::env::var("SUDO_USER") {
        Ok(by) if !by.is_empty() && by != name => format!("{name}, through sudo by {by}"),
        _ => name,
    };
    store::audit::Actor::CommandLine { unix_user }
}

/// A spinner on stderr for a long operation; indicatif draws nothing when stderr is
/// not a terminal, so logs and pipes stay clean.
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Opens the store on the blocking pool, with the data directory named in errors.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .context("while opening the store")??;
    Ok(store)
}

fn refuse_demo_with_supabase(config: &Config) -> anyhow::Result<()> {
    if config.supabase_db_url.is_some() {
        anyhow::bail!(
            "the demo is refused while SUPABASE_DB_URL is set, so invented data never reaches the system of record"
        );
    }
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let dir = config.data_dir.clone();
    let lock = tokio::task::spawn_blocking(move || Store::lock_data_dir(&dir)).await??;
    let store = open_store(&config).await?;
    for w in config.warnings() {
        tracing::warn!("{w}");
    }
    if demo {
        if demo::is_empty(&store).await? {
            refuse_demo_with_supabase(&config)?;
            let accounts = fill_demo(&store).await?;
            if std::io::stdout().is_terminal() {
                accounts.print();
            } else {
                // A service manager sends stdout to its journal: passwords go to a file
                // only this user can read, and the output says only where.
                let path = accounts
                    .write_file(&config.data_dir)
                    .context("while writing the demo accounts file")?;
                println!(
                    "Demo accounts and their passwords are in {} (readable by this user only).",
                    path.display()
                );
            }
        } else {
            println!(
                "The store already holds data; serving it as it is (--demo only fills an empty store)."
            );
        }
    }
    let app = Application::build(config, store).await?;
    // The address line, printed once the listener is bound, whatever stdout is (a
    // terminal, a pipe, the journal): whoever starts `serve` on port 0 reads the port
    // from it. Its format is stable (README, "Commands").
    let addr = app.local_addr();
    // Listening for SIGTERM before the address line: whoever reads it may stop us at once.
    let stop = app::shutdown_signal();
    if std::io::stdout().is_terminal() {
        println!("jobrank is serving on http://{addr}/ (Ctrl-C to stop)");
    } else {
        println!("jobrank is serving on http://{addr}/");
    }
    app.run_until(stop).await?;
    drop(lock);
    Ok(())
}

async fn check(config: &Config) -> anyhow::Result<()> {
    println!("configuration: ok");
    for w in config.warnings() {
        println!("  note: {w}");
    }
    let store = open_store(config).await?;
    let (users, jobs) = store
        .read(|c| Ok((store::users::count_users(c)?, store::jobs::count_jobs(c)?)))
        .await?;
    println!(
        "store: ok ({}, schema version {}, {users} users, {jobs} jobs)",
        store.path().display(),
        store::supported_schema_version()
    );
    let mut failed = Vec::new();
    if config.recruiterflow.api_key.is_some() {
        match crate::recruiterflow::check_key(config).await {
            Ok(n) => println!("recruiterflow: ok (the API key works; {n} open jobs)"),
            Err(e) => {
                println!("recruiterflow: FAILED: {e}");
                failed.push("Recruiterflow");
            }
        }
    } else {
        println!("recruiterflow: not configured (RECRUITERFLOW_API_KEY is not set)");
    }
    let (line, rank_field_failed) = write_back::check_line(config, &store).await;
    println!("{line}");
    if rank_field_failed {
        failed.push("the Recruiterflow rank field");
    }
    match &config.supabase_db_url {
        Some(url) => match check_supabase(url).await {
            Ok(text) => println!("supabase: ok ({text})"),
            Err(e) => {
                println!("supabase: FAILED: {e}");
                failed.push("Supabase");
            }
        },
        None => println!("supabase: not configured (SUPABASE_DB_URL is not set)"),
    }
    check_notifications(config, &mut failed).await;
    if !failed.is_empty() {
        anyhow::bail!("check failed for {}", failed.join(" and "));
    }
    Ok(())
}

/// Says whether the SMTP server accepts the configuration (connects, starts TLS as
/// configured and authenticates, sending nothing) and whether the Slack webhook
/// answers (a post without text, which Slack refuses with `no_text` once it found the
/// webhook).
async fn check_notifications(config: &Config, failed: &mut Vec<&'static str>) {
    let channels = match crate::notify::Channels::from_config(config) {
        Ok(c) => c,
        Err(e) => {
            println!("notifications: FAILED: {e}");
            failed.push("notifications");
            return;
        }
    };
    match channels.mailer() {
        Some(m) => match m.check().await {
            Ok(()) => {
                let e = m.endpoint();
                let how = match e.security {
                    crate::mail::Security::ImplicitTls => "over TLS",
                    crate::mail::Security::StartTls => "with STARTTLS",
                    crate::mail::Security::Plain => "in plain text (a loopback address)",
                };
                let login = if e.credentials.is_some() {
                    "and accepted the login"
                } else {
                    "(no login configured)"
                };
                println!("email: ok ({} answered {how} {login})", e.server());
            }
            Err(e) => {
                println!("email: FAILED: {e}");
                failed.push("email");
            }
        },
        None => println!("email: not configured (JOBRANK_SMTP_URL is not set)"),
    }
    match channels.slack() {
        Some(s) => match s.check().await {
            Ok(()) => println!("slack: ok (the webhook answered)"),
            Err(e) => {
                println!("slack: FAILED: {e}");
                failed.push("Slack");
            }
        },
        None => println!("slack: not configured (JOBRANK_SLACK_WEBHOOK_URL is not set)"),
    }
}

/// Connects to Supabase and says where and whether jobrank's schema is there. Errors
/// never contain the URL's password.
async fn check_supabase(url: &secrecy::SecretString) -> anyhow::Result<String> {
    let target = crate::replication::PgTarget::parse(url)?;
    let client = target.connect().await?;
    let schema: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'jobrank')",
            &[],
        )
        .await
        .map_err(|e| anyhow::anyhow!(crate::replication::connect::describe_pg_error(&e)))?
        .get(0);
    Ok(format!(
        "reached {}; {}",
        target.describe(),
        if schema {
            "the jobrank schema is there"
        } else {
            "the jobrank schema is missing: run `jobrank migrate --supabase`"
        }
    ))
}

/// `jobrank sync recruiterflow [--write-back]`: one full sync, recorded like the
/// poller's; with `--write-back`, then every open job's rank written into Recruiterflow.
async fn sync_recruiterflow(config: &Config, write_back: bool) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let syncer = crate::recruiterflow::Syncer::from_config(config, &store)?.ok_or_else(|| {
        anyhow::anyhow!("RECRUITERFLOW_API_KEY is not set: there is nothing to sync from")
    })?;
    let writer = match write_back {
        true => Some(write_back::required(syncer.write_back())?),
        false => None,
    };
    let actor = command_line_actor();
    let command = if write_back {
        "jobrank sync recruiterflow --write-back"
    } else {
        "jobrank sync recruiterflow"
    };
    store
        .write(move |tx| {
            store::audit::record(
                tx,
                &actor,
                store::audit::Action::SyncStarted,
                "Recruiterflow (full sync)",
                command,
                store::now(),
            )
        })
        .await?;
    let report = syncer.sync_now().await?;
    println!(
        "recruiterflow sync ok (run {}): {}",
        report.run_id, report.message
    );
    if let Some(w) = writer {
        write_back::write_back_all(&store, w).await?;
    }
    Ok(())
}
