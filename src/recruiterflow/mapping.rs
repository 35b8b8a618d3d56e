//! Mapping Recruiterflow's payloads to what the store keeps: jobs, pipelines,
//! placements and users. Pure: text is cleaned of control characters, money is taken
//! to minor units, and a job is open unless the payload says otherwise.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::model::{self, CandidateMovements, Pipeline, PlacementRecord};
use crate::store::jobs::JobUpsert;
use crate::store::pipeline::StageCount;
use crate::store::placements::PlacementUpsert;
use crate::store::recruiterflow_users::RecruiterflowUserUpsert;

/// The client name stored when Recruiterflow gives none.
pub const NO_CLIENT: &str = "(no client)";

/// Text from Recruiterflow as the store keeps it: control characters removed (see
/// [`crate::domain::clean_external`]; PostgreSQL would refuse a NUL), then trimmed.
fn clean(s: &str) -> String {
    crate::domain::clean_external(s).trim().to_string()
}

/// [`clean`], `None` when nothing is left.
fn clean_nonempty(s: &str) -> Option<String> {
    Some(clean(s)).filter(|s| !s.is_empty())
}

/// Maps a Recruiterflow job to what the store keeps. A job is open unless the payload
/// says it is closed (`is_open` false) or archived. Every text is cleaned of control
/// characters.
pub fn map_job(job: &model::Job) -> std::result::Result<JobUpsert, String> {
    let title = [job.title.as_deref(), job.name.as_deref()]
        .into_iter()
        .flatten()
        .find_map(clean_nonempty)
        .ok_or_else(|| format!("job {} has neither a title nor a name", job.id))?;
    let closed = job.is_open == Some(false) || job.is_archived == Some(true);
    let is_open = !closed;
    let status = job
        .job_status
        .as_ref()
        .and_then(|s| s.name.as_deref())
        .and_then(clean_nonempty)
        .unwrap_or_else(|| {
            if job.is_archived == Some(true) {
                "Archived".into()
            } else if is_open {
                "Open".into()
            } else {
                "Closed".into()
            }
        });
    let (fee_minor, fee_currency) = match job.expected_fee.as_ref().and_then(model::Money::to_minor)
    {
        Some((minor, currency)) => (Some(minor), currency.as_deref().and_then(clean_nonempty)),
        None => (None, None),
    };
    Ok(JobUpsert {
        id: job.id,
        title,
        client: job
            .company_name()
            .and_then(clean_nonempty)
            .unwrap_or_else(|| NO_CLIENT.to_string()),
        status,
        is_open,
        opened_at: job.last_opened,
        fee_minor,
        fee_currency,
        hiring_team: job
            .hiring_team
            .iter()
            .filter_map(model::HiringTeamMember::display_name)
            .filter_map(|n| clean_nonempty(&n))
            .collect(),
        description_html: job
            .about_position
            .as_deref()
            .map(|d| crate::domain::clean_external(d).into_owned())
            .filter(|s| !s.trim().is_empty()),
    })
}

/// Per stage of a job's pipeline: candidates, and the average days the candidates now
/// in the stage have spent there (from the pipeline detail's `stage_moved`, else from
/// their stage movements, when known).
pub fn pipeline_stages(
    job_id: i64,
    pipe: &Pipeline,
    movements: &HashMap<i64, CandidateMovements>,
    now: DateTime<Utc>,
) -> Vec<StageCount> {
    let mut days_by_stage: HashMap<String, Vec<f64>> = HashMap::new();
    let known = pipe.known_stage_times();
    for candidate in pipe.candidate_ids() {
        let current = known.get(&candidate).cloned().or_else(|| {
            movements
                .get(&candidate)
                .and_then(|m| m.current_stage(job_id))
                .map(|(stage, since)| (stage.to_string(), since))
        });
        if let Some((stage, since)) = current {
            let days = (now - since).num_seconds().max(0) as f64 / 86_400.0;
            days_by_stage.entry(stage).or_default().push(days);
        }
    }
    pipe.summary
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let name = s.name.as_deref()?.trim();
            if name.is_empty() {
                return None;
            }
            let avg = days_by_stage
                .get(name)
                .filter(|d| !d.is_empty())
                .map(|d| (d.iter().sum::<f64>() / d.len() as f64 * 10.0).round() / 10.0);
            Some(StageCount {
                stage: clean_nonempty(name)?,
                stage_order: i as i64,
                candidates: s.count.unwrap_or(0).max(0),
                avg_days_in_stage: avg,
            })
        })
        .collect()
}

/// Maps a placement record; `None` when it names no job.
pub fn map_placement(p: &PlacementRecord) -> Option<PlacementUpsert> {
    let job_id = p.job.as_ref()?.id?;
    let (fee_minor, fee_currency) = match p.fee() {
        Some((m, c)) => (Some(m), c.as_deref().and_then(clean_nonempty)),
        None => (None, None),
    };
    Some(PlacementUpsert {
        id: p.id,
        job_id,
        candidate: p
            .prospect
            .as_ref()
            .and_then(|n| n.name.as_deref())
            .and_then(clean_nonempty),
        placed_at: p.job_start_date.or(p.billing_date),
        fee_minor,
        fee_currency,
    })
}

/// Maps a Recruiterflow user to what the store keeps.
pub fn map_user(u: &model::User) -> RecruiterflowUserUpsert {
    RecruiterflowUserUpsert {
        id: u.id,
        email: u.email.as_deref().and_then(clean_nonempty),
        name: u.full_name().as_deref().and_then(clean_nonempty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(v: serde_json::Value) -> model::Job {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_job_maps_with_client_fee_and_team() {
        let j = job(serde_json::json!({
            "id": "42", "title": " Head of Finance ", "is_open": true,
            "job_status": {"id": 1, "name": "Active search"},
            "last_opened": "2025-05-26T13:13:33+05:30",
            "expected_fee": {"currency": "gbp", "number": "35000.5"},
            "company": {"id": 3, "name": "Kestrel Fintech"},
            "hiring_team": [{"name": "Tom Okafor"}, {"first_name": "Priya", "last_name": "Shah"}, {}],
            "about_position": "<p>x</p>"
        }));
        let m = map_job(&j).unwrap();
        assert_eq!(m.id, 42);
        assert_eq!(m.title, "Head of Finance");
        assert_eq!(m.client, "Kestrel Fintech");
        assert_eq!(m.status, "Active search");
        assert!(m.is_open);
        assert_eq!(m.fee_minor, Some(3_500_050));
        assert_eq!(m.fee_currency.as_deref(), Some("GBP"));
        assert_eq!(m.hiring_team, vec!["Tom Okafor", "Priya Shah"]);
        assert_eq!(
            m.opened_at.unwrap().to_rfc3339(),
            "2025-05-26T07:43:33+00:00"
        );
    }

    #[test]
    fn closed_archived_and_untitled_jobs() {
        let m = map_job(&job(
            serde_json::json!({"id": 1, "name": "A", "is_open": 0}),
        ))
        .unwrap();
        assert!(!m.is_open);
        assert_eq!(m.status, "Closed");
        assert_eq!(m.client, NO_CLIENT);
        let m = map_job(&job(
            serde_json::json!({"id": 1, "name": "A", "is_archived": true}),
        ))
        .unwrap();
        assert!(!m.is_open);
        assert_eq!(m.status, "Archived");
        let err = map_job(&job(serde_json::json!({"id": 5, "title": "  "}))).unwrap_err();
        assert!(err.contains("job 5"), "{err}");
    }

    #[test]
    fn average_days_in_stage_come_from_movements() {
        let pipe: Pipeline = serde_json::from_value(serde_json::json!({
            "summary": [{"id": 1, "name": "Sourced", "count": 2}, {"id": 2, "name": "Offer", "count": "1"}, {"name": null, "count": 1}],
            "detail": [{"id": 1, "name": "Sourced", "candidates": [{"id": 10}, {"id": 11}]}, {"id": 2, "name": "Offer", "candidates": [{"id": 12, "stage_moved": "2026-01-09T00:00:00+05:30"}]}]
        }))
        .unwrap();
        let now = model::parse_timestamp("2026-01-11T00:00:00+0000").unwrap();
        let mv = |id: i64, stage: &str, entered: &str| {
            serde_json::from_value::<CandidateMovements>(serde_json::json!({
                "id": id, "jobs": [{"id": 7, "transitions": [
                    {"from": null, "to": "Sourced", "entered": "2025-12-01T00:00:00+0000", "left": entered},
                    {"from": "Sourced", "to": stage, "entered": entered, "left": null}
                ]}]
            }))
            .unwrap()
        };
        let movements: HashMap<i64, CandidateMovements> = [
            (10, mv(10, "Sourced", "2026-01-01T00:00:00+0000")),
            (11, mv(11, "Sourced", "2026-01-06T00:00:00+0000")),
        ]
        .into_iter()
        .collect();
        let stages = pipeline_stages(7, &pipe, &movements, now);
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0].stage, "Sourced");
        assert_eq!(stages[0].candidates, 2);
        assert_eq!(stages[0].avg_days_in_stage, Some(7.5));
        assert_eq!(stages[1].candidates, 1);
        // From the detail's stage_moved, no movements needed: 2 days and 5.5 hours.
        assert_eq!(stages[1].avg_days_in_stage, Some(2.2));
        assert_eq!(pipe.known_stage_times().len(), 1);
    }
}
