//! The built-in triager: a weighted sum of explainable factors, mapped to a verdict.

use std::collections::BTreeSet;
use std::net::IpAddr;

use async_trait::async_trait;
use ward_model::{AlertRecord, Entities, ExtractedIocs, Factor, Severity, SignalKind, Triage, Verdict};

use super::evidence::{self, AssetFact, Geo, ThreatHit, criticality_rank};
use super::{TriageInput, Triager};

/// Deterministic, explainable triage from the alerts' levels, variety, correlations, indicator
/// hits, GeoIP/anonymizers, threat intel, honeypot contact, earlier incidents, asset
/// criticality, rolling features of the primary entity and benign signals.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinTriager;

#[async_trait]
impl Triager for BuiltinTriager {
    async fn triage(&self, input: TriageInput<'_>) -> Triage {
        BuiltinTriager::assess(input)
    }
}

impl BuiltinTriager {
    /// The triage of `input` (synchronous: the built-in triager does no I/O).
    pub fn assess(input: TriageInput<'_>) -> Triage {
        let facts = Facts::of(input);
        let reasoning = facts.factors(input);
        let score = reasoning.iter().map(|f| f.weight).sum::<f64>().clamp(0.0, 1.0);
        let verdict = verdict_of(score);
        let confidence = (0.5 + (score - 0.5).abs() * 0.9).clamp(0.5, 0.95);
        let iocs = extract_iocs(&input.incident.entities, input.alerts);
        let recommended_actions = actions(verdict, &facts, &input.incident.entities);
        Triage { verdict, confidence, reasoning, iocs, recommended_actions, triager: "builtin".into() }
    }
}

/// The verdict of a score in [0, 1].
fn verdict_of(score: f64) -> Verdict {
    match score {
        s if s >= 0.75 => Verdict::TruePositive,
        s if s >= 0.5 => Verdict::LikelyTruePositive,
        s if s >= 0.3 => Verdict::Suspicious,
        s if s >= 0.1 => Verdict::LikelyFalsePositive,
        _ => Verdict::FalsePositive,
    }
}

/// What the factors are computed from.
struct Facts<'a> {
    top: Option<&'a AlertRecord>,
    rules: BTreeSet<&'a str>,
    correlations: BTreeSet<&'a str>,
    iocs: Vec<&'a AlertRecord>,
    honeypot: bool,
    honeypot_login: bool,
    criticality: Option<String>,
    asset: Option<AssetFact>,
    geo: Option<Geo>,
    threat: Vec<ThreatHit>,
}

impl<'a> Facts<'a> {
    fn of(input: TriageInput<'a>) -> Self {
        let alerts = input.alerts;
        let top =
            alerts.iter().max_by(|a, b| a.level.cmp(&b.level).then_with(|| b.rule_title.cmp(&a.rule_title)));
        let rules = alerts.iter().map(|a| a.rule_title.as_str()).collect();
        let correlations = alerts
            .iter()
            .filter(|a| a.kind == SignalKind::Correlation)
            .map(|a| a.rule_title.as_str())
            .collect();
        let iocs = alerts.iter().filter(|a| a.kind == SignalKind::Ioc).collect();
        let honeypot = alerts.iter().any(|a| a.source == "cowrie");
        let honeypot_login = alerts
            .iter()
            .any(|a| a.source == "cowrie" && a.techniques.iter().any(|t| t.eq_ignore_ascii_case("T1078")));
        let asset = evidence::asset(&input.incident.entities, alerts);
        let criticality = asset.as_ref().map(|a| a.criticality.clone());
        let geo = Geo::of(alerts);
        let threat = evidence::threat_hits(alerts);
        Self { top, rules, correlations, iocs, honeypot, honeypot_login, criticality, asset, geo, threat }
    }

    fn factors(&self, input: TriageInput<'_>) -> Vec<Factor> {
        let mut f = Vec::new();
        let mut add = |name: &str, weight: f64, detail: String| {
            f.push(Factor { name: name.into(), weight: (weight * 1000.0).round() / 1000.0, detail });
        };
        if let Some(top) = self.top {
            let w = match top.level {
                Severity::Critical => 0.45,
                Severity::High => 0.3,
                Severity::Medium => 0.15,
                Severity::Low => 0.05,
                Severity::Informational => 0.0,
            };
            add("rule_level", w, format!("highest alert level {} ({})", top.level, top.rule_title));
        }
        if self.rules.len() > 1 {
            let w = (0.05 * (self.rules.len() - 1) as f64).min(0.2);
            let names: Vec<&str> = self.rules.iter().copied().take(8).collect();
            add("rule_diversity", w, format!("{} distinct rules: {}", self.rules.len(), names.join(", ")));
        }
        if input.incident.alert_count >= 10 {
            add("alert_volume", 0.05, format!("{} alerts", input.incident.alert_count));
        }
        if !self.correlations.is_empty() {
            let names: Vec<&str> = self.correlations.iter().copied().collect();
            add("correlation", 0.25, format!("correlation rules fired: {}", names.join(", ")));
        }
        if let Some(first) = self.iocs.first() {
            add("ioc_hit", 0.3, format!("{} indicator hits, e.g. {}", self.iocs.len(), first.rule_title));
        }
        if let Some((w, detail)) = evidence::threat_factor(&self.threat, !self.iocs.is_empty()) {
            add("threat_intel", w, detail);
        }
        if let Some(geo) = &self.geo {
            let (w, detail) = geo.factor();
            add("geoip", w, detail);
        }
        if self.honeypot {
            add("honeypot", 0.15, "contact with a honeypot, which has no legitimate users".into());
        }
        let prior: u64 = input.prior.iter().map(|p| p.incidents).sum();
        if prior > 0 {
            let seen: Vec<String> = input
                .prior
                .iter()
                .filter(|p| p.incidents > 0)
                .map(|p| format!("{}={}", p.field, p.value))
                .collect();
            let w = (0.1 + 0.05 * (prior - 1) as f64).min(0.2);
            add("repeat_offender", w, format!("{} earlier incidents name {}", prior, seen.join(", ")));
        }
        if let Some(a) = &self.asset {
            let w = match criticality_rank(&a.criticality) {
                4 => 0.15,
                3 => 0.1,
                1 => -0.05,
                _ => 0.0,
            };
            let detail = match &a.name {
                Some(name) => format!("asset criticality {} ({name})", a.criticality),
                None => format!("asset criticality {}", a.criticality),
            };
            add("asset_criticality", w, detail);
        }
        for features in input.features {
            let (w, detail) = evidence::feature_factor(features);
            add("rolling_feature", w, detail);
        }
        self.benign(input, &mut add);
        f
    }

    fn benign(&self, input: TriageInput<'_>, add: &mut impl FnMut(&str, f64, String)) {
        if input.alerts.iter().all(|a| a.level == Severity::Informational) && !input.alerts.is_empty() {
            add("known_benign", -0.2, "only informational alerts".into());
        }
        let ips = input.incident.entities.get("source.ip");
        let internal = ips.is_some_and(|v| !v.is_empty() && v.iter().all(|ip| !is_external(ip)));
        if internal && self.iocs.is_empty() && self.threat.is_empty() && !self.honeypot {
            add("known_benign", -0.1, "every source address is internal".into());
        }
    }
}

/// Whether an address is routable on the internet (documentation ranges count as external,
/// so examples behave like real attacks).
fn is_external(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast())
        }
        Ok(IpAddr::V6(v6)) => {
            let seg = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg & 0xfe00) == 0xfc00
                || (seg & 0xffc0) == 0xfe80)
        }
        Err(_) => false,
    }
}

fn actions(verdict: Verdict, facts: &Facts<'_>, entities: &Entities) -> Vec<String> {
    let mut out = Vec::new();
    let serious =
        matches!(verdict, Verdict::TruePositive | Verdict::LikelyTruePositive | Verdict::Suspicious);
    if !serious {
        return out;
    }
    for ip in entities.get("source.ip").into_iter().flatten().filter(|ip| is_external(ip)) {
        out.push(format!("block_ip {ip}"));
    }
    if facts.honeypot_login {
        out.push("rotate_ssh_key".into());
    }
    let compromised = matches!(verdict, Verdict::TruePositive | Verdict::LikelyTruePositive);
    if compromised && facts.criticality.as_deref().is_some_and(|c| criticality_rank(c) >= 3) {
        for host in entities.get("host.name").into_iter().flatten() {
            out.push(format!("isolate_host {host}"));
        }
    }
    out.push("notify".into());
    out
}

/// Indicators named by the incident's and its alerts' entities: addresses, domains, hashes
/// and user names, each sorted and distinct.
pub fn extract_iocs(entities: &Entities, alerts: &[AlertRecord]) -> ExtractedIocs {
    let (mut ips, mut domains, mut hashes, mut users) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let all = std::iter::once(entities).chain(alerts.iter().map(|a| &a.entities));
    for ents in all {
        for (field, values) in ents {
            let set = if field.ends_with(".ip") || field == "related.ip" {
                &mut ips
            } else if field.ends_with(".domain") || field == "dns.question.name" {
                &mut domains
            } else if field.contains(".hash.") || field == "related.hash" {
                &mut hashes
            } else if field == "user.name" || field.ends_with(".user.name") {
                &mut users
            } else {
                continue;
            };
            set.extend(values.iter().cloned());
        }
    }
    ExtractedIocs {
        ips: ips.into_iter().collect(),
        domains: domains.into_iter().collect(),
        hashes: hashes.into_iter().collect(),
        users: users.into_iter().collect(),
    }
}
