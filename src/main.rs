//! The `jobrank` binary: parses the command line and dispatches.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    jobrank::cli::run(jobrank::cli::Cli::parse())
}
