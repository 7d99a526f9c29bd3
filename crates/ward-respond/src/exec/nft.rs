//! `block_ip` with nftables: Ward owns one `inet` table holding two named sets with the
//! `timeout` flag (`blocked_v4`, `blocked_v6`) and two chains (input, forward) that drop
//! traffic whose source is in a set. A block adds a set element with the action's TTL as its
//! timeout; verification reads the set back (`nft -j list set`). `nft` runs in a network
//! namespace when one is configured (`ip netns exec NS nft …`).

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::{ActionError, ExecContext, Executor};
use crate::config::NftablesConfig;
use crate::model::{ActionKind, RiskClass};

const NFT_TIMEOUT: Duration = Duration::from_secs(10);

/// The nftables `block_ip` executor.
pub struct NftBlocker {
    table: String,
    netns: Option<String>,
    nft: String,
    ready: Mutex<bool>,
}

impl NftBlocker {
    /// From `[respond.nftables]`.
    pub fn new(config: &NftablesConfig) -> Self {
        Self {
            table: config.table.clone(),
            netns: config.netns.clone(),
            nft: config.nft.clone(),
            ready: Mutex::new(false),
        }
    }

    /// The table's definition: sets and drop rules.
    fn table_script(&self) -> String {
        let t = &self.table;
        format!(
            "table inet {t} {{\n\
             set blocked_v4 {{ type ipv4_addr; flags timeout; }}\n\
             set blocked_v6 {{ type ipv6_addr; flags timeout; }}\n\
             chain input {{ type filter hook input priority -10; policy accept; ip saddr @blocked_v4 drop; ip6 saddr @blocked_v6 drop; }}\n\
             chain forward {{ type filter hook forward priority -10; policy accept; ip saddr @blocked_v4 drop; ip6 saddr @blocked_v6 drop; }}\n\
             }}\n"
        )
    }

    /// Creates the table unless it exists (checked once per process, again after drift).
    ///
    /// # Errors
    /// `nft` failed.
    pub async fn ensure_table(&self) -> Result<(), ActionError> {
        let mut ready = self.ready.lock().await;
        if *ready {
            return Ok(());
        }
        if self.nft(&["list", "table", "inet", &self.table], None).await.is_err() {
            self.nft(&["-f", "-"], Some(self.table_script())).await?;
        }
        *ready = true;
        Ok(())
    }

    /// Deletes Ward's table (tests and `ward` uninstall).
    ///
    /// # Errors
    /// `nft` failed.
    pub async fn delete_table(&self) -> Result<(), ActionError> {
        *self.ready.lock().await = false;
        self.nft(&["delete", "table", "inet", &self.table], None).await.map(|_| ())
    }

    /// The addresses in the set for `ip`'s family, with their remaining seconds (if timed).
    ///
    /// # Errors
    /// `nft` failed or printed something unexpected.
    pub async fn members(&self, v6: bool) -> Result<Vec<(String, Option<u64>)>, ActionError> {
        let out = self.nft(&["-j", "list", "set", "inet", &self.table, set_name(v6)], None).await?;
        let doc: serde_json::Value = serde_json::from_str(&out)
            .map_err(|e| ActionError::failed(ActionKind::BlockIp, format!("nft -j output: {e}")))?;
        let mut members = Vec::new();
        let sets = doc["nftables"].as_array().into_iter().flatten().filter_map(|v| v.get("set"));
        for elem in sets.flat_map(|s| s["elem"].as_array().into_iter().flatten()) {
            match elem {
                serde_json::Value::String(addr) => members.push((addr.clone(), None)),
                other => {
                    let e = &other["elem"];
                    if let Some(addr) = e["val"].as_str() {
                        members.push((addr.to_owned(), e["expires"].as_u64()));
                    }
                }
            }
        }
        Ok(members)
    }

    async fn contains(&self, ip: IpAddr) -> Result<bool, ActionError> {
        let text = ip.to_string();
        Ok(self.members(ip.is_ipv6()).await?.iter().any(|(a, _)| *a == text))
    }

    async fn nft(&self, args: &[&str], stdin: Option<String>) -> Result<String, ActionError> {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = tokio::process::Command::new("ip");
                c.args(["netns", "exec", ns, &self.nft]);
                c
            }
            None => tokio::process::Command::new(&self.nft),
        };
        cmd.args(args).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let fail = |m: String| ActionError::failed(ActionKind::BlockIp, m);
        let mut child = cmd.spawn().map_err(|e| fail(format!("starting {}: {e}", self.nft)))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).await.map_err(|e| fail(format!("writing nft script: {e}")))?;
        }
        let out = tokio::time::timeout(NFT_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| fail(format!("nft {} timed out", args.join(" "))))?
            .map_err(|e| fail(format!("waiting for nft: {e}")))?;
        metrics::counter!("ward_connector_requests_total", "connector" => "nftables", "status" => if out.status.success() { "ok" } else { "error" }).increment(1);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(fail(format!("nft {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())))
        }
    }

    async fn apply(&self, script: String) -> Result<(), ActionError> {
        self.ensure_table().await?;
        if let Err(e) = self.nft(&["-f", "-"], Some(script.clone())).await {
            // The table may have been removed behind Ward's back: recreate once and retry.
            *self.ready.lock().await = false;
            self.ensure_table().await?;
            self.nft(&["-f", "-"], Some(script)).await.map_err(|_| e)?;
        }
        Ok(())
    }
}

fn set_name(v6: bool) -> &'static str {
    if v6 { "blocked_v6" } else { "blocked_v4" }
}

fn parse_ip(kind: ActionKind, target: &str) -> Result<IpAddr, ActionError> {
    target.parse::<IpAddr>().map_err(|e| ActionError::BadTarget {
        kind,
        target: target.to_owned(),
        reason: format!("not an IP address: {e}"),
    })
}

#[async_trait]
impl Executor for NftBlocker {
    fn kind(&self) -> ActionKind {
        ActionKind::BlockIp
    }
    fn risk(&self) -> RiskClass {
        RiskClass::High
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(ActionKind::UnblockIp)
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        parse_ip(ActionKind::BlockIp, target).map(|_| ())
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let ip = parse_ip(ctx.kind, &ctx.target)?;
        let (t, set) = (&self.table, set_name(ip.is_ipv6()));
        let timeout = ctx.ttl.map(|d| format!(" timeout {}s", d.as_secs().max(1))).unwrap_or_default();
        // Add-delete-add in one transaction: idempotent, and a repeat block refreshes the timeout.
        let script = format!(
            "add element inet {t} {set} {{ {ip} }}\ndelete element inet {t} {set} {{ {ip} }}\nadd element inet {t} {set} {{ {ip}{timeout} }}\n"
        );
        self.apply(script).await?;
        Ok(
            serde_json::json!({"table": t, "set": set, "ip": ip.to_string(), "ttl_secs": ctx.ttl.map(|d| d.as_secs())}),
        )
    }
    async fn verify(&self, ctx: &ExecContext, _state: &serde_json::Value) -> Result<bool, ActionError> {
        self.contains(parse_ip(ctx.kind, &ctx.target)?).await
    }
    async fn undo(&self, ctx: &ExecContext, _state: &serde_json::Value) -> Result<(), ActionError> {
        let ip = parse_ip(ctx.kind, &ctx.target)?;
        let (t, set) = (&self.table, set_name(ip.is_ipv6()));
        self.apply(format!(
            "add element inet {t} {set} {{ {ip} }}\ndelete element inet {t} {set} {{ {ip} }}\n"
        ))
        .await
    }
    async fn verify_undone(
        &self,
        ctx: &ExecContext,
        _state: &serde_json::Value,
    ) -> Result<bool, ActionError> {
        Ok(!self.contains(parse_ip(ctx.kind, &ctx.target)?).await?)
    }
}
