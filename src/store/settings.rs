//! Versioned scoring settings. The current settings are the greatest by
//! (version, created_at, origin): the same total order on every replica.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::{Result, StoreError, Tx, col_ts, new_id, outbox, ts};
use crate::domain::{FeeBands, InForce, Settings, Thresholds, TimeOpenBands, Weights};

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
    created_at, created_by, origin, stalled_after_days, score_expiry_weeks, min_scorers";

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
    let stalled_after_days: i64 = r.get(15)?;
    let score_expiry_weeks: Option<i64> = r.get(16)?;
    let min_scorers: i64 = r.get(17)?;
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
                stalled_after_days: Settings::check_stalled_after_days(stalled_after_days)?,
                score_expiry_weeks: Settings::check_score_expiry_weeks(score_expiry_weeks)?,
                min_scorers: Settings::check_min_scorers(min_scorers)?,
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

/// The settings in force at `at`: the greatest version (by version, created at,
/// origin) created at or before `at`, or the first version for a moment before any
/// (the first settings applied from the start). A closed job's rank at close is
/// computed under these, so every replica picks the same.
pub fn settings_in_force_at(conn: &Connection, at: DateTime<Utc>) -> Result<SettingsVersion> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM settings WHERE created_at <= ?1
             ORDER BY version DESC, created_at DESC, origin DESC LIMIT 1"
        ))?
        .query_row([ts(&at)], from_row)
        .optional()?
        .transpose()?;
    match found {
        Some(v) => Ok(v),
        None => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM settings ORDER BY version, created_at, origin LIMIT 1"
            ))?
            .query_row([], from_row)
            .optional()?
            .transpose()?
            .ok_or_else(|| StoreError::NotFound("settings".into())),
    }
}

/// Since when `version` and its expiry rule have been in force: its expiry rule from
/// the oldest version of the unbroken run, in the settings order, that ends at
/// `version` and expires scores after the same weeks (a save of other settings leaves
/// the rule's start, and so every expiry instant, where it was).
pub fn in_force(conn: &Connection, version: &SettingsVersion) -> Result<InForce> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, score_expiry_weeks, created_at FROM settings
         ORDER BY version DESC, created_at DESC, origin DESC",
    )?;
    let mut rows = stmt.query([])?;
    let mut expiry_from = version.created_at;
    let mut reached = false;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        if !reached {
            reached = id == version.id;
            continue;
        }
        let weeks: Option<i64> = r.get(1)?;
        if weeks != version.settings.score_expiry_weeks.map(i64::from) {
            break;
        }
        expiry_from = col_ts(r, 2)?;
    }
    Ok(InForce {
        from: version.created_at,
        expiry_from,
    })
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
            created_at, created_by, origin, stalled_after_days, score_expiry_weeks, min_scorers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
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
            Settings::check_stalled_after_days(i64::from(s.stalled_after_days))?,
            Settings::check_score_expiry_weeks(s.score_expiry_weeks.map(i64::from))?,
            Settings::check_min_scorers(i64::from(s.min_scorers))?,
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

/// Saves new settings as the next version, every field as given (a form that does not
/// show a field carries its current value). Ranks are not recomputed here: saving
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{DB_FILE, Store, commands, embedded};

    #[test]
    fn a_version_keeps_the_stalled_and_freshness_settings_and_replicates_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = store.read_blocking(current_settings).unwrap();
        assert_eq!(first.settings.stalled_after_days, 14);
        assert_eq!(first.settings.score_expiry_weeks, None);
        assert_eq!(first.settings.min_scorers, 1);
        let wanted = Settings {
            stalled_after_days: 21,
            score_expiry_weeks: Some(8),
            min_scorers: 3,
            ..first.settings.clone()
        };
        let saved = store
            .write_blocking(|tx| commands::save_settings(tx, &wanted, super::super::now(), None))
            .unwrap()
            .into_result();
        assert_eq!(saved.settings.version, 2);
        let current = store.read_blocking(current_settings).unwrap();
        assert_eq!(
            (
                current.settings.stalled_after_days,
                current.settings.score_expiry_weeks,
                current.settings.min_scorers
            ),
            (21, Some(8), 3)
        );
        let payload: String = store
            .read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT payload FROM outbox WHERE table_name = 'settings' AND row_id = ?1",
                    [&current.id],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            (
                &v["stalled_after_days"],
                &v["score_expiry_weeks"],
                &v["min_scorers"]
            ),
            (
                &serde_json::json!(21),
                &serde_json::json!(8),
                &serde_json::json!(3)
            )
        );
        // Out of range: refused, naming the field, and nothing saved.
        for (bad, field) in [
            (
                Settings {
                    stalled_after_days: 0,
                    ..wanted.clone()
                },
                "stalled_after_days",
            ),
            (
                Settings {
                    score_expiry_weeks: Some(53),
                    ..wanted.clone()
                },
                "score_expiry_weeks",
            ),
            (
                Settings {
                    min_scorers: 11,
                    ..wanted.clone()
                },
                "min_scorers",
            ),
        ] {
            let err = store
                .write_blocking(|tx| commands::save_settings(tx, &bad, super::super::now(), None))
                .unwrap_err();
            assert!(err.to_string().starts_with(field), "{err}");
        }
        assert_eq!(store.read_blocking(list_settings).unwrap().len(), 2);
    }

    #[test]
    fn upgrading_a_store_gives_existing_versions_and_queued_changes_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A store as version 7 left it: one settings version, still queued for push.
            let mut conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
            embedded::migrations::runner()
                .set_target(refinery::Target::Version(7))
                .set_grouped(true)
                .run(&mut conn)
                .unwrap();
            conn.pragma_update(None, "application_id", crate::store::APPLICATION_ID)
                .unwrap();
            conn.execute_batch(
                "INSERT INTO settings (id, version, weight_client_engagement, weight_search_difficulty,
                    weight_time_open, weight_fee_size, threshold_a, threshold_b, time_open_bands, fee_bands,
                    fee_currency, cadence_days, created_at, created_by, origin)
                 VALUES ('s1', 1, 2500, 2500, 2500, 2500, 400, 250, '[14,30,60,90]',
                    '[40000,30000,20000,10000]', 'GBP', 7, '2026-11-02T09:00:00.000000Z', NULL, 'r1');
                 INSERT INTO outbox (table_name, row_id, payload, created_at)
                 SELECT 'settings', id, json_object('id', id, 'version', version,
                    'weight_client_engagement', weight_client_engagement,
                    'weight_search_difficulty', weight_search_difficulty,
                    'weight_time_open', weight_time_open, 'weight_fee_size', weight_fee_size,
                    'threshold_a', threshold_a, 'threshold_b', threshold_b,
                    'time_open_bands', time_open_bands, 'fee_bands', fee_bands,
                    'fee_currency', fee_currency, 'cadence_days', cadence_days,
                    'created_at', created_at, 'created_by', created_by, 'origin', origin),
                    created_at FROM settings;",
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let all = store.read_blocking(list_settings).unwrap();
        assert_eq!(all.len(), 1, "the existing version stays the only one");
        let s = &all[0].settings;
        assert_eq!(
            (s.stalled_after_days, s.score_expiry_weeks, s.min_scorers),
            (14, None, 1)
        );
        let payload: String = store
            .read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT payload FROM outbox WHERE table_name = 'settings'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(v["stalled_after_days"], 14);
        assert!(v["score_expiry_weeks"].is_null() && v.get("score_expiry_weeks").is_some());
        assert_eq!(v["min_scorers"], 1);
        assert_eq!(v["cadence_days"], 7, "{payload}");
    }
}
