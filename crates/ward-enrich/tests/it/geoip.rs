//! GeoIP/ASN/anonymizer enrichment checked against the MaxMind test databases' JSON source.

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde_json::Value;
use ward_enrich::{EnrichChain, EnrichConfig, EnrichError, GeoIp, GeoIpConfig};
use ward_model::{Event, FieldValue};

use crate::common::{cowrie, lit, mmdb};

/// Records of a source-data JSON file whose first address is answered by that record (no more
/// specific network of the same file contains it).
fn oracle(name: &str) -> Option<Vec<(IpAddr, Value)>> {
    let path = mmdb(&format!("source-data/{name}"))?;
    let doc: Vec<serde_json::Map<String, Value>> =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let nets: Vec<(IpNet, Value)> =
        doc.into_iter().flat_map(|m| m.into_iter()).map(|(k, v)| (k.parse::<IpNet>().unwrap(), v)).collect();
    let out = nets
        .iter()
        .filter(|(n, _)| {
            !nets.iter().any(|(m, _)| m.prefix_len() > n.prefix_len() && m.contains(&n.network()))
        })
        .map(|(n, v)| (n.network(), v.clone()))
        .collect();
    Some(out)
}

fn event_with_source(ip: IpAddr) -> Event {
    let mut e = cowrie().remove(0);
    e.set("source.ip", ip);
    e.remove("destination.ip");
    e
}

fn geo_chain(slot: &str, file: &str) -> Option<EnrichChain> {
    let path = mmdb(file)?;
    let toml = format!(
        "[geoip]\n{slot} = {}\n[dedupe]\nenabled = false\n[sessionize]\nenabled = false\n",
        lit(&path)
    );
    Some(crate::common::chain(&toml))
}

fn enrich(chain: &EnrichChain, ip: IpAddr) -> Event {
    let mut batch = vec![event_with_source(ip)];
    chain.enrich(&mut batch);
    batch.remove(0)
}

/// Addresses the enricher looks up: global unicast (as documented in `geoip`).
fn global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast())
        }
        IpAddr::V6(v) => {
            let s = v.segments()[0];
            !(v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || s & 0xfe00 == 0xfc00
                || s & 0xffc0 == 0xfe80)
        }
    }
}

#[test]
fn city_fields_match_the_city_test_source_data() {
    let (Some(chain), Some(records)) =
        (geo_chain("city", "GeoIP2-City-Test.mmdb"), oracle("GeoIP2-City-Test.json"))
    else {
        return;
    };
    let mut checked = 0;
    for (ip, rec) in records.into_iter().filter(|(ip, _)| global(*ip)) {
        let e = enrich(&chain, ip);
        let want = |p: &[&str]| p.iter().try_fold(&rec, |v, k| v.get(*k)).and_then(Value::as_str);
        assert_eq!(e.str("source.geo.country_iso_code"), want(&["country", "iso_code"]), "{ip}");
        assert_eq!(e.str("source.geo.city_name"), want(&["city", "names", "en"]), "{ip}");
        assert_eq!(e.str("source.geo.continent_code"), want(&["continent", "code"]), "{ip}");
        assert_eq!(e.str("source.geo.timezone"), want(&["location", "time_zone"]), "{ip}");
        checked += 1;
    }
    assert!(checked > 100, "checked {checked} networks");
    let london = enrich(&chain, "81.2.69.142".parse().unwrap());
    assert_eq!(london.str("source.geo.city_name"), Some("London"));
    assert_eq!(london.str("source.geo.country_iso_code"), Some("GB"));
}

#[test]
fn asn_fields_match_the_asn_test_source_data() {
    let (Some(chain), Some(records)) =
        (geo_chain("asn", "GeoLite2-ASN-Test.mmdb"), oracle("GeoLite2-ASN-Test.json"))
    else {
        return;
    };
    let mut checked = 0;
    for (ip, rec) in records.into_iter().filter(|(ip, _)| global(*ip)) {
        let e = enrich(&chain, ip);
        let num = rec.get("autonomous_system_number").and_then(Value::as_i64);
        assert_eq!(e.get("source.as.number").and_then(FieldValue::as_i64), num, "{ip}");
        let org = rec.get("autonomous_system_organization").and_then(Value::as_str);
        assert_eq!(e.str("source.as.organization.name"), org, "{ip}");
        checked += 1;
    }
    assert!(checked > 500, "checked {checked} networks");
}

#[test]
fn anonymizer_flags_match_the_anonymous_ip_source_data() {
    let (Some(chain), Some(records)) =
        (geo_chain("anonymous", "GeoIP2-Anonymous-IP-Test.mmdb"), oracle("GeoIP2-Anonymous-IP-Test.json"))
    else {
        return;
    };
    for (ip, rec) in records.into_iter().filter(|(ip, _)| global(*ip)) {
        let e = enrich(&chain, ip);
        for flag in [
            "is_anonymous",
            "is_anonymous_vpn",
            "is_hosting_provider",
            "is_public_proxy",
            "is_tor_exit_node",
            "is_residential_proxy",
        ] {
            let want = rec.get(flag).and_then(Value::as_bool);
            let got = match e.get(&format!("ward.anonymizer.source.{flag}")) {
                Some(FieldValue::Bool(b)) => Some(*b),
                _ => None,
            };
            assert_eq!(got, want, "{ip} {flag}");
        }
    }
    // An IPv4 event address reaches the IPv4 subtree (::81.2.69.0/120 lists every flag).
    let e = enrich(&chain, "81.2.69.1".parse().unwrap());
    assert_eq!(e.get("ward.anonymizer.source.is_tor_exit_node"), Some(&FieldValue::Bool(true)));
}

#[test]
fn private_and_loopback_addresses_are_not_looked_up() {
    let Some(chain) = geo_chain("city", "GeoIP2-City-Test.mmdb") else { return };
    let mut events = cowrie();
    let stats = chain.enrich(&mut events);
    assert_eq!(stats.geo, 0, "the honeypot log has only 127.0.0.1");
    assert!(events.iter().all(|e| e.get("source.geo.country_iso_code").is_none()));
}

fn open_err(slot: &str, path: &Path) -> String {
    let mut cfg =
        GeoIpConfig { city: None, asn: None, anonymous: None, verify: true, reload_interval_secs: 0 };
    match slot {
        "city" => cfg.city = Some(path.to_owned()),
        _ => cfg.asn = Some(path.to_owned()),
    }
    let err = GeoIp::open(&cfg).unwrap_err();
    assert!(matches!(err, EnrichError::GeoIp { .. }));
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "error names the file: {text}");
    text
}

#[test]
fn broken_truncated_and_mismatched_databases_are_clear_startup_errors() {
    let Some(dir) = mmdb("") else { return };
    for broken in ["GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb"] {
        let text = open_err("city", &dir.join(broken));
        assert!(text.contains("damaged") || text.contains("not a readable"), "{text}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read(dir.join("GeoIP2-City-Test.mmdb")).unwrap();
    for (name, bytes) in
        [("half.mmdb", &good[..good.len() / 2]), ("head.mmdb", &good[..1000]), ("empty.mmdb", &good[..0])]
    {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        open_err("city", &path);
    }
    let text = open_err("asn", &dir.join("GeoIP2-City-Test.mmdb"));
    assert!(text.contains("cannot serve as the `asn` database"), "{text}");
    let text = open_err("city", &tmp.path().join("missing.mmdb"));
    assert!(text.contains("cannot open"), "{text}");

    // Through the chain the error is the same, not a panic.
    let cfg: EnrichConfig =
        toml::from_str(&format!("[geoip]\ncity = {}\n", lit(&tmp.path().join("half.mmdb")))).unwrap();
    assert!(EnrichChain::from_config(&cfg).is_err());
}

#[test]
fn a_changed_file_is_reloaded_and_a_broken_replacement_keeps_the_old_database() {
    let Some(dir) = mmdb("") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("geo.mmdb");
    std::fs::copy(dir.join("GeoIP2-Country-Test.mmdb"), &live).unwrap();
    let geo = GeoIp::open(&GeoIpConfig {
        city: Some(live.clone()),
        asn: None,
        anonymous: None,
        verify: true,
        reload_interval_secs: 0,
    })
    .unwrap();
    let look = |geo: &GeoIp| {
        let mut e = event_with_source("81.2.69.142".parse().unwrap());
        geo.enrich(&mut e);
        (
            e.str("source.geo.country_iso_code").map(str::to_owned),
            e.str("source.geo.city_name").map(str::to_owned),
        )
    };
    assert_eq!(look(&geo), (Some("GB".into()), None), "the Country database has no cities");
    assert_eq!(geo.reload_if_changed().unwrap(), 0, "unchanged file: nothing reloaded");

    std::fs::copy(dir.join("GeoIP2-City-Test.mmdb"), &live).unwrap();
    assert_eq!(geo.reload_if_changed().unwrap(), 1);
    assert_eq!(look(&geo), (Some("GB".into()), Some("London".into())));

    let good = std::fs::read(&live).unwrap();
    std::fs::write(&live, &good[..good.len() / 3]).unwrap();
    let err = geo.reload_if_changed().unwrap_err();
    assert!(err.to_string().contains("geo.mmdb"), "{err}");
    assert_eq!(look(&geo), (Some("GB".into()), Some("London".into())), "old database stays in service");
}
