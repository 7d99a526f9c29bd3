//! Tests of the json decoder: ECS-shaped documents without a mapping, the example mappings end
//! to end, mapping-file errors, rejections, and properties over arbitrary input.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use ward_decode::run::{Collect, RunOptions, decode_bytes};
use ward_decode::sources::json::JsonDecoder;
use ward_decode::{BuildError, SourceKind};
use ward_model::{Event, FieldValue};

use crate::common::{as_json, ctx, decode, fixture};

/// Decodes `data` with a decoder built from mapping text.
fn mapped(mapping: &str, data: &str) -> Collect {
    let decoder = JsonDecoder::from_mapping_str(mapping, "test.yaml").expect("mapping compiles");
    run(&decoder, data)
}

fn run(decoder: &JsonDecoder, data: &str) -> Collect {
    let mut sink = Collect::default();
    decode_bytes(
        decoder,
        "test-input",
        data.as_bytes(),
        &RunOptions::fixed(SourceKind::Json, ctx()),
        &mut sink,
    );
    sink
}

/// Decodes a committed example: `testdata/json/<name>.jsonl` through `<name>.yaml`, built the
/// way the CLI builds it (`SourceKind::build` with `--mapping`).
fn example(name: &str) -> Collect {
    let decoder = SourceKind::Json
        .build(Some(&fixture(&format!("json/{name}.yaml"))))
        .expect("example mapping compiles");
    let data = std::fs::read_to_string(fixture(&format!("json/{name}.jsonl"))).expect("example events");
    let mut sink = Collect::default();
    decode_bytes(
        decoder.as_ref(),
        name,
        data.as_bytes(),
        &RunOptions::fixed(SourceKind::Json, ctx()),
        &mut sink,
    );
    sink
}

fn text<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.str(path)
}

fn ip(e: &Event, path: &str) -> Option<String> {
    e.get(path).and_then(FieldValue::as_ip).map(|i| i.to_string())
}

fn strings(e: &Event, path: &str) -> Vec<String> {
    match e.get(path) {
        Some(FieldValue::List(items)) => items.iter().map(ToString::to_string).collect(),
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

/// Snapshots without `event.original` (the input itself).
fn snapshot_values(c: &Collect) -> Vec<Value> {
    let mut events = as_json(c);
    for e in &mut events {
        if let Some(event) = e.get_mut("event").and_then(Value::as_object_mut) {
            event.remove("original");
        }
    }
    events
}

#[test]
fn ecs_documents_are_copied_at_their_paths() {
    let data = std::fs::read_to_string(fixture("json/ecs_documents.jsonl")).expect("fixture");
    let out = decode(SourceKind::Json, data.as_bytes());
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    let [alert, host, bare] = &out.events[..] else { panic!("3 events, got {}", out.events.len()) };
    assert_eq!(alert.timestamp().to_rfc3339(), "2024-03-13T11:00:00.250+00:00");
    assert_eq!(ip(alert, "source.ip").as_deref(), Some("203.0.113.9"), "addresses are typed");
    assert_eq!(alert.get("source.port").and_then(FieldValue::as_i64), Some(51544));
    assert_eq!(text(alert, "network.transport"), Some("tcp"), "dotted keys are paths");
    assert_eq!(strings(alert, "related.ip"), ["203.0.113.9", "10.0.0.5"], "no duplicates");
    assert!(alert.get("@timestamp").is_none() && alert.get("event.ingested").is_none());
    assert_eq!(host.timestamp().timestamp(), 1_710_327_600, "`timestamp` in Unix seconds");
    assert_eq!(strings(host, "host.ip"), ["10.0.0.7", "fe80::1"]);
    assert!(host.get("timestamp").is_none(), "the time field is consumed");
    assert_eq!(host.tenant(), "default", "a document cannot set ward.*");
    assert_eq!(bare.timestamp(), ctx().now);
    assert_eq!(text(bare, "event.ingested"), Some("2026-01-15T00:00:00Z"), "fallback time is marked");
    insta::assert_json_snapshot!("ecs_documents", snapshot_values(&out));
}

#[test]
fn ecs_mode_rejects_what_it_cannot_represent() {
    let cases = [
        ("[[1]]", "unexpected shape: expected a JSON object, found an array"),
        ("\"text\"", "unexpected shape: expected a JSON object, found a string"),
        ("{\"a\":1,", "invalid JSON"),
        (r#"{"user":"bob","user.name":"x"}"#, "invalid field `user.name`: conflicts with field `user`"),
        (r#"{"a..b":1}"#, "invalid field `a..b`: empty path segment in key"),
        (r#"{"event":"login"}"#, "invalid field `event`: conflicts with field `event.original`"),
        (r#"{"@timestamp":"noon"}"#, r#"invalid field `@timestamp`: "noon" does not match the time format"#),
        (r#"{"@timestamp.x":1}"#, "invalid field `@timestamp.x`: @timestamp cannot have fields under it"),
    ];
    for (record, reason) in cases {
        let out = decode(SourceKind::Json, record.as_bytes());
        assert_eq!(out.rejections.len(), 1, "{record}: {:?}", out.events);
        assert!(out.rejections[0].reason.starts_with(reason), "{record}: {}", out.rejections[0].reason);
    }
}

#[test]
fn github_audit_log_example() {
    let out = example("github_audit");
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    assert_eq!(out.events.len(), 4);
    let destroy = &out.events[0];
    assert_eq!(destroy.timestamp().to_rfc3339(), "2024-03-13T10:09:11.123+00:00", "unix_ms");
    assert_eq!(
        text(destroy, "event.created"),
        Some("2024-03-13T10:09:11.123Z"),
        "type: date, exact milliseconds"
    );
    assert_eq!(text(destroy, "event.action"), Some("repo.destroy"));
    assert_eq!(strings(destroy, "event.type"), ["deletion"], "value map with list values");
    assert_eq!(text(destroy, "user.id"), Some("9919"), "type: string");
    assert_eq!(strings(destroy, "related.user"), ["mona-admin"]);
    assert_eq!(ip(destroy, "source.ip").as_deref(), Some("198.51.100.77"));
    assert_eq!(text(destroy, "organization.name"), Some("octo-corp-eng"), "first present alternative");
    assert_eq!(text(destroy, "github.repo"), Some("octo-corp-eng/payments-legacy"), "keep_unmapped");
    assert_eq!(destroy.get("github.public_repo"), Some(&FieldValue::Bool(false)));
    assert!(
        destroy.get("github.actor").is_none() && destroy.get("github.actor_location.country_code").is_none()
    );
    let member = &out.events[1];
    assert_eq!(text(member, "user.target.name"), Some("contractor-jdoe"));
    assert_eq!(strings(member, "related.user"), ["mona-admin", "contractor-jdoe"]);
    let policy = &out.events[3];
    assert_eq!(text(policy, "organization.name"), Some("octo-corp"), "falls back to `business`");
    assert!(policy.get("source.ip").is_none(), "absent optional fields stay absent");
    insta::assert_json_snapshot!("github_audit", snapshot_values(&out));
}

#[test]
fn okta_system_log_example() {
    let out = example("okta_system_log");
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    assert_eq!(out.events.len(), 4);
    let [ok, failed, reset, app] = &out.events[..] else { unreachable!() };
    assert_eq!(strings(ok, "event.category"), ["authentication", "session"]);
    assert_eq!(text(ok, "event.outcome"), Some("success"));
    assert_eq!(text(failed, "event.outcome"), Some("failure"));
    assert_eq!(text(failed, "event.reason"), Some("INVALID_CREDENTIALS"));
    assert_eq!(failed.get("source.as.number").and_then(FieldValue::as_i64), Some(64511));
    assert_eq!(failed.get("okta.securityContext.isProxy"), Some(&FieldValue::Bool(true)));
    assert_eq!(text(reset, "user.target.name"), Some("alice@example.com"), "array index in a source path");
    assert_eq!(text(reset, "log.level"), Some("warning"));
    assert!(app.get("event.category").is_none(), "unmatched: drop");
    assert_eq!(text(app, "event.action"), Some("application.lifecycle.update"));
    assert!(app.get("okta.target").is_some(), "arrays read by index are still kept whole");
    insta::assert_json_snapshot!("okta_system_log", snapshot_values(&out));
}

#[test]
fn crowdstrike_detection_example() {
    let out = example("crowdstrike_detection");
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    let first = &out.events[0];
    assert_eq!(text(first, "event.kind"), Some("alert"));
    assert_eq!(first.get("process.pid").and_then(FieldValue::as_i64), Some(112_233_445_566));
    assert_eq!(text(first, "event.start"), Some("2024-03-13T10:14:55Z"), "type: date from Unix seconds");
    assert_eq!(ip(first, "host.ip").as_deref(), Some("10.20.30.41"));
    assert_eq!(strings(first, "related.hash").len(), 3);
    assert_eq!(
        first.get("crowdstrike.event.PatternDispositionFlags.KillProcess"),
        Some(&FieldValue::Bool(true))
    );
    assert!(first.get("crowdstrike.event.CommandLine").is_none());
    assert!(out.events[1].get("event.end").is_none(), "a map value of null writes nothing");
    insta::assert_json_snapshot!("crowdstrike_detection", snapshot_values(&out));
}

#[test]
fn mapped_records_are_rejected_naming_the_field() {
    let okta = std::fs::read_to_string(fixture("json/okta_system_log.yaml")).expect("mapping");
    let cases = [
        (r#"{"published":"2024-03-13T10:02:11Z","eventType":"x"}"#, "missing field `uuid`"),
        (r#"{"uuid":"u","eventType":"x"}"#, "missing field `published`"),
        (
            r#"{"uuid":"u","eventType":"x","published":"13/03/2024"}"#,
            r#"invalid field `published`: "13/03/2024" does not match the time format"#,
        ),
        (
            r#"{"uuid":"u","eventType":"x","published":"2024-03-13T10:02:11Z","client":{"ipAddress":"unknown"}}"#,
            r#"invalid field `client.ipAddress`: expected an IP address, found "unknown""#,
        ),
        (
            r#"{"uuid":"u","eventType":"x","published":"2024-03-13T10:02:11Z","securityContext":{"asNumber":"AS1"}}"#,
            r#"invalid field `securityContext.asNumber`: expected an integer, found "AS1""#,
        ),
        ("[[1]]", "unexpected shape: expected a JSON object, found an array"),
    ];
    for (record, reason) in cases {
        let out = mapped(&okta, record);
        assert_eq!(out.rejections.len(), 1, "{record}");
        assert_eq!(out.rejections[0].reason, reason, "{record}");
    }
}

fn mapping_error(yaml: &str) -> String {
    match JsonDecoder::from_mapping_str(yaml, "m.yaml") {
        Err(BuildError::Mapping { path, reason }) => {
            assert_eq!(path, "m.yaml");
            reason
        }
        Err(other) => panic!("wrong error kind {other}"),
        Ok(_) => panic!("mapping accepted:\n{yaml}"),
    }
}

#[test]
fn mapping_file_errors_name_the_line_and_key() {
    let cases = [
        ("dataset: d\nfieldz: {}\n", "line 2"),
        ("dataset: d\nfields:\n  source.ip: { from: ip, type: ipv4 }\n", "unknown variant `ipv4`"),
        ("fields: {}\n", "missing field `dataset`"),
        ("dataset: d\ntimestamp: { field: t, format: iso }\n", "line 2: timestamp: unknown format \"iso\""),
        ("dataset: d\ntimestamp: { field: t, format: \"%Q\" }\n", "invalid strftime pattern"),
        (
            "dataset: d\nfields:\n  a: x\n  user: y\n  user.name: on\n",
            "line 5: fields.user.name: `user.name` conflicts with `user`",
        ),
        (
            "dataset: d\nconstants:\n  event.kind: alert\nfields:\n  event.kind: k\n",
            "line 5: fields.event.kind: `event.kind` is already set by constants",
        ),
        ("dataset: d\nfields:\n  \"@timestamp\": t\n", "@timestamp comes from the `timestamp:` section"),
        ("dataset: d\nfields:\n  ward.tenant: t\n", "conflicts with `ward`"),
        ("dataset: d\nfields:\n  event.dataset: t\n", "`event.dataset` is already set by Ward"),
        ("dataset: d\nfields:\n  a..b: t\n", "fields.a..b: \"a..b\" has an empty segment"),
        ("dataset: d\nfields:\n  a: \"x..y\"\n", "fields.a: \"x..y\" has an empty segment"),
        ("dataset: d\nrequired: [ok, \"\"]\n", "required: empty path"),
        (
            "dataset: d\nconstants:\n  labels: { a: 1 }\n",
            "constants.labels: expected a scalar or a list of scalars",
        ),
        (
            "dataset: d\nfields:\n  okta.x: y\nkeep_unmapped: okta\n",
            "keep_unmapped: `okta` conflicts with `okta.x`",
        ),
        (
            "dataset: d\nfields:\n  n: { from: x, type: int, default: many }\n",
            "fields.n: default: expected an integer, found \"many\"",
        ),
        ("dataset: d\nfields:\n  n: { from: x, unmatched: drop }\n", "fields.n: `unmatched` needs a `map`"),
        ("dataset: \"  \"\n", "dataset: must not be empty"),
        ("dataset: d\ntimestamp: { field: t, timezone: Mars }\n", "timezone \"Mars\""),
        ("dataset: [d\n", "line 1"),
    ];
    for (yaml, want) in cases {
        let reason = mapping_error(yaml);
        assert!(reason.contains(want), "mapping:\n{yaml}\nwanted {want:?} in: {reason}");
        assert!(!reason.contains('\n'), "one-line reason: {reason}");
    }
}

#[test]
fn unreadable_mapping_file_names_the_file() {
    let missing = Path::new("/nonexistent/ward/mapping.yaml");
    match JsonDecoder::from_mapping_file(Some(missing)) {
        Err(e @ BuildError::Mapping { .. }) => {
            let msg = e.to_string();
            assert!(msg.starts_with("mapping file /nonexistent/ward/mapping.yaml: cannot read"), "{msg}");
        }
        other => panic!("expected a mapping error, got {other:?}"),
    }
}

#[test]
fn defaults_maps_and_fallbacks_apply() {
    let yaml = r#"
dataset: app.audit
timestamp: { field: when, format: "%d/%m/%Y %H:%M:%S", timezone: "+01:00" }
fields:
  event.outcome: { from: status, map: { 200: success, "403": failure, on: maybe }, unmatched: default, default: unknown }
  event.severity: { from: level, type: int, default: 0 }
  labels.ok: { from: ok, type: bool }
"#;
    let out = mapped(
        yaml,
        "{\"when\":\"13/03/2024 12:00:00\",\"status\":403,\"ok\":\"yes\"}\n{\"status\":500}\n{\"status\":\"200\"}\n{\"status\":\"on\"}",
    );
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    let [first, second, ok, on] = &out.events[..] else { unreachable!() };
    assert_eq!(
        first.timestamp().to_rfc3339(),
        "2024-03-13T11:00:00+00:00",
        "pattern in the configured offset"
    );
    assert_eq!(text(first, "event.outcome"), Some("failure"), "numbers are looked up by their text");
    assert_eq!(first.get("event.severity").and_then(FieldValue::as_i64), Some(0), "default when absent");
    assert_eq!(first.get("labels.ok"), Some(&FieldValue::Bool(true)));
    assert_eq!(text(second, "event.outcome"), Some("unknown"), "unmatched: default");
    assert_eq!(text(second, "event.ingested"), Some("2026-01-15T00:00:00Z"), "fallback: now is marked");
    assert_eq!(text(second, "event.dataset"), Some("app.audit"));
    assert_eq!(text(ok, "event.outcome"), Some("success"), "unquoted YAML number keys are text");
    assert_eq!(text(on, "event.outcome"), Some("maybe"), "`on` is text, not a YAML 1.1 boolean");
}

#[test]
fn object_sources_copy_their_leaves_and_are_consumed() {
    let yaml = "dataset: d\nfields:\n  source.geo: client.geo\nkeep_unmapped: raw\n";
    let out = mapped(
        yaml,
        r#"{"client":{"geo":{"city":"Lyon","loc":{"lat":45.5}},"ip":"198.51.100.1"},"k8s.io/app":"web"}"#,
    );
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    let e = &out.events[0];
    assert_eq!(text(e, "source.geo.city"), Some("Lyon"));
    assert_eq!(e.get("source.geo.loc.lat"), Some(&FieldValue::Float(45.5)));
    assert_eq!(text(e, "raw.client.ip"), Some("198.51.100.1"), "siblings of a read object are kept");
    assert!(e.get("raw.client.geo.city").is_none(), "a read object is consumed whole");
    assert_eq!(text(e, "raw.k8s_io/app"), Some("web"), "a dotted key stays one segment");
}

/// A field name for generated flat objects: plain words, some with characters that matter in
/// paths (`-`, `@`, `_`), never a dot (dots address nested fields).
fn field_name() -> impl Strategy<Value = String> {
    "[a-z@_-][a-z0-9@_-]{0,10}".prop_filter("not a time field", |k| k != "@timestamp" && k != "timestamp")
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        (-1.0e9..1.0e9f64).prop_map(Value::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// For any flat object and a mapping that renames every field, each field ends up at its
    /// target path with the same value, and with keep_unmapped nothing is copied twice.
    #[test]
    fn renamed_fields_keep_their_values(obj in proptest::collection::btree_map(field_name(), scalar(), 1..12)) {
        let mut yaml = String::from("dataset: prop\nfields:\n");
        for (i, k) in obj.keys().enumerate() {
            yaml.push_str(&format!("  mapped.f{i}: {}\n", serde_json::to_string(k).expect("key")));
        }
        yaml.push_str("keep_unmapped: rest\n");
        let record = serde_json::to_string(&obj).expect("record");
        let parsed: BTreeMap<String, Value> = serde_json::from_str(&record).expect("record parses");
        let out = mapped(&yaml, &record);
        prop_assert!(out.rejections.is_empty(), "{:?}", out.rejections);
        prop_assert_eq!(out.events.len(), 1);
        let e = &out.events[0];
        for (i, v) in parsed.values().enumerate() {
            prop_assert_eq!(e.get(&format!("mapped.f{i}")).cloned(), FieldValue::from_json(v.clone()));
        }
        prop_assert!(e.fields().iter().all(|(k, _)| !k.starts_with("rest.")), "every field was mapped");
    }

    /// With keep_unmapped and no field rules, every field of a flat object is kept.
    #[test]
    fn unmapped_fields_are_kept(obj in proptest::collection::btree_map(field_name(), scalar(), 0..12)) {
        let record = serde_json::to_string(&obj).expect("record");
        let parsed: BTreeMap<String, Value> = serde_json::from_str(&record).expect("record parses");
        let out = mapped("dataset: prop\nkeep_unmapped: raw\n", &record);
        prop_assert_eq!(out.events.len(), 1);
        for (k, v) in &parsed {
            prop_assert_eq!(out.events[0].get(&format!("raw.{k}")).cloned(), FieldValue::from_json(v.clone()));
        }
    }

    /// Arbitrary text never panics, with or without a mapping.
    #[test]
    fn arbitrary_text_is_decoded_or_rejected(s in ".{0,200}") {
        let plain = decode(SourceKind::Json, s.as_bytes());
        let okta = std::fs::read_to_string(fixture("json/okta_system_log.yaml")).expect("mapping");
        let with_mapping = mapped(&okta, &s);
        for r in plain.rejections.iter().chain(&with_mapping.rejections) {
            prop_assert!(!r.reason.is_empty());
        }
    }

    /// Arbitrary two-level documents decode in ECS mode with every leaf at its dotted path.
    #[test]
    fn ecs_documents_keep_leaves(doc in proptest::collection::btree_map(field_name(), proptest::collection::btree_map(field_name(), scalar(), 0..4), 0..6)) {
        let text = serde_json::to_string(&doc).expect("doc");
        let doc: BTreeMap<String, BTreeMap<String, Value>> = serde_json::from_str(&text).expect("doc parses");
        let out = decode(SourceKind::Json, text.as_bytes());
        prop_assert!(out.rejections.is_empty(), "{:?}", out.rejections);
        prop_assert_eq!(out.events.len(), 1);
        let flat: BTreeMap<String, &Value> = doc.iter().flat_map(|(k, inner)| inner.iter().map(move |(j, v)| (format!("{k}.{j}"), v))).collect();
        for e in &out.events {
            for (path, v) in &flat {
                if path.starts_with("ward.") || path == "event.original" || v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()) {
                    continue;
                }
                prop_assert_eq!(e.get(path).cloned(), FieldValue::from_json((*v).clone()), "{}", path);
            }
        }
    }
}

#[test]
fn compiles_a_mapping_once_and_reuses_it() {
    let decoder =
        JsonDecoder::from_mapping_str("dataset: d\nfields:\n  user.name: u\n", "m.yaml").expect("compiles");
    let input: String = (0..1000).map(|i| format!("{{\"u\":\"user{i}\"}}\n")).collect();
    let out = run(&decoder, &input);
    assert_eq!(out.events.len(), 1000);
    assert_eq!(text(&out.events[999], "user.name"), Some("user999"));
}
