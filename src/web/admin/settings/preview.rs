//! The preview of a settings change as the admin page shows it (`action=preview`): which
//! open jobs would change rank, and the A/B/C counts before and after, nothing saved;
//! and what a new settings version changed, in words, as the audit log records it.

use super::form::hundredths;
use crate::domain::{Factor, Settings, SettingsPreview};
use crate::store::jobs;

/// One open job the proposed settings would move to another rank.
pub struct PreviewRow {
    pub job_id: i64,
    pub title: String,
    pub client: String,
    /// "B (3.00)".
    pub before: String,
    pub after: String,
}

/// One rank's count of open jobs now and after saving.
pub struct PreviewCount {
    pub rank: &'static str,
    pub before: usize,
    pub after: usize,
}

/// The preview of a settings change as the admin page shows it.
pub struct PreviewView {
    /// The settings changes in words, as the audit log will record them.
    pub changes: String,
    /// "3 of 40 open jobs would change rank."
    pub summary: String,
    /// "5 more would keep their rank with another team score." (or empty)
    pub scores_only: String,
    pub rows: Vec<PreviewRow>,
    pub counts: Vec<PreviewCount>,
}

impl PreviewView {
    pub(super) fn new(
        p: &SettingsPreview,
        open: &[jobs::Job],
        current: &Settings,
        proposed: &Settings,
    ) -> PreviewView {
        let job = |id: i64| open.iter().find(|j| j.id == id);
        let jobs_word = |n: usize| if n == 1 { "job" } else { "jobs" };
        let summary = match p.moves.len() {
            0 => format!(
                "No open job would change rank ({} open {}).",
                p.jobs,
                jobs_word(p.jobs)
            ),
            n => format!(
                "{n} of {} open {} would change rank.",
                p.jobs,
                jobs_word(p.jobs)
            ),
        };
        let scores_only = match p.scores_only {
            0 => String::new(),
            1 => "1 more would keep its rank with another team score.".into(),
            n => format!("{n} more would keep their rank with another team score."),
        };
        let standing = |s: &crate::domain::Standing| format!("{} ({})", s.rank, s.team);
        PreviewView {
            changes: settings_changes(current, proposed),
            summary,
            scores_only,
            rows: p
                .moves
                .iter()
                .map(|m| PreviewRow {
                    job_id: m.job_id,
                    title: job(m.job_id).map(|j| j.title.clone()).unwrap_or_default(),
                    client: job(m.job_id).map(|j| j.client.clone()).unwrap_or_default(),
                    before: standing(&m.before),
                    after: standing(&m.after),
                })
                .collect(),
            counts: vec![
                PreviewCount {
                    rank: "A",
                    before: p.before.a,
                    after: p.after.a,
                },
                PreviewCount {
                    rank: "B",
                    before: p.before.b,
                    after: p.after.b,
                },
                PreviewCount {
                    rank: "C",
                    before: p.before.c,
                    after: p.after.c,
                },
                PreviewCount {
                    rank: "Not scored yet",
                    before: p.before.unranked,
                    after: p.after.unranked,
                },
            ],
        }
    }
}

/// What a new settings version changed, in words ("client engagement weight 25% →
/// 40%; cadence 7 → 14 days"), or that nothing did.
pub(super) fn settings_changes(old: &Settings, new: &Settings) -> String {
    let mut changes = Vec::new();
    let mut note = |what: String, a: String, b: String| {
        if a != b {
            changes.push(format!("{what} {a} → {b}"));
        }
    };
    for f in Factor::ALL {
        note(
            format!("{} weight", f.label().to_lowercase()),
            format!("{}%", old.weights.percent_text(f)),
            format!("{}%", new.weights.percent_text(f)),
        );
    }
    note(
        "A threshold".into(),
        hundredths(old.thresholds.a_hundredths()),
        hundredths(new.thresholds.a_hundredths()),
    );
    note(
        "B threshold".into(),
        hundredths(old.thresholds.b_hundredths()),
        hundredths(new.thresholds.b_hundredths()),
    );
    let list = |v: &[String]| v.join("/");
    note(
        "time open bands (days)".into(),
        list(&old.time_open_bands.days().map(|d| d.to_string())),
        list(&new.time_open_bands.days().map(|d| d.to_string())),
    );
    note(
        "fee bands".into(),
        list(&old.fee_bands.fees().map(|f| f.to_string())),
        list(&new.fee_bands.fees().map(|f| f.to_string())),
    );
    note(
        "fee currency".into(),
        old.fee_currency.clone(),
        new.fee_currency.clone(),
    );
    note(
        "cadence".into(),
        format!("{} days", old.cadence_days),
        format!("{} days", new.cadence_days),
    );
    note(
        "stalled after".into(),
        format!("{} days", old.stalled_after_days),
        format!("{} days", new.stalled_after_days),
    );
    let expiry = |w: Option<u32>| w.map_or_else(|| "never".into(), |w| format!("{w} weeks"));
    note(
        "score expiry".into(),
        expiry(old.score_expiry_weeks),
        expiry(new.score_expiry_weeks),
    );
    note(
        "minimum scorers".into(),
        old.min_scorers.to_string(),
        new.min_scorers.to_string(),
    );
    if changes.is_empty() {
        "nothing changed".into()
    } else {
        changes.join("; ")
    }
}
