//! Approvals (roles, requester rule, expiry, cancel) and rollback (one action, a whole incident).

use std::sync::Arc;

use chrono::Utc;
use ward_respond::{
    ActionKind, ActionRequest, ActionStatus, ApprovalStatus, ManualClock, Mode, RespondError, ResponseRepo,
    RiskClass, Role,
};

use crate::common::{
    Fake, config, decoy_band_alerts, executors, harness, harness_with_clock, incident, tenant,
};

fn critical_block(target: &str, actor: &str) -> ActionRequest {
    let mut r = ActionRequest::manual(tenant(), ActionKind::BlockIp, target, actor);
    r.criticality = Some("critical".into());
    r
}

#[tokio::test]
async fn critical_asset_waits_for_a_responder_who_is_not_the_requester() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Autonomous), executors(std::slice::from_ref(&fake)));
    let r = h.responder.request(&critical_block("203.0.113.7", "user:alice")).await.unwrap();
    assert_eq!(r.status, ActionStatus::PendingApproval, "{}", r.reason);
    assert!(r.reason.contains("critical asset"));
    let pending = h.repo.approvals(&tenant(), Some(ApprovalStatus::Pending)).await.unwrap();
    assert_eq!(pending.len(), 1);

    let viewer = h.responder.approve(&tenant(), &r.id, "user:bob", Role::Analyst).await.unwrap_err();
    assert!(matches!(viewer, RespondError::Forbidden(_)), "{viewer}");
    let own = h.responder.approve(&tenant(), &r.id, "user:alice", Role::Admin).await.unwrap_err();
    assert!(own.to_string().contains("may not approve"), "{own}");
    assert_eq!(fake.total(), 0);

    let done = h.responder.approve(&tenant(), &r.id, "user:carol", Role::Responder).await.unwrap();
    assert_eq!(done.status, ActionStatus::Verified);
    assert!(fake.is_active("203.0.113.7"));
    let again = h.responder.approve(&tenant(), &r.id, "user:carol", Role::Responder).await.unwrap_err();
    assert!(matches!(again, RespondError::Conflict(_)));
    let events = h.audit_events();
    for e in ["approval.requested", "approval.refused", "approval.approved", "action.verified"] {
        assert!(events.contains(&e.to_owned()), "{e} missing from {events:?}");
    }
}

#[tokio::test]
async fn rejection_and_cancellation_deny_the_action() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Assisted), executors(std::slice::from_ref(&fake)));
    let a = h.responder.request(&critical_block("203.0.113.7", "user:alice")).await.unwrap();
    let b = h.responder.request(&critical_block("203.0.113.8", "user:alice")).await.unwrap();
    let r =
        h.responder.reject(&tenant(), &a.id, "user:carol", Role::Responder, "false positive").await.unwrap();
    assert_eq!(r.status, ActionStatus::Denied);
    assert!(r.reason.contains("false positive"));
    let not_mine = h.responder.cancel(&tenant(), &b.id, "user:dave", Role::Analyst).await.unwrap_err();
    assert!(matches!(not_mine, RespondError::Forbidden(_)));
    let c = h.responder.cancel(&tenant(), &b.id, "user:alice", Role::Analyst).await.unwrap();
    assert_eq!(c.status, ActionStatus::Cancelled);
    assert_eq!(fake.total(), 0);
}

#[tokio::test]
async fn unanswered_approvals_expire_as_denied_and_are_recorded() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let mut cfg = config(Mode::Assisted);
    cfg.approvals.expire_after_secs = 600;
    let h = harness_with_clock(cfg, executors(std::slice::from_ref(&fake)), clock.clone());
    let r = h.responder.request(&critical_block("203.0.113.7", "user:alice")).await.unwrap();
    clock.advance(chrono::Duration::seconds(599));
    assert_eq!(h.responder.expire_approvals().await.unwrap(), 0);
    clock.advance(chrono::Duration::seconds(2));
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!(report.approvals_expired, 1);
    let action = h.responder.action(&tenant(), &r.id).await.unwrap();
    assert_eq!(action.status, ActionStatus::Denied);
    assert!(action.reason.contains("expired"));
    assert!(h.audit_events().contains(&"approval.expired".to_owned()));
    let late = h.responder.approve(&tenant(), &r.id, "user:carol", Role::Admin).await.unwrap_err();
    assert!(matches!(late, RespondError::Conflict(_)));
    assert_eq!(fake.total(), 0);
}

#[tokio::test]
async fn rollback_undoes_one_action_or_a_whole_incident_verified_and_audited() {
    let block = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let decoy = Fake::new(ActionKind::LaunchDecoy, RiskClass::Low);
    let h = harness(config(Mode::Autonomous), executors(&[block.clone(), decoy.clone()]));
    let one = h.manual(ActionKind::BlockIp, "203.0.113.1", "cli:a").await;
    let r = h.responder.rollback(&tenant(), &one.id, "cli:a").await.unwrap();
    assert_eq!(r.status, ActionStatus::RolledBack);
    assert!(!block.is_active("203.0.113.1"));
    let twice = h.responder.rollback(&tenant(), &one.id, "cli:a").await.unwrap_err();
    assert!(matches!(twice, RespondError::Conflict(_)));

    h.responder.on_incident(&incident("inc-7", "203.0.113.7"), &decoy_band_alerts()).await.unwrap();
    assert!(block.is_active("203.0.113.7"));
    let results = h.responder.rollback_incident(&tenant(), "inc-7", "user:carol").await.unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results.iter().all(|r| r.status == ActionStatus::RolledBack));
    assert!(!block.is_active("203.0.113.7") && decoy.active.lock().unwrap().is_empty());
    assert_eq!(h.audit_events().iter().filter(|e| *e == "action.rolled_back").count(), 3);
}

#[tokio::test]
async fn reconciler_expires_ttls_and_repairs_drift() {
    let block = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let h =
        harness_with_clock(config(Mode::Autonomous), executors(std::slice::from_ref(&block)), clock.clone());
    let mut req = ActionRequest::manual(tenant(), ActionKind::BlockIp, "203.0.113.1", "cli:a");
    req.ttl = Some(std::time::Duration::from_secs(60));
    let short = h.responder.request(&req).await.unwrap();
    let long = h.manual(ActionKind::BlockIp, "203.0.113.2", "cli:a").await;
    block.active.lock().unwrap().remove("203.0.113.2"); // drift: someone flushed it
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!((report.checked, report.drifted, report.repaired, report.expired), (2, 1, 1, 0));
    assert!(block.is_active("203.0.113.2"));
    clock.advance(chrono::Duration::seconds(61));
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(h.responder.action(&tenant(), &short.id).await.unwrap().status, ActionStatus::Expired);
    assert_eq!(h.responder.action(&tenant(), &long.id).await.unwrap().status, ActionStatus::Verified);
    assert!(!block.is_active("203.0.113.1"));
    let events = h.audit_events();
    assert!(events.contains(&"action.drift".to_owned()) && events.contains(&"action.expired".to_owned()));
}
