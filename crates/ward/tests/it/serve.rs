//! End-to-end tests of `ward serve`: the real binary on 127.0.0.1:0 with a temporary data
//! directory, devices created with `ward devices add --json`, signed requests over real HTTP,
//! and the log read back with `ward log read`.

// Test helpers too: a failed unwrap is a test failure with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

const EVE_DNS: &str = r#"{"timestamp":"2016-10-14T15:29:08.218361+0000","flow_id":1219330291699854,"event_type":"dns","src_ip":"10.16.1.11","src_port":55487,"dest_ip":"10.16.1.1","dest_port":53,"proto":"UDP","dns":{"type":"query","id":57403,"rrname":"suricon.net","rrtype":"A","tx_id":0}}"#;

fn cowrie(session: &str) -> String {
    format!(
        r#"{{"eventid":"cowrie.login.failed","username":"root","password":"123456","message":"login attempt","sensor":"hp1","timestamp":"2026-11-25T18:42:18.102344Z","src_ip":"203.0.113.7","session":"{session}","protocol":"ssh"}}"#
    )
}

pub(crate) fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env_remove("WARD_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("ward runs")
}

pub(crate) fn ok_stdout(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) secret: String,
}

pub(crate) fn add_device(dir: &Path, tenant: &str) -> Device {
    let data_dir = dir.to_str().unwrap();
    let out = ok_stdout(&ward(&[
        "devices",
        "add",
        "--data-dir",
        data_dir,
        "--tenant",
        tenant,
        "--name",
        "s1",
        "--json",
    ]));
    let v: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    Device { id: v["device_id"].as_str().unwrap().into(), secret: v["secret"].as_str().unwrap().into() }
}

/// A running `ward serve`; SIGKILLed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(dir: &Path) -> Self {
        Self::start_with(dir, &[])
    }

    /// `ward serve` with more arguments (e.g. `--config FILE`).
    pub(crate) fn start_with(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(["serve", "--data-dir", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("WARD_CONFIG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ward serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}"));
        Self { child, base: format!("http://{addr}") }
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn post(
    http: &reqwest::Client,
    base: &str,
    dev: &Device,
    path: &str,
    body: String,
) -> (u16, Value) {
    let ts = chrono::Utc::now().timestamp();
    let secret = SecretString::from(dev.secret.clone());
    let h = ward_api::signing::sign_request(&dev.id, &secret, "POST", path, body.as_bytes(), ts).unwrap();
    let mut request = http.post(format!("{base}{path}")).body(body);
    for (k, v) in h.pairs() {
        request = request.header(k, v);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null))
}

fn log_read(dir: &Path) -> Vec<Value> {
    let out = ok_stdout(&ward(&["log", "read", "--data-dir", dir.to_str().unwrap()]));
    out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_ingest_over_http_lands_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let dev = add_device(dir.path(), "acme");
    let tenants = ok_stdout(&ward(&["tenants", "list", "--data-dir", dir.path().to_str().unwrap()]));
    assert!(tenants.starts_with("acme\t"), "{tenants}");
    let server = Server::start(dir.path());
    let http = reqwest::Client::new();
    let health = http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let body = format!("{}\nnot json\n{}\n", cowrie("aaaa0001"), cowrie("aaaa0002"));
    let (status, answer) = post(&http, &server.base, &dev, "/ingest/cowrie", body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!((answer["accepted"].as_u64(), answer["rejected"].as_u64()), (Some(2), Some(1)));
    assert_eq!((answer["first_offset"].as_u64(), answer["last_offset"].as_u64()), (Some(0), Some(1)));
    assert_eq!(answer["errors"][0]["index"], 1);
    let metrics = http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"ward_ingest_events_accepted_total{source="cowrie",tenant="acme"} 2"#),
        "{metrics}"
    );
    assert!(server.terminate().success(), "SIGTERM shuts down gracefully");
    let records = log_read(dir.path());
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["offset"], 0);
    assert_eq!(records[0]["record"]["tenant"], "acme");
    assert_eq!(records[0]["record"]["source"], "cowrie");
    assert_eq!(records[0]["record"]["device_id"], dev.id.as_str());
    assert_eq!(records[1]["record"]["original"], cowrie("aaaa0002"));
    let dead = std::fs::read_to_string(dir.path().join("deadletter.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 1);
    assert!(dead.contains("not json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ward_send_signs_batches_and_reports_rejections_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let dev = add_device(dir.path(), "acme");
    let server = Server::start(dir.path());
    let good = dir.path().join("eve.json");
    std::fs::write(&good, format!("{EVE_DNS}\n").repeat(1200)).unwrap();
    let send = |file: &Path| {
        let args =
            ["send", "--url", &server.base, "--device-id", &dev.id, "--source", "suricata", "--no-progress"];
        Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(args)
            .arg(file)
            .env("WARD_DEVICE_SECRET", &dev.secret)
            .output()
            .unwrap()
    };
    let o = send(&good);
    let summary = ok_stdout(&o);
    let last = summary.lines().last().unwrap();
    assert!(last.starts_with("sent=1200 accepted=1200 rejected=0 requests=3 "), "{last}");
    let bad = dir.path().join("mixed.json");
    std::fs::write(&bad, format!("{EVE_DNS}\n{{\"event_type\":\"dns\"}}\n")).unwrap();
    let o = send(&bad);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let rejection: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(rejection["line"], 2);
    assert!(rejection["path"].as_str().unwrap().ends_with("mixed.json"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("accepted=1 rejected=1"));
    let devices =
        ok_stdout(&ward(&["devices", "disable", &dev.id, "--data-dir", dir.path().to_str().unwrap()]));
    assert!(devices.contains("disabled"));
    let (status, answer) =
        post(&reqwest::Client::new(), &server.base, &dev, "/ingest/suricata", EVE_DNS.into()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (401, Some("auth_device_disabled")));
    assert!(server.terminate().success());
    assert_eq!(log_read(dir.path()).len(), 1201);
}

/// Sends batches of uniquely named records from several tasks; returns the names of every
/// record acknowledged with 202.
async fn load(base: String, dev: Arc<Device>, acked: Arc<Mutex<BTreeSet<String>>>, client: usize) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for batch in 0.. {
        let names: Vec<String> = (0..50).map(|i| format!("c{client}b{batch:05}i{i:02}")).collect();
        let body: String = names.iter().map(|n| cowrie(n) + "\n").collect();
        let ts = chrono::Utc::now().timestamp();
        let secret = SecretString::from(dev.secret.clone());
        let h =
            ward_api::signing::sign_request(&dev.id, &secret, "POST", "/ingest/cowrie", body.as_bytes(), ts)
                .unwrap();
        let mut request = http.post(format!("{base}/ingest/cowrie")).body(body);
        for (k, v) in h.pairs() {
            request = request.header(k, v);
        }
        match request.send().await {
            Ok(r) if r.status().as_u16() == 202 => acked.lock().unwrap().extend(names),
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Arc::new(add_device(dir.path(), "acme"));
    let mut server = Server::start(dir.path());
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let tasks: Vec<_> = (0..4)
        .map(|c| tokio::spawn(load(server.base.clone(), Arc::clone(&dev), Arc::clone(&acked), c)))
        .collect();
    while acked.lock().unwrap().len() < 3000 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let acknowledged = acked.lock().unwrap().clone();
    for t in tasks {
        t.await.unwrap();
    }
    let restarted = Server::start(dir.path());
    let (status, answer) =
        post(&reqwest::Client::new(), &restarted.base, &dev, "/ingest/cowrie", cowrie("after")).await;
    assert_eq!(status, 202, "the restarted server accepts again: {answer}");
    assert!(restarted.terminate().success());
    let stored: BTreeSet<String> =
        log_read(dir.path()).iter().map(|r| r["record"]["original"].as_str().unwrap().to_owned()).collect();
    let missing: Vec<_> = acknowledged.iter().filter(|n| !stored.contains(&cowrie(n))).take(5).collect();
    assert!(missing.is_empty(), "{} acknowledged records lost, e.g. {missing:?}", missing.len());
    assert!(stored.contains(&cowrie("after")));
    assert!(acknowledged.len() >= 3000);
}

#[test]
fn config_check_reports_every_problem_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"nowhere\"\nmax_body_bytes = \"big\"\n[ingest]\nburst = 5\n")
        .unwrap();
    let o = ward(&["config", "check", "--config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for needle in ["server.listen", "server.max_body_bytes", "ingest.burst", "3 problems"] {
        assert!(stderr.contains(needle), "no {needle:?} in {stderr}");
    }
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\nlisten = \"127.0.0.1:9999\"\n[log]\nurl = \"embedded\"\n").unwrap();
    let o = ward(&["config", "check", "--config", good.to_str().unwrap()]);
    assert!(ok_stdout(&o).starts_with("configuration ok"));
}
