//! End-to-end tests of the detection platform: a real `ward serve`, real recorded Cowrie and
//! Suricata events through signed ingest, and the incidents read back through the API and
//! the WebSocket stream — on embedded defaults, after a SIGKILL, and on PostgreSQL + NATS.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::serve::{Device, Server, add_device, ok_stdout, post, ward};

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(ward_testkit::workspace_root().join(rel)).unwrap()
}

/// The real Cowrie session (a brute force that succeeds, then commands and uploads) and the
/// Suricata alert lines, as NDJSON records.
fn cowrie_lines() -> Vec<String> {
    fixture("testdata/cowrie/cowrie.json")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn suricata_lines() -> Vec<String> {
    fixture("testdata/suricata/eve-sample.json")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn api_key(dir: &Path, tenant: &str, extra: &[&str]) -> String {
    let mut args = vec!["apikeys", "create", "--data-dir", dir.to_str().unwrap(), "--tenant", tenant];
    args.extend_from_slice(&["--role", "analyst", "--json"]);
    args.extend_from_slice(extra);
    let v: Value = serde_json::from_str(ok_stdout(&ward(&args)).trim()).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

async fn send(http: &reqwest::Client, base: &str, dev: &Device, source: &str, lines: &[String]) {
    for chunk in lines.chunks(40) {
        let (status, body) = post(http, base, dev, &format!("/ingest/{source}"), chunk.join("\n")).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["rejected"], 0, "{body}");
    }
}

async fn get(http: &reqwest::Client, base: &str, key: &str, path: &str) -> (u16, Value) {
    let r = http.get(format!("{base}{path}")).bearer_auth(key).send().await.unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
}

/// All incidents of the key's tenant (following cursors).
async fn incidents(http: &reqwest::Client, base: &str, key: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/incidents?limit=100&cursor={c}"),
            None => "/api/incidents?limit=100".to_owned(),
        };
        let (status, body) = get(http, base, key, &path).await;
        assert_eq!(status, 200, "{body}");
        all.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

/// (incident id → alert count), once the counts stop changing for a few polls.
async fn settled(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    want: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last: Option<BTreeMap<String, Value>> = None;
    let mut stable = 0;
    loop {
        let now = incidents(http, base, key).await;
        let shape: BTreeMap<String, Value> = now
            .iter()
            .map(|i| {
                (i["id"].as_str().unwrap().to_owned(), serde_json::json!([i["alert_count"], i["verdict"]]))
            })
            .collect();
        stable = if last.as_ref() == Some(&shape) { stable + 1 } else { 0 };
        if want(&now) && stable >= 3 {
            return now;
        }
        assert!(Instant::now() < deadline, "incidents did not settle: {now:#?}");
        last = Some(shape);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

fn has_bruteforce(incidents: &[Value]) -> bool {
    incidents.iter().any(|i| {
        i["reasoning"].as_array().is_some_and(|r| {
            r.iter().any(|f| {
                f["name"] == "correlation" && f["detail"].as_str().unwrap().contains("SSH Brute Force")
            })
        })
    })
}

fn shape(incidents: &[Value]) -> BTreeMap<String, u64> {
    incidents
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_owned(), i["alert_count"].as_u64().unwrap()))
        .collect()
}

/// Runs the scenario against a server started with `extra` arguments; returns the incidents.
async fn scenario(dir: &Path, tenant: &str, extra: &[&str]) -> Vec<Value> {
    let dev = add_device(dir, tenant);
    let key = api_key(dir, tenant, extra);
    let server = Server::start_with(dir, extra);
    let http = reqwest::Client::new();

    let mut request =
        format!("{}/api/stream", server.base.replace("http", "ws")).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();

    send(&http, &server.base, &dev, "cowrie", &cowrie_lines()).await;
    send(&http, &server.base, &dev, "suricata", &suricata_lines()).await;
    let found = settled(&http, &server.base, &key, |i| has_bruteforce(i) && i.len() >= 2).await;

    // The honeypot incident: its alerts, verdict and weighted reasoning, through the API.
    let honeypot = found.iter().find(|i| has_bruteforce(std::slice::from_ref(i))).unwrap();
    assert_eq!(honeypot["entities"]["source.ip"][0], "127.0.0.1");
    assert!(honeypot["verdict"].as_str().unwrap().contains("true_positive"), "{honeypot:#}");
    assert!(honeypot["confidence"].as_f64().unwrap() > 0.5);
    assert!(honeypot["alert_count"].as_u64().unwrap() >= 10);
    let id = honeypot["id"].as_str().unwrap();
    let (status, detail) = get(&http, &server.base, &key, &format!("/api/incidents/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    let text = detail.to_string();
    assert!(
        text.contains("SSH Brute Force") && text.contains("Honeypot Login After Brute Force"),
        "{detail:#}"
    );
    // Suricata alerts open their own incident.
    assert!(found.iter().any(|i| i["title"].as_str().unwrap().starts_with("Suricata")), "{found:#?}");

    // The live stream pushed this tenant's incidents.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut saw_incident = false;
    while !saw_incident {
        let message =
            tokio::time::timeout_at(deadline, socket.next()).await.expect("a stream message").unwrap();
        let text = message.unwrap().into_text().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        saw_incident = v.to_string().contains(id);
    }
    assert_eq!(server.terminate().code(), Some(0));
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cowrie_bruteforce_and_suricata_alerts_become_triaged_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let found = scenario(dir.path(), "acme", &[]).await;
    // Another tenant sees none of them.
    let other = api_key(dir.path(), "globex", &[]);
    let server = Server::start(dir.path());
    let http = reqwest::Client::new();
    assert!(incidents(&http, &server.base, &other).await.is_empty());
    let (status, _) =
        get(&http, &server.base, &other, &format!("/api/incidents/{}", found[0]["id"].as_str().unwrap()))
            .await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_mid_stream_and_a_restart_give_the_same_incidents_without_duplicates() {
    // Reference: everything sent once to one server.
    let reference_dir = tempfile::tempdir().unwrap();
    let reference = {
        let dev = add_device(reference_dir.path(), "acme");
        let key = api_key(reference_dir.path(), "acme", &[]);
        let server = Server::start(reference_dir.path());
        let http = reqwest::Client::new();
        send(&http, &server.base, &dev, "cowrie", &cowrie_lines()).await;
        shape(&settled(&http, &server.base, &key, has_bruteforce).await)
    };

    // Crash run: half, SIGKILL, restart, then everything again (a sensor retrying).
    let dir = tempfile::tempdir().unwrap();
    let dev = add_device(dir.path(), "acme");
    let key = api_key(dir.path(), "acme", &[]);
    let lines = cowrie_lines();
    let http = reqwest::Client::new();
    {
        let mut server = Server::start(dir.path());
        send(&http, &server.base, &dev, "cowrie", &lines[..lines.len() / 2]).await;
        server.child.kill().unwrap();
        server.child.wait().unwrap();
    }
    let server = Server::start(dir.path());
    send(&http, &server.base, &dev, "cowrie", &lines).await;
    let after = shape(&settled(&http, &server.base, &key, has_bruteforce).await);
    assert_eq!(after, reference, "same incidents with the same number of alerts");
    // No alert twice: the alert listing has as many distinct ids as rows.
    let (status, alerts) = get(&http, &server.base, &key, "/api/alerts?limit=500").await;
    assert_eq!(status, 200);
    let items = alerts["items"].as_array().unwrap();
    let distinct: std::collections::BTreeSet<&str> =
        items.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), items.len());
    assert_eq!(items.len() as u64, after.values().sum::<u64>());
}

/// The same scenario with the state in PostgreSQL and the log in NATS JetStream (both real
/// servers; the tenant and stream prefix are unique to this run).
#[cfg(feature = "nats")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_passes_on_postgresql_and_nats() {
    let dir = tempfile::tempdir().unwrap();
    let run = format!("e2e{}", std::process::id());
    let config = dir.path().join("ward.toml");
    let postgres = std::env::var("WARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let nats = std::env::var("WARD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    std::fs::write(
        &config,
        format!("[store]\nurl = \"{postgres}\"\n\n[log]\nurl = \"{nats}\"\nprefix = \"{run}\"\n"),
    )
    .unwrap();
    let found = scenario(dir.path(), &run, &["--config", config.to_str().unwrap()]).await;
    assert!(found.len() >= 2);
}
