-- Writers to the jobrank tables hold this advisory lock for their transaction
-- (replication::WRITE_LOCK_KEY, 0x4A524E4B), so server sequences are handed out in
-- commit order; this migration renumbers the settings rows, so it holds it too.
SELECT pg_advisory_xact_lock(1246907979);

-- Three new scoring settings, versioned like the others (see the SQLite migration
-- V8). Versions stored before get the defaults: stalled after 14 days, scores never
-- expire (NULL), no minimum number of scorers (1).
ALTER TABLE jobrank.settings
    ADD COLUMN stalled_after_days bigint NOT NULL DEFAULT 14
        CHECK (stalled_after_days BETWEEN 1 AND 365),
    ADD COLUMN score_expiry_weeks bigint
        CHECK (score_expiry_weeks IS NULL OR score_expiry_weeks BETWEEN 1 AND 52),
    ADD COLUMN min_scorers bigint NOT NULL DEFAULT 1
        CHECK (min_scorers BETWEEN 1 AND 10);

-- The digest covers the new columns, after the old ones, as jobrank's side does.
CREATE OR REPLACE FUNCTION jobrank.stamp_settings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.version::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.weight_client_engagement::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.weight_search_difficulty::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.weight_time_open::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.weight_fee_size::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.threshold_a::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.threshold_b::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.time_open_bands::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_bands::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_currency::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.cadence_days::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.created_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.created_by::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.stalled_after_days::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.score_expiry_weeks::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.min_scorers::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;

-- The rows already there get their digests recomputed (the trigger runs on UPDATE;
-- their new server sequences make replicas pull them again, which changes nothing:
-- settings versions merge as a set union).
UPDATE jobrank.settings SET id = id;

-- Skips ("can't judge this one"): immutable, replicated like submissions (see the
-- SQLite migration V8). No unique key on (job, scorer, week): two replicas may each
-- record one before they meet, and both are kept.
CREATE TABLE jobrank.skips (
    id          text PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobrank.jobs (id),
    scorer_id   text NOT NULL REFERENCES jobrank.users (id),
    week        text NOT NULL CHECK (week ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    created_at  text NOT NULL,
    origin      text NOT NULL,
    seq         bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest  bigint NOT NULL DEFAULT 0,
    bucket      smallint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX skips_seq ON jobrank.skips (seq);
CREATE INDEX skips_job ON jobrank.skips (job_id);

CREATE FUNCTION jobrank.stamp_skips() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.job_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.scorer_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.week::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.reason::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.created_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER skips_stamp BEFORE INSERT OR UPDATE ON jobrank.skips
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_skips();

ALTER TABLE jobrank.skips ENABLE ROW LEVEL SECURITY;
