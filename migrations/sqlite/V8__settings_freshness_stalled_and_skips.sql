-- Three new scoring settings, versioned like the others. Every version stored before
-- this one gets the defaults, which keep jobrank doing what it did: a pipeline is
-- stalled when its slowest stage averages 14 days or more; scores never expire
-- (score_expiry_weeks NULL); no minimum number of scorers (min_scorers 1).
ALTER TABLE settings ADD COLUMN stalled_after_days INTEGER NOT NULL DEFAULT 14
    CHECK (stalled_after_days BETWEEN 1 AND 365);
ALTER TABLE settings ADD COLUMN score_expiry_weeks INTEGER
    CHECK (score_expiry_weeks IS NULL OR score_expiry_weeks BETWEEN 1 AND 52);
ALTER TABLE settings ADD COLUMN min_scorers INTEGER NOT NULL DEFAULT 1
    CHECK (min_scorers BETWEEN 1 AND 10);

-- Settings versions still waiting in the outbox were recorded without the new
-- columns; they reach Supabase with the defaults, as the rows here now hold them.
UPDATE outbox
SET payload = json_set(payload,
        '$.stalled_after_days', 14,
        '$.score_expiry_weeks', json('null'),
        '$.min_scorers', 1)
WHERE table_name = 'settings' AND pushed_at IS NULL AND dead = 0;

-- "Can't judge this one": a scorer skips a job for one week (named by its Monday, as
-- `domain::week_of` gives it) with a short reason. A skip stores no submission and
-- changes no rank. Skips are immutable and replicate like submissions (set union);
-- jobrank refuses a second skip of the same job and week by the same scorer, but two
-- replicas may each record one before they meet, so there is no unique key: both
-- are kept and either means "skipped".
CREATE TABLE skips (
    id          TEXT PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    scorer_id   TEXT NOT NULL REFERENCES users (id),
    week        TEXT NOT NULL CHECK (week = date(week) AND strftime('%w', week) = '1'),
    reason      TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    created_at  TEXT NOT NULL,
    origin      TEXT NOT NULL
);
CREATE INDEX skips_scorer_week ON skips (scorer_id, week, job_id);
CREATE INDEX skips_job ON skips (job_id, week);
CREATE TRIGGER skips_no_update BEFORE UPDATE ON skips
BEGIN SELECT RAISE(ABORT, 'skips are immutable'); END;
CREATE TRIGGER skips_no_delete BEFORE DELETE ON skips
BEGIN SELECT RAISE(ABORT, 'skips are immutable'); END;
