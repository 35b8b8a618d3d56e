//! Versioned scoring settings. The current settings are the greatest by
//! (version, created_at, origin): the same total order on every replica.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{Result, StoreError, Tx, col_ts, new_id, outbox, ts};
use crate::domain::{FeeBands, Settings, Thresholds, TimeOpenBands, Weights};

/// A stored settings version.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsVersion {
    pub id: String,
    pub settings: Settings,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    /// The replica that wrote this version.
    pub origin: String,
}

const COLUMNS: &str = "id, version, weight_client_engagement, weight_search_difficulty, weight_time_open, \
    weight_fee_size, threshold_a, threshold_b, time_open_bands, fee_bands, fee_currency, cadence_days, \
    created_at, created_by, origin";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<SettingsVersion>> {
    let weights = [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?];
    let bands_t: String = r.get(8)?;
    let bands_f: String = r.get(9)?;
    let cadence: i64 = r.get(11)?;
    let id: String = r.get(0)?;
    let version: i64 = r.get(1)?;
    let (ta, tb): (i64, i64) = (r.get(6)?, r.get(7)?);
    let currency: String = r.get(10)?;
    let created_at = col_ts(r, 12)?;
    let created_by: Option<String> = r.get(13)?;
    let origin: String = r.get(14)?;
    Ok((|| {
        let t: [i64; 4] =
            serde_json::from_str(&bands_t).map_err(|e| StoreError::Data(e.to_string()))?;
        let f: [i64; 4] =
            serde_json::from_str(&bands_f).map_err(|e| StoreError::Data(e.to_string()))?;
        Ok(SettingsVersion {
            id,
            settings: Settings {
                version,
                weights: Weights::from_basis_points(weights)?,
                thresholds: Thresholds::new(ta, tb)?,
                time_open_bands: TimeOpenBands::new(t)?,
                fee_bands: FeeBands::new(f)?,
                fee_currency: currency,
                cadence_days: Settings::check_cadence(cadence)?,
            },
            created_at,
            created_by,
            origin,
        })
    })())
}

/// The settings in force.
pub fn current_settings(conn: &Connection) -> Result<SettingsVersion> {
    find_current_settings(conn)?.ok_or_else(|| StoreError::NotFound("settings".into()))
}

/// The settings in force, or `None` while there are none (only while a store is
/// rebuilt from an empty Postgres).
pub fn find_current_settings(conn: &Connection) -> Result<Option<SettingsVersion>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM settings ORDER BY version DESC, created_at DESC, origin DESC LIMIT 1"
    ))?
    .query_row([], from_row)
    .optional()?
    .transpose()
}

/// Every settings version, newest first.
pub fn list_settings(conn: &Connection) -> Result<Vec<SettingsVersion>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM settings ORDER BY version DESC, created_at DESC, origin DESC"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().collect()
}

fn insert(
    tx: &Tx<'_>,
    s: &Settings,
    version: i64,
    at: DateTime<Utc>,
    by: Option<&str>,
) -> Result<SettingsVersion> {
    let id = new_id();
    let w = s.weights.as_basis_points();
    tx.execute(
        "INSERT INTO settings (id, version, weight_client_engagement, weight_search_difficulty, weight_time_open,
            weight_fee_size, threshold_a, threshold_b, time_open_bands, fee_bands, fee_currency, cadence_days,
            created_at, created_by, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        rusqlite::params![
            id,
            version,
            w[0],
            w[1],
            w[2],
            w[3],
            s.thresholds.a_hundredths(),
            s.thresholds.b_hundredths(),
            serde_json::to_string(&s.time_open_bands.days()).unwrap_or_default(),
            serde_json::to_string(&s.fee_bands.fees()).unwrap_or_default(),
            Settings::check_currency(&s.fee_currency)?,
            Settings::check_cadence(i64::from(s.cadence_days))?,
            ts(&at),
            by,
            tx.origin(),
        ],
    )?;
    outbox::enqueue(tx, "settings", &id)?;
    let mut out = s.clone();
    out.version = version;
    Ok(SettingsVersion {
        id,
        settings: out,
        created_at: at,
        created_by: by.map(str::to_string),
        origin: tx.origin().to_string(),
    })
}

/// Writes the default settings as version 1 when there are none yet.
pub fn ensure_default_settings(tx: &Tx<'_>, at: DateTime<Utc>) -> Result<()> {
    let n: i64 = tx.query_row("SELECT COUNT(*) FROM settings", [], |r| r.get(0))?;
    if n == 0 {
        insert(tx, &Settings::default(), 1, at, None)?;
    }
    Ok(())
}

/// Backdates the first settings version to `at` and queues it for replication again
/// (the demo's history begins before the store was made).
pub(in crate::store) fn backdate_first_version(tx: &Tx<'_>, at: DateTime<Utc>) -> Result<()> {
    let id: String = tx.query_row(
        "SELECT id FROM settings ORDER BY version, created_at, origin LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE settings SET created_at = ?2 WHERE id = ?1",
        (&id, ts(&at)),
    )?;
    outbox::enqueue(tx, "settings", &id)?;
    Ok(())
}

/// Saves new settings as the next version. Ranks are not recomputed here: saving
/// settings is the store command `commands::save_settings`.
pub(in crate::store) fn insert_next_version(
    tx: &Tx<'_>,
    s: &Settings,
    at: DateTime<Utc>,
    by: Option<&str>,
) -> Result<SettingsVersion> {
    let next = current_settings(tx)?.settings.version + 1;
    insert(tx, s, next, at, by)
}
