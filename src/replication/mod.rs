//! Replication to Supabase PostgreSQL: outbox push, pull from other replicas, reconciliation.
