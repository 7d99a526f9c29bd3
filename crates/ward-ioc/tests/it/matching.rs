//! Events against indicator sets: which field matched which indicator, from which feed and
//! line, and what is deliberately not a match.

use ward_ioc::{FieldRole, IndicatorKind, MatchFields, Observable};
use ward_model::FieldValue;

use crate::common::{event, ip, set_of};

const FEED: &str = "\
# test feed
198.51.100.7
203.0.113.0/24
2001:db8:bad::/48
evil.example
http://dl.evil2.example/payload/
/gate.php
192.0.2.80:8443
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
ja3:e7d705a3286e19ea42f587b344ee6865
t13d1516h2_8daaf6152771_b186095e22b6
phish@bad.example
";

/// (field, observed value, indicator value, feed line) of every match.
fn matches(fields: &[(&str, FieldValue)]) -> Vec<(String, String, String, String)> {
    let set = set_of("intel.txt", FEED);
    set.matches_event(&event(fields))
        .into_iter()
        .map(|m| {
            (m.field.to_owned(), m.value, m.indicator.value().to_string(), m.indicator.entry().to_string())
        })
        .collect()
}

fn m(field: &str, value: &str, indicator: &str, line: u32) -> (String, String, String, String) {
    (field.into(), value.into(), indicator.into(), format!("line {line}"))
}

#[test]
fn addresses_networks_and_sockets() {
    let got = matches(&[
        ("source.ip", ip("198.51.100.7")),
        ("destination.ip", ip("203.0.113.200")),
        ("related.ip", FieldValue::List(vec![ip("198.51.100.7"), ip("2001:db8:bad:1::9")])),
        ("host.ip", FieldValue::Str("::ffff:198.51.100.7".into())),
    ]);
    assert_eq!(
        got,
        [
            m("source.ip", "198.51.100.7", "198.51.100.7", 2),
            m("destination.ip", "203.0.113.200", "203.0.113.0/24", 3),
            m("related.ip", "2001:db8:bad:1::9", "2001:db8:bad::/48", 4),
        ],
        "related.ip and the IPv4-mapped host.ip repeat an indicator already matched"
    );
    let socket =
        matches(&[("destination.ip", ip("192.0.2.80")), ("destination.port", FieldValue::Int(8443))]);
    assert_eq!(socket, [m("destination.ip", "192.0.2.80:8443", "192.0.2.80:8443", 8)]);
    let other_port =
        matches(&[("destination.ip", ip("192.0.2.80")), ("destination.port", FieldValue::Int(443))]);
    assert!(other_port.is_empty(), "an ip:port indicator needs the port too: {other_port:?}");
    assert!(matches(&[("source.ip", ip("203.0.114.1"))]).is_empty());
}

#[test]
fn domains_match_at_label_boundaries_only() {
    let got = matches(&[("dns.question.name", "A.B.Evil.Example.".into())]);
    assert_eq!(got, [m("dns.question.name", "A.B.Evil.Example.", "evil.example", 5)]);
    assert!(matches(&[("dns.question.name", "notevil.example".into())]).is_empty());
    assert!(matches(&[("dns.question.name", "evil.example.org".into())]).is_empty());
    assert!(matches(&[("dns.question.name", "example".into())]).is_empty());
}

#[test]
fn urls_paths_and_hosts() {
    let got = matches(&[("url.original", "HTTPS://dl.evil2.example/payload/x/y.exe?id=1".into())]);
    assert_eq!(
        got,
        [m(
            "url.original",
            "https://dl.evil2.example/payload/x/y.exe?id=1",
            "http://dl.evil2.example/payload/",
            6
        )],
        "directory indicator covers everything below it, whatever the scheme"
    );
    assert!(matches(&[("url.original", "http://dl.evil2.example/payloadx".into())]).is_empty());
    let via_host = matches(&[("url.full", "http://cdn.evil.example/gate.php".into())]);
    assert_eq!(
        via_host,
        [
            m("url.full", "http://cdn.evil.example/gate.php", "/gate.php", 7),
            m("url.full", "http://cdn.evil.example/gate.php", "evil.example", 5),
        ]
    );
    let suricata =
        matches(&[("url.original", "/payload/a.bin".into()), ("url.domain", "dl.evil2.example".into())]);
    assert_eq!(
        suricata,
        [m("url.original", "dl.evil2.example/payload/a.bin", "http://dl.evil2.example/payload/", 6)]
    );
    let path_only = matches(&[("url.path", "/gate.php".into())]);
    assert_eq!(path_only, [m("url.path", "/gate.php", "/gate.php", 7)]);
}

#[test]
fn hashes_fingerprints_and_email_keep_their_kinds_apart() {
    let sha = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    let ja3 = "e7d705a3286e19ea42f587b344ee6865";
    let got = matches(&[
        ("file.hash.sha256", sha.into()),
        ("tls.client.ja3", ja3.into()),
        ("tls.client.ja4", "t13d1516h2_8daaf6152771_b186095e22b6".into()),
        ("email.from.address", "Phish@Bad.Example".into()),
    ]);
    let lines: Vec<&str> = got.iter().map(|g| g.3.as_str()).collect();
    assert_eq!(lines, ["line 9", "line 12", "line 10", "line 11"], "in the order of the field list");
    assert!(matches(&[("file.hash.md5", ja3.into())]).is_empty(), "a JA3 indicator is not an MD5 file hash");
    assert!(matches(&[("related.hash", FieldValue::List(vec!["00".repeat(16).into()]))]).is_empty());
}

#[test]
fn matches_carry_feed_entry_kind_and_confidence() {
    let set = set_of("maltrail-emotet.txt", "evil.example\n");
    let ev = event(&[("dns.question.name", "x.evil.example".into())]);
    let found = set.matches_event(&ev);
    assert_eq!(found.len(), 1);
    let ind = found[0].indicator;
    assert_eq!((ind.feed(), ind.kind(), ind.confidence()), ("maltrail-emotet", IndicatorKind::Domain, 50));
    let e = found[0].enrichment();
    assert_eq!(e["feed"], "maltrail-emotet");
    assert_eq!(e["confidence"], 50);
    assert_eq!(e["indicator"]["type"], "domain-name");
    assert_eq!(e["indicator"]["confidence"], "Medium");
    assert_eq!(e["indicator"]["entry"], "line 1");
    assert_eq!(e["matched"]["atomic"], "x.evil.example");
    assert_eq!(e["matched"]["field"], "dns.question.name");
}

#[test]
fn the_field_list_is_configurable() {
    let set = set_of("f.txt", "198.51.100.7\n")
        .with_fields(MatchFields::empty().with("sensor.peer", FieldRole::Ip));
    let ev = event(&[("source.ip", ip("198.51.100.7")), ("sensor.peer", "198.51.100.7".into())]);
    let fields: Vec<&str> = set.matches_event(&ev).iter().map(|m| m.field).collect();
    assert_eq!(fields, ["sensor.peer"]);
    assert!(set.lookup(Observable::Ip("198.51.100.7".parse().expect("ip"))).len() == 1);
}

#[test]
fn one_value_in_two_feeds_matches_both() {
    let set = crate::common::set_with(
        Default::default(),
        &[("a.txt", "evil.example\n"), ("b.txt", "sub.evil.example\nevil.example\n")],
    );
    let ev = event(&[("dns.question.name", "sub.evil.example".into())]);
    let got: Vec<(String, String)> = set
        .matches_event(&ev)
        .iter()
        .map(|m| (m.indicator.feed().to_owned(), m.indicator.value().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("b".into(), "sub.evil.example".into()),
            ("a".into(), "evil.example".into()),
            ("b".into(), "evil.example".into())
        ]
    );
}
