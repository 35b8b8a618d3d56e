//! `jobrank token create`: a new API token for a user, printed once on stdout (and
//! nothing else there, so scripts can capture it). The store keeps only its SHA-256.

use anyhow::Context;
use clap::Subcommand;

use crate::config::Config;
use crate::credentials;
use crate::store::{self, api_tokens, audit, users};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (shown only this once).
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for (shown on the admin page).
        #[arg(long, default_value = "command line")]
        label: String,
    },
}

pub async fn run(cmd: TokenCommand, config: &Config) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { email, label } => {
            let store = super::open_store(config).await?;
            let token = credentials::new_api_token();
            let hash = credentials::hash_token(&token);
            let e = email.clone();
            let by = super::command_line_actor();
            store
                .write(move |tx| {
                    let user = users::find_user_by_email(tx, &e)?
                        .ok_or_else(|| store::StoreError::NotFound(format!("user {e}")))?;
                    let now = store::now();
                    let t = api_tokens::insert_token(tx, &user.id, &label, &hash, &by, now)?;
                    audit::record(
                        tx,
                        &by,
                        audit::Action::TokenCreated,
                        &format!("API token \u{201c}{}\u{201d} of {}", t.label, user.email),
                        "new token",
                        now,
                    )
                })
                .await
                .with_context(|| format!("while creating an API token for {email}"))?;
            println!("{token}");
            eprintln!("API token created for {email}; it is shown only this once.");
            Ok(())
        }
    }
}
