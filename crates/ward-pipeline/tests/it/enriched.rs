//! Enrichment and rolling features through the pipeline: alerts carry their event's
//! enrichment, and triage cites GeoIP, threat intel, asset criticality and a rolling feature —
//! end to end from the real Cowrie log, the MaxMind test databases, an IOC list file, an asset
//! CSV and the in-memory feature store.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use ward_log::Topic;
use ward_model::{Event, FieldValue, Severity, SignalKind, TenantId};
use ward_pipeline::detect::{MAX_TEXT, MAX_THREAT_ITEMS, enrichment_of};
use ward_pipeline::triage::TriageInput;
use ward_pipeline::{
    BuiltinTriager, EntityFeatures, FeatureSource, FeatureSourceError, MemoryDeadLetters, MemorySink,
    Pipeline,
};

use super::support::{FixedClock, cowrie, open_log, rules};
use super::triage::{alert, incident};

#[cfg(feature = "features")]
mod real {
    use std::sync::Arc;

    use serde_json::json;
    use ward_features::{EntityKind, Features};
    use ward_log::Topic;
    use ward_model::{Event, SignalKind, Verdict};
    use ward_pipeline::{MemoryDeadLetters, MemorySink, Pipeline, PipelineConfig};

    use crate::support::{FixedClock, envelope, fixture_lines, open_log, rules};

    /// The attacker: an address of the MaxMind test databases (GB, London; a Tor exit node in
    /// the Anonymous-IP test database).
    const ATTACKER: &str = "81.2.69.142";
    /// The honeypot's address, listed as a critical asset.
    const HONEYPOT: &str = "10.20.0.5";

    /// The enrichment chain as the `normalize` hook.
    struct Chain(ward_enrich::EnrichChain);

    impl ward_pipeline::Enricher for Chain {
        fn enrich(&self, events: &mut Vec<Event>) {
            self.0.enrich(events);
        }
    }

    /// The real Cowrie run, as if attacked from [`ATTACKER`] against [`HONEYPOT`].
    fn cowrie_from_attacker() -> Vec<ward_log::Record> {
        let lines = fixture_lines("testdata/cowrie/cowrie.json");
        let rewritten: Vec<String> = lines
            .iter()
            .map(|l| {
                l.replace("\"src_ip\":\"127.0.0.1\"", &format!("\"src_ip\":\"{ATTACKER}\""))
                    .replace("\"dst_ip\":\"127.0.0.1\"", &format!("\"dst_ip\":\"{HONEYPOT}\""))
            })
            .collect();
        assert!(rewritten.iter().filter(|l| l.contains("\"src_ip\"")).all(|l| l.contains(ATTACKER)));
        rewritten.iter().map(|l| envelope("cowrie", l)).collect()
    }

    /// GeoIP (City + Anonymous-IP test databases), an IOC list naming the attacker and an asset
    /// CSV making the honeypot critical; `None` (skip) when the shared data is absent outside CI.
    fn chain(dir: &std::path::Path) -> Option<Chain> {
        let city = ward_testkit::shared("reference/maxmind_test_mmdb/GeoIP2-City-Test.mmdb")?;
        let anonymous = ward_testkit::shared("reference/maxmind_test_mmdb/GeoIP2-Anonymous-IP-Test.mmdb")?;
        let ioc = dir.join("botnet-c2.txt");
        std::fs::write(&ioc, format!("{ATTACKER}\n198.51.100.23\n")).unwrap();
        let assets = dir.join("assets.csv");
        std::fs::write(
            &assets,
            "name,ip_or_cidr,owner,criticality,tags\nssh-honeypot,10.20.0.0/24,secops,critical,honeypot;dmz\n",
        )
        .unwrap();
        let cfg: ward_enrich::EnrichConfig = serde_json::from_value(json!({
            "geoip": {"city": city, "anonymous": anonymous},
            "ioc": {"files": [ioc]},
            "assets": {"csv": assets},
            "dedupe": {"enabled": false},
            "sessionize": {"enabled": false},
        }))
        .unwrap();
        Some(Chain(ward_enrich::EnrichChain::from_config(&cfg).unwrap()))
    }

    #[tokio::test]
    async fn incident_reasoning_cites_geoip_threat_intel_asset_and_a_rolling_feature() {
        let tmp = tempfile::tempdir().unwrap();
        let Some(chain) = chain(tmp.path()) else { return };
        let log_dir = tempfile::tempdir().unwrap();
        let log = open_log(log_dir.path()).await;
        log.append(Topic::RawEvents, cowrie_from_attacker()).await.unwrap();
        let sink = Arc::new(MemorySink::new());
        let dead = Arc::new(MemoryDeadLetters::default());
        let features = Arc::new(Features::in_memory(10_000));
        let p = Pipeline::builder(Arc::clone(&log), sink.clone())
            .rules(rules())
            .enricher(Arc::new(chain))
            .features(features.clone())
            .dead_letters(dead.clone())
            .clock(Arc::new(FixedClock))
            .config(PipelineConfig { batch_size: 16, poll_interval_ms: 5, ..PipelineConfig::default() })
            .build()
            .unwrap();
        p.drain().await.unwrap();
        assert!(dead.all().is_empty(), "{:?}", dead.all());

        // Alerts carry the enrichment of their matched event.
        let alerts = sink.alerts();
        let sigma: Vec<_> = alerts.iter().filter(|a| a.kind == SignalKind::Sigma).collect();
        assert!(sigma.iter().any(|a| a.details["enrichment"]["destination.ip"] == HONEYPOT));
        for a in &sigma {
            let e = &a.details["enrichment"];
            assert_eq!(e["source.ip"], ATTACKER, "{}", a.rule_title);
            assert_eq!(e["source.geo.country_iso_code"], "GB", "{}", a.rule_title);
            assert_eq!(e["ward.anonymizer.source.is_tor_exit_node"], true, "{}", a.rule_title);
            // A port forward's destination is its target, not the honeypot: no asset there.
            if e["destination.ip"] == HONEYPOT {
                assert_eq!(e["ward.asset.criticality"], "critical", "{}", a.rule_title);
            }
            assert_eq!(e["threat.enrichments"][0]["feed"], "botnet-c2", "{}", a.rule_title);
        }

        let incidents = sink.incidents();
        let key = format!("source.ip={ATTACKER}");
        let inc = incidents.iter().find(|i| i.group_key == key).expect("an incident for the attacker");
        let factor = |name: &str| {
            inc.reasoning
                .iter()
                .find(|f| f.name == name)
                .unwrap_or_else(|| panic!("no {name} factor in {:#?}", inc.reasoning))
        };
        let geo = factor("geoip");
        for part in [ATTACKER, "GB (London)", "is_tor_exit_node"] {
            assert!(geo.detail.contains(part), "{part} not in {:?}", geo.detail);
        }
        assert!((geo.weight - 0.2).abs() < 1e-9, "a Tor exit is the strongest anonymizer: {geo:?}");

        let ti = factor("threat_intel");
        assert!(ti.detail.contains(&format!("{ATTACKER} on feed botnet-c2")), "{ti:?}");
        assert!(ti.weight > 0.0, "{ti:?}");

        let asset = factor("asset_criticality");
        assert_eq!(asset.detail, "asset criticality critical (ssh-honeypot)");
        assert!((asset.weight - 0.15).abs() < 1e-9, "{asset:?}");

        // The rolling feature cited is the store's value at the incident's last alert.
        let fv = features.get(&inc.tenant, EntityKind::SourceIp, ATTACKER, inc.last_seen).await.unwrap();
        let failures = fv.value("login_failures_10m");
        assert!(failures >= 5.0, "the real run has a brute force: {failures}");
        let rolling = factor("rolling_feature");
        assert!(rolling.detail.contains(&format!("login_failures_10m = {failures}")), "{rolling:?}");
        assert!(rolling.detail.starts_with(&format!("{key} at ")), "{rolling:?}");
        assert!(rolling.weight > 0.0, "{rolling:?}");

        assert_eq!(inc.verdict, Some(Verdict::TruePositive), "{:#?}", inc.reasoning);
        assert!(
            inc.recommended_actions.contains(&format!("block_ip {ATTACKER}")),
            "{:?}",
            inc.recommended_actions
        );
    }
}

/// A feature store that is down.
struct Down;

#[async_trait]
impl FeatureSource for Down {
    async fn observe(&self, _: &TenantId, _: &[Event]) -> Result<(), FeatureSourceError> {
        Err(FeatureSourceError { adapter: "down".into(), reason: "connection refused".into() })
    }

    async fn features(
        &self,
        _: &TenantId,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> Result<Option<BTreeMap<String, f64>>, FeatureSourceError> {
        Err(FeatureSourceError { adapter: "down".into(), reason: "connection refused".into() })
    }
}

#[tokio::test]
async fn a_failing_feature_source_never_stops_the_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let log = open_log(tmp.path()).await;
    log.append(Topic::RawEvents, cowrie()).await.unwrap();
    let sink = Arc::new(MemorySink::new());
    let dead = Arc::new(MemoryDeadLetters::default());
    let p = Pipeline::builder(Arc::clone(&log), sink.clone())
        .rules(rules())
        .features(Arc::new(Down))
        .dead_letters(dead.clone())
        .clock(Arc::new(FixedClock))
        .build()
        .unwrap();
    p.drain().await.unwrap();
    assert!(dead.all().is_empty());
    let inc = sink.incidents().into_iter().find(|i| i.group_key == "source.ip=127.0.0.1").unwrap();
    assert!(inc.verdict.is_some());
    assert!(inc.reasoning.iter().all(|f| f.name != "rolling_feature"), "{:?}", inc.reasoning);
    // Loopback events have no GeoIP, indicator or asset: no such factors either.
    for name in ["geoip", "threat_intel"] {
        assert!(inc.reasoning.iter().all(|f| f.name != name), "{name}: {:?}", inc.reasoning);
    }
}

fn event() -> Event {
    let t = Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0).unwrap();
    let mut e = Event::new(&TenantId::default(), "suricata", "{}", 0, t);
    e.set("source.ip", "203.0.113.7".parse::<std::net::IpAddr>().unwrap());
    e
}

#[test]
fn alert_enrichment_is_bounded_and_absent_without_enrichment() {
    assert!(enrichment_of(&event()).is_none(), "an address alone is not enrichment");
    let mut e = event();
    let items: Vec<Value> = (0..20)
        .map(|i| json!({"feed": format!("f{i}"), "confidence": 90, "indicator": {"value": "203.0.113.7"}}))
        .collect();
    e.set("threat.enrichments", FieldValue::Json(Box::new(Value::Array(items))));
    e.set("ward.asset.name", "x".repeat(10_000).as_str());
    e.set("source.geo.country_iso_code", "GB");
    e.set("source.geo.location.lat", 51.5);
    let got = enrichment_of(&e).unwrap();
    assert_eq!(got["threat.enrichments"].as_array().unwrap().len(), MAX_THREAT_ITEMS);
    assert_eq!(got["threat.enrichments_total"], 20);
    assert_eq!(got["ward.asset.name"].as_str().unwrap().len(), MAX_TEXT);
    assert_eq!(got["source.geo.country_iso_code"], "GB");
    assert!(!got.contains_key("source.geo.location.lat"), "only the fields triage and analysts read");
}

fn with_features(features: &[(&str, f64)]) -> EntityFeatures {
    EntityFeatures {
        field: "source.ip".into(),
        value: "203.0.113.7".into(),
        at: Utc.with_ymd_and_hms(2026, 11, 25, 19, 0, 0).unwrap(),
        features: features.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
    }
}

#[test]
fn rolling_features_weigh_brute_force_and_beaconing_and_cite_their_values() {
    let alerts =
        vec![alert(SignalKind::Sigma, Severity::Medium, &[("source.ip", "203.0.113.7")], "suricata")];
    let inc = incident(&alerts);
    let assess = |f: EntityFeatures| {
        let t = BuiltinTriager::assess(TriageInput {
            incident: &inc,
            alerts: &alerts,
            prior: &[],
            features: &[f],
        });
        t.reasoning.into_iter().find(|f| f.name == "rolling_feature").unwrap()
    };
    let beacon = assess(with_features(&[("gap_count_1h", 59.0), ("gap_cv_1h", 0.02), ("events_10m", 10.0)]));
    assert!((beacon.weight - 0.1).abs() < 1e-9, "{beacon:?}");
    assert!(beacon.detail.contains("gap_cv_1h = 0.020 over 59 gaps"), "{beacon:?}");
    let brute = assess(with_features(&[("login_failures_10m", 40.0), ("distinct_users_10m", 12.0)]));
    assert!((brute.weight - 0.2).abs() < 1e-9, "{brute:?}");
    assert!(
        brute.detail.contains("login_failures_10m = 40") && brute.detail.contains("distinct_users_10m = 12")
    );
    let quiet = assess(with_features(&[("events_10m", 3.0), ("gap_count_1h", 2.0), ("gap_cv_1h", 0.0)]));
    assert_eq!(quiet.weight, 0.0, "{quiet:?}");
    assert!(quiet.detail.contains("no rolling threshold crossed (events_10m = 3"), "{quiet:?}");
}

#[test]
fn anonymizers_weigh_more_than_geography_and_ioc_hits_are_not_counted_twice() {
    let mut geo_only =
        alert(SignalKind::Sigma, Severity::Medium, &[("source.ip", "89.160.20.112")], "suricata");
    geo_only.details = json!({"enrichment": {
        "source.ip": "89.160.20.112", "source.geo.country_iso_code": "SE", "source.geo.city_name": "Linköping",
        "source.as.number": 29518, "source.as.organization.name": "Bredband2 AB",
        "threat.enrichments": [{"feed": "level8", "confidence": 80, "indicator": {"value": "89.160.20.112"}}],
    }});
    let mut ioc = alert(SignalKind::Ioc, Severity::High, &[("source.ip", "89.160.20.112")], "suricata");
    ioc.id = "f".repeat(32);
    let factor = |alerts: &[ward_model::AlertRecord], name: &str| {
        let inc = incident(alerts);
        let t = BuiltinTriager::assess(TriageInput { incident: &inc, alerts, prior: &[], features: &[] });
        t.reasoning.into_iter().find(|f| f.name == name).unwrap()
    };
    let g = factor(std::slice::from_ref(&geo_only), "geoip");
    assert_eq!(g.weight, 0.0);
    assert_eq!(g.detail, "source 89.160.20.112: SE (Linköping); AS29518 Bredband2 AB");
    let ti = factor(std::slice::from_ref(&geo_only), "threat_intel");
    assert!((ti.weight - 0.24).abs() < 1e-9, "0.30 × confidence 80: {ti:?}");
    let both = factor(&[geo_only.clone(), ioc], "threat_intel");
    assert_eq!(both.weight, 0.0, "already weighted under ioc_hit: {both:?}");
    assert!(both.detail.ends_with("(weighted under ioc_hit)"));
}
