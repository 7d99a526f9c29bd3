//! The asset inventory: CSV parsing (with property tests), prefix matching, events and alerts.

use std::net::IpAddr;

use ipnet::IpNet;
use proptest::prelude::*;
use ward_enrich::assets::{parse_csv, parse_net};
use ward_enrich::{Asset, AssetError, AssetIndex, AssetInventory, Criticality};
use ward_model::FieldValue;

use crate::common::{cowrie, lit};

const CSV: &str = "name,ip_or_cidr,owner,criticality,tags\n\
web01,10.0.0.5,web-team,high,dmz;pci\n\
payments,\"10.1.0.0/16; 10.1.2.3\",finance,critical,\"pci|prod\"\n\
lab,10.0.0.0/8,it,low,\n\
honeypot,127.0.0.1,soc,medium,sensor\n";

#[test]
fn csv_loads_and_events_get_the_asset_by_documented_precedence() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("assets.csv");
    std::fs::write(&path, CSV).unwrap();
    let chain = crate::common::chain(&format!("[assets]\ncsv = {}\n[dedupe]\nenabled = false\n", lit(&path)));
    let mut events = cowrie();
    let stats = chain.enrich(&mut events);
    assert_eq!(stats.assets as usize, events.len(), "every honeypot event has destination.ip 127.0.0.1");
    let e = &events[0];
    assert_eq!(e.str("ward.asset.name"), Some("honeypot"));
    assert_eq!(e.str("ward.asset.criticality"), Some("medium"));
    assert_eq!(e.str("ward.asset.matched_field"), Some("destination.ip"));
    assert_eq!(e.get("ward.asset.tags"), Some(&FieldValue::List(vec!["sensor".into()])));

    // host.name beats host.ip beats destination.ip; the longest prefix wins.
    let mut e = cowrie().remove(0);
    e.set("host.ip", "10.1.2.3".parse::<IpAddr>().unwrap());
    let mut b = vec![e.clone()];
    chain.enrich(&mut b);
    assert_eq!(b[0].str("ward.asset.name"), Some("payments"));
    e.set("host.ip", "10.9.9.9".parse::<IpAddr>().unwrap());
    e.set("host.name", "WEB01.corp.example");
    let mut b = vec![e];
    chain.enrich(&mut b);
    assert_eq!(b[0].str("ward.asset.name"), Some("web01"));
    assert_eq!(b[0].str("ward.asset.matched_field"), Some("host.name"));
}

#[test]
fn csv_errors_name_line_and_column_all_at_once() {
    let bad = "name,ip_or_cidr,owner,criticality,tags\n\
ok,10.0.0.1,a,low,\n\
bad-ip,10.0.0.300,a,low,\n\
bad-crit,10.0.0.2,a,urgent,\n\
short,10.0.0.3\n\
ok,10.0.0.4,b,high,\n";
    let AssetError::Invalid { problems, .. } = parse_csv(bad, "assets.csv").unwrap_err() else { panic!() };
    let got: Vec<(usize, Option<usize>)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(got, [(3, Some(2)), (4, Some(4)), (5, None), (6, None)], "{problems:?}");
    let err = parse_csv(bad, "assets.csv").unwrap_err().to_string();
    assert!(
        err.contains("assets.csv") && err.contains("line 3, column 2") && err.contains("10.0.0.300"),
        "{err}"
    );
    let missing = parse_csv("name,owner\nx,y\n", "a.csv").unwrap_err().to_string();
    assert!(missing.contains("missing column `ip_or_cidr`"), "{missing}");
    let overlap = parse_csv(
        "name,ip_or_cidr,owner,criticality,tags\na,10.0.0.0/24,,low,\nb,10.0.0.0/24,,low,\n",
        "o.csv",
    );
    assert!(
        overlap
            .unwrap_err()
            .to_string()
            .contains("line 3: network 10.0.0.0/24 of `b` already belongs to `a`")
    );
}

#[test]
fn api_replace_swaps_the_inventory_and_alerts_get_the_most_critical_asset() {
    let inv = AssetInventory::new(parse_csv(CSV, "csv").unwrap()).unwrap();
    let mut alert = crate::attack::alert(&[]);
    alert.entities.insert("source.ip".into(), vec!["10.0.0.77".into()]);
    alert.entities.insert("destination.ip".into(), vec!["10.1.0.9".into()]);
    assert_eq!(inv.attach(&mut alert), Some(Criticality::Critical));
    assert_eq!(alert.details["asset"]["name"], "payments");
    assert_eq!(alert.details["asset"]["matched_field"], "destination.ip");

    let dup = vec![asset("a", &["10.0.0.0/24"]), asset("A", &[])];
    assert!(inv.replace(dup).is_err(), "names are case-insensitive and unique");
    assert!(inv.current().by_name("payments").is_some(), "a rejected replace keeps the old inventory");
    inv.replace(vec![asset("db", &["192.0.2.0/24"])]).unwrap();
    assert!(inv.current().by_name("payments").is_none());
    assert_eq!(inv.current().by_ip("192.0.2.9".parse().unwrap()).map(|a| a.name.as_str()), Some("db"));
}

fn asset(name: &str, nets: &[&str]) -> Asset {
    Asset {
        name: name.into(),
        networks: nets.iter().map(|n| n.parse().unwrap()).collect(),
        owner: String::new(),
        criticality: Criticality::Low,
        tags: Vec::new(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn arb_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<[u8; 4]>(), 8u8..=32).prop_map(|(b, l)| IpNet::new(IpAddr::from(b), l).unwrap().trunc()),
        (any::<[u8; 16]>(), 16u8..=128).prop_map(|(b, l)| IpNet::new(IpAddr::from(b), l).unwrap().trunc()),
    ]
}

fn arb_crit() -> impl Strategy<Value = Criticality> {
    prop_oneof![
        Just(Criticality::Low),
        Just(Criticality::Medium),
        Just(Criticality::High),
        Just(Criticality::Critical)
    ]
}

proptest! {
    #[test]
    fn written_csv_parses_back_to_the_same_assets(
        rows in proptest::collection::vec(
            ("[a-z][a-z0-9.-]{0,12}", proptest::collection::vec(arb_net(), 0..3), "[ -~]{0,12}", arb_crit(),
             proptest::collection::vec("[a-z0-9 ,\"]{1,8}", 0..3)),
            1..8)
    ) {
        let mut seen_names = std::collections::HashSet::new();
        let mut seen_nets = std::collections::HashSet::new();
        let mut assets = Vec::new();
        for (name, nets, owner, crit, tags) in rows {
            let nets: Vec<IpNet> = nets.into_iter().filter(|n| seen_nets.insert(*n)).collect();
            let tags: Vec<String> = tags.iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
            if seen_names.insert(name.clone()) {
                assets.push(Asset { name, networks: nets, owner: owner.trim().to_owned(), criticality: crit, tags });
            }
        }
        let mut csv = String::from("tags,criticality,owner,ip_or_cidr,name\r\n");
        for a in &assets {
            let nets: Vec<String> = a.networks.iter().map(ToString::to_string).collect();
            csv.push_str(&format!("{},{},{},{},{}\r\n", quote(&a.tags.join(";")), a.criticality, quote(&a.owner), quote(&nets.join(" ")), quote(&a.name)));
        }
        prop_assert_eq!(parse_csv(&csv, "p.csv").unwrap(), assets);
    }

    #[test]
    fn the_parser_never_panics_and_errors_carry_a_line(text in "[a-z0-9,\"\n ;./:]{0,200}") {
        if let Err(AssetError::Invalid { problems, .. }) = parse_csv(&text, "fuzz.csv") {
            prop_assert!(problems.iter().all(|p| p.line >= 1));
        }
    }

    #[test]
    fn lookup_is_the_longest_matching_prefix(nets in proptest::collection::vec(arb_net(), 1..20), probe in any::<[u8; 4]>(), pick in any::<prop::sample::Index>()) {
        let mut unique: Vec<IpNet> = Vec::new();
        for n in nets { if !unique.contains(&n) { unique.push(n); } }
        let assets: Vec<Asset> = unique.iter().enumerate().map(|(i, n)| Asset {
            name: format!("a{i}"), networks: vec![*n], owner: String::new(), criticality: Criticality::Low, tags: Vec::new(),
        }).collect();
        let idx = AssetIndex::build(&assets).unwrap();
        // Probe a random address and one inside a random listed network.
        let inside = pick.get(&unique).network();
        for ip in [IpAddr::from(probe), inside] {
            let want = unique.iter().enumerate().filter(|(_, n)| n.contains(&ip)).max_by_key(|(_, n)| n.prefix_len()).map(|(i, _)| format!("a{i}"));
            prop_assert_eq!(idx.by_ip(ip).map(|a| a.name.clone()), want);
        }
        prop_assert_eq!(parse_net(&inside.to_string()).unwrap().addr(), inside);
    }
}
