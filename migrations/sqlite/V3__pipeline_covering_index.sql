-- The stages of each open job's latest pipeline snapshot, read by the dashboard from
-- this index alone (no table lookups).
CREATE INDEX pipeline_snapshots_covering
    ON pipeline_snapshots (job_id, taken_at, stage_order, stage, candidates, avg_days_in_stage);
