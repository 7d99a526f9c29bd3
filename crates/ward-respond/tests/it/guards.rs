//! Safety controls: each guard refuses the action AND leaves an audit record; modes, retries,
//! idempotency and repeat-offender TTLs behave as documented.

use std::sync::Arc;

use ward_respond::{ActionKind, ActionRequest, ActionStatus, ExecMode, Mode, Outcome, RiskClass};

use crate::common::{Fake, config, decoy_band_alerts, executors, harness, incident, tenant};

fn block(target: &str) -> ActionRequest {
    ActionRequest::manual(tenant(), ActionKind::BlockIp, target, "cli:alice")
}

#[tokio::test]
async fn kill_switch_refuses_and_audits_then_releases() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Autonomous), executors(std::slice::from_ref(&fake)));
    h.responder.set_kill_switch(&tenant(), true, "cli:alice").await.unwrap();
    assert!(h.responder.kill_switch().await.unwrap());
    let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Denied);
    assert!(r.reason.contains("kill switch"), "{}", r.reason);
    let decisions =
        h.responder.on_incident(&incident("inc-1", "203.0.113.8"), &decoy_band_alerts()).await.unwrap();
    assert!(decisions.iter().all(|d| d.outcome == Outcome::Deny), "{decisions:?}");
    assert_eq!(fake.total(), 0, "nothing may run while the kill switch is on");
    let events = h.audit_events();
    assert!(events.contains(&"killswitch.on".to_owned()));
    assert!(events.iter().filter(|e| *e == "guard.kill_switch").count() >= 2, "{events:?}");

    h.responder.set_kill_switch(&tenant(), false, "cli:alice").await.unwrap();
    let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
}

#[tokio::test]
async fn protected_assets_are_refused_and_audited() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let mut cfg = config(Mode::Autonomous);
    cfg.guards.protected_assets = vec!["203.0.113.0/28".into(), "DC01".into()];
    let mut all = executors(std::slice::from_ref(&fake));
    all.register(Fake::new(ActionKind::IsolateHost, RiskClass::High));
    let h = harness(cfg, all);
    let r = h.responder.request(&block("203.0.113.9")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Denied);
    assert!(r.reason.contains("protected asset"), "{}", r.reason);
    let r = h.manual(ActionKind::IsolateHost, "dc01", "cli:alice").await;
    assert_eq!(r.status, ActionStatus::Denied, "names match case-insensitively");
    assert_eq!(fake.total(), 0);
    assert_eq!(h.audit_events().iter().filter(|e| *e == "guard.protected_asset").count(), 2);
    let stored = h.responder.action(&tenant(), &r.id).await.unwrap();
    assert_eq!(stored.status, ActionStatus::Denied, "the refusal is recorded, not just returned");
}

#[tokio::test]
async fn private_loopback_and_own_ranges_are_refused_unless_allowed() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let mut cfg = config(Mode::Autonomous);
    cfg.guards.own_ranges = vec!["198.51.100.0/24".into()];
    cfg.guards.allow_ranges = vec!["10.99.0.0/16".into()];
    let h = harness(cfg, executors(std::slice::from_ref(&fake)));
    for target in ["10.1.2.3", "127.0.0.1", "192.168.1.1", "::1", "fd00::1", "198.51.100.20", "169.254.1.1"] {
        let r = h.responder.request(&block(target)).await.unwrap();
        assert_eq!(r.status, ActionStatus::Denied, "{target}");
        assert!(r.reason.contains("range"), "{target}: {}", r.reason);
    }
    assert_eq!(fake.total(), 0);
    assert_eq!(h.audit_events().iter().filter(|e| *e == "guard.private_range").count(), 7);
    let r = h.responder.request(&block("10.99.3.4")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "explicitly allowed range: {}", r.reason);
}

#[tokio::test]
async fn rate_limit_refuses_the_excess_and_audits_it() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let mut cfg = config(Mode::Autonomous);
    cfg.guards.rate_limits.insert("block_ip".into(), 3);
    let h = harness(cfg, executors(std::slice::from_ref(&fake)));
    let mut statuses = Vec::new();
    for i in 1..=5 {
        statuses.push(h.responder.request(&block(&format!("203.0.113.{i}"))).await.unwrap().status);
    }
    assert_eq!(&statuses[..3], &[ActionStatus::Verified; 3]);
    assert_eq!(&statuses[3..], &[ActionStatus::Denied; 2]);
    assert_eq!(fake.total(), 3);
    assert_eq!(h.audit_events().iter().filter(|e| *e == "guard.rate_limit").count(), 2);
}

#[tokio::test]
async fn monitor_mode_records_only_and_dry_runs_change_nothing() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Monitor), executors(std::slice::from_ref(&fake)));
    let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Denied);
    assert!(r.reason.contains("monitor mode"), "{}", r.reason);
    let mut dry = block("203.0.113.7");
    dry.dry_run = true;
    let r = h.responder.request(&dry).await.unwrap();
    assert_eq!(r.status, ActionStatus::DryRun);
    assert_eq!(h.responder.action(&tenant(), &r.id).await.unwrap().mode, ExecMode::DryRun);
    assert_eq!(fake.total(), 0);
    assert!(h.audit_events().iter().filter(|e| *e == "decision").count() >= 2);
}

#[tokio::test]
async fn assisted_mode_sends_everything_to_approval() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Assisted), executors(std::slice::from_ref(&fake)));
    let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
    assert_eq!(r.status, ActionStatus::PendingApproval);
    assert_eq!(fake.total(), 0);
}

#[tokio::test]
async fn same_decision_twice_executes_once() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let h = harness(config(Mode::Autonomous), executors(std::slice::from_ref(&fake)));
    let mut req = block("203.0.113.7");
    req.decision_id = Some("decision-1".into());
    let a = h.responder.request(&req).await.unwrap();
    let b = h.responder.request(&req).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(fake.total(), 1);
    let inc = incident("inc-9", "203.0.113.50");
    h.responder.on_incident(&inc, &decoy_band_alerts()).await.unwrap();
    h.responder.on_incident(&inc, &decoy_band_alerts()).await.unwrap();
    assert_eq!(fake.total(), 2, "replaying an incident does not act twice");
}

#[tokio::test]
async fn transient_failures_are_retried_and_exhaustion_fails_loudly() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    *fake.fail_first.lock().unwrap() = 2;
    let h = harness(config(Mode::Autonomous), executors(std::slice::from_ref(&fake)));
    let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    assert_eq!(h.responder.action(&tenant(), &r.id).await.unwrap().attempts, 3);

    *fake.fail_first.lock().unwrap() = 10;
    let r = h.responder.request(&block("203.0.113.8")).await.unwrap();
    assert_eq!(r.status, ActionStatus::Failed);
    assert!(r.reason.contains("injected failure"), "{}", r.reason);
    assert!(h.audit_events().contains(&"action.failed".to_owned()));
}

#[tokio::test]
async fn repeat_offenders_are_blocked_longer_each_time() {
    let fake = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let mut cfg = config(Mode::Autonomous);
    cfg.default_ttl_secs = 600;
    let h = harness(cfg, executors(std::slice::from_ref(&fake)));
    let mut ttls = Vec::new();
    for _ in 0..3 {
        let r = h.responder.request(&block("203.0.113.7")).await.unwrap();
        ttls.push(h.responder.action(&tenant(), &r.id).await.unwrap().ttl_secs.unwrap());
        h.responder.rollback(&tenant(), &r.id, "cli:alice").await.unwrap();
    }
    assert_eq!(ttls, vec![600, 1200, 2400]);
}

#[tokio::test]
async fn decision_table_drives_automated_actions() {
    let block = Fake::new(ActionKind::BlockIp, RiskClass::High);
    let decoy = Fake::new(ActionKind::LaunchDecoy, RiskClass::Low);
    let notify = Fake::new(ActionKind::Notify, RiskClass::Low);
    let h = harness(config(Mode::Autonomous), executors(&[block.clone(), decoy.clone(), notify.clone()]));
    let decisions =
        h.responder.on_incident(&incident("inc-1", "203.0.113.7"), &decoy_band_alerts()).await.unwrap();
    let mut kinds: Vec<(ActionKind, Outcome)> = decisions.iter().map(|d| (d.action, d.outcome)).collect();
    kinds.sort();
    assert_eq!(kinds, vec![(ActionKind::BlockIp, Outcome::Allow), (ActionKind::LaunchDecoy, Outcome::Allow)]);
    assert!(block.is_active("203.0.113.7") && decoy.total() == 1);
    assert!(decisions[0].factors.iter().any(|f| f.name.starts_with("fusion.")));

    // Score >= 0.9: humans decide on the block; the notification goes out.
    let mut strong = decoy_band_alerts();
    strong.push(crate::common::alert(ward_model::SignalKind::Model, "lstm", ward_model::Severity::High, 1.0));
    strong[0].score = 1.0;
    let decisions = h.responder.on_incident(&incident("inc-2", "203.0.113.99"), &strong).await.unwrap();
    let block_d = decisions.iter().find(|d| d.action == ActionKind::BlockIp).unwrap();
    assert_eq!(block_d.outcome, Outcome::RequireApproval, "{block_d:?}");
    assert!(decisions.iter().any(|d| d.action == ActionKind::Notify && d.outcome == Outcome::Allow));
    assert!(!block.is_active("203.0.113.99"));
    assert_eq!(notify.total(), 1);
    let _ = Arc::clone(&h.responder);
}
