//! The `ward serve` under test: its data directory, configuration, device, API key and the
//! process itself, plus the signed ingest and authenticated API calls the benchmark makes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;

/// The attacker addresses: 198.18.0.0/15 is the benchmarking range (RFC 2544), which the
/// private-range guard refuses unless allowed.
pub const ATTACKER_RANGE: &str = "198.18.0.0/15";

/// Prefix every attacker address starts with (the policy allows blocking these only).
pub const ATTACKER_PREFIX: &str = "198.18.";

/// Autonomous blocking of the attacker range only: every automated incident asks for
/// `block_ip` of its sources, allowed for attackers and denied for the background's addresses.
const POLICY: &str = r#"package ward.response

import rego.v1

version := "bench-respond"

recommended contains "block_ip" if input.origin == "automated"

default decision := {"outcome": "deny", "reasons": ["the benchmark only blocks its attackers"]}

decision := {"outcome": "allow", "reasons": ["block the benchmark attacker"]} if {
	input.action in {"block_ip", "unblock_ip"}
	startswith(input.target, "ATTACKER_PREFIX")
}
"#;

/// A 202 answer of the ingest API and when it arrived.
pub struct Ack {
    /// Records accepted.
    pub accepted: u64,
    /// Client wall-clock time the answer arrived.
    pub at: DateTime<Utc>,
}

/// A running `ward serve`; killed when dropped (a SIGTERM first in [`Ward::stop`]).
pub struct Ward {
    dir: tempfile::TempDir,
    child: Child,
    base: String,
    device_id: String,
    secret: SecretString,
    key: String,
    http: reqwest::Client,
}

impl Ward {
    /// Writes the configuration, registers a device and an API key, starts `ward serve` with
    /// nftables inside network namespace `ns`, and waits for its address.
    pub fn start(ns: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary data directory");
        let config = write_config(dir.path(), ns);
        let device = cli_json(&["devices", "add", "--tenant", "acme", "--name", "s1", "--json"], dir.path());
        let key =
            cli_json(&["apikeys", "create", "--tenant", "acme", "--role", "responder", "--json"], dir.path());
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("serve.log");
        let mut child = ward()
            .args(["serve", "--data-dir", &dir.path().display().to_string(), "--listen", "127.0.0.1:0"])
            .args(["--config", &config])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("ward serve starts");
        let base = listening(&mut child);
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        Self {
            dir,
            child,
            base,
            device_id: text(&device, "device_id"),
            secret: SecretString::from(text(&device, "secret")),
            key: text(&key, "key"),
            http,
        }
    }

    /// Signed `POST path` of newline-separated records; anything but a 202 with no rejected
    /// record is an error.
    pub async fn ingest(&self, path: &str, body: String) -> Result<Ack, String> {
        let ts = Utc::now().timestamp();
        let h =
            ward_api::signing::sign_request(&self.device_id, &self.secret, "POST", path, body.as_bytes(), ts)
                .map_err(|e| format!("signing: {e}"))?;
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        for (k, v) in h.pairs() {
            request = request.header(k, v);
        }
        let response = request.send().await.map_err(|e| format!("POST {path}: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("POST {path}: {e}"))?;
        let at = Utc::now();
        let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status != 202 || answer["rejected"].as_u64() != Some(0) {
            return Err(format!("POST {path} answered {status}: {answer}"));
        }
        Ok(Ack { accepted: answer["accepted"].as_u64().unwrap_or(0), at })
    }

    /// `GET path` as the responder key; anything but 200 with a JSON body panics.
    pub async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key).send().await;
        let response = response.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        let response = self.http.get(format!("{}/metrics", self.base)).send().await;
        let response = response.unwrap_or_else(|e| panic!("GET /metrics: {e}"));
        response.text().await.unwrap_or_else(|e| panic!("GET /metrics: {e}"))
    }

    /// Peak resident set size of the server process so far (`VmHWM`), bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("a VmHWM line");
        let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmHWM in kB");
        kib * 1024
    }

    /// CPU time (user + system) the server process has used so far, seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&self.child.id().to_string())
    }

    /// The warning and error lines the server logged (`RUST_LOG=warn`; other stderr output,
    /// such as the one-time demo admin password, is left out).
    pub fn warnings(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default();
        text.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).map(str::to_owned).collect()
    }

    /// SIGTERM, then up to 15 s for a graceful exit (else SIGKILL); whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while sent && Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Ward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, ns: &str) -> String {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("a policies folder");
    std::fs::write(policies.join("bench.rego"), POLICY.replace("ATTACKER_PREFIX", ATTACKER_PREFIX))
        .expect("the policy is written");
    let config = format!(
        r#"[ingest]
rate_limit_events_per_sec = 1000000
rate_limit_burst = 1000000

[respond]
mode = "autonomous"
policies = {policies:?}

[respond.guards]
allow_ranges = ["{ATTACKER_RANGE}"]
rate_limits = {{ block_ip = 1000000 }}

[respond.nftables]
enabled = true
table = "ward"
netns = {ns:?}
"#,
        policies = policies.display().to_string(),
    );
    // `WARD_BENCH_PARTITIONS` (default 1): partitions of raw_events and enriched_events, so
    // normalize and detect run one task per partition.
    let partitions: u32 =
        std::env::var("WARD_BENCH_PARTITIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let config = if partitions > 1 {
        format!(
            "{config}\n[log.topics.raw_events]\npartitions = {partitions}\n\n[log.topics.enriched_events]\npartitions = {partitions}\n"
        )
    } else {
        config
    };
    let path = dir.join("ward.toml");
    std::fs::write(&path, config).expect("ward.toml is written");
    path.display().to_string()
}

/// The `ward` binary, without the `WARD_*` environment (which it reads as configuration, so
/// the benchmark's own `WARD_BENCH_*` knobs would be unknown keys).
fn ward() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WARD_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs a `ward` command on `dir` that prints one JSON object.
fn cli_json(args: &[&str], dir: &Path) -> Value {
    let out = ward()
        .args(args)
        .args(["--data-dir", &dir.display().to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("ward runs");
    assert!(out.status.success(), "ward {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("ward {args:?} printed no JSON: {e}"))
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_else(|| panic!("no {key:?} in {v}")).to_owned()
}

/// Reads `listening on ADDR` from the server's stdout, then drains the rest in a thread so the
/// server never blocks on a full pipe.
fn listening(child: &mut Child) -> String {
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("ward serve prints its address");
    let addr = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}"));
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    format!("http://{addr}")
}

/// CPU time (user + system) of process `pid` (`self` for this one), seconds, from `/proc`.
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields[11..13].iter().map(|f| f.parse::<f64>().expect("clock ticks")).sum();
    let hz = Command::new("getconf").arg("CLK_TCK").output().ok();
    let hz = hz.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok()).unwrap_or(100.0);
    ticks / hz
}
