//! jobrank: ranks a recruitment agency's open jobs A/B/C from weekly team scores.
//!
//! Data flows one way: Recruiterflow -> [`recruiterflow`] -> [`store`] (SQLite, the
//! working store) -> [`domain`] (pure scoring) -> [`web`]. [`replication`] reads the
//! store's outbox and talks to Supabase PostgreSQL beside it. [`mail`] (SMTP) and
//! [`slack`] (an incoming webhook) take messages to the team; [`notify`] makes them
//! (the weekly digest, alerts, password reset links) and sends them from a durable queue.

pub mod app;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod domain;
pub mod mail;
pub mod notify;
pub mod recruiterflow;
pub mod replication;
pub mod slack;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod web;

/// Installs ring as rustls' process-wide crypto provider (HTTPS to Recruiterflow, TLS
/// to Supabase). Idempotent; called by the binary at start and by tests.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
