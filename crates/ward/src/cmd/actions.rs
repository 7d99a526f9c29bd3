//! `ward actions run|list|show|rollback`: response actions from the command line, through the
//! same policy, guards, approval and audit path as automated ones. Also opens the responder for
//! `approvals` and `killswitch`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ward_model::TenantId;
use ward_respond::{
    ActionKind, ActionRecord, ActionRequest, ActionStatus, PolicySet, Responder, StoreRepo, SystemClock,
};

use crate::Outcome;
use crate::config::Config;

/// `ward actions …`.
#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Request an action (policy, guards, approval and audit apply).
    Run(RunArgs),
    /// List actions, newest first.
    List(ListArgs),
    /// Show one action.
    Show(IdArgs),
    /// Run an action's inverse and verify it.
    Rollback(IdArgs),
}

/// Options every response command shares.
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// Tenant (default: `decode.tenant`).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ward actions run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// block_ip, unblock_ip, isolate_host, release_host, disable_user, enable_user, rotate_ssh_key,
    /// launch_decoy, stop_decoy, notify, create_ticket, webhook, email.
    pub action: String,
    /// What to act on (address, device id, user id, key comment, port, channel).
    #[arg(long)]
    pub target: String,
    /// How long the effect lasts (`10m`, `2h`); default from `respond.default_ttl_secs`.
    #[arg(long)]
    pub ttl: Option<String>,
    /// Decide and record, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The incident this answers.
    #[arg(long)]
    pub incident: Option<String>,
    /// Notification text.
    #[arg(long, default_value = "")]
    pub message: String,
    /// Tenant and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// `ward actions list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this status.
    #[arg(long)]
    pub status: Option<String>,
    /// Tenant and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// An action or approval id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The id.
    pub id: String,
    /// Tenant and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// The tenant named by `--tenant`, else the configured default.
pub(crate) fn tenant(args: &TenantArgs, config: &Config) -> Result<TenantId> {
    TenantId::new(args.tenant.as_deref().unwrap_or(&config.decode.tenant)).context("--tenant")
}

/// Who runs the command, for audit (`cli:<user>`).
pub(crate) fn actor() -> String {
    format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()))
}

/// The policy folder: `respond.policies`, else `./policies` when present, else the built-in set.
pub(crate) fn policies_dir(config: &Config) -> Option<PathBuf> {
    config.respond.policies.clone().or_else(|| Some(PathBuf::from("policies")).filter(|p| p.is_dir()))
}

/// The responder over the state store of `config`/`data_dir` (response state and audit).
pub(crate) async fn open_responder(
    config: &Config,
    data_dir: &Path,
    tenant: &TenantId,
) -> Result<Arc<Responder>> {
    let store = crate::cmd::state::open_store(config, data_dir).await?;
    store.ensure_tenant(tenant).await.context("creating the tenant")?;
    responder_over(config, store)
}

/// The responder over `store` (the one `ward serve` already opened), which keeps its state and
/// audit.
///
/// # Errors
/// Unreadable policies.
pub(crate) fn responder_over(config: &Config, store: ward_store::Store) -> Result<Arc<Responder>> {
    let policies = match policies_dir(config) {
        Some(dir) => PolicySet::load_dir(&dir)?,
        None => PolicySet::builtin()?,
    };
    let repo = StoreRepo::new(store);
    let executors =
        ward_respond::executors_from_config(&config.respond, Arc::new(ward_respond::LogDecoySink));
    Ok(Arc::new(Responder::new(
        config.respond.clone(),
        Arc::new(policies),
        Arc::new(repo),
        executors,
        Arc::new(SystemClock),
    )))
}

/// Runs `ward actions …`.
///
/// # Errors
/// Bad arguments, unreadable state, or a failed action (after printing it).
pub fn run(command: &ActionsCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        match command {
            ActionsCommand::Run(args) => run_action(args, config, data_dir).await,
            ActionsCommand::List(args) => list(args, config, data_dir).await,
            ActionsCommand::Show(args) => show(args, config, data_dir).await,
            ActionsCommand::Rollback(args) => rollback(args, config, data_dir).await,
        }
    })
}

async fn run_action(args: &RunArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = tenant(&args.common, config)?;
    let kind: ActionKind = args.action.parse()?;
    let ttl =
        args.ttl.as_deref().map(ward_respond::parse_duration).transpose().map_err(anyhow::Error::msg)?;
    let responder = open_responder(config, data_dir, &tenant).await?;
    let mut request = ActionRequest::manual(tenant, kind, &args.target, actor());
    request.ttl = ttl;
    request.dry_run = args.dry_run;
    request.incident_id.clone_from(&args.incident);
    request.message.clone_from(&args.message);
    let result = responder.request(&request).await?;
    if args.common.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!("{} {} {}: {} ({})", result.id, kind, args.target, result.status, result.reason);
    }
    if result.status == ActionStatus::Failed {
        bail!("action {} failed: {}", result.id, result.reason);
    }
    Ok(Outcome::Success)
}

async fn list(args: &ListArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = tenant(&args.common, config)?;
    let statuses: Vec<ActionStatus> = args.status.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    let responder = open_responder(config, data_dir, &tenant).await?;
    let actions = responder.repo().actions(&tenant, &statuses).await?;
    if args.common.json {
        for a in &actions {
            println!("{}", serde_json::to_string(a)?);
        }
    } else {
        let mut table = comfy_table::Table::new();
        table.set_header(["id", "action", "target", "status", "mode", "expires_at", "reason"]);
        for a in &actions {
            let expires = a.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            table.add_row([
                &a.id,
                a.kind.as_str(),
                &a.target,
                a.status.as_str(),
                a.mode.as_str(),
                &expires,
                &a.reason,
            ]);
        }
        println!("{table}");
    }
    Ok(Outcome::Success)
}

fn print_action(action: &ActionRecord, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(action)?);
    } else {
        println!("{}", serde_json::to_string_pretty(action)?);
    }
    Ok(())
}

async fn show(args: &IdArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = tenant(&args.common, config)?;
    let responder = open_responder(config, data_dir, &tenant).await?;
    print_action(&responder.action(&tenant, &args.id).await?, args.common.json)?;
    Ok(Outcome::Success)
}

async fn rollback(args: &IdArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = tenant(&args.common, config)?;
    let responder = open_responder(config, data_dir, &tenant).await?;
    let result = responder.rollback(&tenant, &args.id, &actor()).await?;
    if args.common.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        println!("{}: {} ({})", result.id, result.status, result.reason);
    }
    if result.status == ActionStatus::Failed {
        bail!("rollback of {} failed: {}", result.id, result.reason);
    }
    Ok(Outcome::Success)
}
