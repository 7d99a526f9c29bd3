//! Evidence from enrichment and rolling features for the built-in triager: GeoIP/ASN and
//! anonymizer flags, threat-intel hits and the asset (from the `details.enrichment` that
//! `detect` copies from matched events, and `details.asset`), and the rolling features of the
//! incident's primary entity.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use ward_model::{AlertRecord, Entities};

use super::EntityFeatures;

fn enrichment(a: &AlertRecord) -> Option<&Map<String, Value>> {
    a.details.get("enrichment").and_then(Value::as_object)
}

/// Where the incident's addresses are: the first alert enrichment with geography, AS or
/// anonymizer flags, source side first.
pub(super) struct Geo {
    side: &'static str,
    ip: Option<String>,
    country: Option<String>,
    city: Option<String>,
    asn: Option<i64>,
    org: Option<String>,
    anonymizers: Vec<String>,
}

/// Anonymizer flags and their weight; the strongest present counts.
const ANONYMIZER_WEIGHTS: [(&str, f64); 6] = [
    ("is_tor_exit_node", 0.2),
    ("is_anonymous_vpn", 0.15),
    ("is_public_proxy", 0.15),
    ("is_residential_proxy", 0.15),
    ("is_hosting_provider", 0.1),
    ("is_anonymous", 0.1),
];

impl Geo {
    pub(super) fn of(alerts: &[AlertRecord]) -> Option<Self> {
        ["source", "destination"].into_iter().find_map(|side| {
            alerts.iter().filter_map(enrichment).find_map(|e| {
                let s = |f: &str| e.get(&format!("{side}.{f}")).and_then(Value::as_str).map(str::to_owned);
                let prefix = format!("ward.anonymizer.{side}.");
                let anonymizers: Vec<String> = e
                    .iter()
                    .filter(|(k, v)| k.starts_with(&prefix) && v.as_bool() == Some(true))
                    .map(|(k, _)| k[prefix.len()..].to_owned())
                    .collect();
                let g = Geo {
                    side,
                    ip: s("ip"),
                    country: s("geo.country_iso_code").or_else(|| s("geo.country_name")),
                    city: s("geo.city_name"),
                    asn: e.get(&format!("{side}.as.number")).and_then(Value::as_i64),
                    org: s("as.organization.name"),
                    anonymizers,
                };
                (g.country.is_some() || g.asn.is_some() || !g.anonymizers.is_empty()).then_some(g)
            })
        })
    }

    /// The weight (the strongest anonymizer flag; geography alone is context, weight 0) and
    /// the evidence.
    pub(super) fn factor(&self) -> (f64, String) {
        let w = ANONYMIZER_WEIGHTS
            .iter()
            .filter(|(f, _)| self.anonymizers.iter().any(|a| a == f))
            .map(|(_, w)| *w)
            .fold(0.0, f64::max);
        let mut parts = Vec::new();
        if let Some(c) = &self.country {
            parts.push(match &self.city {
                Some(city) => format!("{c} ({city})"),
                None => c.clone(),
            });
        }
        if let Some(n) = self.asn {
            parts.push(match &self.org {
                Some(o) => format!("AS{n} {o}"),
                None => format!("AS{n}"),
            });
        }
        if !self.anonymizers.is_empty() {
            parts.push(format!("anonymizer: {}", self.anonymizers.join(", ")));
        }
        let who = self.ip.as_deref().map_or_else(|| self.side.to_owned(), |ip| format!("{} {ip}", self.side));
        (w, format!("{who}: {}", parts.join("; ")))
    }
}

/// One threat-intel hit: feed, indicator, confidence (0–100).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ThreatHit {
    confidence: u8,
    feed: String,
    indicator: String,
}

/// Distinct threat-intel hits of the alerts' enrichment, most confident first.
pub(super) fn threat_hits(alerts: &[AlertRecord]) -> Vec<ThreatHit> {
    let mut best: BTreeMap<(String, String), u8> = BTreeMap::new();
    for e in alerts.iter().filter_map(enrichment) {
        let Some(items) = e.get("threat.enrichments").and_then(Value::as_array) else { continue };
        for item in items {
            let feed = item
                .get("feed")
                .or_else(|| item.pointer("/indicator/provider"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let Some(indicator) = item
                .pointer("/indicator/value")
                .or_else(|| item.pointer("/matched/atomic"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let confidence = item.get("confidence").and_then(Value::as_u64).map_or(50, |c| c.min(100) as u8);
            let slot = best.entry((feed.to_owned(), indicator.to_owned())).or_default();
            *slot = (*slot).max(confidence);
        }
    }
    let mut hits: Vec<ThreatHit> = best
        .into_iter()
        .map(|((feed, indicator), confidence)| ThreatHit { confidence, feed, indicator })
        .collect();
    hits.sort_by(|a, b| b.cmp(a));
    hits
}

/// The weight (0.30 × the highest confidence / 100, or 0 when an `ioc_hit` already counts the
/// same indicators) and the evidence.
pub(super) fn threat_factor(hits: &[ThreatHit], ioc_counted: bool) -> Option<(f64, String)> {
    let top = hits.first()?;
    let w = if ioc_counted { 0.0 } else { 0.3 * f64::from(top.confidence) / 100.0 };
    let listed: Vec<String> = hits
        .iter()
        .take(5)
        .map(|h| format!("{} on feed {} (confidence {})", h.indicator, h.feed, h.confidence))
        .collect();
    let mut detail = format!("{} threat-intel hits: {}", hits.len(), listed.join(", "));
    if ioc_counted {
        detail.push_str(" (weighted under ioc_hit)");
    }
    Some((w, detail))
}

/// The most critical asset the incident touches: from its `ward.asset.criticality` entity,
/// the alerts' enrichment (`ward.asset.*`) and `details.asset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AssetFact {
    pub(super) criticality: String,
    pub(super) name: Option<String>,
}

pub(super) fn asset(entities: &Entities, alerts: &[AlertRecord]) -> Option<AssetFact> {
    let mut found: Vec<AssetFact> = entities
        .get("ward.asset.criticality")
        .into_iter()
        .flatten()
        .map(|c| AssetFact { criticality: c.clone(), name: None })
        .collect();
    for a in alerts {
        if let Some(e) = enrichment(a)
            && let Some(c) = e.get("ward.asset.criticality").and_then(Value::as_str)
        {
            let name = e.get("ward.asset.name").and_then(Value::as_str).map(str::to_owned);
            found.push(AssetFact { criticality: c.to_owned(), name });
        }
        if let Some(c) = a.details.pointer("/asset/criticality").and_then(Value::as_str) {
            let name = a.details.pointer("/asset/name").and_then(Value::as_str).map(str::to_owned);
            found.push(AssetFact { criticality: c.to_owned(), name });
        }
    }
    // Highest rank; among equals, one with a name.
    found.into_iter().max_by_key(|f| (criticality_rank(&f.criticality), f.name.is_some()))
}

/// `low` 1 … `critical` 4, else 0.
pub(super) fn criticality_rank(c: &str) -> u8 {
    match c.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Rolling-feature thresholds: (feature, at least, weight, what it means).
const FEATURE_RULES: [(&str, f64, f64, &str); 4] = [
    ("login_failures_10m", 5.0, 0.1, "login failures in 10 minutes"),
    ("distinct_users_10m", 5.0, 0.1, "distinct user names in 10 minutes"),
    ("distinct_dst_ports_10m", 20.0, 0.1, "distinct destination ports in 10 minutes"),
    ("events_1m", 120.0, 0.05, "events in one minute"),
];

/// Beaconing: at least this many gaps in an hour with a coefficient of variation at most
/// [`BEACON_MAX_CV`].
const BEACON_MIN_GAPS: f64 = 10.0;
/// See [`BEACON_MIN_GAPS`].
const BEACON_MAX_CV: f64 = 0.1;

/// The weight (sum of the thresholds crossed, ≤ 0.20; 0 when none is) and the evidence, naming
/// each feature and its value.
pub(super) fn feature_factor(f: &EntityFeatures) -> (f64, String) {
    let v = |name: &str| f.features.get(name).copied().unwrap_or_default();
    let mut w = 0.0;
    let mut cited = Vec::new();
    for (name, min, weight, what) in FEATURE_RULES {
        if v(name) >= min {
            w += weight;
            cited.push(format!("{name} = {} ({what})", num(v(name))));
        }
    }
    let (gaps, cv) = (v("gap_count_1h"), v("gap_cv_1h"));
    if gaps >= BEACON_MIN_GAPS && cv <= BEACON_MAX_CV {
        w += 0.1;
        cited.push(format!("gap_cv_1h = {} over {} gaps (regular, beacon-like timing)", num(cv), num(gaps)));
    }
    let who = format!("{}={} at {}", f.field, f.value, f.at.format("%Y-%m-%dT%H:%M:%SZ"));
    if cited.is_empty() {
        let quiet = format!(
            "events_10m = {}, login_failures_10m = {}",
            num(v("events_10m")),
            num(v("login_failures_10m"))
        );
        return (0.0, format!("{who}: no rolling threshold crossed ({quiet})"));
    }
    (f64::min(w, 0.2), format!("{who}: {}", cited.join("; ")))
}

/// A feature value without needless decimals.
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x:.3}") }
}
