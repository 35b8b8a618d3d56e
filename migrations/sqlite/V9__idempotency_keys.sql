-- One-time keys: each scoring form (and its confirmation page) carries a random key,
-- and a `POST /api/scores` may carry an `Idempotency-Key` header. The first request
-- with a key stores its submission and records here what it was answered; a request
-- that repeats the key (Back then submit again, a double-click, a client's retry) gets
-- that answer again and stores nothing. Keys are the user's own (one user's key never
-- answers another's request). Local: not replicated (a form is posted back to the
-- replica that drew it). A key is kept 30 days; older ones are removed as new ones
-- arrive.
CREATE TABLE idempotency_keys (
    user_id       TEXT NOT NULL REFERENCES users (id),
    purpose       TEXT NOT NULL CHECK (purpose IN ('score_form', 'api_score')),
    key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the request body (the API), so a key reused for another body is
    -- refused rather than answered with the first result; NULL for forms.
    fingerprint   TEXT,
    submission_id TEXT NOT NULL,
    -- What the first request was answered, as JSON (a form: where it went and the
    -- confirmation it showed; the API: the 201 body).
    answer        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, purpose, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
