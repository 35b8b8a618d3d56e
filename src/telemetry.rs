//! Logging via tracing: human-readable or JSON lines, filtered by `RUST_LOG`
//! (default `info`). Secrets are wrapped types that never print, so no layer here
//! needs to scrub them.
//!
//! A leaf module: any layer may log; it uses nothing else of jobrank.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once, writing JSON lines when `json` is true and
/// text otherwise (`JOBRANK_LOG_FORMAT`); later calls do nothing (tests call it often).
/// A leaf module: it takes the format as a flag rather than reading `config`.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: the journal and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
