-- Notifications (issue 14): the weekly digest, alerts and password reset emails. Every
-- table here is local to the replica (not replicated): with several replicas, one of
-- them is configured to send (README, "Notifications").

-- Each user's choices on "My settings" (/me). A user without a row gets both.
CREATE TABLE notification_prefs (
    user_id      TEXT PRIMARY KEY REFERENCES users (id),
    digest_email INTEGER NOT NULL CHECK (digest_email IN (0, 1)),
    alerts_email INTEGER NOT NULL CHECK (alerts_email IN (0, 1)),
    updated_at   TEXT NOT NULL
);

-- The durable message queue: every message is recorded here before it is sent, at
-- most one per (channel, recipient, kind, batch), so a message is sent at most once
-- per recipient and week (digest), alert batch or reset link. A sender claims a row
-- until `claimed_until` (so two processes never send the same row), then marks it
-- sent, or records the failure: a temporary one is tried again at `next_attempt_at`,
-- a permanent one (or too many temporary ones) makes it a dead letter.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'slack')),
    recipient       TEXT NOT NULL,  -- a user id, or 'team' for the Slack channel
    kind            TEXT NOT NULL CHECK (kind IN ('digest', 'alerts', 'password_reset')),
    batch           TEXT NOT NULL,  -- the digest's week, the alert batch, the reset link
    to_address      TEXT,           -- email only: "Name <address>" when it was made
    subject         TEXT NOT NULL,  -- the email's subject, or a summary of the Slack post
    body_text       TEXT NOT NULL,  -- the plain-text part; emptied once a reset link is sent
    body_html       TEXT,           -- the HTML part (email)
    payload         TEXT,           -- the Slack message as JSON
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until   TEXT,
    last_error      TEXT,
    sent_at         TEXT,
    UNIQUE (channel, recipient, kind, batch)
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);

-- The weekly digests made, by week (the Monday of the local week): a second run in
-- the same week makes nothing new.
CREATE TABLE digests (
    week     TEXT PRIMARY KEY CHECK (week = date(week) AND strftime('%w', week) = '1'),
    made_at  TEXT NOT NULL,
    messages INTEGER NOT NULL
);

-- What alerts are about: a job dropped to C (recorded by the store commands in the
-- transaction of the rank change), a new job nobody scored after 2 days and a
-- pipeline newly stalled (recorded by the periodic check). An event waits for the
-- next alert batch (`batch_id` NULL until then).
CREATE TABLE alert_batches (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    made_at  TEXT NOT NULL,
    messages INTEGER NOT NULL
);
CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL CHECK (kind IN ('dropped_to_c', 'unscored', 'stalled')),
    job_id   INTEGER NOT NULL REFERENCES jobs (id),
    detail   TEXT NOT NULL,  -- JSON, by kind
    at       TEXT NOT NULL,
    batch_id INTEGER REFERENCES alert_batches (id)
);
CREATE INDEX alert_events_waiting ON alert_events (batch_id, id);

-- What the periodic check has already alerted, so it alerts once: a job that stays
-- unscored, or stays stalled, is alerted once; a pipeline that moves again is
-- forgotten, so a later stall is new.
CREATE TABLE alert_watch (
    kind    TEXT NOT NULL CHECK (kind IN ('unscored', 'stalled')),
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    since   TEXT NOT NULL,
    PRIMARY KEY (kind, job_id)
);

-- Whether this replica sends alerts (written at start from the configuration: the
-- store commands record rank drops only then), and when the periodic check first
-- looked (what it found then was already so, and is not alerted).
CREATE TABLE notify_state (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    alerts_on       INTEGER NOT NULL CHECK (alerts_on IN (0, 1)),
    watch_seeded_at TEXT
);
INSERT INTO notify_state (singleton, alerts_on) VALUES (1, 0);

-- "Forgot password": single-use links valid for 30 minutes, stored as the SHA-256 of
-- the token (the token itself is only in the email).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- Requests for a reset link, throttled like sign-in (per typed address and per client
-- address), whether or not the address belongs to a user.
CREATE TABLE reset_requests (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    email     TEXT NOT NULL COLLATE NOCASE,
    client_ip TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX reset_requests_email ON reset_requests (email, at);
CREATE INDEX reset_requests_ip ON reset_requests (client_ip, at);
