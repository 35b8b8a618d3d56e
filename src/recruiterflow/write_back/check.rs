//! After each full sync: what each open job reports in the rank fields, compared with
//! what was last written.

use std::collections::HashMap;

use super::{Checked, WriteBack};
use crate::recruiterflow::custom_fields::{self, Comparison, JobCustomField};
use crate::recruiterflow::error::Result;
use crate::store::{self, write_back as queue};

impl WriteBack {
    /// Compares what was last written for each open job with what the jobs report
    /// (`reported`: each job's custom fields as a sync read them) and records the
    /// outcome; a job that shows something else is listed on the admin page. Jobs
    /// with a newer value queued, or missing from `reported`, are not compared.
    pub async fn check_reported(&self, reported: &[(i64, Vec<JobCustomField>)]) -> Result<Checked> {
        let sent = self.inner.store.read(queue::list_comparable).await?;
        if sent.is_empty() {
            return Ok(Checked::default());
        }
        let fields = self.fields().await?;
        let by_job: HashMap<i64, &Vec<JobCustomField>> =
            reported.iter().map(|(id, f)| (*id, f)).collect();
        let mut checks = Vec::new();
        for s in sent {
            let Some(on_job) = by_job.get(&s.job_id) else {
                continue;
            };
            let written: Vec<serde_json::Value> =
                serde_json::from_str(&s.fields).unwrap_or_default();
            let mut differs = Vec::new();
            let mut compared = false;
            for w in &written {
                let Some(field) = w["id"].as_i64().and_then(|id| fields.by_id(id)) else {
                    // The field was renamed or replaced since: nothing to compare.
                    continue;
                };
                compared = true;
                if let Comparison::Differs { reported } =
                    custom_fields::compare(field, &w["value"], on_job)
                {
                    differs.push(format!(
                        "{}: {}",
                        field.label(),
                        reported.map_or("no value".to_string(), |r| format!("{r:?}"))
                    ));
                }
            }
            if compared {
                let mismatch = (!differs.is_empty()).then(|| differs.join("; "));
                checks.push((s.job_id, s.fields, mismatch));
            }
        }
        let out = Checked {
            compared: checks.len(),
            mismatches: checks.iter().filter(|c| c.2.is_some()).count(),
        };
        self.inner
            .store
            .write(move |tx| {
                let now = store::now();
                for (job, fields, mismatch) in &checks {
                    queue::record_check(tx, *job, fields, mismatch.as_deref(), now)?;
                }
                Ok(())
            })
            .await?;
        if out.mismatches > 0 {
            tracing::warn!(
                mismatches = out.mismatches,
                "some jobs show another rank in Recruiterflow than jobrank wrote"
            );
        }
        Ok(out)
    }
}
