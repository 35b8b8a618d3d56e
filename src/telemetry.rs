//! Logging via tracing: human-readable or JSON lines on stderr, filtered by `RUST_LOG`
//! when it is set, else by a default that depends on who reads them ([`Audience`]).
//! Secrets are wrapped types that never print, so no layer here needs to scrub them.
//!
//! A leaf module: any layer may log; it uses nothing else of jobrank.

use tracing_subscriber::EnvFilter;

/// Who reads the log, which decides what it shows when `RUST_LOG` is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `jobrank serve`: structured logs for the operators, from INFO up. The migration
    /// library's INFO chatter ("going to batch apply ...") is left out: jobrank logs
    /// one line of its own saying what was applied.
    Server,
    /// Every other command: a person (or a script) reading the command's answer on
    /// stdout, so the log shows only warnings and errors.
    Command,
}

impl Audience {
    /// The filter used when `RUST_LOG` is unset or empty.
    pub fn default_filter(self) -> &'static str {
        match self {
            Audience::Server => "info,refinery_core=warn,refinery=warn",
            Audience::Command => "warn",
        }
    }
}

/// Installs the global subscriber once, writing JSON lines when `json` is true and
/// text otherwise (`JOBRANK_LOG_FORMAT`); later calls do nothing (tests call it often).
/// `RUST_LOG` (for example `debug`, which shows the migration library's lines too)
/// replaces the audience's default filter.
/// A leaf module: it takes the format as a flag rather than reading `config`.
pub fn init(json: bool, audience: Audience) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(audience.default_filter()));
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
