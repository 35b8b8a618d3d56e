//! The integration test binary: one file per feature, `helpers` holds `spawn_app()`.

mod cli;
mod helpers;
mod ops;
mod store;
