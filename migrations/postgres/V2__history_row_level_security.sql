-- refinery's migration history lives in the schema `jobrank` beside the data
-- (src/replication/mod.rs, MIGRATION_TABLE) and, like every table there, gets row
-- level security with no policy, so Supabase's `anon` and `authenticated` roles read
-- nothing from it even if they were granted SELECT. refinery creates this table
-- (CREATE TABLE IF NOT EXISTS) before it applies any migration, so it exists here.
ALTER TABLE jobrank.refinery_schema_history ENABLE ROW LEVEL SECURITY;
