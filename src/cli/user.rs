//! `jobrank user ...`: add, list, set passwords, deactivate. Passwords are read from
//! an interactive prompt on a terminal, otherwise from the first line of stdin; never
//! from the command line, where other users of the machine could see them.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::credentials;
use crate::domain::Role;
use crate::store::audit::{self, Action};
use crate::store::{self, api_tokens, commands, users};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is prompted for (or read from stdin).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// ceo, account_manager, sales_person or other.
        #[arg(long)]
        role: String,
        /// The user does not score jobs.
        #[arg(long)]
        no_score: bool,
    },
    /// List users.
    List,
    /// Set a user's password (prompted for, or read from stdin).
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Deactivate a user: they can no longer sign in and their scores stop counting.
    Deactivate {
        #[arg(long)]
        email: String,
    },
}

fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(prompt).context("while reading the password")?;
        let again =
            rpassword::prompt_password("Repeat it: ").context("while reading the password")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("while reading the password from stdin")?;
        let p = line.trim_end_matches(['\n', '\r']).to_string();
        if p.is_empty() {
            anyhow::bail!("no password on stdin; nothing was changed");
        }
        Ok(p)
    }
}

pub async fn run(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            email,
            name,
            role,
            no_score,
        } => {
            let role = Role::parse(&role)?;
            let password = read_password(&format!("Password for {email}: "))?;
            let hash = tokio::task::spawn_blocking(move || credentials::hash_password(&password))
                .await??;
            let store = super::open_store(config).await?;
            let new = users::NewUser {
                email,
                name,
                role,
                scores: !no_score,
                password_hash: hash,
            };
            let actor = super::command_line_actor();
            let user = store
                // A new user has no submissions yet, so no rank changes.
                .write(move |tx| {
                    let now = store::now();
                    let u = users::insert_user(tx, &new, now)?;
                    audit::record_for_user(
                        tx,
                        &actor,
                        Action::UserAdded,
                        &u,
                        &audit::new_user_details(&u),
                        now,
                    )?;
                    Ok(u)
                })
                .await?;
            println!(
                "added {} <{}> as {}{}",
                user.name,
                user.email,
                user.role.label(),
                if user.scores { ", scores" } else { "" }
            );
        }
        UserCommand::List => {
            let store = super::open_store(config).await?;
            let list = store.read(users::list_users).await?;
            println!(
                "{:<32} {:<24} {:<16} {:<6} ACTIVE",
                "EMAIL", "NAME", "ROLE", "SCORES"
            );
            for u in list {
                println!(
                    "{:<32} {:<24} {:<16} {:<6} {}",
                    u.email,
                    u.name,
                    u.role.as_str(),
                    if u.scores { "yes" } else { "no" },
                    if u.active { "yes" } else { "no" }
                );
            }
        }
        UserCommand::SetPassword { email } => {
            let store = super::open_store(config).await?;
            let e = email.clone();
            let user = store
                .read(move |c| users::find_user_by_email(c, &e))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
            let password = read_password(&format!("New password for {email}: "))?;
            let hash = tokio::task::spawn_blocking(move || credentials::hash_password(&password))
                .await??;
            let actor = super::command_line_actor();
            store
                .write(move |tx| {
                    let now = store::now();
                    let u = commands::reset_password(tx, &user.id, &hash, now, None)?;
                    audit::record_for_user(
                        tx,
                        &actor,
                        Action::PasswordReset,
                        &u,
                        "password changed; their sessions ended",
                        now,
                    )
                })
                .await?;
            println!("password changed for {email}; their sessions have ended");
        }
        UserCommand::Deactivate { email } => {
            let store = super::open_store(config).await?;
            let e = email.clone();
            let actor = super::command_line_actor();
            store
                .write(move |tx| {
                    let u = users::find_user_by_email(tx, &e)?.ok_or_else(|| {
                        store::StoreError::NotFound(format!("user with email {e}"))
                    })?;
                    let now = store::now();
                    let tokens = api_tokens::count_unrevoked(tx, &u.id)?;
                    let u = commands::set_user_active(tx, &u.id, false, now)?.into_result();
                    audit::record_for_user(
                        tx,
                        &actor,
                        Action::UserDeactivated,
                        &u,
                        &format!("{} revoked", audit::count(tokens, "API token")),
                        now,
                    )
                })
                .await?;
            println!("deactivated {email}");
        }
    }
    Ok(())
}
