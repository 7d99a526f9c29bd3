//! The traffic: a steady background of real Suricata EVE records and, spread over the same
//! time, attackers that each replay the real Cowrie brute-force session from a fresh address.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::Params;
use crate::server::{ATTACKER_PREFIX, Ward};

/// Most background requests in flight; when the server is slower, the pacer waits and the
/// achieved rate (reported) drops below the target.
const IN_FLIGHT: usize = 16;

/// Placeholder the send time replaces in a prepared record.
const MARK: &str = "@@ward-bench-ts@@";

/// One record split around its `timestamp` value, so stamping it with the send time is a copy.
struct Template {
    head: String,
    tail: String,
}

/// The records the benchmark sends, prepared once.
pub struct Corpus {
    eve: Vec<Template>,
    cowrie: Vec<Value>,
    /// Where the background records came from.
    pub eve_origin: String,
}

impl Corpus {
    /// The shared suricata-verify EVE corpus (the committed samples when the shared data is
    /// absent) and the committed Cowrie session.
    pub fn load() -> Self {
        let root = ward_testkit::workspace_root();
        let (files, eve_origin) = match ward_testkit::shared("network/suricata_verify_eve") {
            Some(dir) => {
                let shown = dir.canonicalize().unwrap_or_else(|_| dir.clone());
                (eve_files(&dir), format!("suricata-verify EVE ({})", shown.display()))
            }
            None => (eve_files(&root.join("testdata/suricata")), "testdata/suricata".to_owned()),
        };
        let eve: Vec<Template> =
            files.iter().flat_map(|f| lines(f)).map(|v| template(v, "timestamp")).collect();
        assert!(!eve.is_empty(), "no EVE records in {eve_origin}");
        let cowrie = lines(&root.join("testdata/cowrie/cowrie.json"));
        assert!(!cowrie.is_empty(), "no Cowrie records");
        Self { eve, cowrie, eve_origin }
    }

    /// Number of distinct background records.
    pub fn eve_len(&self) -> usize {
        self.eve.len()
    }

    /// Records per attacker session.
    pub fn session_len(&self) -> usize {
        self.cowrie.len()
    }

    /// `n` background records from position `from` (cycling), stamped with the current time
    /// (a microsecond apart, so a repeated record is still a distinct event).
    fn eve_batch(&self, from: usize, n: usize) -> String {
        let now = Utc::now();
        let mut body = String::with_capacity(n * 1200);
        for i in 0..n {
            let t = &self.eve[(from + i) % self.eve.len()];
            let ts = now + chrono::TimeDelta::microseconds(i64::try_from(i).unwrap_or(0));
            body.push_str(&t.head);
            body.push_str(&ts.format("%Y-%m-%dT%H:%M:%S%.6f%z").to_string());
            body.push_str(&t.tail);
            body.push('\n');
        }
        body
    }

    /// Attacker `n`'s session from `ip`: its own session ids, and event times shifted so the
    /// last event happens now (the span of the real session, 17 s, is kept).
    fn session(&self, n: usize, ip: &str) -> String {
        let time = |v: &Value| v["timestamp"].as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
        let last = self.cowrie.iter().filter_map(time).max().expect("timestamped Cowrie records");
        let now = Utc::now();
        let mut body = String::new();
        for record in &self.cowrie {
            let mut v = record.clone();
            if v.get("src_ip").is_some() {
                v["src_ip"] = Value::String(ip.to_owned());
            }
            if let Some(s) = v["session"].as_str() {
                v["session"] = Value::String(format!("{n:04x}{}", s.get(4..).unwrap_or("")));
            }
            if let Some(t) = time(&v) {
                v["timestamp"] =
                    Value::String((now - (last - t)).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            }
            body.push_str(&v.to_string());
            body.push('\n');
        }
        body
    }
}

/// What the background load achieved.
pub struct Background {
    /// Records accepted (202).
    pub accepted: u64,
    /// Requests sent.
    pub requests: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
}

/// One attacker's session, acknowledged.
pub struct Attack {
    /// Its source address.
    pub ip: String,
    /// When the request carrying its last event was answered 202 (client clock).
    pub ack: DateTime<Utc>,
}

/// Runs the background and the attackers together for `params.seconds`.
pub async fn drive(ward: Arc<Ward>, corpus: Arc<Corpus>, params: &Params) -> (Background, Vec<Attack>) {
    let start = Instant::now();
    let attackers = tokio::spawn(attackers(Arc::clone(&ward), Arc::clone(&corpus), params.clone(), start));
    let background = background(ward, corpus, params, start).await;
    let attacks = attackers.await.expect("the attacker task");
    (background, attacks)
}

async fn background(ward: Arc<Ward>, corpus: Arc<Corpus>, params: &Params, start: Instant) -> Background {
    let period = Duration::from_secs_f64(params.batch as f64 / params.rate as f64);
    let mut tick = tokio::time::interval_at(start, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut next = 0;
    while start.elapsed() < params.duration {
        tick.tick().await;
        let body = corpus.eve_batch(next, params.batch);
        next += params.batch;
        let permit = Arc::clone(&permits).acquire_owned().await.expect("the semaphore stays open");
        let ward = Arc::clone(&ward);
        tasks.spawn(async move {
            let ack = ward.ingest("/ingest/suricata", body).await;
            drop(permit);
            ack
        });
    }
    let requests = tasks.len() as u64;
    let mut accepted = 0;
    while let Some(done) = tasks.join_next().await {
        let ack = done.expect("a background request task").unwrap_or_else(|e| panic!("background load: {e}"));
        accepted += ack.accepted;
    }
    Background { accepted, requests, elapsed: start.elapsed() }
}

/// `params.attackers` sessions spread evenly over the run, each from a fresh address.
async fn attackers(
    ward: Arc<Ward>,
    corpus: Arc<Corpus>,
    params: crate::Params,
    start: Instant,
) -> Vec<Attack> {
    let every = params.duration / u32::try_from(params.attackers + 1).expect("attackers fit u32");
    let mut tasks = JoinSet::new();
    for n in 0..params.attackers {
        tokio::time::sleep_until(start + every * u32::try_from(n + 1).expect("attackers fit u32")).await;
        let ip = format!("{ATTACKER_PREFIX}{}.{}", n / 250, n % 250 + 1);
        let body = corpus.session(n, &ip);
        let ward = Arc::clone(&ward);
        tasks.spawn(async move {
            let ack = ward.ingest("/ingest/cowrie", body).await;
            let ack = ack.unwrap_or_else(|e| panic!("attacker {ip}: {e}"));
            Attack { ip, ack: ack.at }
        });
    }
    let mut attacks = Vec::new();
    while let Some(done) = tasks.join_next().await {
        attacks.push(done.expect("an attacker task"));
    }
    attacks
}

/// Splits a record around its `field` value.
fn template(mut v: Value, field: &str) -> Template {
    v[field] = Value::String(MARK.to_owned());
    let text = v.to_string();
    let (head, tail) = text.split_once(&format!("\"{MARK}\"")).expect("the mark is in the record");
    Template { head: format!("{head}\""), tail: format!("\"{tail}") }
}

fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed = text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str::<Value>);
    parsed.collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn eve_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(eve_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}
