//! The `jobrank` binary: parses the command line and dispatches.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's malloc: with glibc the server either contended on one
/// arena's lock (a fifth of its CPU under load with `MALLOC_ARENA_MAX=1`) or fragmented
/// across several (resident memory swinging between 60 and 80 MB in `cargo bench --bench
/// web`, and rising in the soak with the default arenas).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    jobrank::cli::run(jobrank::cli::Cli::parse())
}
