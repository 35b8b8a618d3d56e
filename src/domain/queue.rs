//! A scorer's queue: the open jobs that need their score, in dashboard (rank) order,
//! and where the scoring pages lead from one job of it.

use super::{DashboardJob, DomainError, check_text};

/// The longest reason a skip may give, in characters.
pub const MAX_SKIP_REASON_CHARS: usize = 200;

/// Checks the reason a scorer gives for skipping a job this week ("new to the client",
/// "on leave"): trimmed, 1 to [`MAX_SKIP_REASON_CHARS`] characters, no control
/// characters but line breaks and tabs. Returns the trimmed reason.
pub fn check_skip_reason(reason: &str) -> Result<String, DomainError> {
    let reason = reason.trim();
    check_text("reason", reason)?;
    let n = reason.chars().count();
    if n == 0 {
        return Err(DomainError::Invalid {
            field: "reason",
            reason: "say briefly why you cannot judge this job (for example \"new to the client\")"
                .into(),
        });
    }
    if n > MAX_SKIP_REASON_CHARS {
        return Err(DomainError::Invalid {
            field: "reason",
            reason: format!("must be at most {MAX_SKIP_REASON_CHARS} characters, got {n}"),
        });
    }
    Ok(reason.to_string())
}

/// Reasons offered for skipping a job (the scorer may write their own instead).
pub const SKIP_REASONS: [&str; 4] = [
    "New to the client",
    "On leave this week",
    "Not my market",
    "Waiting for the client's brief",
];

/// The ids of the jobs that need the viewer's score, in the order given (the
/// dashboard's default order, so the best-ranked jobs come first). A job the viewer
/// skipped this week does not need their score ([`super::viewer_jobs`]), so it is not
/// in the queue.
pub fn scoring_queue(jobs: &[DashboardJob]) -> Vec<i64> {
    jobs.iter()
        .filter(|j| j.needs_my_score)
        .map(|j| j.id)
        .collect()
}

/// The previous and next jobs in the viewer's scoring queue, around the current one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueueLinks {
    pub prev: Option<i64>,
    pub next: Option<i64>,
    /// Jobs of the queue other than the current one.
    pub remaining: usize,
    /// Where submitting this job's score leads: the next job of the queue, wrapping
    /// round (the scoring form carries it, so a submission need not re-read the queue).
    pub after_submit: Option<i64>,
}

impl QueueLinks {
    /// The links around `current`; when it is not in the queue, "next" is the top.
    pub fn around(queue: &[i64], current: i64) -> QueueLinks {
        let pos = queue.iter().position(|id| *id == current);
        let remaining = queue.iter().filter(|id| **id != current).count();
        let (prev, next) = match pos {
            Some(p) => (
                p.checked_sub(1).map(|i| queue[i]),
                queue.get(p + 1).copied(),
            ),
            None => (None, queue.iter().copied().find(|id| *id != current)),
        };
        QueueLinks {
            prev,
            next,
            remaining,
            after_submit: next_in_queue(queue, current),
        }
    }
}

/// The job to score after `current`: the one after it in the queue, wrapping round,
/// or the top of the queue when `current` was not in it.
pub fn next_in_queue(queue: &[i64], current: i64) -> Option<i64> {
    let start = queue
        .iter()
        .position(|id| *id == current)
        .map_or(0, |p| p + 1);
    queue[start..]
        .iter()
        .chain(&queue[..start])
        .copied()
        .find(|id| *id != current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use chrono::DateTime;

    #[test]
    fn the_queue_keeps_the_jobs_that_need_my_score_in_order() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let job = |id: i64, needs: bool| DashboardJob {
            freshness: crate::domain::RankFreshness::default(),
            id,
            title: String::new(),
            client: String::new(),
            opened: at,
            days_open: 0,
            fee: Some(Money::new(1, None)),
            rank: None,
            pipeline: None,
            pipeline_status: crate::domain::PipelineStatus::Empty,
            my_latest: None,
            needs_my_score: needs,
            skipped_this_week: !needs,
            expired_scorers: Vec::new(),
        };
        let jobs = [job(30, true), job(10, false), job(20, true)];
        assert_eq!(scoring_queue(&jobs), [30, 20]);
        assert!(scoring_queue(&[]).is_empty());
    }

    #[test]
    fn a_skip_reason_is_short_plain_text() {
        assert_eq!(check_skip_reason("  on leave \n").unwrap(), "on leave");
        assert_eq!(
            check_skip_reason(&"é".repeat(200)).unwrap().chars().count(),
            200
        );
        for bad in ["", "   ", "a\u{0}b"] {
            let e = check_skip_reason(bad).unwrap_err();
            assert!(e.to_string().starts_with("reason:"), "{e}");
        }
        let e = check_skip_reason(&"x".repeat(201)).unwrap_err();
        assert!(e.to_string().contains("at most 200 characters"), "{e}");
    }

    #[test]
    fn queue_links_step_around_the_current_job() {
        let q = [10, 20, 30];
        let mid = QueueLinks::around(&q, 20);
        assert_eq!((mid.prev, mid.next, mid.remaining), (Some(10), Some(30), 2));
        let first = QueueLinks::around(&q, 10);
        assert_eq!((first.prev, first.next), (None, Some(20)));
        let last = QueueLinks::around(&q, 30);
        assert_eq!(
            (last.prev, last.next, last.after_submit),
            (Some(20), None, Some(10))
        );
        let outside = QueueLinks::around(&q, 99);
        assert_eq!(
            (outside.prev, outside.next, outside.remaining),
            (None, Some(10), 3)
        );
        assert_eq!(QueueLinks::around(&[], 5), QueueLinks::default());
    }

    #[test]
    fn the_next_job_follows_the_current_one_and_wraps_round() {
        let q = [10, 20, 30];
        assert_eq!(next_in_queue(&q, 20), Some(30));
        assert_eq!(next_in_queue(&q, 30), Some(10));
        assert_eq!(next_in_queue(&q, 99), Some(10));
        assert_eq!(next_in_queue(&[20], 20), None);
        assert_eq!(next_in_queue(&[], 20), None);
    }
}
