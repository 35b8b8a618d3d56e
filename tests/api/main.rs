//! The integration test binary: one file per feature, `helpers` holds `spawn_app()`.

mod api_json;
mod audit;
mod caddy;
mod cli;
mod durability;
mod fake_recruiterflow;
mod helpers;
mod layering;
mod ops;
mod pg;
mod recruiterflow;
mod replication;
mod serving;
mod store;
mod web_admin;
mod web_auth;
mod web_dashboard;
mod web_export;
mod web_money;
mod web_refresh;
mod web_review;
mod web_roles;
mod web_scoring;
mod web_support;
mod webhooks;
