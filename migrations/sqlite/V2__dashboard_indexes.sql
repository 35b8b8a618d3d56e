-- Indexes for the dashboard's read (one query per part, whatever the number of jobs):
-- a scorer's latest submission per job is read from this covering index alone.
CREATE INDEX submissions_scorer_job ON submissions (scorer_id, job_id, submitted_at);
-- The header strip counts dead outbox rows on every dashboard view.
CREATE INDEX outbox_dead ON outbox (seq) WHERE dead = 1;
