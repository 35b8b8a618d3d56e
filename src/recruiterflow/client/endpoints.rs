//! What the client reads: each endpoint jobrank uses, and the paging of list
//! endpoints (every page read, concurrently when the first gives a total, then merged
//! with each record once).

use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Client, OpenJobs, UserList};
use crate::recruiterflow::error::{RecruiterflowError, Result};
use crate::recruiterflow::model::{
    self, CandidateMovements, ItemError, Job, Page, Pipeline, PlacementRecord, User,
};

impl Client {
    /// GETs one object of type `T`.
    async fn get_object<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let v = self.get_json(path, query).await?;
        model::parse_object(v).map_err(|detail| RecruiterflowError::WrongShape {
            endpoint: Self::endpoint(path, query),
            detail,
        })
    }

    /// GETs one page of a list endpoint (either body shape).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        path: &str,
        page: u32,
        extra: &[(&str, String)],
    ) -> Result<Page<T>> {
        let mut query: Vec<(&str, String)> = extra.to_vec();
        query.push(("current_page", page.to_string()));
        query.push(("items_per_page", self.opts.page_size.to_string()));
        query.push(("include_count", "true".into()));
        let v = self.get_json(path, &query).await?;
        model::parse_page(v).map_err(|detail| RecruiterflowError::WrongShape {
            endpoint: Self::endpoint(path, &query),
            detail,
        })
    }

    /// Reads every page of a list endpoint. With a total (the counted body shape) the
    /// remaining pages are fetched concurrently; without one, pages are read in order
    /// until a short or empty page. Returns the pages in order.
    pub async fn get_all_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        extra: &[(&str, String)],
        on_page: impl Fn(usize, Option<usize>) + Send + Sync,
    ) -> Result<Vec<Page<T>>> {
        const MAX_PAGES: u32 = 10_000;
        let per = self.opts.page_size.max(1) as usize;
        let first: Page<T> = self.get_page(path, 1, extra).await?;
        let mut pages = vec![first];
        if let Some(total) = pages[0].total {
            let n_pages = (total.max(0) as usize)
                .div_ceil(per)
                .min(MAX_PAGES as usize);
            on_page(1, Some(n_pages.max(1)));
            let rest: Vec<Result<Page<T>>> = futures_util::stream::iter(2..=n_pages as u32)
                .map(|p| self.get_page::<T>(path, p, extra))
                .buffered(self.opts.concurrency.max(1))
                .collect()
                .await;
            for (i, p) in rest.into_iter().enumerate() {
                pages.push(p?);
                on_page(i + 2, Some(n_pages));
            }
            return Ok(pages);
        }
        on_page(1, None);
        let mut page_no = 1;
        while pages.last().is_some_and(|p| p.len >= per) && page_no < MAX_PAGES {
            page_no += 1;
            let next: Page<T> = self.get_page(path, page_no, extra).await?;
            if next.len == 0 {
                break;
            }
            if pages
                .last()
                .is_some_and(|p| p.fingerprint == next.fingerprint)
            {
                return Err(RecruiterflowError::WrongShape {
                    endpoint: Self::endpoint(path, extra),
                    detail: format!(
                        "page {page_no} repeats page {}: the server ignores current_page",
                        page_no - 1
                    ),
                });
            }
            pages.push(next);
            on_page(page_no as usize, None);
        }
        Ok(pages)
    }

    /// Every open job (`only_open=1`), read in pages. When the pages do not add up to
    /// the reported total the result is marked incomplete.
    pub async fn list_open_jobs(
        &self,
        on_page: impl Fn(usize, Option<usize>) + Send + Sync,
    ) -> Result<OpenJobs> {
        let pages: Vec<Page<Job>> = self
            .get_all_pages(
                "/api/external/job/list",
                &[("only_open", "1".into())],
                on_page,
            )
            .await?;
        let (jobs, errors, incomplete) = merge_pages(pages, |j: &Job| j.id, "open jobs");
        Ok(OpenJobs {
            jobs,
            errors,
            incomplete,
        })
    }

    /// One job with its client company and stages.
    pub async fn get_job(&self, job_id: i64) -> Result<Job> {
        self.get_object(
            "/api/external/job",
            &[
                ("job_id", job_id.to_string()),
                ("include_stages", "1".into()),
            ],
        )
        .await
    }

    /// A job's pipeline: candidates per stage.
    pub async fn job_pipeline(&self, job_id: i64) -> Result<Pipeline> {
        self.get_object(
            "/api/external/job/pipeline",
            &[("job_id", job_id.to_string())],
        )
        .await
    }

    /// Every stage name used in the account.
    pub async fn stage_names(&self) -> Result<Vec<String>> {
        let endpoint = "/api/external/job/stage_names";
        let v = self.get_json(endpoint, &[]).await?;
        let list = match v {
            Value::Array(a) => a,
            Value::Object(mut m) => match m.remove("data") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(RecruiterflowError::WrongShape {
                        endpoint: endpoint.into(),
                        detail: "expected {\"data\": [stage names]}".into(),
                    });
                }
            },
            other => {
                return Err(RecruiterflowError::WrongShape {
                    endpoint: endpoint.into(),
                    detail: format!(
                        "expected a list of stage names, found {}",
                        model::kind(&other)
                    ),
                });
            }
        };
        Ok(list
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect())
    }

    /// A candidate's stage movements across jobs.
    pub async fn stage_movements(&self, candidate_id: i64) -> Result<CandidateMovements> {
        let path = "/api/external/candidate/activities/stage-movement/list";
        let query = [("id", candidate_id.to_string())];
        let v = self.get_json(path, &query).await?;
        let data = match v {
            Value::Object(mut m) if m.contains_key("data") => m.remove("data").unwrap_or_default(),
            other => other,
        };
        model::parse_object(data).map_err(|detail| RecruiterflowError::WrongShape {
            endpoint: Self::endpoint(path, &query),
            detail,
        })
    }

    /// Every user of the account, read in pages. When the pages do not add up to the
    /// reported total the result is marked incomplete.
    pub async fn list_users(&self) -> Result<UserList> {
        let pages: Vec<Page<User>> = self
            .get_all_pages("/api/external/user/list", &[], |_, _| {})
            .await?;
        let (users, errors, incomplete) = merge_pages(pages, |u: &User| u.id, "users");
        Ok(UserList {
            users,
            errors,
            incomplete,
        })
    }

    /// Every placement record of the account.
    pub async fn list_placements(&self) -> Result<Vec<PlacementRecord>> {
        let pages: Vec<Page<PlacementRecord>> = self
            .get_all_pages("/api/external/placement-record/list", &[], |_, _| {})
            .await?;
        Ok(pages.into_iter().flat_map(|p| p.items).collect())
    }

    /// A job's placement records.
    pub async fn job_placements(&self, job_id: i64) -> Result<Vec<PlacementRecord>> {
        let pages: Vec<Page<PlacementRecord>> = self
            .get_all_pages(
                "/api/external/job/placement-record/list",
                &[("job_id", job_id.to_string())],
                |_, _| {},
            )
            .await?;
        Ok(pages.into_iter().flat_map(|p| p.items).collect())
    }

    /// How many jobs are open; a cheap call that proves the key works.
    pub async fn open_job_count(&self) -> Result<i64> {
        let path = "/api/external/job/count";
        let query = [("only_open", "1".to_string())];
        let v = self.get_json(path, &query).await?;
        v.get("count")
            .and_then(model::value_i64)
            .ok_or_else(|| RecruiterflowError::WrongShape {
                endpoint: Self::endpoint(path, &query),
                detail: "expected {\"count\": N}".into(),
            })
    }
}

/// Joins the pages of a list: each record once (by `id`), the elements that could not
/// be read, and why the list is incomplete when the pages do not add up to the total
/// the first page reported (`what` names the records in that message).
pub(in crate::recruiterflow) fn merge_pages<T>(
    pages: Vec<Page<T>>,
    id: impl Fn(&T) -> i64,
    what: &str,
) -> (Vec<T>, Vec<ItemError>, Option<String>) {
    let total = pages.first().and_then(|p| p.total);
    let mut items = Vec::new();
    let mut errors: Vec<ItemError> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in pages {
        for e in p.errors {
            if e.id.is_none_or(|id| seen.insert(id)) {
                errors.push(e);
            }
        }
        for item in p.items {
            if seen.insert(id(&item)) {
                items.push(item);
            }
        }
    }
    let incomplete = total.and_then(|total| {
        let got = seen.len() as i64 + errors.iter().filter(|e| e.id.is_none()).count() as i64;
        (got != total)
            .then(|| format!("Recruiterflow reported {total} {what} but the pages held {got}"))
    });
    (items, errors, incomplete)
}
