-- API tokens record who created them: `created_by` is the creator as the admin page
-- shows it (a jobrank user's name and email, or "command line (unix user NAME)"),
-- `created_by_user_id` the jobrank user when there is one. Tokens made before this
-- version have neither.
ALTER TABLE api_tokens ADD COLUMN created_by TEXT;
ALTER TABLE api_tokens ADD COLUMN created_by_user_id TEXT REFERENCES users (id);

-- A user's tokens end whenever the user is deactivated or reactivated, by any path:
-- the admin page, `jobrank user`, a Supabase pull of another replica's change, a
-- reconciliation. Reactivation therefore revives no token, not even one stored while
-- the user was inactive; the user gets new tokens. (api_tokens are local: not
-- replicated.)
CREATE TRIGGER users_active_changed_revoke_api_tokens AFTER UPDATE OF active ON users
WHEN OLD.active <> NEW.active
BEGIN
    UPDATE api_tokens SET revoked_at = NEW.updated_at
    WHERE user_id = NEW.id AND revoked_at IS NULL;
END;

-- The audit log: who did which administrative act, when, on what, and what changed
-- (never a secret). Local: not replicated (each replica records the acts done on it);
-- it lives in the store, so the backups keep it.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,  -- "Name <email>" or "command line (unix user NAME)"
    actor_user_id TEXT,           -- the jobrank user, when the actor is one
    action        TEXT NOT NULL,  -- user_added, user_deactivated, ... (audit::Action)
    target        TEXT NOT NULL,  -- what was acted on, in words
    details       TEXT NOT NULL   -- what changed, in words
);
