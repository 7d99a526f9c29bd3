//! Decide and respond: Ward's stage that acts on incidents, safely.
//!
//! - [`fusion`]: one consolidated score per incident with provenance (signal, weight, contribution).
//! - [`policy`]: Rego policies (regorus) answering `allow | deny | require_approval` with reasons,
//!   versioned and tested with fixtures (`ward policy test`).
//! - [`guards`]: safety controls outside policy (protected assets, private/own ranges, rate limits);
//!   the kill switch and the operating mode are enforced by the [`Responder`].
//! - [`exec`]: the actions port and its real executors (nftables, EDR, SCIM, SSH keys, decoys,
//!   Slack/Jira/signed webhook/SMTP), each with an inverse, a risk class and a verification check.
//! - [`Responder`]: the one path every action takes, plus approvals, rollback and the reconciler.
//! - [`playbook`]: YAML playbooks executed durably (journaled steps, resumable after a restart).
//! - [`repo`]: the storage port (`ResponseRepo`) with an in-memory implementation.

pub mod config;
pub mod exec;
pub mod fusion;
pub mod guards;
pub mod model;
pub mod playbook;
pub mod policy;
pub mod repo;
mod responder;
pub mod store_repo;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use config::RespondConfig;
pub use model::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, AuditEntry, Decision, ExecMode,
    Mode, Outcome, PlaybookRun, RiskClass, Role, RunStatus, StepRecord, StepState,
};
pub use policy::PolicySet;
pub use repo::{MemoryRepo, RepoError, ResponseRepo};
pub use responder::{
    ActionRequest, ActionResult, KILL_SWITCH_KEY, Origin, ReconcileReport, RespondError, Responder,
};
pub use store_repo::StoreRepo;

/// Where response reads the time (tests use a manual clock to expire approvals and TTLs).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    /// Starting at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    /// Moves time forward.
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|t| *t).unwrap_or_else(|p| *p.into_inner())
    }
}

/// A deterministic id: XXH3-128 of the parts (separated), 32 lowercase hex digits.
pub fn hash_id(parts: &[&str]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update(&[0x1f]);
    }
    format!("{:032x}", h.digest128())
}

/// Parses `500ms`, `30s`, `10m`, `2h`, `7d` (or plain seconds).
///
/// # Errors
/// A message naming the bad text.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a duration like 30s, 10m, 2h, 7d"))?;
    let secs = |m: u64| n.checked_mul(m).map(std::time::Duration::from_secs);
    let d = match unit {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "" | "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86_400),
        _ => None,
    };
    d.ok_or_else(|| format!("{text:?} is not a duration like 30s, 10m, 2h, 7d"))
}

/// A random id, 32 lowercase hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // The system random source failing is not recoverable; fall back to time + counter.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return hash_id(&[&Utc::now().to_rfc3339(), &n.to_string()]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A sink for decoys that only logs (when the binary wires no event sink).
#[derive(Debug, Default)]
pub struct LogDecoySink;

impl exec::DecoySink for LogDecoySink {
    fn hit(&self, hit: exec::DecoyHit) {
        tracing::warn!(sensor = %hit.sensor, peer = %hit.peer, "decoy connection");
    }
    fn register(&self, sensor: &exec::SensorInfo) {
        tracing::info!(sensor = %sensor.name, addr = %sensor.addr, "decoy started");
    }
    fn unregister(&self, sensor: &exec::SensorInfo) {
        tracing::info!(sensor = %sensor.name, "decoy stopped");
    }
}

/// Every executor the configuration enables (connectors without configuration are left out,
/// so requests for them are refused as "no executor configured").
pub fn executors_from_config(config: &RespondConfig, decoys: Arc<dyn exec::DecoySink>) -> exec::Executors {
    use exec::*;
    let mut all = Executors::new();
    if config.nftables.enabled {
        all.register_with_inverse(Arc::new(NftBlocker::new(&config.nftables)));
    }
    if config.edr.is_some() {
        all.register_with_inverse(Arc::new(EdrExecutor::new(config.edr.clone())));
    }
    if config.identity.is_some() {
        all.register_with_inverse(Arc::new(IdentityExecutor::new(config.identity.clone())));
    }
    if config.ssh.is_some() {
        all.register(Arc::new(SshKeyRotator::new(config.ssh.clone())));
    }
    all.register_with_inverse(Arc::new(DecoyManager::new(config.decoy.clone(), decoys)));
    let n = &config.notify;
    if n.slack_url.is_some() {
        all.register(Arc::new(SlackExecutor::new(n.slack_url.clone())));
    }
    if n.jira.is_some() {
        all.register(Arc::new(JiraExecutor::new(n.jira.clone())));
    }
    if n.webhook.is_some() {
        all.register(Arc::new(SignedWebhookExecutor::new(n.webhook.clone())));
    }
    if n.email.is_some() {
        all.register(Arc::new(EmailExecutor::new(n.email.clone())));
    }
    all
}
