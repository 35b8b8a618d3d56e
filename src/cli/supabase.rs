//! Supabase commands: `migrate --supabase`, `sync supabase`, `reconcile`,
//! `restore --from-supabase`.

use anyhow::Context;

use crate::config::Config;
use crate::replication::{self, PgTarget, pull, reconcile};
use crate::store::replicated;

fn target(config: &Config) -> anyhow::Result<PgTarget> {
    let url = config.supabase_db_url.as_ref().ok_or_else(|| {
        anyhow::anyhow!("SUPABASE_DB_URL is not set; set it to the Supabase connection string")
    })?;
    Ok(PgTarget::parse(url)?)
}

/// Applies the Postgres migrations (schema `jobrank`).
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let target = target(config)?;
    let mut client = target.connect().await?;
    let n = replication::migrate(&mut client).await?;
    println!(
        "Supabase schema jobrank at {} is up to date ({n} migrations applied)",
        target.describe()
    );
    Ok(())
}

/// `jobrank sync supabase`: fails with the reason when Postgres cannot be reached.
pub async fn sync(config: &Config) -> anyhow::Result<()> {
    let target = target(config)?;
    let store = super::open_store(config).await?;
    let (pushed, pulled) = replication::sync_once(&store, &target)
        .await
        .context("sync with Supabase failed")?;
    println!(
        "pushed {} changes ({} to the dead letter); pulled {} rows, {} applied",
        pushed.pushed, pushed.dead, pulled.read, pulled.applied
    );
    Ok(())
}

/// `jobrank reconcile [--dry-run]`: prints progress, then the differences found and repaired.
pub async fn run_reconcile(config: &Config, dry_run: bool) -> anyhow::Result<()> {
    let target = target(config)?;
    let store = super::open_store(config).await?;
    if !dry_run {
        // Changes merely in flight (queued here, or not yet pulled) are not differences.
        replication::sync_once(&store, &target)
            .await
            .context("sync with Supabase before reconciling failed")?;
    }
    let mut client = target.connect().await?;
    let mut progress = |p: reconcile::Progress<'_>| match p {
        reconcile::Progress::Table(t) => eprintln!("reconciling {t}..."),
        reconcile::Progress::TableDone(r) => eprintln!(
            "  {}: {} local rows, {} in Supabase, {} missing there, {} missing here, {} conflicting",
            r.table,
            r.local_rows,
            r.remote_rows,
            r.missing_remote.len(),
            r.missing_local.len(),
            r.conflicting.len()
        ),
    };
    let report = reconcile::reconcile_logged(&store, &mut client, dry_run, &mut progress).await?;
    for t in &report.tables {
        for id in &t.conflicting {
            println!(
                "conflict: {} {id} differs between the local store and Supabase (left as is)",
                t.table
            );
        }
    }
    println!(
        "{} differences found, {} repaired{}",
        report.differences(),
        report.repaired(),
        if dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    );
    Ok(())
}

/// `jobrank restore --from-supabase`: rebuilds an empty local store from Postgres.
pub async fn restore(config: &Config) -> anyhow::Result<()> {
    let target = target(config)?;
    let dir = config.data_dir.clone();
    let _lock =
        tokio::task::spawn_blocking(move || crate::store::Store::lock_data_dir(&dir)).await??;
    let store = super::open_store(config).await?;
    if !store.read(replicated::is_empty).await? {
        anyhow::bail!(
            "the local store in {} already holds data; restore --from-supabase only fills an empty store",
            config.data_dir.display()
        );
    }
    let mut client = target.connect().await?;
    store.write(replicated::clear_for_rebuild).await?;
    let r = pull::pull_logged(&store, &mut client, pull::PAGE).await?;
    store
        .write(|tx| crate::store::settings::ensure_default_settings(tx, crate::store::now()))
        .await?;
    println!(
        "local store rebuilt from Supabase: {} rows, {} ranks computed",
        r.applied,
        r.rank_changes.len()
    );
    Ok(())
}
