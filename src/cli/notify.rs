//! `jobrank notify digest [--dry-run]`: makes this week's digest now and sends it, or
//! prints what it would send. A week's digest is made once, whoever makes it (this
//! command or the server at `JOBRANK_DIGEST_AT`): a second run in the same week sends
//! nothing new.

use clap::Subcommand;

use crate::config::Config;
use crate::notify::{Channels, digest, sender};
use crate::store;

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Make this week's digest now and send it (a second run in the same week sends
    /// nothing new).
    Digest {
        /// Print what would be sent; record and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(cmd: NotifyCommand, config: &Config) -> anyhow::Result<()> {
    match cmd {
        NotifyCommand::Digest { dry_run } => run_digest(config, dry_run).await,
    }
}

async fn run_digest(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let notifier = crate::app::notifier_from_config(config)?;
    let channels = notifier
        .as_ref()
        .map(|n| n.channels().clone())
        .unwrap_or_default();
    if notifier.is_none() && !dry_run {
        anyhow::bail!(
            "notifications are off: set JOBRANK_SMTP_URL (with JOBRANK_MAIL_FROM) or JOBRANK_SLACK_WEBHOOK_URL"
        );
    }
    let store = super::open_store(config).await?;
    let now = store::now();
    let week = digest::local_week(now);
    if dry_run {
        return print_digest(&store, &channels, now, week).await;
    }
    match digest::make(&store, &channels, now, week).await? {
        digest::Made::Already {
            made_at, messages, ..
        } => {
            println!(
                "The digest of the week of {} was already made on {} ({}); nothing new was sent.",
                crate::notify::compose::day(week),
                made_at
                    .with_timezone(&chrono::Local)
                    .format("%-d %b %Y, %H:%M"),
                crate::notify::compose::count(messages as usize, "message", "messages")
            );
            Ok(())
        }
        digest::Made::New { messages, .. } => {
            let report = sender::drain(&store, &channels, &store::now).await?;
            println!(
                "Digest of the week of {} made: {}; {} sent.",
                crate::notify::compose::day(week),
                crate::notify::compose::count(messages, "message", "messages"),
                report.sent
            );
            if report.retried > 0 {
                println!(
                    "{} failed for now and wait in the queue; the server tries again with backoff.",
                    crate::notify::compose::count(report.retried, "message", "messages")
                );
            }
            if report.dead > 0 {
                println!(
                    "{} could not be sent and became dead letters: see the admin page.",
                    crate::notify::compose::count(report.dead, "message", "messages")
                );
            }
            if report.retried + report.dead > 0 {
                anyhow::bail!("not every message of the digest was sent");
            }
            Ok(())
        }
    }
}

/// Prints each message the digest would send (addresses included: this is for the
/// operator's eyes, not a log).
async fn print_digest(
    store: &store::Store,
    channels: &Channels,
    now: chrono::DateTime<chrono::Utc>,
    week: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let preview_email = !channels.email_on();
    let planned = digest::plan(store, channels, now, week, preview_email).await?;
    println!(
        "Dry run: the digest of the week of {} (nothing is recorded or sent).",
        crate::notify::compose::day(week)
    );
    if !channels.any() {
        println!(
            "Notifications are off (JOBRANK_SMTP_URL and JOBRANK_SLACK_WEBHOOK_URL are not set); this is what email would carry."
        );
    }
    if let Some((made_at, _)) = store
        .read(move |c| store::notifications::find_digest(c, week))
        .await?
    {
        println!(
            "This week's digest was already made on {}: a real run now would send nothing new.",
            made_at
                .with_timezone(&chrono::Local)
                .format("%-d %b %Y, %H:%M")
        );
    }
    if planned.is_empty() {
        println!("Nothing to send: nobody has anything to do this week.");
        return Ok(());
    }
    for p in &planned {
        println!();
        println!("To: {}", p.to);
        println!("Subject: {}", p.message.subject);
        println!();
        println!("{}", p.message.body_text.trim_end());
        println!("{}", "-".repeat(72));
    }
    println!(
        "{} would be sent.",
        crate::notify::compose::count(planned.len(), "message", "messages")
    );
    Ok(())
}
