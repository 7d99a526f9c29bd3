//! Threat-intel enrichment from real feeds, with MISP warning-lists suppressing benign values.

use std::net::IpAddr;

use serde_json::Value;
use ward_model::{Event, FieldValue};

use crate::common::{cowrie, lit};

fn enrichments(e: &Event) -> Vec<Value> {
    match e.get("threat.enrichments") {
        Some(FieldValue::Json(v)) => v.as_array().cloned().unwrap_or_default(),
        None => Vec::new(),
        Some(other) => panic!("threat.enrichments is {other:?}"),
    }
}

#[test]
fn ipsum_hits_become_threat_enrichments_and_warninglisted_values_never_match() {
    let Some(ti) = ward_testkit::shared("reference/threat_intel") else { return };
    let level8 = ti.join("ipsum/level8.txt");
    let listed: IpAddr =
        std::fs::read_to_string(&level8).unwrap().lines().next().unwrap().trim().parse().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // A local feed that (wrongly) lists a public resolver next to the listed address.
    let local = tmp.path().join("local-feed.txt");
    std::fs::write(&local, format!("8.8.8.8\n{listed}\n")).unwrap();
    let warning = ti.join("misp_warninglists/public-dns-v4.json");
    let toml = format!(
        "[ioc]\nfiles = [{}, {}, {}]\n[dedupe]\nenabled = false\n[sessionize]\nenabled = false\n",
        lit(&level8),
        lit(&local),
        lit(&warning)
    );
    let chain = crate::common::chain(&toml);
    let report = chain.ioc_report().unwrap();
    assert!(report.suppressed() >= 1, "8.8.8.8 is suppressed by the public-DNS warning-list");

    let mut hit = cowrie().remove(3);
    hit.set("source.ip", listed);
    let mut benign = cowrie().remove(3);
    benign.set("source.ip", "8.8.8.8".parse::<IpAddr>().unwrap());
    let mut batch = vec![hit, benign];
    let stats = chain.enrich(&mut batch);
    assert_eq!(stats.ioc_matches, 2, "the listed address is in two feeds");

    let items = enrichments(&batch[0]);
    let feeds: Vec<&str> = items.iter().filter_map(|i| i["feed"].as_str()).collect();
    assert_eq!(feeds, ["level8", "local-feed"]);
    for i in &items {
        assert_eq!(i["indicator"]["value"], listed.to_string());
        assert_eq!(i["matched"]["field"], "source.ip");
        assert!(i["confidence"].as_u64().is_some());
    }
    assert!(enrichments(&batch[1]).is_empty(), "8.8.8.8 must not match: {:?}", enrichments(&batch[1]));
}

#[test]
fn a_shared_indicator_set_is_used_and_reloads_are_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let feed = tmp.path().join("feed.txt");
    std::fs::write(&feed, "203.0.113.7\n").unwrap();
    let sources = [ward_ioc::FeedSource::from(feed.as_path())];
    let (shared, _) = ward_ioc::SharedIndicators::load(&sources, ward_ioc::MatchFields::default()).unwrap();
    let shared = std::sync::Arc::new(shared);
    let cfg: ward_enrich::EnrichConfig = toml::from_str("[dedupe]\nenabled = false\n").unwrap();
    let chain = ward_enrich::EnrichChain::from_config_with(
        &cfg,
        ward_enrich::Shared { indicators: Some(shared.clone()), assets: None },
    )
    .unwrap();
    let probe = |ip: &str| {
        let mut e = cowrie().remove(0);
        e.set("source.ip", ip.parse::<IpAddr>().unwrap());
        let mut b = vec![e];
        chain.enrich(&mut b).ioc_matches
    };
    assert_eq!(probe("203.0.113.7"), 1);
    assert_eq!(probe("198.51.100.1"), 0);
    std::fs::write(&feed, "198.51.100.1\n").unwrap();
    shared.reload(&sources).unwrap();
    assert_eq!(probe("198.51.100.1"), 1, "the reloaded set is in service");
    assert_eq!(probe("203.0.113.7"), 0);
}
