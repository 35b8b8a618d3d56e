//! The rank write-back at the command line: what `jobrank check` says of the fields,
//! and `jobrank sync recruiterflow --write-back`.

use anyhow::Context;

use crate::config::{Config, ConfigError};
use crate::recruiterflow::custom_fields::CustomField;
use crate::recruiterflow::write_back::Fields;
use crate::recruiterflow::{self, WriteBack};
use crate::store::{self, Store};

/// The line `jobrank check` prints about the rank field, and whether the check failed.
pub async fn check_line(config: &Config, store: &Store) -> (String, bool) {
    let Some(rank) = config.recruiterflow.rank_field.as_deref() else {
        return (
            "recruiterflow rank field: not configured (RECRUITERFLOW_RANK_FIELD is not set; jobrank writes nothing into Recruiterflow)".into(),
            false,
        );
    };
    if config.recruiterflow.api_key.is_none() {
        return (
            format!(
                "recruiterflow rank field: FAILED: RECRUITERFLOW_RANK_FIELD names {rank:?} but RECRUITERFLOW_API_KEY is not set, so nothing can be written"
            ),
            true,
        );
    }
    match recruiterflow::check_write_back_fields(config, store).await {
        Ok(Some(fields)) => (
            format!("recruiterflow rank field: ok ({})", describe(&fields)),
            false,
        ),
        Ok(None) => ("recruiterflow rank field: not configured".into(), false),
        Err(e) => (format!("recruiterflow rank field: FAILED: {e}"), true),
    }
}

/// The fields in words: `the rank into "jobrank rank" (a single select with the
/// choices A, B and C), the team score into "jobrank score" (number)`.
fn describe(fields: &Fields) -> String {
    fn kind(f: &CustomField) -> String {
        match f.field_type.as_deref().unwrap_or_default() {
            "single_select" => "a single select with the choices A, B and C".into(),
            t => t.to_string(),
        }
    }
    let mut out = format!(
        "the rank into {} ({})",
        fields.rank.label(),
        kind(&fields.rank)
    );
    if let Some(score) = &fields.score {
        out.push_str(&format!(
            ", the team score into {} ({})",
            score.label(),
            kind(score)
        ));
    }
    out
}

/// After `jobrank sync recruiterflow --write-back` ran its full sync: checks the
/// fields, queues every open job's current rank, sends the queue (within the bound on
/// updates, waiting when it asks) and reports. Fails when a value became a dead letter
/// or could not be written yet.
pub async fn write_back_all(store: &Store, write_back: &WriteBack) -> anyhow::Result<()> {
    let fields = write_back
        .check_fields()
        .await
        .context("the rank field cannot be written")?;
    let queued = store
        .write(|tx| store::write_back::enqueue_open_jobs(tx, store::now()))
        .await?;
    let bar = super::spinner(&format!(
        "writing {queued} ranks into Recruiterflow ({})",
        describe(&fields)
    ));
    let progress = |sent: usize| {
        bar.set_message(format!(
            "written {sent} of {queued} ranks into Recruiterflow"
        ))
    };
    let round = write_back.send_all(&progress).await;
    bar.finish_and_clear();
    let round = round?;
    let (waiting, dead) = store.read(store::write_back::counts).await?;
    println!(
        "rank write-back: {queued} open jobs queued, {} written, {} skipped (closed since), {} became dead letters, {waiting} still waiting ({dead} dead letters in all)",
        round.sent, round.closed, round.dead
    );
    if round.dead > 0 {
        anyhow::bail!(
            "{} rank write-backs became dead letters; they are listed on the admin page with their errors",
            round.dead
        );
    }
    if waiting > 0 {
        anyhow::bail!(
            "{waiting} rank write-backs could not be written yet (Recruiterflow kept failing); the server tries them again"
        );
    }
    Ok(())
}

/// The write-back for `--write-back`: a configuration error without
/// `RECRUITERFLOW_RANK_FIELD`.
pub fn required(write_back: Option<&WriteBack>) -> anyhow::Result<&WriteBack> {
    write_back.ok_or_else(|| {
        ConfigError {
            problems: vec![
                "RECRUITERFLOW_RANK_FIELD is not set: --write-back has no field to write the rank into".into(),
            ],
        }
        .into()
    })
}
