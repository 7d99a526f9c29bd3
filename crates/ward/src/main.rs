//! `ward`: the command line and composition root. Only this crate reads the environment,
//! parses arguments and picks adapters; libraries get everything they need passed in.

mod builtin;
mod cli;
mod cmd;
mod config;
mod memory;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: decoding allocates many small strings per event; glibc malloc spent a quarter of
/// the decode benchmark in allocation and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a command ended, mapped to the contract's exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything processed (exit 0).
    Success,
    /// Some input rejected, the rest processed (exit 2).
    Partial,
}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cmd::run(args) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
