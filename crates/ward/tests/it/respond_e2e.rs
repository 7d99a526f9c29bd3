//! Issue 8 end to end: the real Cowrie brute force (its source rewritten to an address of a
//! test network namespace) goes through signed ingest into `ward serve`, becomes an incident,
//! the response policy allows `block_ip` of the source, the block is verified by nftables inside
//! the namespace and really drops traffic, `POST /api/actions/{id}/rollback` lifts it, and
//! `GET /api/audit` shows the decision, the execution and the rollback.
//! Needs root, `ip` and `nft`: fails under CI=true when they are missing, skips elsewhere.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use ward_testkit::netns::{Lab, capable};

use super::serve::{Server, add_device, ok_stdout, post, ward};

/// A policy adapted from policies/response.rego: every automated incident calls for blocking
/// its source, and blocking (and unblocking) is allowed; anything else is denied.
const POLICY: &str = r#"package ward.response

import rego.v1

version := "e2e-bruteforce"

recommended contains "block_ip" if input.origin == "automated"

default decision := {"outcome": "deny", "reasons": ["the e2e policy only blocks sources"]}

decision := {"outcome": "allow", "reasons": [sprintf("score %.2f: block the brute-force source", [input.score])]} if {
	input.action in {"block_ip", "unblock_ip"}
}
"#;

fn write_config(dir: &Path, lab: &Lab) -> std::path::PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("e2e.rego"), POLICY).unwrap();
    let config = format!(
        "[respond]\nmode = \"autonomous\"\npolicies = {:?}\n\n[respond.guards]\nallow_ranges = [\"{}/32\"]\n\n[respond.nftables]\nenabled = true\ntable = \"ward\"\nnetns = {:?}\n",
        policies.display().to_string(),
        lab.host_ip,
        lab.ns,
    );
    let path = dir.join("ward.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// The real Cowrie session with every `src_ip` set to `ip`.
fn cowrie_from(ip: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(ward_testkit::workspace_root().join("testdata/cowrie/cowrie.json")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if v.get("src_ip").is_some() {
                v["src_ip"] = Value::String(ip.to_owned());
            }
            v.to_string()
        })
        .collect()
}

fn api_key(dir: &Path, role: &str) -> String {
    let out = ok_stdout(&ward(&[
        "apikeys",
        "create",
        "--data-dir",
        dir.to_str().unwrap(),
        "--tenant",
        "acme",
        "--role",
        role,
        "--json",
    ]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

/// Sends an API request; its status and JSON body (`null` when the body is not JSON).
async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
}

async fn get(http: &reqwest::Client, url: String, key: &str) -> Value {
    let (status, body) = send(http.get(url).bearer_auth(key)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The `block_ip` actions of `ip` (GET /api/actions).
async fn blocks(http: &reqwest::Client, base: &str, key: &str, ip: &str) -> Vec<Value> {
    let body = get(http, format!("{base}/api/actions"), key).await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "block_ip" && a["target"] == ip)
        .cloned()
        .collect()
}

/// Every audit record of the tenant (GET /api/audit, following cursors).
async fn audit(http: &reqwest::Client, base: &str, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/audit?limit=200&cursor={c}"),
            None => format!("{base}/api/audit?limit=200"),
        };
        let body = get(http, url, key).await;
        all.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cowrie_bruteforce_is_blocked_in_a_namespace_and_rolled_back_over_the_api() {
    if !capable("the response end-to-end test") {
        return;
    }
    let lab = Lab::new();
    lab.wait_flowing().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &lab);
    let dev = add_device(dir.path(), "acme");
    let responder = api_key(dir.path(), "responder");
    let admin = api_key(dir.path(), "admin");
    let server = Server::start_with(dir.path(), &["--config", config.to_str().unwrap()]);
    let http = reqwest::Client::new();

    for chunk in cowrie_from(&lab.host_ip).chunks(40) {
        let (status, body) = post(&http, &server.base, &dev, "/ingest/cowrie", chunk.join("\n")).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["rejected"], 0, "{body}");
    }

    // Wait until a verified block exists and the set of blocks has stopped changing (every
    // incident of the session may ask for the same block; each is its own action).
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Vec::new();
    let mut stable = 0;
    let actions = loop {
        let now = blocks(&http, &server.base, &responder, &lab.host_ip).await;
        let shape: Vec<(Value, Value)> = now.iter().map(|a| (a["id"].clone(), a["status"].clone())).collect();
        stable = if shape == last { stable + 1 } else { 0 };
        if now.iter().any(|a| a["status"] == "verified") && stable >= 3 {
            break now;
        }
        assert!(Instant::now() < deadline, "no verified block_ip of {}: {now:#?}", lab.host_ip);
        last = shape;
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for a in &actions {
        assert!(a["incident_id"].as_str().is_some_and(|i| !i.is_empty()), "decided for an incident: {a}");
        assert_ne!(a["status"], "failed", "{a}");
    }
    assert!(!lab.flows().await, "traffic from the brute-force source must be dropped in the namespace");

    let mut rolled = Vec::new();
    for a in actions.iter().filter(|a| a["status"] == "verified") {
        let id = a["id"].as_str().unwrap();
        let url = format!("{}/api/actions/{id}/rollback", server.base);
        let (status, body) = send(http.post(url).bearer_auth(&responder)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "rolled_back", "{body}");
        rolled.push(id.to_owned());
    }
    assert!(lab.flows().await, "traffic flows again after the rollback");
    for a in blocks(&http, &server.base, &responder, &lab.host_ip).await {
        assert_ne!(a["status"], "verified", "no block left active: {a}");
    }

    let records = audit(&http, &server.base, &admin).await;
    let has =
        |action: &str, target: &str| records.iter().any(|r| r["action"] == action && r["target"] == target);
    let decision = records
        .iter()
        .find(|r| r["action"] == "respond.decision" && r["details"]["target"] == lab.host_ip.as_str());
    let decision = decision.unwrap_or_else(|| panic!("no decision record: {records:#?}"));
    assert_eq!(decision["details"]["outcome"], "allow", "{decision}");
    for id in &rolled {
        assert!(has("respond.action.verified", id), "execution of {id} not audited: {records:#?}");
        assert!(has("respond.action.rolled_back", id), "rollback of {id} not audited: {records:#?}");
        assert!(has("action.rollback", &format!("action:{id}")), "API rollback of {id} not audited");
    }
    drop(server);
    let verify = ok_stdout(&ward(&["audit", "verify", "--data-dir", dir.path().to_str().unwrap()]));
    assert!(verify.starts_with("audit ok records="), "{verify}");
}

/// `ward serve` and the `ward killswitch|actions` commands on the same data directory share
/// one response state (the store's tables): the kill switch set from the command line stops
/// the running server's next action at once, and the action the server recorded is listed by
/// the command line. No namespace needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_a_running_server_share_response_state_through_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let responder = api_key(dir.path(), "responder");
    let server = Server::start(dir.path());
    let http = reqwest::Client::new();
    let state = get(&http, format!("{}/api/killswitch", server.base), &responder).await;
    assert_eq!(state["on"], false, "{state}");

    let on = ok_stdout(&ward(&["killswitch", "on", "--data-dir", &data, "--tenant", "acme", "--json"]));
    assert!(on.contains("\"on\""), "{on}");
    let state = get(&http, format!("{}/api/killswitch", server.base), &responder).await;
    assert_eq!(state["on"], true, "the server sees the switch the command line set: {state}");

    let order = serde_json::json!({"kind": "block_ip", "target": "203.0.113.7", "dry_run": true});
    let (status, body) =
        send(http.post(format!("{}/api/actions", server.base)).bearer_auth(&responder).json(&order)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "denied", "{body}");
    assert!(body["reason"].as_str().unwrap_or_default().contains("kill switch"), "{body}");
    let id = body["id"].as_str().unwrap().to_owned();

    let listed = ok_stdout(&ward(&["actions", "list", "--data-dir", &data, "--tenant", "acme", "--json"]));
    assert!(listed.contains(&id), "the command line lists the server's action {id}: {listed}");
    let off = ok_stdout(&ward(&["killswitch", "off", "--data-dir", &data, "--tenant", "acme", "--json"]));
    assert!(off.contains("\"off\""), "{off}");
    let state = get(&http, format!("{}/api/killswitch", server.base), &responder).await;
    assert_eq!(state["on"], false, "{state}");
}
