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

CREATE FUNCTION jobrank.bump_seq() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('jobrank.row_seq');
    RETURN NEW;
END;
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
    seq           bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
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
    seq               bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
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
    seq                      bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
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
    seq                  bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
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
    seq              bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
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
    seq               bigint NOT NULL DEFAULT nextval('jobrank.row_seq')
);

CREATE UNIQUE INDEX users_seq ON jobrank.users (seq);
CREATE UNIQUE INDEX jobs_seq ON jobrank.jobs (seq);
CREATE UNIQUE INDEX settings_seq ON jobrank.settings (seq);
CREATE UNIQUE INDEX submissions_seq ON jobrank.submissions (seq);
CREATE UNIQUE INDEX rank_history_seq ON jobrank.rank_history (seq);
CREATE UNIQUE INDEX pipeline_snapshots_seq ON jobrank.pipeline_snapshots (seq);

CREATE TRIGGER users_seq BEFORE INSERT OR UPDATE ON jobrank.users
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();
CREATE TRIGGER jobs_seq BEFORE INSERT OR UPDATE ON jobrank.jobs
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();
CREATE TRIGGER settings_seq BEFORE INSERT OR UPDATE ON jobrank.settings
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();
CREATE TRIGGER submissions_seq BEFORE INSERT OR UPDATE ON jobrank.submissions
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();
CREATE TRIGGER rank_history_seq BEFORE INSERT OR UPDATE ON jobrank.rank_history
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();
CREATE TRIGGER pipeline_snapshots_seq BEFORE INSERT OR UPDATE ON jobrank.pipeline_snapshots
    FOR EACH ROW EXECUTE FUNCTION jobrank.bump_seq();

ALTER TABLE jobrank.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.submissions ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.rank_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobrank.pipeline_snapshots ENABLE ROW LEVEL SECURITY;
