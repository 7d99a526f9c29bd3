//! One module per command; `run` is the single dispatch point.

pub mod actions;
mod apikeys;
pub mod approvals;
mod audit;
mod bench;
mod bench_ingest;
mod bench_sigma;
mod certs;
mod config_check;
mod decode;
mod demo;
mod devices;
pub mod eval;
pub mod features;
mod hunt;
mod ingest;
pub mod killswitch;
mod log;
pub mod model;
pub mod platform;
pub mod policy;
mod rules;
mod rules_examples;
mod send;
mod serve;
pub mod state;
mod users;

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use ward_decode::run::RunOptions;
use ward_decode::{DecodeContext, SourceKind, SourceSelection};
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::{BenchCommand, Cli, Command, InputArgs, LogCommand, RulesCommand};
use crate::config::Config;

/// Runs the parsed command line.
///
/// # Errors
/// Fatal problems: bad configuration, unreadable inputs, unknown sources.
pub fn run(cli: Cli) -> Result<Outcome> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = Config::load(cli.config.as_deref(), &env)?;
    let data_dir = config.data_dir(cli.data_dir.as_deref());
    match cli.command {
        Command::Decode(args) => decode::run(&args, &config),
        Command::Ingest(args) => ingest::run(&args, &config, &data_dir),
        Command::Bench(BenchCommand::Decode(args)) => bench::run(&args),
        Command::Bench(BenchCommand::Ingest(args)) => bench_ingest::run(&args),
        Command::Bench(BenchCommand::Sigma(args)) => bench_sigma::run(&args),
        Command::Serve(args) => serve::run(&args, &config, &data_dir),
        Command::Devices(command) => devices::run(&command, &config, &data_dir),
        Command::Tenants(command) => devices::run_tenants(&command, &data_dir),
        Command::Send(args) => send::run(&args),
        Command::Log(LogCommand::Read(args)) => log::read(&args, &config, &data_dir),
        Command::Log(LogCommand::Stats(args)) => log::stats(&args, &config, &data_dir),
        Command::Config(_) => config_check::run(cli.config.as_deref(), &config),
        Command::Hunt(args) => hunt::run(&args, &config),
        Command::Rules(RulesCommand::Check(args)) => rules::check(&args),
        Command::Rules(RulesCommand::Test(args)) => rules::test(&args),
        Command::Demo(args) => demo::run(&args, &config, &data_dir),
        Command::Replay(args) => serve::replay(&args, &config, &data_dir),
        Command::Users(command) => users::run(&command, &config, &data_dir),
        Command::Apikeys(command) => apikeys::run(&command, &config, &data_dir),
        Command::Audit(command) => audit::run(&command, &config, &data_dir),
        Command::Certs(command) => certs::run(&command, &data_dir),
        Command::Actions(command) => actions::run(&command, &config, &data_dir),
        Command::Approvals(command) => approvals::run(&command, &config, &data_dir),
        Command::Killswitch(args) => killswitch::run(&args, &config, &data_dir),
        Command::Policy(command) => policy::run(&command, &config),
        Command::Model(command) => model::run(&command, &data_dir),
        Command::Eval(command) => eval::run(&command),
        Command::Features(command) => {
            features::run(&command, &config.features, &config.offline, &config, &data_dir)
        }
    }
}

/// A multi-threaded runtime for the commands that do network or log I/O.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
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
