//! Pure types and rules of the scoring model: factors, weights, composites, team
//! scores, ranks, suggestions and overrides, the scoring queue, review rounds, the
//! dashboard's filters and sorts, pipelines, participation, money, score freshness,
//! outcomes and a client's engagement over time. No I/O, no SQL, no HTTP.
//!
//! Arithmetic is exact: weights are basis points (1/10,000), composites are
//! ten-thousandths, thresholds are hundredths, and a team score is kept as the sum
//! and count of its composites, so "exactly 4.00" is compared without rounding.

mod clients;
mod dashboard;
mod factors;
mod freshness;
mod money;
mod outcomes;
mod participation;
mod pipeline;
mod preview;
mod queue;
mod ranking;
mod review;
mod settings;
mod suggestion;
mod text;

pub use clients::{EngagementWeek, engagement_by_week};
pub use dashboard::{
    DashboardCounts, DashboardJob, DashboardQuery, Movement, RankFilter, SortKey, viewer_jobs,
};
pub use factors::{Factor, FactorScores, Level, Role};
pub use freshness::{
    ExpiredScore, FreshRank, InForce, RankFreshness, expiry_instant, rank_job_fresh,
};
pub use money::{Money, currency_exponent};
pub use outcomes::{
    ClosedJob, OutcomeGroup, OutcomeReport, PlacedFee, outcome_report, quarter_of,
    rank_held_longest, share_text,
};
pub use participation::{
    OpenJob, Participant, Participation, ScorerWeek, WeekParticipation, WeekSkip,
};
pub use pipeline::{PipelineSnapshot, PipelineStatus, StageCount};
pub use preview::{PreviewMove, RankCounts, SettingsPreview, preview_settings};
pub use queue::{
    MAX_SKIP_REASON_CHARS, QueueLinks, SKIP_REASONS, check_skip_reason, next_in_queue,
    scoring_queue,
};
pub use ranking::{
    Composite, JobRank, Rank, RankChange, RankOutcome, ScorerComposite, ScorerInput, Standing,
    Submitted, TeamScore, composite, latest_per_scorer, needs_score, rank_job,
};
pub use review::{
    FLAG_DEVIATION, FLAG_MIN_JOBS, FLAG_OUTLIER_RATIO, Flag, OUTLIER_DISTANCE, Outlier,
    ReviewSubmission, ScorerReview, WeekDeviation, review_scorers, week_end, week_of, week_start,
};
pub use settings::{
    FeeBands, Settings, Thresholds, TimeOpenBands, TypedWeight, Weights, WeightsScale,
    counts_toward_team, days_between, is_provisional,
};
pub use suggestion::{Overrides, Suggestions};
pub use text::{check_text, clean_external};

/// A rule of the scoring model was broken; the message names the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field} must be a whole number from 1 to 5, got {value}")]
    FactorOutOfRange { field: &'static str, value: String },
    #[error("weights must be non-negative, but {field} is {value}")]
    NegativeWeight { field: &'static str, value: String },
    #[error("weights must sum to {expected}, but they sum to {actual}")]
    WeightsDoNotSum { expected: String, actual: String },
    #[error("{field} has more precision than allowed ({detail})")]
    TooPrecise { field: &'static str, detail: String },
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}
