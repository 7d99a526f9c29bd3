//! The store conformance suite: one set of behavioural checks every adapter must pass, run by
//! `tests/it` against SQLite and PostgreSQL (and usable by any future adapter).
//!
//! Each check gets a fresh, empty [`Store`] from a [`Harness`]; [`conformance_suite!`] turns
//! every check into a `#[tokio::test]` for one harness type.
//!
//! [`conformance_suite!`]: crate::conformance_suite

mod audit;
mod identity;
mod incidents;
mod isolation;
mod records;
mod response;

pub use audit::{
    audit_appends_serialize_under_concurrency, audit_chain_verifies_and_detects_tampering,
    audit_prune_keeps_chain_verifiable,
};
pub use identity::{api_keys_resolve_until_revoked_or_expired, users_sessions_and_devices};
pub use incidents::{
    alerts_insert_idempotently_and_paginate, incident_filters_and_sorting_paginate,
    incidents_link_alerts_idempotently, lifecycle_is_enforced_with_timeline_and_labels,
    merge_and_split_move_alerts, upsert_keeps_analyst_changes,
};
pub use isolation::tenant_b_cannot_touch_tenant_a;
pub use records::{config_assets_and_deadletter, playbooks_and_policies};
pub use response::{
    actions_are_idempotent_and_updated_whole, approvals_gate_existing_actions,
    runs_journal_and_global_settings,
};

use chrono::{DateTime, TimeZone as _, Utc};
use ward_model::response::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, ExecMode, PlaybookRun, RiskClass,
    RunStatus, StepRecord, StepState,
};
use ward_model::{AlertRecord, Entities, Incident, IncidentStatus, Severity, SignalKind, TenantId};

use crate::Store;

/// Opens a fresh, empty store for one check and cleans it up afterwards.
pub trait Harness: Sized + Send {
    /// A fresh store, or `None` to skip (backend unreachable outside CI).
    fn open() -> impl Future<Output = Option<Self>> + Send;
    /// The store.
    fn store(&self) -> &Store;
    /// Removes what `open` created.
    fn cleanup(self) -> impl Future<Output = ()> + Send;
}

/// Generates one `#[tokio::test]` per conformance check for a [`Harness`] type.
#[macro_export]
macro_rules! conformance_suite {
    ($harness:ty) => {
        $crate::conformance_suite!(@tests $harness;
            tenant_b_cannot_touch_tenant_a,
            alerts_insert_idempotently_and_paginate,
            incidents_link_alerts_idempotently,
            upsert_keeps_analyst_changes,
            lifecycle_is_enforced_with_timeline_and_labels,
            merge_and_split_move_alerts,
            incident_filters_and_sorting_paginate,
            users_sessions_and_devices,
            api_keys_resolve_until_revoked_or_expired,
            actions_are_idempotent_and_updated_whole,
            approvals_gate_existing_actions,
            runs_journal_and_global_settings,
            playbooks_and_policies,
            config_assets_and_deadletter,
            audit_chain_verifies_and_detects_tampering,
            audit_prune_keeps_chain_verifiable,
            audit_appends_serialize_under_concurrency
        );
    };
    (@tests $harness:ty; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(h) = <$harness as $crate::conformance::Harness>::open().await else { return };
                let store = $crate::conformance::Harness::store(&h).clone();
                // Run the check in its own task so the harness cleans up even when it fails.
                let outcome = tokio::spawn(async move { $crate::conformance::$name(&store).await }).await;
                $crate::conformance::Harness::cleanup(h).await;
                if let Err(e) = outcome {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        )+
    };
}

/// A tenant id from a literal.
pub(crate) fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("valid tenant name")
}

/// A fixed time, `secs` after 2024-05-01T00:00:00Z.
pub(crate) fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_714_521_600 + secs, 0).single().expect("valid time")
}

/// An alert of `tenant` with deterministic fields.
pub(crate) fn alert(tenant: &TenantId, id: &str, secs: i64, level: Severity, ip: &str) -> AlertRecord {
    let mut entities = Entities::new();
    ward_model::add_entity(&mut entities, "source.ip", ip);
    AlertRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        kind: SignalKind::Sigma,
        rule_id: format!("rule-{}", level.as_str()),
        rule_title: format!("Rule {id}"),
        level,
        score: level.base_score(),
        timestamp: at(secs),
        event_ids: vec![format!("ev-{id}")],
        tags: vec!["attack.t1110".to_owned()],
        techniques: vec!["T1110".to_owned()],
        entities,
        source: "cowrie".to_owned(),
        details: serde_json::json!({"matched": {"event.action": "login"}, "n": 1}),
    }
}

/// A new incident of `tenant` grouped by `source.ip=<ip>`.
pub(crate) fn incident(
    tenant: &TenantId,
    id: &str,
    ip: &str,
    secs: i64,
    severity: Severity,
    score: f64,
) -> Incident {
    let mut entities = Entities::new();
    ward_model::add_entity(&mut entities, "source.ip", ip);
    Incident {
        id: id.to_owned(),
        tenant: tenant.clone(),
        status: IncidentStatus::New,
        severity,
        score,
        title: format!("Brute force from {ip}"),
        group_key: format!("source.ip={ip}"),
        entities,
        alert_count: 0,
        verdict: None,
        confidence: None,
        reasoning: Vec::new(),
        iocs: Default::default(),
        recommended_actions: Vec::new(),
        assignee: None,
        first_seen: at(secs),
        last_seen: at(secs),
        created_at: at(secs),
        updated_at: at(secs),
    }
}

/// A `block_ip` action of `tenant` for decision `decision`, created at `at(0)`.
pub(crate) fn action_record(
    tenant: &TenantId,
    id: &str,
    decision: &str,
    status: ActionStatus,
) -> ActionRecord {
    ActionRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        decision_id: decision.to_owned(),
        incident_id: Some("inc-1".to_owned()),
        kind: ActionKind::BlockIp,
        target: "203.0.113.7".to_owned(),
        mode: ExecMode::Real,
        status,
        reason: "policy allows".to_owned(),
        requested_by: "policy".to_owned(),
        risk: RiskClass::High,
        ttl_secs: Some(600),
        expires_at: None,
        attempts: 0,
        state: serde_json::json!({}),
        policy_version: "v1@abc".to_owned(),
        created_at: at(0),
        updated_at: at(0),
        verified_at: None,
    }
}

/// The approval request (same id as its action) gating `action_id`.
pub(crate) fn approval_record(tenant: &TenantId, action_id: &str, status: ApprovalStatus) -> ApprovalRecord {
    ApprovalRecord {
        id: action_id.to_owned(),
        tenant: tenant.clone(),
        action_id: action_id.to_owned(),
        status,
        requested_by: "policy".to_owned(),
        decided_by: None,
        reason: "critical asset".to_owned(),
        created_at: at(0),
        expires_at: at(3600),
        decided_at: None,
    }
}

/// A run of playbook `contain` on incident `inc-1`.
pub(crate) fn run_record(tenant: &TenantId, id: &str, status: RunStatus) -> PlaybookRun {
    PlaybookRun {
        id: id.to_owned(),
        tenant: tenant.clone(),
        playbook: "contain".to_owned(),
        playbook_hash: "h1".to_owned(),
        incident_id: "inc-1".to_owned(),
        context: serde_json::json!({"source.ip": "203.0.113.7"}),
        status,
        reason: String::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

/// One journal line of `run_id`.
pub(crate) fn step_record(run_id: &str, step: &str, state: StepState) -> StepRecord {
    StepRecord {
        run_id: run_id.to_owned(),
        step: step.to_owned(),
        state,
        attempt: 1,
        output: serde_json::json!({"step": step, "state": state.as_str()}),
        at: at(1),
    }
}

/// Asserts that a result is `NotFound`.
#[track_caller]
pub(crate) fn assert_not_found<T: std::fmt::Debug>(r: crate::Result<T>, what: &str) {
    match r {
        Err(crate::StoreError::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}
