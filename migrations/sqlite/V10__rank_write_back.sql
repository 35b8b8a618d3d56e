-- The rank written back to Recruiterflow (RECRUITERFLOW_RANK_FIELD). Every table here
-- is local to this replica (not replicated): write-back belongs to one replica only.

-- Whether write-back is on, as the serving process decided at its start from its
-- configuration: the store commands read it to decide whether a rank change is
-- queued, whichever process runs them (the server, `jobrank user deactivate`, ...).
-- `problem` is why the last round could not write at all (a field set up wrong, a
-- refused key), shown on the admin page until a round succeeds.
CREATE TABLE write_back_state (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    enabled     INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    problem     TEXT,
    problem_at  TEXT
);
INSERT INTO write_back_state (singleton) VALUES (1);

-- The durable queue: one row per job, holding the latest standing to write (a newer
-- value replaces the older one and takes a new `seq`). A row is filled in the
-- transaction of the rank change and removed only once Recruiterflow acknowledged
-- the value it holds (the same `seq`). `rank` NULL means the job has no rank any more:
-- its fields are cleared. A row with `dead_at` is a dead letter.
CREATE TABLE write_back_queue (
    job_id           INTEGER PRIMARY KEY REFERENCES jobs (id),
    seq              INTEGER NOT NULL,
    rank             TEXT CHECK (rank IN ('A', 'B', 'C')),
    score_sum        INTEGER,
    scorer_count     INTEGER,
    queued_at        TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    dead_at          TEXT,
    CHECK ((rank IS NULL) = (score_sum IS NULL) AND (rank IS NULL) = (scorer_count IS NULL))
);
CREATE INDEX write_back_queue_due ON write_back_queue (next_attempt_at) WHERE dead_at IS NULL;

-- What Recruiterflow last acknowledged for each job (`fields`: the JSON list of
-- {"id", "value"} sent), and what the job reported for those fields at the latest
-- sync when it differed (`reported`, NULL when it matched or was not compared yet).
CREATE TABLE write_back_sent (
    job_id        INTEGER PRIMARY KEY REFERENCES jobs (id),
    rank          TEXT CHECK (rank IN ('A', 'B', 'C')),
    score_sum     INTEGER,
    scorer_count  INTEGER,
    fields        TEXT NOT NULL,
    sent_at       TEXT NOT NULL,
    checked_at    TEXT,
    mismatch      TEXT
);
CREATE INDEX write_back_sent_mismatch ON write_back_sent (checked_at) WHERE mismatch IS NOT NULL;
