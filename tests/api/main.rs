//! The integration test binary: one file per feature, `helpers` holds `spawn_app()`.

mod cli;
mod fake_recruiterflow;
mod helpers;
mod recruiterflow;
mod store;
mod webhooks;
