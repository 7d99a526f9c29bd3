//! STIX 2.1 bundles: every supported pattern form, and every refused form with its reason.

use std::path::Path;

use serde_json::json;
use ward_ioc::{Entry, IndicatorKind as K, Location, RejectReason, StixOptions, parse_stix_bundle};

fn indicator(id: &str, pattern: &str) -> serde_json::Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--{id}"),
        "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
    })
}

fn bundle(objects: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"type": "bundle", "id": "bundle--1", "objects": objects})
}

/// (kind, value, entry) of a loaded indicator.
type Got = (K, String, String);

/// The indicators loaded from `objects`, and (record, reason) of each rejection.
fn load(objects: Vec<serde_json::Value>) -> (Vec<Got>, Vec<(String, RejectReason)>) {
    let l = parse_stix_bundle(&bundle(objects), Path::new("bundle.json"), &StixOptions::default())
        .expect("bundle");
    let got = l.indicators.iter().map(|i| (i.kind(), i.value().to_string(), i.entry().to_string())).collect();
    let rejected = l
        .report
        .rejected
        .iter()
        .map(|r| match &r.location {
            Location::Record(id) => (id.clone(), r.reason.clone()),
            other => panic!("STIX rejection located by {other}"),
        })
        .collect();
    (got, rejected)
}

#[test]
fn supported_patterns_yield_one_indicator_per_comparison() {
    let sha = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c";
    let (got, rejected) = load(vec![
        indicator("a", "[ipv4-addr:value = '198.51.100.1']"),
        indicator("b", "[ipv4-addr:value = '198.51.100.0/24']"),
        indicator("c", "[domain-name:value = 'Evil.Example' OR domain-name:value = 'evil2.example']"),
        indicator("d", &format!("[file:hashes.'SHA-256' = '{}']", sha.to_uppercase())),
        indicator(
            "e",
            "[url:value = 'HTTP://evil.example:80/a/../x.exe'] OR [email-addr:value = 'x@evil.example']",
        ),
        indicator("f", "[ipv6-addr:value IN ('2001:db8::1', '2001:db8::2')]"),
        indicator("g", "[ipv4-addr:value ISSUBSET '203.0.113.0/25']"),
        indicator(
            "h",
            "([file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'] OR ([network-traffic:dst_ref.value = '192.0.2.200']))",
        ),
        indicator(
            "i",
            r"[domain-name:value = 'it\'s.example' OR email-message:from_ref.value = 'a@b.example']",
        ),
    ]);
    let expect = |k, v: &str, e: &str| (k, v.to_owned(), format!("indicator--{e}"));
    assert_eq!(
        got,
        [
            expect(K::Ipv4, "198.51.100.1", "a"),
            expect(K::Cidr, "198.51.100.0/24", "b"),
            expect(K::Domain, "evil.example", "c"),
            expect(K::Domain, "evil2.example", "c"),
            expect(K::Sha256, sha, "d"),
            expect(K::Url, "http://evil.example/x.exe", "e"),
            expect(K::Email, "x@evil.example", "e"),
            expect(K::Ipv6, "2001:db8::1", "f"),
            expect(K::Ipv6, "2001:db8::2", "f"),
            expect(K::Cidr, "203.0.113.0/25", "g"),
            expect(K::Md5, "d41d8cd98f00b204e9800998ecf8427e", "h"),
            expect(K::Ipv4, "192.0.2.200", "h"),
            expect(K::Email, "a@b.example", "i"),
        ]
    );
    assert_eq!(
        rejected,
        [("indicator--i".to_owned(), RejectReason::InvalidDomain("character not allowed in a host name"))]
    );
}

#[test]
fn unsupported_patterns_are_rejected_with_the_reason() {
    let unsupported = |s: &str| RejectReason::UnsupportedPattern(s.to_owned());
    let cases = [
        (
            "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.example']",
            unsupported("`AND` of comparisons"),
        ),
        (
            "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [domain-name:value = 'x.example']",
            unsupported("`FOLLOWEDBY` between observations"),
        ),
        ("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", unsupported("qualifier `WITHIN`")),
        ("[ipv4-addr:value != '1.2.3.4']", unsupported("operator `!=`")),
        ("[domain-name:value MATCHES '^evil']", unsupported("operator `MATCHES`")),
        ("[domain-name:value LIKE 'evil%']", unsupported("operator `LIKE`")),
        ("[NOT ipv4-addr:value = '1.2.3.4']", unsupported("`NOT`")),
        ("[process:name = 'evil.exe']", unsupported("object path `process:name`")),
        ("[file:hashes.SSDEEP = '3::']", unsupported("hash algorithm `SSDEEP`")),
        ("[file:name = 'evil.exe']", unsupported("object path `file:name`")),
        ("[network-traffic:dst_port = 443]", unsupported("object path `network-traffic:dst_port`")),
        ("[domain-name:value ISSUBSET 'x.example']", unsupported("operator `ISSUBSET`")),
        ("[ipv4-addr:value = h'01020304']", unsupported("non-string literal `h`")),
        ("[ipv4-addr:value = '1.2.3.4'", RejectReason::PatternSyntax("expected RBrack, found None".into())),
        ("[ipv4-addr:value = '1.2.3.4]", RejectReason::PatternSyntax("unterminated string".into())),
    ];
    let objects = cases.iter().enumerate().map(|(n, (p, _))| indicator(&n.to_string(), p)).collect();
    let (got, rejected) = load(objects);
    assert!(got.is_empty(), "{got:?}");
    let want: Vec<(String, RejectReason)> =
        cases.iter().enumerate().map(|(n, (_, r))| (format!("indicator--{n}"), r.clone())).collect();
    assert_eq!(rejected, want);
}

#[test]
fn indicator_properties_and_non_indicator_objects() {
    let mut rich = indicator("rich", "[domain-name:value = 'evil.example']");
    rich["confidence"] = json!(85);
    rich["labels"] = json!(["malicious-activity"]);
    rich["indicator_types"] = json!(["anomalous-activity"]);
    rich["valid_until"] = json!("2026-12-31T23:59:59Z");
    let mut revoked = indicator("old", "[domain-name:value = 'old.example']");
    revoked["revoked"] = json!(true);
    let mut snort = indicator("snort", "alert tcp any any -> any any (msg:\"x\";)");
    snort["pattern_type"] = json!("snort");
    let no_pattern = json!({"type": "indicator", "id": "indicator--nop"});
    let objects = vec![
        rich,
        revoked,
        snort,
        no_pattern,
        json!({"type": "malware", "id": "malware--1", "name": "x", "is_family": false}),
        json!({"type": "relationship", "id": "relationship--1"}),
        json!({"id": "untyped--1"}),
    ];
    let l =
        parse_stix_bundle(&bundle(objects), Path::new("b.json"), &StixOptions::default()).expect("bundle");
    assert_eq!(l.indicators.len(), 1);
    let ind = &l.indicators[0];
    assert_eq!(ind.confidence(), 85);
    let tags: Vec<&str> = ind.tags().iter().map(|t| &**t).collect();
    assert_eq!(tags, ["malicious-activity", "anomalous-activity"]);
    assert_eq!(ind.first_seen().map(|d| d.to_rfc3339()), Some("2026-01-01T00:00:00+00:00".into()));
    assert_eq!(ind.last_seen().map(|d| d.to_rfc3339()), Some("2026-12-31T23:59:59+00:00".into()));
    assert_eq!(ind.entry(), &Entry::Record("indicator--rich".into()));
    let ignored: Vec<(&str, usize)> = l.report.ignored.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(ignored, [("object malware", 1), ("object relationship", 1), ("revoked indicator", 1)]);
    let rejected: Vec<(String, RejectReason)> =
        l.report.rejected.iter().map(|r| (r.location.to_string(), r.reason.clone())).collect();
    assert_eq!(
        rejected,
        [
            ("record indicator--snort".into(), RejectReason::PatternType("snort".into())),
            ("record indicator--nop".into(), RejectReason::MissingField("pattern")),
            ("record objects[6]".into(), RejectReason::MissingField("type")),
        ]
    );
}

#[test]
fn a_document_that_is_not_a_bundle_fails_as_a_whole() {
    let err = parse_stix_bundle(&json!({"type": "report"}), Path::new("r.json"), &StixOptions::default())
        .expect_err("not a bundle");
    assert_eq!(err.to_string(), "r.json: not a STIX bundle: `type` is not `bundle`");
    let lone = parse_stix_bundle(
        &indicator("x", "[url:value = 'http://x.example/']"),
        Path::new("i.json"),
        &StixOptions::default(),
    )
    .expect("a lone indicator object is read like a one-object bundle");
    assert_eq!(lone.indicators.len(), 1);
}
