//! Real nftables blocks inside a network namespace created by the test: traffic from the
//! blocked address stops, flows again after rollback, and a TTL expires in the kernel and in
//! Ward. Needs root, `ip` and `nft`: fails under CI=true when they are missing, skips elsewhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_respond::config::NftablesConfig;
use ward_respond::exec::{Executors, NftBlocker};
use ward_respond::{ActionKind, ActionRequest, ActionResult, ActionStatus, Mode, Outcome};

use ward_testkit::netns::{Lab, capable, run};

use crate::common::{Harness, config, decoy_band_alerts, harness, incident, tenant};

fn nft_config(lab: &Lab) -> NftablesConfig {
    NftablesConfig { enabled: true, table: "ward".into(), netns: Some(lab.ns.clone()), nft: "nft".into() }
}

fn responder_for(lab: &Lab) -> Harness {
    let mut cfg = config(Mode::Autonomous);
    cfg.guards.allow_ranges = vec![format!("{}/32", lab.host_ip)];
    cfg.nftables = nft_config(lab);
    let mut all = Executors::new();
    all.register_with_inverse(Arc::new(NftBlocker::new(&cfg.nftables)));
    harness(cfg, all)
}

/// Once the lab's traffic flows, blocks its host address for `ttl` through a fresh responder and
/// checks the block is verified.
async fn block_host(lab: &Lab, ttl: Duration) -> (Harness, ActionResult) {
    lab.wait_flowing().await;
    let h = responder_for(lab);
    let mut req = ActionRequest::manual(tenant(), ActionKind::BlockIp, &lab.host_ip, "cli:root");
    req.ttl = Some(ttl);
    let r = h.responder.request(&req).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    (h, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_stops_traffic_and_rollback_restores_it() {
    if !capable("the nftables tests") {
        return;
    }
    let lab = Lab::new();
    let (h, r) = block_host(&lab, Duration::from_secs(600)).await;
    assert!(!lab.flows().await, "traffic from the blocked address must stop");

    // Drift: the element is removed behind Ward's back; the reconciler puts it back.
    run(&["ip", "netns", "exec", &lab.ns, "nft", "flush", "set", "inet", "ward", "blocked_v4"]);
    assert!(lab.flows().await);
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!((report.drifted, report.repaired), (1, 1), "{report:?}");
    assert!(!lab.flows().await, "repaired block holds again");

    let back = h.responder.rollback(&tenant(), &r.id, "cli:root").await.unwrap();
    assert_eq!(back.status, ActionStatus::RolledBack, "{}", back.reason);
    assert!(lab.flows().await, "traffic flows again after rollback");
    let events = h.audit_events();
    assert!(
        events.contains(&"action.verified".to_owned()) && events.contains(&"action.rolled_back".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expires_in_the_kernel_and_in_ward() {
    if !capable("the nftables tests") {
        return;
    }
    let lab = Lab::new();
    let (h, r) = block_host(&lab, Duration::from_secs(2)).await;
    assert!(!lab.flows().await);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(lab.flows().await, "the set element's timeout lifted the block");
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(h.responder.action(&tenant(), &r.id).await.unwrap().status, ActionStatus::Expired);
}

/// Alert → fused score → policy → nftables element verified, 200 times; prints p50/p99.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_become_verified_blocks() {
    if !capable("the nftables tests") {
        return;
    }
    let lab = Lab::new();
    let h = responder_for(&lab);
    let mut latencies = Vec::new();
    for i in 0..200u32 {
        let ip = format!("198.18.{}.{}", i / 250, i % 250 + 1);
        let started = Instant::now();
        let decisions =
            h.responder.on_incident(&incident(&format!("inc-{i}"), &ip), &decoy_band_alerts()).await.unwrap();
        latencies.push(started.elapsed());
        let block = decisions.iter().find(|d| d.action == ActionKind::BlockIp).unwrap();
        assert_eq!(block.outcome, Outcome::Allow);
        let action = h.responder.action(&tenant(), block.action_id.as_ref().unwrap()).await.unwrap();
        assert_eq!(action.status, ActionStatus::Verified, "{}", action.reason);
    }
    let blocker = NftBlocker::new(&nft_config(&lab));
    assert_eq!(blocker.members(false).await.unwrap().len(), 200);
    latencies.sort();
    eprintln!(
        "alert->verified nftables block over 200 incidents: p50={:?} p99={:?} max={:?}",
        latencies[100], latencies[197], latencies[199]
    );
}
