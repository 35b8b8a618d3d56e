-- Recruiterflow's users as this replica's last full sync read them, matched to jobrank
-- users by email. Local: each replica syncs Recruiterflow itself, so these rows never
-- enter the outbox and have no Supabase table.
CREATE TABLE recruiterflow_users (
    id            INTEGER PRIMARY KEY,  -- the Recruiterflow user id
    email         TEXT,                 -- as Recruiterflow sends it
    email_key     TEXT,                 -- the email trimmed and lower-cased by jobrank's
                                        -- matching rule (SQLite's lower() folds ASCII only)
    name          TEXT,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX recruiterflow_users_email_key ON recruiterflow_users (email_key);

-- When the whole user list was last read and stored (one row). Without it no match has
-- been tried, which is not the same as "not found in Recruiterflow".
CREATE TABLE recruiterflow_user_list (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    read_at    TEXT NOT NULL
);
