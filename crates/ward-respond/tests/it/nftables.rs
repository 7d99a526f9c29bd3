//! Real nftables blocks inside a network namespace created by the test: traffic from the
//! blocked address stops, flows again after rollback, and a TTL expires in the kernel and in
//! Ward. Needs root, `ip` and `nft`: fails under CI=true when they are missing, skips elsewhere.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ward_respond::config::NftablesConfig;
use ward_respond::exec::{Executors, NftBlocker};
use ward_respond::{ActionKind, ActionRequest, ActionResult, ActionStatus, Mode, Outcome};

use crate::common::{Harness, config, decoy_band_alerts, harness, incident, tenant};

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A namespace joined to the host by a veth pair; removed on drop, even when the test fails.
struct Lab {
    ns: String,
    veth: String,
    host_ip: String,
    ns_ip: String,
    listener: Option<std::process::Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.listener.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["link", "del", &self.veth]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn capable() -> bool {
    let nft = Command::new("nft").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let ip =
        Command::new("ip").args(["netns", "list"]).stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let root = std::env::var("USER").as_deref() == Ok("root")
        || Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let ok = nft && ip && root;
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs root, `ip` and `nft` for the nftables tests"
        );
        eprintln!("skipping: needs root, ip and nft");
    }
    ok
}

fn lab() -> Lab {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let id = std::process::id() % 10_000;
    let tag = format!("{id}{n}");
    let (a, b) = (200 + (n % 50), id % 250);
    let mut lab = Lab {
        ns: format!("wardt{tag}"),
        veth: format!("wv{tag}h"),
        host_ip: format!("10.{a}.{b}.1"),
        ns_ip: format!("10.{a}.{b}.2"),
        listener: None,
    };
    let peer = format!("wv{tag}p");
    run(&["ip", "netns", "add", &lab.ns]);
    run(&["ip", "link", "add", &lab.veth, "type", "veth", "peer", "name", &peer]);
    run(&["ip", "link", "set", &peer, "netns", &lab.ns]);
    run(&["ip", "addr", "add", &format!("{}/30", lab.host_ip), "dev", &lab.veth]);
    run(&["ip", "link", "set", &lab.veth, "up"]);
    run(&["ip", "netns", "exec", &lab.ns, "ip", "addr", "add", &format!("{}/30", lab.ns_ip), "dev", &peer]);
    run(&["ip", "netns", "exec", &lab.ns, "ip", "link", "set", &peer, "up"]);
    run(&["ip", "netns", "exec", &lab.ns, "ip", "link", "set", "lo", "up"]);
    let script = format!(
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('{}',7777))\ns.listen(64)\nwhile True:\n  c,_=s.accept()\n  c.sendall(b'hello')\n  c.close()\n",
        lab.ns_ip
    );
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.ns, "python3", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    lab.listener = Some(child);
    lab
}

/// Whether a TCP connection from the host to the namespace's listener completes.
async fn flows(lab: &Lab) -> bool {
    let addr = format!("{}:7777", lab.ns_ip);
    matches!(
        tokio::time::timeout(Duration::from_millis(700), tokio::net::TcpStream::connect(&addr)).await,
        Ok(Ok(_))
    )
}

async fn wait_flowing(lab: &Lab) {
    for _ in 0..50 {
        if flows(lab).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the namespace listener never answered");
}

fn nft_config(lab: &Lab) -> NftablesConfig {
    NftablesConfig { enabled: true, table: "ward".into(), netns: Some(lab.ns.clone()), nft: "nft".into() }
}

fn responder_for(lab: &Lab) -> Harness {
    let mut cfg = config(Mode::Autonomous);
    cfg.guards.allow_ranges = vec!["10.200.0.0/13".into()];
    cfg.nftables = nft_config(lab);
    let mut all = Executors::new();
    all.register_with_inverse(Arc::new(NftBlocker::new(&cfg.nftables)));
    harness(cfg, all)
}

/// Once the lab's traffic flows, blocks its host address for `ttl` through a fresh responder and
/// checks the block is verified.
async fn block_host(lab: &Lab, ttl: Duration) -> (Harness, ActionResult) {
    wait_flowing(lab).await;
    let h = responder_for(lab);
    let mut req = ActionRequest::manual(tenant(), ActionKind::BlockIp, &lab.host_ip, "cli:root");
    req.ttl = Some(ttl);
    let r = h.responder.request(&req).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    (h, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_stops_traffic_and_rollback_restores_it() {
    if !capable() {
        return;
    }
    let lab = lab();
    let (h, r) = block_host(&lab, Duration::from_secs(600)).await;
    assert!(!flows(&lab).await, "traffic from the blocked address must stop");

    // Drift: the element is removed behind Ward's back; the reconciler puts it back.
    run(&["ip", "netns", "exec", &lab.ns, "nft", "flush", "set", "inet", "ward", "blocked_v4"]);
    assert!(flows(&lab).await);
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!((report.drifted, report.repaired), (1, 1), "{report:?}");
    assert!(!flows(&lab).await, "repaired block holds again");

    let back = h.responder.rollback(&tenant(), &r.id, "cli:root").await.unwrap();
    assert_eq!(back.status, ActionStatus::RolledBack, "{}", back.reason);
    assert!(flows(&lab).await, "traffic flows again after rollback");
    let events = h.audit_events();
    assert!(
        events.contains(&"action.verified".to_owned()) && events.contains(&"action.rolled_back".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expires_in_the_kernel_and_in_ward() {
    if !capable() {
        return;
    }
    let lab = lab();
    let (h, r) = block_host(&lab, Duration::from_secs(2)).await;
    assert!(!flows(&lab).await);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(flows(&lab).await, "the set element's timeout lifted the block");
    let report = h.responder.reconcile().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(h.responder.action(&tenant(), &r.id).await.unwrap().status, ActionStatus::Expired);
}

/// Alert → fused score → policy → nftables element verified, 200 times; prints p50/p99.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_become_verified_blocks() {
    if !capable() {
        return;
    }
    let lab = lab();
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
