//! Reading the outcome back: each attacker's verified block from the API, the nftables set
//! inside the namespace, and latency summaries.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::load::Attack;
use crate::server::Ward;

/// One attacker's first verified block and the times around it.
pub struct Block {
    /// Ingest ack of the attacker's session (client clock).
    pub ack: DateTime<Utc>,
    /// When the incident the block answers was opened.
    pub incident_created: DateTime<Utc>,
    /// When the `block_ip` action was created (decision taken).
    pub action_created: DateTime<Utc>,
    /// When nftables was read back with the address in the set.
    pub verified: DateTime<Utc>,
}

/// Polls `GET /api/actions` until every attacker has a verified `block_ip`, for at most
/// `drain`; a failed block or a missing one at the deadline panics.
pub async fn wait_for_blocks(ward: &Ward, attacks: &[Attack], drain: Duration) -> Vec<Block> {
    let deadline = Instant::now() + drain;
    loop {
        let actions = ward.get("/api/actions").await;
        let by_target = blocks_by_target(&actions);
        let missing: Vec<&Attack> =
            attacks.iter().filter(|a| first_verified(by_target.get(a.ip.as_str())).is_none()).collect();
        if missing.is_empty() {
            let mut blocks = Vec::new();
            for a in attacks {
                let first = first_verified(by_target.get(a.ip.as_str())).expect("verified above");
                blocks.push(block(ward, a, first).await);
            }
            return blocks;
        }
        if Instant::now() >= deadline {
            let sample: Vec<String> = missing
                .iter()
                .take(10)
                .map(|a| format!("{}: {:?}", a.ip, by_target.get(a.ip.as_str()).map(|v| statuses(v))))
                .collect();
            panic!(
                "{} of {} attackers have no verified block after the drain: {sample:#?}",
                missing.len(),
                attacks.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `block_ip` actions per target; a failed one panics (the responder must not fail a block).
fn blocks_by_target(actions: &Value) -> BTreeMap<&str, Vec<&Value>> {
    let mut out: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for a in actions["items"].as_array().expect("an items array") {
        if a["kind"] != "block_ip" {
            continue;
        }
        assert_ne!(a["status"], "failed", "a block failed: {a}");
        out.entry(a["target"].as_str().unwrap_or_default()).or_default().push(a);
    }
    out
}

fn first_verified<'a>(actions: Option<&Vec<&'a Value>>) -> Option<&'a Value> {
    let verified = actions?.iter().copied().filter(|a| time(a, "verified_at").is_some());
    verified.min_by_key(|a| time(a, "verified_at"))
}

fn statuses(actions: &[&Value]) -> Vec<String> {
    actions.iter().map(|a| format!("{} ({})", a["status"], a["reason"])).collect()
}

async fn block(ward: &Ward, attack: &Attack, action: &Value) -> Block {
    let incident = action["incident_id"].as_str().unwrap_or_else(|| panic!("no incident: {action}"));
    let incident = ward.get(&format!("/api/incidents/{incident}")).await;
    let need = |v: &Value, key: &str| time(v, key).unwrap_or_else(|| panic!("no {key} in {v}"));
    Block {
        ack: attack.ack,
        incident_created: need(&incident, "created_at"),
        action_created: need(action, "created_at"),
        verified: need(action, "verified_at"),
    }
}

fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v[key].as_str()?.parse().ok()
}

/// Checks that every attacker's address is in the namespace's nftables set (panics naming
/// the missing ones); the number of addresses in the set.
pub fn all_in_set(ns: &str, attacks: &[Attack]) -> usize {
    let in_set = nft_set(ns);
    let missing: Vec<&str> = attacks
        .iter()
        .map(|a| a.ip.as_str())
        .filter(|ip| !ip.parse().is_ok_and(|ip| in_set.contains(&ip)))
        .collect();
    assert!(missing.is_empty(), "verified blocks missing from the nftables set: {missing:?}");
    in_set.len()
}

/// The IPv4 addresses in set `blocked_v4` of table `inet ward` inside namespace `ns`.
fn nft_set(ns: &str) -> BTreeSet<Ipv4Addr> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "nft", "-j", "list", "set", "inet", "ward", "blocked_v4"])
        .output()
        .expect("ip netns exec runs");
    assert!(out.status.success(), "nft list set: {}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("nft -j prints JSON");
    let mut found = BTreeSet::new();
    addresses(&json, &mut found);
    found
}

/// Every string in `v` that is an IPv4 address (set elements are plain strings, or objects
/// with a `val` when they carry a timeout).
fn addresses(v: &Value, out: &mut BTreeSet<Ipv4Addr>) {
    match v {
        Value::String(s) => out.extend(s.parse::<Ipv4Addr>().ok()),
        Value::Array(items) => items.iter().for_each(|i| addresses(i, out)),
        Value::Object(map) => map.values().for_each(|i| addresses(i, out)),
        _ => {}
    }
}

/// Milliseconds from `from` to `to` (negative when `to` is earlier).
pub fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// p50, p95, p99 and max (nearest rank) of `values`, formatted in milliseconds.
pub fn summary(mut values: Vec<f64>) -> String {
    values.sort_by(f64::total_cmp);
    let rank = |p: f64| values[((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1];
    format!(
        "p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms (min {:.0} ms)",
        rank(0.50),
        rank(0.95),
        rank(0.99),
        values[values.len() - 1],
        values[0]
    )
}

/// The p99 of `values` (nearest rank).
pub fn p99(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 * 0.99).ceil() as usize).clamp(1, values.len()) - 1]
}

/// Sum of every sample of metric `name` in Prometheus text, per label set when `by` names a
/// label (`status="verified"` → `verified`), else under `""`.
pub fn metric(text: &str, name: &str, by: Option<&str>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(name)) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        if !(series == name || series.starts_with(&format!("{name}{{"))) {
            continue;
        }
        let key = by
            .and_then(|label| series.split_once(&format!("{label}=\"")))
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or_else(String::new, |(v, _)| v.to_owned());
        *out.entry(key).or_insert(0.0) += value.parse::<f64>().unwrap_or(0.0);
    }
    out
}
