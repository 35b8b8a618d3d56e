-- A second counter that moves only when pipeline snapshots change (by any path:
-- Recruiterflow sync, pull from Supabase, reconciliation, restore), so the dashboard
-- keeps its parsed pipelines across the far more frequent score submissions.
ALTER TABLE store_generation ADD COLUMN pipelines INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER pipeline_snapshots_generation_insert AFTER INSERT ON pipeline_snapshots
BEGIN
    UPDATE store_generation SET pipelines = pipelines + 1 WHERE singleton = 1;
END;

CREATE TRIGGER pipeline_snapshots_generation_update AFTER UPDATE ON pipeline_snapshots
BEGIN
    UPDATE store_generation SET pipelines = pipelines + 1 WHERE singleton = 1;
END;

CREATE TRIGGER pipeline_snapshots_generation_delete AFTER DELETE ON pipeline_snapshots
BEGIN
    UPDATE store_generation SET pipelines = pipelines + 1 WHERE singleton = 1;
END;
