//! One module per command; `run` is the single dispatch point.

mod bench;
mod decode;
mod ingest;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use ward_decode::run::RunOptions;
use ward_decode::{DecodeContext, SourceKind, SourceSelection};
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::{BenchCommand, Cli, Command, InputArgs};
use crate::config::Config;

/// Runs the parsed command line.
///
/// # Errors
/// Fatal problems: bad configuration, unreadable inputs, unknown sources.
pub fn run(cli: Cli) -> Result<Outcome> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = Config::load(cli.config.as_deref(), &env)?;
    match cli.command {
        Command::Decode(args) => decode::run(&args, &config),
        Command::Ingest(args) => ingest::run(&args, &config, &config.data_dir(cli.data_dir.as_deref())),
        Command::Bench(BenchCommand::Decode(args)) => bench::run(&args),
    }
}

/// Turns input flags and configuration into decoding options.
fn run_options(args: &InputArgs, config: &Config) -> Result<RunOptions> {
    let selection = match args.source.as_str() {
        "auto" => SourceSelection::Auto,
        name => SourceSelection::Fixed(name.parse::<SourceKind>()?),
    };
    let tenant_name = args.tenant.as_deref().unwrap_or(&config.decode.tenant);
    let tenant = TenantId::new(tenant_name).context("--tenant")?;
    Ok(RunOptions {
        selection,
        mapping: args.mapping.clone(),
        max_record_bytes: args.max_record_bytes.unwrap_or(config.decode.max_record_bytes),
        ctx: DecodeContext::new(tenant, chrono::Utc::now()),
    })
}
