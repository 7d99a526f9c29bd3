//! Builders shared by the tests: incidents, alerts, a responder over the in-memory repo, and a
//! counting executor whose effects live in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use ward_model::{AlertRecord, Incident, IncidentStatus, Severity, SignalKind, TenantId};
use ward_respond::exec::{ActionError, ExecContext, Executor, Executors};
use ward_respond::{
    ActionKind, ActionRequest, ActionResult, Clock, MemoryRepo, Mode, PolicySet, RespondConfig, Responder,
    RiskClass, SystemClock,
};

pub fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

pub fn policies() -> Arc<PolicySet> {
    Arc::new(PolicySet::load_dir(&ward_testkit::workspace_root().join("policies")).unwrap())
}

pub fn alert(kind: SignalKind, rule: &str, level: Severity, score: f64) -> AlertRecord {
    AlertRecord {
        id: ward_respond::hash_id(&[rule, &score.to_string()]),
        tenant: tenant(),
        kind,
        rule_id: rule.into(),
        rule_title: format!("rule {rule}"),
        level,
        score,
        timestamp: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
        event_ids: vec!["e1".into()],
        tags: vec!["attack.t1110".into()],
        techniques: vec![],
        entities: BTreeMap::new(),
        source: "cowrie".into(),
        details: serde_json::Value::Null,
    }
}

/// Alerts fusing to ≈0.745: a high Sigma alert, an IOC hit and a correlation.
pub fn decoy_band_alerts() -> Vec<AlertRecord> {
    vec![
        alert(SignalKind::Sigma, "ssh-brute", Severity::High, 0.8),
        alert(SignalKind::Ioc, "feodo", Severity::High, 0.9),
        alert(SignalKind::Correlation, "ssh-burst", Severity::High, 0.8),
    ]
}

pub fn incident(id: &str, ip: &str) -> Incident {
    let t = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let mut entities = BTreeMap::new();
    entities.insert("source.ip".to_owned(), vec![ip.to_owned()]);
    entities.insert("user.name".to_owned(), vec!["root".to_owned()]);
    Incident {
        id: id.into(),
        tenant: tenant(),
        status: IncidentStatus::New,
        severity: Severity::High,
        score: 0.0,
        title: format!("SSH brute force from {ip}"),
        group_key: format!("source.ip={ip}"),
        entities,
        alert_count: 3,
        verdict: None,
        confidence: None,
        reasoning: vec![],
        iocs: Default::default(),
        recommended_actions: vec![],
        assignee: None,
        first_seen: t,
        last_seen: t,
        created_at: t,
        updated_at: t,
    }
}

pub fn config(mode: Mode) -> RespondConfig {
    let mut c = RespondConfig { mode, retry_backoff_ms: 1, ..RespondConfig::default() };
    c.guards.rate_limits.clear();
    c
}

pub struct Harness {
    pub repo: Arc<MemoryRepo>,
    pub responder: Arc<Responder>,
}

pub fn harness(config: RespondConfig, executors: Executors) -> Harness {
    harness_with_clock(config, executors, Arc::new(SystemClock))
}

pub fn harness_with_clock(config: RespondConfig, executors: Executors, clock: Arc<dyn Clock>) -> Harness {
    let repo = Arc::new(MemoryRepo::new());
    let responder = Arc::new(Responder::new(config, policies(), repo.clone(), executors, clock));
    Harness { repo, responder }
}

impl Harness {
    pub fn audit_events(&self) -> Vec<String> {
        self.repo.audit_entries().into_iter().map(|e| e.event).collect()
    }

    /// Requests `kind` on `target` by hand, as `actor`, for the test tenant.
    pub async fn manual(&self, kind: ActionKind, target: &str, actor: &str) -> ActionResult {
        self.responder.request(&ActionRequest::manual(tenant(), kind, target, actor)).await.unwrap()
    }
}

/// An executor whose effect is membership of its target in a set; counts executions per action.
pub struct Fake {
    pub kind: ActionKind,
    pub risk: RiskClass,
    pub active: Mutex<BTreeSet<String>>,
    pub executions: Mutex<BTreeMap<String, u32>>,
    pub delay: Duration,
    pub fail_first: Mutex<u32>,
}

impl Fake {
    pub fn new(kind: ActionKind, risk: RiskClass) -> Arc<Self> {
        Self::with(kind, risk, Duration::ZERO)
    }
    pub fn slow(kind: ActionKind, delay: Duration) -> Arc<Self> {
        Self::with(kind, RiskClass::Low, delay)
    }
    fn with(kind: ActionKind, risk: RiskClass, delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            kind,
            risk,
            active: Mutex::new(BTreeSet::new()),
            executions: Mutex::new(BTreeMap::new()),
            delay,
            fail_first: Mutex::new(0),
        })
    }
    pub fn total(&self) -> u32 {
        self.executions.lock().unwrap().values().sum()
    }
    pub fn is_active(&self, target: &str) -> bool {
        self.active.lock().unwrap().contains(target)
    }
}

#[async_trait]
impl Executor for Fake {
    fn kind(&self) -> ActionKind {
        self.kind
    }
    fn risk(&self) -> RiskClass {
        self.risk
    }
    fn inverse(&self) -> Option<ActionKind> {
        match self.kind {
            ActionKind::BlockIp => Some(ActionKind::UnblockIp),
            ActionKind::LaunchDecoy => Some(ActionKind::StopDecoy),
            _ => None,
        }
    }
    fn reversible(&self) -> bool {
        true
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        if target.is_empty() {
            return Err(ActionError::BadTarget {
                kind: self.kind,
                target: target.into(),
                reason: "empty".into(),
            });
        }
        Ok(())
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        tokio::time::sleep(self.delay).await;
        *self.executions.lock().unwrap().entry(ctx.action_id.clone()).or_default() += 1;
        {
            let mut left = self.fail_first.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(ActionError::Failed { kind: self.kind, message: "injected failure".into() });
            }
        }
        self.active.lock().unwrap().insert(ctx.target.clone());
        Ok(serde_json::json!({"target": ctx.target}))
    }
    async fn verify(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.is_active(&ctx.target))
    }
    async fn undo(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<(), ActionError> {
        self.active.lock().unwrap().remove(&ctx.target);
        Ok(())
    }
    async fn verify_undone(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(!self.is_active(&ctx.target))
    }
}

pub fn executors(fakes: &[Arc<Fake>]) -> Executors {
    let mut all = Executors::new();
    for f in fakes {
        all.register(f.clone());
    }
    all
}
