-- A closed job keeps the rank it had when it closed: its rank and team score (sum and
-- count of composites) at the close, on the job's own row, so they replicate with the
-- close itself and every replica shows the same. NULL while the job is open, or when
-- nobody who counted had scored it by then.
ALTER TABLE jobs ADD COLUMN rank_at_close TEXT CHECK (rank_at_close IN ('A', 'B', 'C'));
ALTER TABLE jobs ADD COLUMN score_sum_at_close INTEGER;
ALTER TABLE jobs ADD COLUMN scorer_count_at_close INTEGER;

-- Jobs closed before this version: the rank they held at their close is the latest
-- rank history row written up to it (until now closed jobs were re-ranked after they
-- closed, so their current rank may have drifted; the history written up to the close
-- has not). Supabase's migration V4 computes the same from the same rows.
UPDATE jobs SET
    rank_at_close = h.rank,
    score_sum_at_close = h.score_sum,
    scorer_count_at_close = h.scorer_count
FROM (
    SELECT j.id AS job_id,
           (SELECT rank FROM rank_history r WHERE r.job_id = j.id AND r.at <= j.closed_at
            ORDER BY r.at DESC, r.id DESC LIMIT 1) AS rank,
           (SELECT score_sum FROM rank_history r WHERE r.job_id = j.id AND r.at <= j.closed_at
            ORDER BY r.at DESC, r.id DESC LIMIT 1) AS score_sum,
           (SELECT scorer_count FROM rank_history r WHERE r.job_id = j.id AND r.at <= j.closed_at
            ORDER BY r.at DESC, r.id DESC LIMIT 1) AS scorer_count
    FROM jobs j WHERE j.is_open = 0 AND j.closed_at IS NOT NULL
) AS h
WHERE jobs.id = h.job_id;

-- A closed job's current rank is its rank at close.
DELETE FROM job_ranks
WHERE job_id IN (SELECT id FROM jobs WHERE is_open = 0 AND rank_at_close IS NULL);
UPDATE job_ranks SET
    score_sum = (SELECT score_sum_at_close FROM jobs WHERE id = job_ranks.job_id),
    scorer_count = (SELECT scorer_count_at_close FROM jobs WHERE id = job_ranks.job_id),
    rank = (SELECT rank_at_close FROM jobs WHERE id = job_ranks.job_id)
WHERE job_id IN (SELECT id FROM jobs WHERE is_open = 0 AND rank_at_close IS NOT NULL);

-- Job changes still waiting in the outbox were recorded without the new columns; they
-- reach Supabase with the values the rows here now hold (none for an open job's).
UPDATE outbox
SET payload = json_set(payload,
        '$.rank_at_close', CASE WHEN json_extract(payload, '$.is_open') = 0
            THEN (SELECT rank_at_close FROM jobs WHERE CAST(id AS TEXT) = outbox.row_id) END,
        '$.score_sum_at_close', CASE WHEN json_extract(payload, '$.is_open') = 0
            THEN (SELECT score_sum_at_close FROM jobs WHERE CAST(id AS TEXT) = outbox.row_id) END,
        '$.scorer_count_at_close', CASE WHEN json_extract(payload, '$.is_open') = 0
            THEN (SELECT scorer_count_at_close FROM jobs WHERE CAST(id AS TEXT) = outbox.row_id) END)
WHERE table_name = 'jobs' AND pushed_at IS NULL AND dead = 0;

-- The scores that stopped counting toward a job's team score under the score expiry
-- rule (`score_expiry_weeks`), as of the job's latest rank computation: each active
-- scorer's latest score that is too old, and when it expired. Local to each replica
-- (derived from submissions and settings, like job_ranks), for the dashboard and the
-- job page to say which scores expired.
CREATE TABLE expired_scores (
    job_id        INTEGER NOT NULL REFERENCES jobs (id),
    submission_id TEXT NOT NULL,
    scorer_id     TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    expired_at    TEXT NOT NULL,
    PRIMARY KEY (job_id, submission_id)
);
