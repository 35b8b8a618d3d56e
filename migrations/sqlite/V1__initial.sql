-- jobrank working store, first schema.
-- Conventions: timestamps are UTC text written by the application in one fixed format
-- ("YYYY-MM-DD HH:MM:SS.ffffff+00:00") so they sort lexically; every row that reaches
-- Supabase has a stable global id (UUIDv7 text, or the Recruiterflow job id for jobs)
-- and the origin replica that wrote it.

-- This replica's identity; one row, written at first start.
CREATE TABLE replica (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    replica_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('ceo', 'account_manager', 'sales_person', 'other')),
    password_hash TEXT NOT NULL,
    scores        INTEGER NOT NULL CHECK (scores IN (0, 1)),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    origin        TEXT NOT NULL
);

-- Jobs are keyed by the Recruiterflow job id, which every replica shares.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    client            TEXT NOT NULL,
    status            TEXT NOT NULL,
    is_open           INTEGER NOT NULL CHECK (is_open IN (0, 1)),
    opened_at         TEXT,
    fee_minor         INTEGER,
    fee_currency      TEXT,
    hiring_team       TEXT NOT NULL DEFAULT '[]',
    description_html  TEXT,
    first_seen_at     TEXT NOT NULL,
    last_synced_at    TEXT,
    closed_at         TEXT,
    updated_at        TEXT NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    origin            TEXT NOT NULL
);
CREATE INDEX jobs_open ON jobs (is_open);

-- Versioned scoring settings. The current settings are the greatest by
-- (version, created_at, origin), the same total order on every replica.
CREATE TABLE settings (
    id                      TEXT PRIMARY KEY,
    version                 INTEGER NOT NULL,
    weight_client_engagement INTEGER NOT NULL,  -- basis points, the four sum to 10000
    weight_search_difficulty INTEGER NOT NULL,
    weight_time_open         INTEGER NOT NULL,
    weight_fee_size          INTEGER NOT NULL,
    threshold_a             INTEGER NOT NULL,   -- hundredths: 400 is 4.00
    threshold_b             INTEGER NOT NULL,
    time_open_bands         TEXT NOT NULL,      -- JSON [d5, d4, d3, d2]: most days open for 5, 4, 3, 2
    fee_bands               TEXT NOT NULL,      -- JSON [f5, f4, f3, f2]: least fee (whole units) for 5, 4, 3, 2
    fee_currency            TEXT NOT NULL,
    cadence_days            INTEGER NOT NULL,
    created_at              TEXT NOT NULL,
    created_by              TEXT,
    origin                  TEXT NOT NULL
);
CREATE INDEX settings_order ON settings (version, created_at, origin);

-- Score submissions are immutable: a new submission supersedes, never edits.
CREATE TABLE submissions (
    id                   TEXT PRIMARY KEY,
    job_id               INTEGER NOT NULL REFERENCES jobs (id),
    scorer_id            TEXT NOT NULL REFERENCES users (id),
    client_engagement    INTEGER NOT NULL CHECK (client_engagement BETWEEN 1 AND 5),
    search_difficulty    INTEGER NOT NULL CHECK (search_difficulty BETWEEN 1 AND 5),
    time_open            INTEGER NOT NULL CHECK (time_open BETWEEN 1 AND 5),
    fee_size             INTEGER NOT NULL CHECK (fee_size BETWEEN 1 AND 5),
    time_open_overridden INTEGER NOT NULL CHECK (time_open_overridden IN (0, 1)),
    fee_size_overridden  INTEGER NOT NULL CHECK (fee_size_overridden IN (0, 1)),
    comment              TEXT,
    submitted_at         TEXT NOT NULL,
    origin               TEXT NOT NULL
);
CREATE INDEX submissions_job_scorer ON submissions (job_id, scorer_id, submitted_at);
CREATE INDEX submissions_scorer ON submissions (scorer_id, submitted_at);
CREATE TRIGGER submissions_no_update BEFORE UPDATE ON submissions
BEGIN SELECT RAISE(ABORT, 'score submissions are immutable'); END;
CREATE TRIGGER submissions_no_delete BEFORE DELETE ON submissions
BEGIN SELECT RAISE(ABORT, 'score submissions are immutable'); END;

-- One draft per job and scorer; local to this replica.
CREATE TABLE drafts (
    job_id            INTEGER NOT NULL REFERENCES jobs (id),
    scorer_id         TEXT NOT NULL REFERENCES users (id),
    client_engagement INTEGER CHECK (client_engagement BETWEEN 1 AND 5),
    search_difficulty INTEGER CHECK (search_difficulty BETWEEN 1 AND 5),
    time_open         INTEGER CHECK (time_open BETWEEN 1 AND 5),
    fee_size          INTEGER CHECK (fee_size BETWEEN 1 AND 5),
    comment           TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (job_id, scorer_id)
);

-- Rank history: a row each time a job's team score or rank changes. The id is derived
-- from the inputs (job, settings, submissions), so replicas that compute the same rank
-- write the same row.
CREATE TABLE rank_history (
    id               TEXT PRIMARY KEY,
    job_id           INTEGER NOT NULL REFERENCES jobs (id),
    at               TEXT NOT NULL,
    score_sum        INTEGER NOT NULL,   -- sum of composites in ten-thousandths
    scorer_count     INTEGER NOT NULL,
    rank             TEXT NOT NULL CHECK (rank IN ('A', 'B', 'C')),
    composites       TEXT NOT NULL,      -- JSON [{scorer_id, submission_id, composite}]
    settings_version INTEGER NOT NULL,
    origin           TEXT NOT NULL
);
CREATE INDEX rank_history_job ON rank_history (job_id, at);

-- The current rank of each job, derived from submissions and settings; local cache.
CREATE TABLE job_ranks (
    job_id           INTEGER PRIMARY KEY REFERENCES jobs (id),
    score_sum        INTEGER NOT NULL,
    scorer_count     INTEGER NOT NULL,
    rank             TEXT NOT NULL CHECK (rank IN ('A', 'B', 'C')),
    previous_rank    TEXT CHECK (previous_rank IN ('A', 'B', 'C')),
    previous_sum     INTEGER,
    previous_count   INTEGER,
    settings_version INTEGER NOT NULL,
    last_scored_at   TEXT NOT NULL,
    computed_at      TEXT NOT NULL
);

CREATE TABLE pipeline_snapshots (
    id                TEXT PRIMARY KEY,
    job_id            INTEGER NOT NULL REFERENCES jobs (id),
    taken_at          TEXT NOT NULL,
    stage             TEXT NOT NULL,
    stage_order       INTEGER NOT NULL,
    candidates        INTEGER NOT NULL CHECK (candidates >= 0),
    avg_days_in_stage REAL,
    origin            TEXT NOT NULL
);
CREATE INDEX pipeline_snapshots_job ON pipeline_snapshots (job_id, taken_at);

-- Job outcomes from Recruiterflow placement records.
CREATE TABLE placements (
    id           INTEGER PRIMARY KEY,   -- Recruiterflow placement record id
    job_id       INTEGER NOT NULL,
    candidate    TEXT,
    placed_at    TEXT,
    fee_minor    INTEGER,
    fee_currency TEXT,
    synced_at    TEXT NOT NULL
);
CREATE INDEX placements_job ON placements (job_id);

CREATE TABLE sync_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,        -- recruiterflow, supabase_push, supabase_pull, reconcile
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    jobs_seen     INTEGER NOT NULL DEFAULT 0,
    jobs_changed  INTEGER NOT NULL DEFAULT 0,
    jobs_closed   INTEGER NOT NULL DEFAULT 0,
    errors        INTEGER NOT NULL DEFAULT 0,
    message       TEXT,
    report        TEXT
);
CREATE INDEX sync_runs_kind ON sync_runs (kind, started_at);

CREATE TABLE webhook_inbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key       TEXT NOT NULL UNIQUE,  -- the event id, or the body's SHA-256
    event_type      TEXT NOT NULL,
    job_id          INTEGER,
    body            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'ignored', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    processed_at    TEXT
);
CREATE INDEX webhook_inbox_due ON webhook_inbox (status, next_attempt_at);

-- Replication outbox: written in the same transaction as the change it carries.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name  TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    payload     TEXT NOT NULL,         -- JSON of the row as written
    created_at  TEXT NOT NULL,
    pushed_at   TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    dead        INTEGER NOT NULL DEFAULT 0 CHECK (dead IN (0, 1))
);
CREATE INDEX outbox_pending ON outbox (pushed_at, dead, seq);

-- Pull cursors: the greatest server sequence seen per replicated table.
CREATE TABLE replication_cursors (
    table_name TEXT PRIMARY KEY,
    last_seq   INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,      -- SHA-256 of the cookie value; the value itself is never stored
    user_id      TEXT NOT NULL REFERENCES users (id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,  -- SHA-256 of the token
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    email      TEXT NOT NULL COLLATE NOCASE,
    client_ip  TEXT NOT NULL,
    at         TEXT NOT NULL,
    succeeded  INTEGER NOT NULL CHECK (succeeded IN (0, 1))
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (client_ip, at);
