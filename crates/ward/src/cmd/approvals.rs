//! `ward approvals list|approve|reject|cancel`: answering actions that wait for a human.

use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use ward_respond::{ApprovalStatus, Role};

use super::actions::{IdArgs, TenantArgs, actor, open_responder, tenant};
use crate::Outcome;
use crate::config::Config;

/// `ward approvals …`.
#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List approvals (pending by default).
    List(ApprovalListArgs),
    /// Approve a pending action; it runs at once.
    Approve(AnswerArgs),
    /// Reject a pending action.
    Reject(AnswerArgs),
    /// Withdraw a pending action.
    Cancel(IdArgs),
}

/// `ward approvals list`.
#[derive(Debug, Args)]
pub struct ApprovalListArgs {
    /// Every status, not only pending.
    #[arg(long)]
    pub all: bool,
    /// Tenant and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// `ward approvals approve|reject`.
#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The approval (= action) id.
    pub id: String,
    /// Who answers (default `cli:$USER`); the requester may not approve a high-risk action.
    #[arg(long = "as")]
    pub approver: Option<String>,
    /// Why.
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Tenant and output.
    #[command(flatten)]
    pub common: TenantArgs,
}

/// Runs `ward approvals …`. The local operator of the data directory acts as an admin.
///
/// # Errors
/// Unknown id, not pending, expired, or the requester approving their own high-risk action.
pub fn run(command: &ApprovalsCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        let common = match command {
            ApprovalsCommand::List(a) => &a.common,
            ApprovalsCommand::Approve(a) | ApprovalsCommand::Reject(a) => &a.common,
            ApprovalsCommand::Cancel(a) => &a.common,
        };
        let tenant = tenant(common, config)?;
        let responder = open_responder(config, data_dir, &tenant).await?;
        responder.expire_approvals().await?;
        let result = match command {
            ApprovalsCommand::List(args) => {
                let status = if args.all { None } else { Some(ApprovalStatus::Pending) };
                for a in responder.repo().approvals(&tenant, status).await? {
                    if common.json {
                        println!("{}", serde_json::to_string(&a)?);
                    } else {
                        println!(
                            "{} {} requested_by={} expires_at={} {}",
                            a.id,
                            a.status,
                            a.requested_by,
                            a.expires_at.to_rfc3339(),
                            a.reason
                        );
                    }
                }
                return Ok(Outcome::Success);
            }
            ApprovalsCommand::Approve(a) => {
                let who = a.approver.clone().unwrap_or_else(actor);
                responder.approve(&tenant, &a.id, &who, Role::Admin).await?
            }
            ApprovalsCommand::Reject(a) => {
                let who = a.approver.clone().unwrap_or_else(actor);
                responder.reject(&tenant, &a.id, &who, Role::Admin, &a.reason).await?
            }
            ApprovalsCommand::Cancel(a) => responder.cancel(&tenant, &a.id, &actor(), Role::Admin).await?,
        };
        if common.json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            println!("{}: {} ({})", result.id, result.status, result.reason);
        }
        Ok(Outcome::Success)
    })
}
