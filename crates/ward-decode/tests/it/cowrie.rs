//! Tests of the cowrie decoder, mostly on `testdata/cowrie/cowrie.json`: the log of a real
//! Cowrie 3.1.4 honeypot attacked over loopback (see `testdata/cowrie/SOURCE`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use ward_decode::sources::cowrie::CowrieDecoder;
use ward_decode::{DecodeError, Decoder, SourceKind};
use ward_model::{Event, FieldValue};

use crate::common::{as_json, ctx, decode, decode_paths, fixture};

/// The genuine fixture: raw records (parsed) paired with their decoded events.
fn fixture_pairs() -> Vec<(Map<String, Value>, Event)> {
    let path = fixture("cowrie/cowrie.json");
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    let raw: Vec<Map<String, Value>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture lines are JSON objects"))
        .collect();
    let (sink, _) = decode_paths(SourceKind::Cowrie, &[path]);
    assert!(sink.rejections.is_empty(), "genuine Cowrie lines rejected: {:?}", sink.rejections);
    assert_eq!(sink.events.len(), raw.len(), "one event per record");
    raw.into_iter().zip(sink.events).collect()
}

fn raw_str<'a>(raw: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    raw.get(key).and_then(Value::as_str)
}

fn strs(e: &Event, path: &str) -> Vec<String> {
    match e.get(path) {
        Some(FieldValue::List(items)) => items.iter().map(ToString::to_string).collect(),
        Some(v) => vec![v.to_string()],
        None => vec![],
    }
}

fn one(line: &str) -> Event {
    let mut c = decode(SourceKind::Cowrie, line.as_bytes());
    assert!(c.rejections.is_empty(), "rejected: {:?}", c.rejections);
    assert_eq!(c.events.len(), 1);
    c.events.remove(0)
}

fn reject(line: &str) -> String {
    let c = decode(SourceKind::Cowrie, line.as_bytes());
    assert!(c.events.is_empty(), "decoded a record that must be rejected: {line}");
    assert_eq!(c.rejections.len(), 1);
    assert_eq!(c.rejections[0].line, 1);
    c.rejections[0].reason.clone()
}

#[test]
fn fixture_covers_the_eventids_a_session_produces() {
    let seen: BTreeSet<String> =
        fixture_pairs().iter().map(|(raw, _)| raw_str(raw, "eventid").unwrap().to_owned()).collect();
    for id in [
        "cowrie.session.connect",
        "cowrie.session.closed",
        "cowrie.session.params",
        "cowrie.session.file_download",
        "cowrie.session.file_download.failed",
        "cowrie.session.file_upload",
        "cowrie.session.input",
        "cowrie.login.success",
        "cowrie.login.failed",
        "cowrie.command.input",
        "cowrie.command.failed",
        "cowrie.command.success",
        "cowrie.command.chpasswd",
        "cowrie.client.version",
        "cowrie.client.kex",
        "cowrie.client.size",
        "cowrie.client.var",
        "cowrie.client.fingerprint",
        "cowrie.client.malformed_packet",
        "cowrie.direct-tcpip.request",
        "cowrie.direct-tcpip.data",
        "cowrie.direct-tcpip.redirect",
        "cowrie.direct-tcpip.tunnel",
        "cowrie.direct-tcpip.ja4",
        "cowrie.direct-tcpip.ja4h",
        "cowrie.tunnelproxy-tcpip.data",
        "cowrie.log.closed",
        "cowrie.telnet.option",
        "cowrie.telnet.error",
        "cowrie.telnet.exploit_attempt",
        "cowrie.telnet.exploit_success",
    ] {
        assert!(seen.contains(id), "fixture lacks {id}");
    }
}

#[test]
fn every_member_cowrie_wrote_has_a_mapping() {
    for (raw, e) in fixture_pairs() {
        let leftovers: Vec<&str> =
            e.fields().iter().map(|(k, _)| k).filter(|k| k.starts_with("cowrie.extra")).collect();
        assert!(leftovers.is_empty(), "{}: unmapped {leftovers:?}", raw_str(&raw, "eventid").unwrap());
    }
}

#[test]
fn one_event_per_eventid_snapshot() {
    let mut firsts: BTreeMap<String, Event> = BTreeMap::new();
    for (raw, e) in fixture_pairs() {
        firsts.entry(raw_str(&raw, "eventid").unwrap().to_owned()).or_insert(e);
    }
    let sink = ward_decode::Collect { events: firsts.into_values().collect(), rejections: vec![] };
    insta::assert_json_snapshot!("one_event_per_eventid", as_json(&sink));
}

#[test]
fn common_fields_equal_the_raw_members() {
    for (raw, e) in fixture_pairs() {
        let eventid = raw_str(&raw, "eventid").unwrap();
        assert_eq!(e.str("cowrie.eventid"), Some(eventid));
        assert_eq!(e.str("event.action"), eventid.strip_prefix("cowrie."));
        let ts = chrono::DateTime::parse_from_rfc3339(raw_str(&raw, "timestamp").unwrap()).unwrap();
        assert_eq!(e.timestamp(), ts);
        let src: IpAddr = raw_str(&raw, "src_ip").unwrap().parse().unwrap();
        assert_eq!(e.get("source.ip").and_then(FieldValue::as_ip), Some(src));
        assert_eq!(e.get("source.port").and_then(FieldValue::as_i64), raw["src_port"].as_i64());
        assert_eq!(e.get("destination.port").and_then(FieldValue::as_i64), raw["dst_port"].as_i64());
        assert_eq!(e.str("network.protocol"), raw_str(&raw, "protocol"));
        assert_eq!(e.str("network.transport"), Some("tcp"));
        assert_eq!(e.str("observer.hostname"), raw_str(&raw, "sensor"));
        assert_eq!(e.str("observer.type"), Some("honeypot"));
        assert_eq!(e.str("cowrie.session"), raw_str(&raw, "session"));
        assert_eq!(e.str("message"), raw_str(&raw, "message").filter(|m| !m.is_empty()));
    }
}

#[test]
fn logins_carry_the_raw_credentials() {
    let mut outcomes = BTreeSet::new();
    for (raw, e) in fixture_pairs() {
        let Some(result) = raw_str(&raw, "eventid").unwrap().strip_prefix("cowrie.login.") else { continue };
        assert_eq!(e.str("user.name"), raw_str(&raw, "username"));
        assert_eq!(e.str("cowrie.password"), raw_str(&raw, "password"));
        assert_eq!(strs(&e, "event.category"), ["authentication"]);
        let want = if result == "success" { "success" } else { "failure" };
        assert_eq!(e.str("event.outcome"), Some(want));
        outcomes.insert(want);
    }
    assert_eq!(outcomes.len(), 2, "the fixture has both successful and failed logins");
}

#[test]
fn commands_carry_the_raw_command_line() {
    let mut n = 0;
    for (raw, e) in fixture_pairs() {
        let id = raw_str(&raw, "eventid").unwrap();
        if id == "cowrie.command.input" || id == "cowrie.command.failed" {
            assert_eq!(e.str("process.command_line"), raw_str(&raw, "input"));
            assert_eq!(strs(&e, "event.category"), ["process"]);
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} commands");
}

#[test]
fn every_session_connects_once_and_closes_once_with_its_duration() {
    let (mut opened, mut closed) = (BTreeMap::new(), BTreeMap::new());
    for (raw, e) in fixture_pairs() {
        let sid = e.str("session.id").unwrap().to_owned();
        let scoped = format!("{}/{}", raw_str(&raw, "sensor").unwrap(), raw_str(&raw, "session").unwrap());
        assert_eq!(sid, scoped, "session.id is the session scoped by sensor");
        match raw_str(&raw, "eventid").unwrap() {
            "cowrie.session.connect" => assert!(opened.insert(sid, e.get("source.port").cloned()).is_none()),
            "cowrie.session.closed" => {
                let ms = raw["duration_ms"].as_i64().unwrap();
                assert_eq!(e.get("event.duration").and_then(FieldValue::as_i64), Some(ms * 1_000_000));
                assert!(closed.insert(sid, e.get("source.port").cloned()).is_none());
            }
            _ => assert!(opened.contains_key(&sid), "event of session {sid} before its connect"),
        }
    }
    assert_eq!(opened, closed, "same sessions, same source ports, at connect and at close");
    assert!(opened.len() >= 10);
}

#[test]
fn downloads_and_uploads_map_url_hash_and_path() {
    for (raw, e) in fixture_pairs() {
        let id = raw_str(&raw, "eventid").unwrap();
        if !id.starts_with("cowrie.session.file_") {
            continue;
        }
        assert_eq!(e.str("file.hash.sha256"), raw_str(&raw, "shasum"));
        if let Some(hash) = raw_str(&raw, "shasum") {
            assert!(strs(&e, "related.hash").contains(&hash.to_owned()));
        }
        if id.starts_with("cowrie.session.file_download") {
            assert_eq!(e.str("url.original"), raw_str(&raw, "url"));
        }
        let want_outcome = if id.ends_with(".failed") { "failure" } else { "success" };
        assert_eq!(e.str("event.outcome"), Some(want_outcome));
    }
    let wget = one(
        r#"{"eventid":"cowrie.session.file_download","url":"http://192.0.2.7:8000/bins/x86?a=1","outfile":"var/lib/cowrie/downloads/ab","shasum":"ab","duplicate":false,"timestamp":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(wget.str("file.name"), Some("x86"), "file name from the URL path without the query");
}

#[test]
fn port_forwards_keep_the_requested_target_as_destination() {
    let mut domains = BTreeSet::new();
    for (raw, e) in fixture_pairs() {
        if !raw_str(&raw, "eventid").unwrap().starts_with("cowrie.direct-tcpip.") {
            continue;
        }
        let dst = raw_str(&raw, "dst_ip").unwrap();
        assert_eq!(e.str("destination.domain"), Some(dst), "forward target host name");
        assert!(e.get("destination.ip").is_none(), "a host name is not an address");
        assert_eq!(e.get("destination.port").and_then(FieldValue::as_i64), raw["dst_port"].as_i64());
        domains.insert(dst.to_owned());
    }
    assert!(domains.contains("example.com") && domains.contains("db.example"));
}

#[test]
fn tty_log_hash_is_not_a_file_hash() {
    for (raw, e) in fixture_pairs().into_iter().filter(|(r, _)| r["eventid"] == "cowrie.log.closed") {
        assert_eq!(e.str("cowrie.ttylog.shasum"), raw_str(&raw, "shasum"));
        assert!(e.get("file.hash.sha256").is_none() && e.get("related.hash").is_none());
        let ms = raw["duration_ms"].as_i64().unwrap();
        assert_eq!(e.get("event.duration").and_then(FieldValue::as_i64), Some(ms * 1_000_000));
    }
}

#[test]
fn lines_typed_into_programs_are_data_not_command_lines() {
    let mut realms = BTreeSet::new();
    for (raw, e) in fixture_pairs() {
        let Some(realm) = raw_str(&raw, "realm") else { continue };
        if raw_str(&raw, "eventid") == Some("cowrie.command.chpasswd") {
            assert_eq!(e.str("user.target.name"), raw_str(&raw, "username"));
            continue;
        }
        assert_eq!(e.str("cowrie.input.realm"), Some(realm));
        assert_eq!(e.str("cowrie.input.data"), raw_str(&raw, "input"));
        assert!(e.get("process.command_line").is_none(), "typed into {realm}, not run");
        realms.insert(realm.to_owned());
    }
    assert!(realms.contains("passwd") && realms.contains("cat"), "{realms:?}");
}

#[test]
fn plugin_and_proxy_events_map_their_members() {
    // Not producible offline (see testdata/cowrie/SOURCE); written from the emitting code in
    // cowrie/output/{virustotal,abuseipdb,urlhaus}.py and cowrie/ssh_proxy of Cowrie 3.1.4.
    let base = r#""session":"a1b2c3d4e5f6","src_ip":"198.51.100.23","protocol":"ssh","sensor":"hp1","timestamp":"2026-01-01T00:00:00Z""#;
    let vt = one(&format!(
        r#"{{"eventid":"cowrie.virustotal.scanfile","positives":41,"total":66,"scan_date":1767225600,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","scans":{{"avast":{{"detected":"true","result":"elf:mirai-a"}}}},"is_new":"false",{base}}}"#
    ));
    assert_eq!(strs(&vt, "event.category"), ["threat"]);
    assert_eq!(vt.get("cowrie.virustotal.positives").and_then(FieldValue::as_i64), Some(41));
    assert_eq!(vt.get("cowrie.virustotal.is_new"), Some(&FieldValue::Bool(false)));
    assert!(matches!(vt.get("cowrie.virustotal.scans"), Some(FieldValue::Json(_))));
    assert_eq!(strs(&vt, "related.hash").len(), 1);

    let report = one(
        r#"{"eventid":"cowrie.abuseipdb.reportedip","IP":"198.51.100.23","confidence":100,"message":"AbuseIPDB plugin successfully reported 198.51.100.23","sensor":"hp1","timestamp":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(report.get("source.ip").and_then(FieldValue::as_ip), "198.51.100.23".parse().ok());
    assert_eq!(report.get("cowrie.abuseipdb.confidence").and_then(FieldValue::as_i64), Some(100));

    let urlhaus = one(&format!(
        r#"{{"eventid":"cowrie.urlhaus.submitted","url":"http://203.0.113.5/bins.sh","result":"inserted","http_status":200,{base}}}"#
    ));
    assert_eq!(urlhaus.str("url.original"), Some("http://203.0.113.5/bins.sh"));
    assert_eq!(urlhaus.get("http.response.status_code").and_then(FieldValue::as_i64), Some(200));

    let proxy = one(&format!(
        r#"{{"eventid":"cowrie.proxy.backend_connect_error","backend_ip":"192.0.2.10","backend_port":2022,"error":"Connection refused",{base}}}"#
    ));
    assert_eq!(strs(&proxy, "event.type"), ["connection", "error"]);
    assert_eq!(proxy.str("event.outcome"), Some("failure"));
    assert_eq!(proxy.get("cowrie.proxy.backend_port").and_then(FieldValue::as_i64), Some(2022));
    assert_eq!(proxy.str("error.message"), Some("Connection refused"));
    for e in [&vt, &report, &urlhaus, &proxy] {
        assert!(e.fields().iter().all(|(k, _)| !k.starts_with("cowrie.extra")), "every member mapped");
    }
}

#[test]
fn cowrie_2_records_decode_with_their_own_field_layout() {
    // Field layout of Cowrie 2.x: durations in float seconds, an empty sensor, no identity
    // members on most events.
    let closed = one(
        r#"{"eventid":"cowrie.session.closed","duration":50.38083243370056,"message":"Connection lost after 50 seconds","sensor":"","timestamp":"2023-11-30T01:42:57.566448Z","src_ip":"203.0.113.13","session":"651b145b8fb8"}"#,
    );
    assert_eq!(closed.get("event.duration").and_then(FieldValue::as_i64), Some(50_380_832_434));
    assert!(closed.get("observer.hostname").is_none(), "empty sensor is no host name");
    assert_eq!(closed.str("session.id"), Some("651b145b8fb8"), "without a sensor the bare session");
    assert_eq!(strs(&closed, "event.type"), ["connection", "end"]);
}

#[test]
fn unknown_eventids_decode_as_generic_honeypot_events() {
    for (id, action) in
        [("cowrie.future.thing", Some("future.thing")), ("heartbeat", Some("heartbeat")), ("cowrie.", None)]
    {
        let e = one(&json!({"eventid": id, "timestamp": "2026-01-01T00:00:00Z", "x": {"y": 1}}).to_string());
        assert_eq!(e.str("cowrie.eventid"), Some(id));
        assert_eq!(e.str("event.action"), action);
        assert_eq!(strs(&e, "event.category"), ["intrusion_detection"]);
        assert_eq!(e.get("cowrie.extra.x.y").and_then(FieldValue::as_i64), Some(1), "unknown members kept");
    }
}

#[test]
fn bad_records_are_rejected_with_a_precise_reason() {
    let ts = r#""timestamp":"2026-01-01T00:00:00Z""#;
    let cases = [
        ("not json".to_owned(), "invalid JSON: expected ident at line 1 column 2"),
        ("[1,2]".to_owned(), "unexpected shape: expected a JSON object, found an array"),
        (format!("{{{ts}}}"), "missing field `eventid`"),
        (format!(r#"{{"eventid":7,{ts}}}"#), "invalid field `eventid`: expected a string, found a number"),
        (format!(r#"{{"eventid":null,{ts}}}"#), "invalid field `eventid`: expected a string, found null"),
        (format!(r#"{{"eventid":"",{ts}}}"#), "invalid field `eventid`: empty string"),
        (r#"{"eventid":"cowrie.login.failed"}"#.to_owned(), "missing field `timestamp`"),
        (
            r#"{"eventid":"cowrie.login.failed","timestamp":"yesterday"}"#.to_owned(),
            "invalid field `timestamp`: unparseable time \"yesterday\"",
        ),
        (
            r#"{"eventid":"cowrie.login.failed","timestamp":1700000000}"#.to_owned(),
            "invalid field `timestamp`: expected a string, found a number",
        ),
        (
            format!(r#"{{"eventid":"cowrie.session.connect","src_port":70000,{ts}}}"#),
            "invalid field `src_port`: port 70000 is outside 0-65535",
        ),
        (
            format!(r#"{{"eventid":"cowrie.login.failed","username":["root"],{ts}}}"#),
            "invalid field `username`: expected a string, found an array",
        ),
        (
            format!(r#"{{"eventid":"cowrie.session.closed","duration_ms":"soon",{ts}}}"#),
            "invalid field `duration_ms`: expected an integer, found the string \"soon\"",
        ),
        (
            format!(r#"{{"eventid":"cowrie.log.closed","duration":-1.5,{ts}}}"#),
            "invalid field `duration`: expected a non-negative number, found a number",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(reject(&line), want, "{line}");
    }
}

/// The eventids Cowrie emits (its `core/eventids.py` catalogue); everything else is unknown.
const KNOWN: &[&str] = &[
    "cowrie.abuseipdb.ratelimited",
    "cowrie.abuseipdb.reportedip",
    "cowrie.abuseipdb.reportfail",
    "cowrie.abuseipdb.started",
    "cowrie.abuseipdb.wakeup",
    "cowrie.client.fingerprint",
    "cowrie.client.kex",
    "cowrie.client.malformed_packet",
    "cowrie.client.size",
    "cowrie.client.var",
    "cowrie.client.version",
    "cowrie.command.chpasswd",
    "cowrie.command.failed",
    "cowrie.command.input",
    "cowrie.command.success",
    "cowrie.direct-tcpip.data",
    "cowrie.direct-tcpip.ja4",
    "cowrie.direct-tcpip.ja4h",
    "cowrie.direct-tcpip.redirect",
    "cowrie.direct-tcpip.request",
    "cowrie.direct-tcpip.tunnel",
    "cowrie.tunnelproxy-tcpip.data",
    "cowrie.greynoise.result",
    "cowrie.malwarebazaar.submitted",
    "cowrie.log.closed",
    "cowrie.log.open",
    "cowrie.login.failed",
    "cowrie.login.success",
    "cowrie.proxy.backend_connect_error",
    "cowrie.proxy.backend_connected",
    "cowrie.proxy.backend_disconnected",
    "cowrie.proxy.client_disconnect",
    "cowrie.proxy.ssh",
    "cowrie.reversedns.connect",
    "cowrie.reversedns.forward",
    "cowrie.session.closed",
    "cowrie.session.connect",
    "cowrie.session.file_download",
    "cowrie.session.file_download.failed",
    "cowrie.session.file_upload",
    "cowrie.session.input",
    "cowrie.session.params",
    "cowrie.telnet.error",
    "cowrie.telnet.exploit_attempt",
    "cowrie.telnet.exploit_success",
    "cowrie.telnet.option",
    "cowrie.urlhaus.submitted",
    "cowrie.virustotal.scanfile",
    "cowrie.virustotal.scanurl",
];

/// Members every record may carry, mapped for every eventid and therefore type-checked.
const COMMON: &[&str] = &[
    "eventid",
    "timestamp",
    "message",
    "uuid",
    "late",
    "protocol",
    "sensor",
    "session",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn unknown_eventid() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{1,24}",
        "cowrie\\.[a-z_.-]{0,24}",
        "cowrie\\.(session|login|client|proxy|virustotal)\\.[a-z]{1,8}"
    ]
    .prop_filter("not a known eventid", |id| !KNOWN.contains(&id.as_str()))
}

fn decode_line(line: &str) -> (Result<(), DecodeError>, Vec<Event>) {
    let mut out = Vec::new();
    let result = CowrieDecoder.decode(line, &ctx(), &mut out);
    (result, out)
}

proptest! {
    #[test]
    fn arbitrary_text_decodes_or_is_rejected_with_a_typed_error(line in prop_oneof![
        any::<String>(),
        json_value().prop_map(|v| v.to_string()),
        (json_value(), any::<bool>()).prop_map(|(v, known)| {
            let mut m = Map::new();
            m.insert("eventid".into(), json!(if known { "cowrie.login.failed" } else { "x" }));
            m.insert("timestamp".into(), json!("2026-01-01T00:00:00Z"));
            m.insert("username".into(), v.clone());
            m.insert("src_port".into(), v);
            Value::Object(m).to_string()
        }),
    ]) {
        let (result, out) = decode_line(&line);
        match result {
            Ok(()) => prop_assert_eq!(out.len(), 1),
            Err(e) => {
                prop_assert!(out.is_empty());
                prop_assert!(matches!(e.label(), "json" | "shape" | "missing_field" | "invalid_field"), "{e}");
            }
        }
    }

    #[test]
    fn any_object_with_an_unknown_eventid_is_a_generic_honeypot_event(
        members in proptest::collection::btree_map(".{0,10}", json_value(), 0..8),
        eventid in unknown_eventid(),
    ) {
        let mut obj: Map<String, Value> =
            members.into_iter().filter(|(k, _)| !COMMON.contains(&k.as_str())).collect();
        obj.insert("eventid".into(), json!(eventid));
        obj.insert("timestamp".into(), json!("2026-01-01T12:00:00.5Z"));
        let (result, out) = decode_line(&Value::Object(obj).to_string());
        prop_assert!(result.is_ok(), "{result:?}");
        let e = &out[0];
        prop_assert_eq!(e.str("cowrie.eventid"), Some(eventid.as_str()));
        let action = eventid.strip_prefix("cowrie.").unwrap_or(&eventid);
        prop_assert_eq!(e.str("event.action"), Some(action).filter(|a| !a.is_empty()));
        prop_assert_eq!(strs(e, "event.category"), ["intrusion_detection"]);
        prop_assert_eq!(e.str("observer.product"), Some("cowrie"));
    }

    #[test]
    fn a_common_member_of_the_wrong_type_names_itself(
        key in proptest::sample::select(&["message", "sensor", "session", "src_ip", "dst_ip", "protocol", "uuid"][..]),
        value in json_value().prop_filter("not text", |v| !v.is_string() && !v.is_null()),
    ) {
        let line = json!({"eventid": "cowrie.session.connect", "timestamp": "2026-01-01T00:00:00Z", key: value});
        let (result, _) = decode_line(&line.to_string());
        let Err(DecodeError::InvalidField { field, .. }) = result else {
            return Err(TestCaseError::fail(format!("accepted {line}")));
        };
        prop_assert_eq!(field, key);
    }
}
