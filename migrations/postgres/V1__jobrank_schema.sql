-- jobrank's tables in Supabase PostgreSQL, the system of record.
-- They live in the schema `jobrank`, not `public`: Supabase's REST API exposes `public`
-- to anyone holding the anon key. Row level security is on for every table and no
-- policy is granted to anon or authenticated, so only jobrank's own role reads them.
--
-- The tables mirror the replicated SQLite tables column for column, with the same
-- global ids and the same text timestamps (so both sides compute the same digests and
-- the same last-writer-wins order), plus `seq`: a server-assigned number, bumped on
-- every insert and update, that replicas pull by.

CREATE SCHEMA IF NOT EXISTS jobrank;

CREATE SEQUENCE jobrank.row_seq;

-- Reconciliation digests, the same as jobrank computes on the SQLite side: a row's
-- digest is the first 56 bits of SHA-256 over its columns as text (NULL as 0x1E,
-- columns separated by 0x1F); its bucket is the first byte of SHA-256 over its id.
-- They are kept up to date by the row triggers below, so a reconciliation sums
-- stored numbers instead of hashing every row, and a change made behind jobrank's
-- back (any UPDATE) still shows.
CREATE FUNCTION jobrank.row_digest(row_text text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ('x' || encode(substring(sha256(convert_to(row_text, 'UTF8')) from 1 for 7), 'hex'))::bit(56)::bigint
$$;

CREATE FUNCTION jobrank.row_bucket(id text) RETURNS smallint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT get_byte(sha256(convert_to(id, 'UTF8')), 0)::smallint
$$;

CREATE TABLE jobrank.users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('ceo', 'account_manager', 'sales_person', 'other')),
    password_hash text NOT NULL,
    scores        bigint NOT NULL CHECK (scores IN (0, 1)),
    active        bigint NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    text NOT NULL,
    updated_at    text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    origin        text NOT NULL,
    seq           bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);

CREATE TABLE jobrank.jobs (
    id                bigint PRIMARY KEY,
    title             text NOT NULL,
    client            text NOT NULL,
    status            text NOT NULL,
    is_open           bigint NOT NULL CHECK (is_open IN (0, 1)),
    opened_at         text,
    fee_minor         bigint,
    fee_currency      text,
    hiring_team       text NOT NULL DEFAULT '[]',
    description_html  text,
    first_seen_at     text NOT NULL,
    last_synced_at    text,
    closed_at         text,
    updated_at        text NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    origin            text NOT NULL,
    seq               bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);

CREATE TABLE jobrank.settings (
    id                       text PRIMARY KEY,
    version                  bigint NOT NULL,
    weight_client_engagement bigint NOT NULL,
    weight_search_difficulty bigint NOT NULL,
    weight_time_open         bigint NOT NULL,
    weight_fee_size          bigint NOT NULL,
    threshold_a              bigint NOT NULL,
    threshold_b              bigint NOT NULL,
    time_open_bands          text NOT NULL,
    fee_bands                text NOT NULL,
    fee_currency             text NOT NULL,
    cadence_days             bigint NOT NULL,
    created_at               text NOT NULL,
    created_by               text,
    origin                   text NOT NULL,
    seq                      bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);

CREATE TABLE jobrank.submissions (
    id                   text PRIMARY KEY,
    job_id               bigint NOT NULL REFERENCES jobrank.jobs (id),
    scorer_id            text NOT NULL REFERENCES jobrank.users (id),
    client_engagement    bigint NOT NULL CHECK (client_engagement BETWEEN 1 AND 5),
    search_difficulty    bigint NOT NULL CHECK (search_difficulty BETWEEN 1 AND 5),
    time_open            bigint NOT NULL CHECK (time_open BETWEEN 1 AND 5),
    fee_size             bigint NOT NULL CHECK (fee_size BETWEEN 1 AND 5),
    time_open_overridden bigint NOT NULL CHECK (time_open_overridden IN (0, 1)),
    fee_size_overridden  bigint NOT NULL CHECK (fee_size_overridden IN (0, 1)),
    comment              text,
    submitted_at         text NOT NULL,
    origin               text NOT NULL,
    seq                  bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);
CREATE INDEX submissions_job ON jobrank.submissions (job_id);

CREATE TABLE jobrank.rank_history (
    id               text PRIMARY KEY,
    job_id           bigint NOT NULL REFERENCES jobrank.jobs (id),
    at               text NOT NULL,
    score_sum        bigint NOT NULL,
    scorer_count     bigint NOT NULL,
    rank             text NOT NULL CHECK (rank IN ('A', 'B', 'C')),
    composites       text NOT NULL,
    settings_version bigint NOT NULL,
    origin           text NOT NULL,
    seq              bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);

CREATE TABLE jobrank.pipeline_snapshots (
    id                text PRIMARY KEY,
    job_id            bigint NOT NULL REFERENCES jobrank.jobs (id),
    taken_at          text NOT NULL,
    stage             text NOT NULL,
    stage_order       bigint NOT NULL,
    candidates        bigint NOT NULL CHECK (candidates >= 0),
    avg_days_in_stage double precision,
    origin            text NOT NULL,
    seq               bigint NOT NULL DEFAULT nextval('jobrank.row_seq'),
    row_digest    bigint NOT NULL DEFAULT 0,
    bucket        smallint NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX users_seq ON jobrank.users (seq);
CREATE UNIQUE INDEX jobs_seq ON jobrank.jobs (seq);
CREATE UNIQUE INDEX settings_seq ON jobrank.settings (seq);
CREATE UNIQUE INDEX submissions_seq ON jobrank.submissions (seq);
CREATE UNIQUE INDEX rank_history_seq ON jobrank.rank_history (seq);
CREATE UNIQUE INDEX pipeline_snapshots_seq ON jobrank.pipeline_snapshots (seq);


-- Every insert and update takes a new server sequence and refreshes the digest.
CREATE FUNCTION jobrank.stamp_users() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.email::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.name::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.role::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.password_hash::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.scores::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.active::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.created_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.updated_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.version::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_stamp BEFORE INSERT OR UPDATE ON jobrank.users
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_users();

CREATE FUNCTION jobrank.stamp_jobs() RETURNS trigger
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
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER jobs_stamp BEFORE INSERT OR UPDATE ON jobrank.jobs
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_jobs();

CREATE FUNCTION jobrank.stamp_settings() RETURNS trigger
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
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER settings_stamp BEFORE INSERT OR UPDATE ON jobrank.settings
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_settings();

CREATE FUNCTION jobrank.stamp_submissions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.job_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.scorer_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.client_engagement::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.search_difficulty::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.time_open::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_size::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.time_open_overridden::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.fee_size_overridden::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.comment::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.submitted_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER submissions_stamp BEFORE INSERT OR UPDATE ON jobrank.submissions
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_submissions();

CREATE FUNCTION jobrank.stamp_rank_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.job_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.score_sum::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.scorer_count::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.rank::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.composites::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.settings_version::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER rank_history_stamp BEFORE INSERT OR UPDATE ON jobrank.rank_history
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_rank_history();

CREATE FUNCTION jobrank.stamp_pipeline_snapshots() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    NEW.row_digest := jobrank.row_digest(
        coalesce(NEW.id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.job_id::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.taken_at::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.stage::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.stage_order::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.candidates::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.avg_days_in_stage::text, E'\x1e') || E'\x1f'
        || coalesce(NEW.origin::text, E'\x1e'));
    NEW.bucket := jobrank.row_bucket(NEW.id::text);
    RETURN NEW;
END;
$$;
CREATE TRIGGER pipeline_snapshots_stamp BEFORE INSERT OR UPDATE ON jobrank.pipeline_snapshots
    FOR EACH ROW EXECUTE FUNCTION jobrank.stamp_pipeline_snapshots();

ALTER TABLE jobrank.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.rank_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.pipeline_snapshots ENABLE ROW LEVEL SECURITY;
