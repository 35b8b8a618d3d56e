//! Logging via tracing: human-readable or JSON lines on stderr, filtered by `RUST_LOG`
//! when it is set, else by a default that depends on who reads them ([`Audience`]).
//! Secrets are wrapped types that never print, so no layer here needs to scrub them.
//!
//! A leaf module: any layer may log; it uses nothing else of jobrank.

use tracing_subscriber::EnvFilter;

/// Who reads the log, which decides what it shows when `RUST_LOG` is not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `jobrank serve`: structured logs for the operators, from INFO up. Libraries'
    /// INFO lines (the migration library's "going to batch apply ...") are DEBUG lines
    /// here (see [`LibraryInfoAsDebug`]): jobrank logs one line of its own saying what
    /// was applied.
    Server,
    /// Every other command: a person (or a script) reading the command's answer on
    /// stdout, so the log shows only warnings and errors.
    Command,
}

impl Audience {
    /// The filter used when `RUST_LOG` is unset or empty.
    pub fn default_filter(self) -> &'static str {
        match self {
            Audience::Server => "info",
            Audience::Command => "warn",
        }
    }
}

/// Records of the `log` crate, which only libraries use (jobrank logs through
/// `tracing`), passed on to `tracing` with INFO lowered to DEBUG: a library's INFO
/// line says what it is doing, which is detail for jobrank's operators, so it shows
/// only when `RUST_LOG` asks for debug.
struct LibraryInfoAsDebug(tracing_log::LogTracer);

impl LibraryInfoAsDebug {
    fn lowered(level: log::Level) -> log::Level {
        match level {
            log::Level::Info => log::Level::Debug,
            other => other,
        }
    }
}

impl log::Log for LibraryInfoAsDebug {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        let lowered = log::Metadata::builder()
            .level(Self::lowered(metadata.level()))
            .target(metadata.target())
            .build();
        self.0.enabled(&lowered)
    }

    fn log(&self, record: &log::Record<'_>) {
        self.0.log(
            &log::Record::builder()
                .args(*record.args())
                .level(Self::lowered(record.level()))
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {}
}

/// Installs the global subscriber once, writing JSON lines when `json` is true and
/// text otherwise (`JOBRANK_LOG_FORMAT`); later calls do nothing (tests call it often).
/// `RUST_LOG` (for example `debug`, which shows the migration library's lines too)
/// replaces the audience's default filter. Libraries' `log` records come through
/// [`LibraryInfoAsDebug`].
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
    let installed = if json {
        tracing::subscriber::set_global_default(builder.json().flatten_event(true).finish())
    } else {
        tracing::subscriber::set_global_default(builder.finish())
    };
    if installed.is_ok()
        && log::set_boxed_logger(Box::new(LibraryInfoAsDebug(tracing_log::LogTracer::new())))
            .is_ok()
    {
        // Records more verbose than the filter lets through are dropped at the `log`
        // macro, before any call here (lowering only makes a record less likely to
        // show, so the filter's own level is the right cut).
        log::set_max_level(tracing_log::AsLog::as_log(
            &tracing::level_filters::LevelFilter::current(),
        ));
    }
}
