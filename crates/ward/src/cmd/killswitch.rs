//! `ward killswitch on|off|status`: stop every action at once (persisted, audited).

use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};

use super::actions::{TenantArgs, actor, open_responder, tenant};
use crate::Outcome;
use crate::config::Config;

/// `ward killswitch`.
#[derive(Debug, Args)]
pub struct KillswitchArgs {
    /// What to do.
    #[arg(value_enum)]
    pub state: KillswitchState,
    /// Tenant (for the audit record) and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// The kill switch verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KillswitchState {
    /// Stop all actions now.
    On,
    /// Allow actions again.
    Off,
    /// Print the state.
    Status,
}

/// Runs `ward killswitch …`.
///
/// # Errors
/// The state cannot be read or written.
pub fn run(args: &KillswitchArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        let tenant = tenant(&args.common, config)?;
        let responder = open_responder(config, data_dir, &tenant).await?;
        match args.state {
            KillswitchState::On => responder.set_kill_switch(&tenant, true, &actor()).await?,
            KillswitchState::Off => responder.set_kill_switch(&tenant, false, &actor()).await?,
            KillswitchState::Status => {}
        }
        let on = responder.kill_switch().await?;
        if args.common.json {
            println!("{}", serde_json::json!({"kill_switch": if on { "on" } else { "off" }}));
        } else {
            println!("killswitch {}", if on { "on" } else { "off" });
        }
        Ok(Outcome::Success)
    })
}
