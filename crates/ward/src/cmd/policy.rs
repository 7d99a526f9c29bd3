//! `ward policy test`: run the response policies' fixture cases (input → expected decision).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use ward_respond::PolicySet;
use ward_respond::policy::run_fixtures;

use crate::Outcome;
use crate::config::Config;

/// `ward policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run fixture cases; last line `passed=N failed=M`.
    Test(PolicyTestArgs),
}

/// `ward policy test`.
#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    /// Folder of `.rego` policies (default: `respond.policies`, else ./policies).
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// Folder of `*.json` fixture files (default: `<policies>/fixtures`).
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
}

/// Runs `ward policy test`.
///
/// # Errors
/// Unloadable policies or fixtures, or any failing case (exit 1).
pub fn run(command: &PolicyCommand, config: &Config) -> Result<Outcome> {
    let PolicyCommand::Test(args) = command;
    let dir = args
        .policies
        .clone()
        .or_else(|| super::actions::policies_dir(config))
        .unwrap_or_else(|| PathBuf::from("policies"));
    let set = PolicySet::load_dir(&dir)?;
    let fixtures = args.fixtures.clone().unwrap_or_else(|| dir.join("fixtures"));
    let results = run_fixtures(&set, &fixtures)?;
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    println!("policies {} version {}", dir.display(), set.version());
    for r in &results {
        match &r.failure {
            None => println!("ok   {}: {}", r.file.display(), r.name),
            Some(why) => println!("FAIL {}: {}: {why}", r.file.display(), r.name),
        }
    }
    println!("passed={} failed={failed}", results.len() - failed);
    if failed > 0 {
        bail!("{failed} policy fixture(s) failed");
    }
    Ok(Outcome::Success)
}
