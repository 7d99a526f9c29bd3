//! `[respond]` configuration: operating mode, safety guards, fusion weights and connectors.
//! Key names under `[respond]` and `[respond.nftables]` are fixed by CONTRACTS.md.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Mode;

/// The whole `[respond]` section.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RespondConfig {
    /// `monitor` (decide and record only), `assisted` (every action needs approval) or `autonomous`.
    pub mode: Mode,
    /// Folder of `.rego` policies (default: the shipped `policies/` folder next to the data dir).
    pub policies: Option<PathBuf>,
    /// Default TTL of reversible actions, seconds.
    pub default_ttl_secs: u64,
    /// Each repeat block of the same target multiplies the TTL by this factor.
    pub repeat_offender_factor: u32,
    /// Longest TTL after escalation, seconds.
    pub max_ttl_secs: u64,
    /// Attempts per execution before the action is failed.
    pub max_attempts: u32,
    /// First retry delay, milliseconds (doubles each retry).
    pub retry_backoff_ms: u64,
    /// Safety controls applied outside policy.
    pub guards: GuardConfig,
    /// Approval workflow.
    pub approvals: ApprovalConfig,
    /// Fusion weights.
    pub fusion: FusionWeights,
    /// `[respond.nftables]`.
    pub nftables: NftablesConfig,
    /// `[respond.edr]`: CrowdStrike-style containment API.
    pub edr: Option<EdrConfig>,
    /// `[respond.identity]`: SCIM user API.
    pub identity: Option<IdentityConfig>,
    /// `[respond.ssh]`: key rotation.
    pub ssh: Option<SshConfig>,
    /// `[respond.decoy]`: decoy listeners.
    pub decoy: DecoyConfig,
    /// `[respond.notify]`: notification channels.
    pub notify: NotifyConfig,
}

impl Default for RespondConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Monitor,
            policies: None,
            default_ttl_secs: 3600,
            repeat_offender_factor: 2,
            max_ttl_secs: 7 * 24 * 3600,
            max_attempts: 3,
            retry_backoff_ms: 100,
            guards: GuardConfig::default(),
            approvals: ApprovalConfig::default(),
            fusion: FusionWeights::default(),
            nftables: NftablesConfig::default(),
            edr: None,
            identity: None,
            ssh: None,
            decoy: DecoyConfig::default(),
            notify: NotifyConfig::default(),
        }
    }
}

impl RespondConfig {
    /// Semantic checks beyond types, each problem as `respond.<key>: <what>`.
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for (key, value) in [
            ("guards.own_ranges", &self.guards.own_ranges),
            ("guards.allow_ranges", &self.guards.allow_ranges),
        ] {
            for net in value {
                if net.parse::<ipnet::IpNet>().is_err() && net.parse::<std::net::IpAddr>().is_err() {
                    errors.push(format!("respond.{key}: {net:?} is not an address or CIDR"));
                }
            }
        }
        if self.nftables.table.is_empty()
            || !self.nftables.table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            errors.push(format!("respond.nftables.table: {:?} must be [A-Za-z0-9_]+", self.nftables.table));
        }
        if self.max_attempts == 0 {
            errors.push("respond.max_attempts: must be at least 1".into());
        }
        if self.approvals.expire_after_secs == 0 {
            errors.push("respond.approvals.expire_after_secs: must be above 0".into());
        }
        errors
    }
}

/// Safety controls that no policy can override.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct GuardConfig {
    /// Targets never acted on: host names, user names, addresses or CIDRs.
    pub protected_assets: Vec<String>,
    /// Ward's own infrastructure (never blocked or isolated), addresses or CIDRs.
    pub own_ranges: Vec<String>,
    /// Private, loopback, link-local and own ranges that are nevertheless allowed (explicit opt-in).
    pub allow_ranges: Vec<String>,
    /// Most executions per action per minute (`block_ip = 30`); absent = unlimited.
    pub rate_limits: BTreeMap<String, u32>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        let limits = [("block_ip", 60), ("isolate_host", 5), ("disable_user", 5), ("rotate_ssh_key", 5)];
        Self {
            protected_assets: Vec::new(),
            own_ranges: Vec::new(),
            allow_ranges: Vec::new(),
            rate_limits: limits.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }
    }
}

/// Approval workflow settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalConfig {
    /// A pending approval expires (= denied) after this many seconds.
    pub expire_after_secs: u64,
    /// Notification channel told about new pending approvals (`slack`, `webhook`, `email`), if any.
    pub notify_channel: Option<String>,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        Self { expire_after_secs: 3600, notify_channel: None }
    }
}

/// Weights of the fused score: each signal family's strength is multiplied by its weight.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FusionWeights {
    /// Strongest single rule alert (by level score).
    pub rule_level: f64,
    /// Extra weight per additional distinct rule, capped at 3 extra rules.
    pub rule_breadth: f64,
    /// Correlation (multi-event) rule alerts.
    pub correlation: f64,
    /// Threat-intel indicator hits.
    pub ioc: f64,
    /// Model/anomaly scores.
    pub model: f64,
    /// Asset criticality of the targeted asset.
    pub asset_criticality: f64,
}

impl Default for FusionWeights {
    fn default() -> Self {
        Self {
            rule_level: 0.45,
            rule_breadth: 0.05,
            correlation: 0.2,
            ioc: 0.25,
            model: 0.15,
            asset_criticality: 0.1,
        }
    }
}

/// `[respond.nftables]` (contract keys `enabled`, `table`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NftablesConfig {
    /// Whether `block_ip` uses nftables (else it is refused as unconfigured).
    pub enabled: bool,
    /// The `inet` table Ward owns.
    pub table: String,
    /// Network namespace to run `nft` in (`ip netns exec NS nft …`), if any.
    pub netns: Option<String>,
    /// The `nft` binary.
    pub nft: String,
}

impl Default for NftablesConfig {
    fn default() -> Self {
        Self { enabled: true, table: "ward".into(), netns: None, nft: "nft".into() }
    }
}

/// `[respond.edr]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EdrConfig {
    /// Base URL (`https://api.crowdstrike.com`).
    pub url: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    #[serde(skip_serializing)]
    pub client_secret: String,
}

/// `[respond.identity]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// SCIM base URL (`https://idp.example/scim/v2`).
    pub url: String,
    /// Bearer token.
    #[serde(skip_serializing)]
    pub token: String,
}

/// `[respond.ssh]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SshConfig {
    /// The `authorized_keys` file whose lines are rotated.
    pub authorized_keys: PathBuf,
    /// Where new private keys are written (mode 0600).
    pub key_dir: PathBuf,
}

/// `[respond.decoy]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecoyConfig {
    /// Address decoys bind.
    pub bind: String,
    /// Port used when the target names none.
    pub port: u16,
}

impl Default for DecoyConfig {
    fn default() -> Self {
        Self { bind: "127.0.0.1".into(), port: 2222 }
    }
}

/// `[respond.notify]`: every channel is optional.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Slack-compatible incoming webhook URL.
    pub slack_url: Option<String>,
    /// Jira REST.
    pub jira: Option<JiraConfig>,
    /// Generic HMAC-signed webhook.
    pub webhook: Option<SignedWebhookConfig>,
    /// SMTP e-mail.
    pub email: Option<SmtpConfig>,
}

/// Jira connection.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Base URL (`https://jira.example`).
    pub url: String,
    /// Project key of created issues.
    pub project: String,
    /// Basic-auth user.
    pub user: String,
    /// API token.
    #[serde(skip_serializing)]
    pub token: String,
}

/// Generic signed webhook.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignedWebhookConfig {
    /// Target URL.
    pub url: String,
    /// HMAC-SHA256 key.
    #[serde(skip_serializing)]
    pub secret: String,
}

/// SMTP (plain, for relays on a trusted network).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// `host:port` of the relay.
    pub server: String,
    /// Envelope and header sender.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
}
