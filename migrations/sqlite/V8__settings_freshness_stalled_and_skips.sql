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
