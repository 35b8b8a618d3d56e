-- Writers to the jobrank tables hold this advisory lock for their transaction
-- (replication::WRITE_LOCK_KEY, 0x4A524E4B), so server sequences are handed out in
-- commit order; this migration renumbers the jobs rows, so it holds it too.
SELECT pg_advisory_xact_lock(1246907979);

-- A closed job keeps the rank it had when it closed (see the SQLite migration V12):
-- rank and team score (sum and count of composites) at the close; NULL while open or
-- when nobody who counted had scored it by then.
ALTER TABLE jobrank.jobs
    ADD COLUMN rank_at_close text CHECK (rank_at_close IN ('A', 'B', 'C')),
    ADD COLUMN score_sum_at_close bigint,
    ADD COLUMN scorer_count_at_close bigint;

-- The digest covers the new columns, after the old ones, as jobrank's side does.
CREATE OR REPLACE FUNCTION jobrank.stamp_jobs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.title::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.client::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.status::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.is_open::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.opened_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_minor::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_currency::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.hiring_team::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.description_html::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.first_seen_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.last_synced_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.closed_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.updated_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.version::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.rank_at_close::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.score_sum_at_close::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.scorer_count_at_close::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;

-- Jobs closed before: the latest rank history row written up to the close, as the
-- SQLite migration computes it (timestamps compare as text, byte by byte).
UPDATE jobrank.jobs j SET
    rank_at_close = h.rank,
    score_sum_at_close = h.score_sum,
    scorer_count_at_close = h.scorer_count
FROM (
    SELECT DISTINCT ON (r.job_id) r.job_id, r.rank, r.score_sum, r.scorer_count
    FROM jobrank.rank_history r JOIN jobrank.jobs c ON c.id = r.job_id
    WHERE c.is_open = 0 AND c.closed_at IS NOT NULL
      AND r.at COLLATE "C" <= c.closed_at COLLATE "C"
    ORDER BY r.job_id, r.at COLLATE "C" DESC, r.id COLLATE "C" DESC
) h
WHERE j.id = h.job_id;

-- Every row gets its digest recomputed over the new columns (the trigger runs on
-- UPDATE; the new server sequences make replicas pull the rows again, which changes
-- nothing where they already agree).
UPDATE jobrank.jobs SET id = id;
