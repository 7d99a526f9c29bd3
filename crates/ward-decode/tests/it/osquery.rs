//! Tests of the osquery decoder: the Panther corpus, every log shape, table mappings,
//! rejections and arbitrary input.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::{Value, json};
use ward_decode::SourceKind;
use ward_model::{Event, FieldValue};

use crate::common::{as_json, decode, decode_paths, fixture};

fn osquery(data: &str) -> ward_decode::Collect {
    decode(SourceKind::Osquery, data.as_bytes())
}

fn text<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.str(path)
}

fn list(e: &Event, path: &str) -> Vec<String> {
    match e.get(path) {
        Some(FieldValue::List(items)) => items.iter().map(ToString::to_string).collect(),
        other => panic!("{path} is not a list: {other:?}"),
    }
}

/// The `event` objects of the shared Panther corpus, one JSON text per line.
fn panther_records() -> Option<Vec<Value>> {
    let path = ward_testkit::shared("hostlogs/osquery_panther_tests/osquery_events.jsonl")?;
    let text = std::fs::read_to_string(path).expect("shared osquery corpus readable");
    Some(
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("corpus line is JSON")["event"].clone())
            .collect(),
    )
}

/// Checks one decoded differential event against its raw record.
fn check_against_raw(raw: &Value, e: &Event) {
    let host = raw.get("hostIdentifier").and_then(Value::as_str);
    assert_eq!(text(e, "host.name"), host, "host.name of {raw}");
    assert_eq!(text(e, "osquery.query_name"), raw["name"].as_str());
    assert_eq!(text(e, "osquery.action"), raw["action"].as_str());
    if text(e, "osquery.table") != Some("last") {
        assert_eq!(text(e, "event.action"), raw["action"].as_str(), "event.action of {raw}");
    }
    for (column, value) in raw["columns"].as_object().expect("columns object") {
        let want = FieldValue::from_json(value.clone());
        assert_eq!(e.get(&format!("osquery.columns.{column}")), want.as_ref(), "column {column} of {raw}");
    }
    let row_time = text(e, "osquery.table") == Some("last") && raw["columns"].get("time").is_some();
    let has_time = raw.get("unixTime").is_some() || raw.get("calendarTime").is_some() || row_time;
    assert_eq!(
        e.get("event.ingested").is_none(),
        has_time,
        "fallback time marked only when the record has none"
    );
}

#[test]
fn panther_corpus_decodes_without_rejections_and_keeps_every_column() {
    let Some(records) = panther_records() else { return };
    assert_eq!(records.len(), 37);
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let out = osquery(&input);
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    assert_eq!(out.events.len(), records.len(), "one event per differential record");
    for (raw, e) in records.iter().zip(&out.events) {
        check_against_raw(raw, e);
    }
}

#[test]
fn panther_corpus_gets_ecs_fields_for_known_tables() {
    let Some(records) = panther_records() else { return };
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let out = osquery(&input);
    for (raw, e) in records.iter().zip(&out.events) {
        let cols = &raw["columns"];
        match text(e, "osquery.table") {
            Some("shell_history" | "crontab") => {
                assert_eq!(text(e, "process.command_line"), cols["command"].as_str(), "{raw}");
            }
            Some("logged_in_users" | "last") => {
                assert_eq!(
                    e.get("source.ip").and_then(FieldValue::as_ip).map(|ip| ip.to_string()).as_deref(),
                    cols["host"].as_str()
                );
                let user = cols.get("user").or(cols.get("username")).and_then(Value::as_str);
                assert_eq!(text(e, "user.name"), user);
            }
            Some("processes") => {
                assert_eq!(e.get("process.pid").and_then(FieldValue::as_i64), cols["pid"].as_i64())
            }
            Some("deb_packages" | "rpm_packages") => {
                assert_eq!(text(e, "package.name"), cols["name"].as_str());
                assert_eq!(text(e, "package.version"), cols["version"].as_str());
            }
            Some("listening_ports") => {
                let port: i64 = cols["port"].as_str().and_then(|p| p.parse().ok()).expect("port");
                assert_eq!(e.get("destination.port").and_then(FieldValue::as_i64), Some(port));
            }
            _ => {}
        }
    }
}

#[test]
fn committed_panther_excerpt_snapshot() {
    let (out, summary) = decode_paths(SourceKind::Osquery, &[fixture("osquery/panther_events.jsonl")]);
    assert_eq!((summary.decoded(), summary.rejected()), (37, 0));
    insta::assert_json_snapshot!("panther_events", without_original(as_json(&out)));
}

#[test]
fn every_log_shape_snapshot() {
    let (out, summary) = shapes();
    assert_eq!(summary.rejected(), 0, "{:?}", out.rejections);
    // 3 batch rows + 3 snapshot rows + 10 single-row records + 1 status log + 1 pretty record.
    assert_eq!(summary.decoded(), 18);
    insta::assert_json_snapshot!("shapes", without_original(as_json(&out)));
}

/// The hand-written records of every shape: NDJSON plus one pretty-printed record.
fn shapes() -> (ward_decode::Collect, ward_decode::Summary) {
    decode_paths(SourceKind::Osquery, &[fixture("osquery/shapes.jsonl"), fixture("osquery/last_pretty.json")])
}

/// Drops `event.original` (the input itself) so snapshots show only what the decoder added.
fn without_original(mut events: Vec<Value>) -> Vec<Value> {
    for e in &mut events {
        if let Some(event) = e.get_mut("event").and_then(Value::as_object_mut) {
            event.remove("original");
        }
    }
    events
}

fn batch(added: usize, removed: usize) -> String {
    let row = |i: usize| json!({"pid": i.to_string(), "name": format!("p{i}"), "path": format!("/bin/p{i}"), "cmdline": format!("p{i} --run")});
    json!({
        "name": "pack_ir_processes", "hostIdentifier": "h1", "unixTime": 1_700_000_000, "epoch": 0, "counter": 1,
        "diffResults": {"added": (0..added).map(row).collect::<Vec<_>>(), "removed": (0..removed).map(|i| row(100 + i)).collect::<Vec<_>>()}
    })
    .to_string()
}

#[test]
fn batch_with_n_rows_gives_n_events_with_distinct_ids_and_lifecycle_types() {
    let out = osquery(&batch(5, 3));
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    assert_eq!(out.events.len(), 8);
    let ids: HashSet<String> = out.events.iter().map(|e| e.id().to_string()).collect();
    assert_eq!(ids.len(), 8, "ids are distinct");
    for (i, e) in out.events.iter().enumerate() {
        let (action, kind) = if i < 5 { ("added", "start") } else { ("removed", "end") };
        assert_eq!(text(e, "osquery.action"), Some(action));
        assert_eq!(list(e, "event.type"), [kind]);
        assert_eq!(list(e, "event.category"), ["process"]);
        assert_eq!(e.original(), batch(5, 3), "every row keeps the whole record");
        assert_eq!(e.timestamp().timestamp(), 1_700_000_000);
    }
    assert_eq!(text(&out.events[5], "process.name"), Some("p100"));
    assert!(osquery(&batch(0, 0)).events.is_empty(), "an empty batch has no rows to report");
}

#[test]
fn snapshot_rows_are_state_events() {
    let rec = json!({"snapshot": [{"uid": "0", "username": "root"}, {"uid": "1000", "username": "alice"}],
        "action": "snapshot", "name": "users", "hostIdentifier": "h", "unixTime": "1700000000"});
    let out = osquery(&rec.to_string());
    assert_eq!(out.events.len(), 2);
    for (e, user) in out.events.iter().zip(["root", "alice"]) {
        assert_eq!(text(e, "event.kind"), Some("state"));
        assert_eq!(list(e, "event.type"), ["user", "info"]);
        assert_eq!(text(e, "user.name"), Some(user));
        assert_eq!(list(e, "related.user"), [user]);
    }
    assert_ne!(out.events[0].id(), out.events[1].id());
}

#[test]
fn evented_tables_take_the_row_time_and_keep_the_log_time_as_created() {
    let (out, _) = shapes();
    let exec = out
        .events
        .iter()
        .find(|e| text(e, "osquery.table") == Some("process_events"))
        .expect("process_events row");
    assert_eq!(exec.timestamp().timestamp(), 1_710_321_161, "row `time`");
    assert_eq!(text(exec, "event.created"), Some("2024-03-13T09:12:50Z"), "log unixTime");
    assert_eq!(text(exec, "event.action"), Some("execve"));
    assert_eq!(text(exec, "process.name"), Some("curl"), "derived from process.executable");
    assert_eq!(exec.get("process.parent.pid").and_then(FieldValue::as_i64), Some(31337));
    let file =
        out.events.iter().find(|e| text(e, "osquery.table") == Some("file_events")).expect("file_events row");
    assert_eq!(list(file, "event.type"), ["creation"]);
    assert_eq!(text(file, "file.directory"), Some("/etc/cron.d"));
    assert_eq!(file.get("file.size").and_then(FieldValue::as_i64), Some(52), "numerics: true values");
    assert_eq!(text(file, "file.hash.sha256").map(str::len), Some(64));
}

#[test]
fn sockets_map_to_source_and_destination() {
    let (out, _) = shapes();
    let open: Vec<&Event> =
        out.events.iter().filter(|e| text(e, "osquery.table") == Some("process_open_sockets")).collect();
    assert_eq!(open.len(), 2);
    let ip = |e: &Event, p: &str| e.get(p).and_then(FieldValue::as_ip).map(|i| i.to_string());
    assert_eq!(ip(open[0], "source.ip").as_deref(), Some("10.0.4.17"));
    assert_eq!(ip(open[0], "destination.ip").as_deref(), Some("198.51.100.23"));
    assert_eq!(open[0].get("destination.port").and_then(FieldValue::as_i64), Some(4444));
    assert_eq!(text(open[0], "network.transport"), Some("tcp"));
    assert!(open[1].get("destination.ip").is_none(), "an unconnected socket has no peer");
    assert!(open[1].get("destination.port").is_none());
}

#[test]
fn host_identifier_that_is_a_uuid_is_also_host_id() {
    let (out, _) = shapes();
    let first = &out.events[0];
    assert_eq!(text(first, "host.id"), text(first, "host.name"));
    assert_eq!(text(first, "host.hostname"), Some("web-01.corp.example"), "hostname decoration");
}

#[test]
fn status_logs_become_agent_diagnostics() {
    let (out, _) = shapes();
    let status =
        out.events.iter().find(|e| text(e, "event.dataset") == Some("osquery.status")).expect("status log");
    assert_eq!(text(status, "log.level"), Some("warning"));
    assert_eq!(status.get("log.origin.file.line").and_then(FieldValue::as_i64), Some(83));
    assert!(text(status, "message").is_some_and(|m| m.starts_with("Scheduled query")));
}

#[test]
fn bad_records_are_rejected_naming_the_field() {
    let cases = [
        ("[[1]]", "unexpected shape: expected a JSON object, found an array"),
        (r#"{"columns":{},"action":"added"}"#, "missing field `name`"),
        (
            r#"{"name":"q","action":"added"}"#,
            "unexpected shape: not an osquery result log: none of `columns`, `diffResults`, `snapshot`",
        ),
        (r#"{"name":"q","columns":{}}"#, "missing field `action`"),
        (
            r#"{"name":"q","columns":[],"action":"added"}"#,
            "invalid field `columns`: expected an object, found an array",
        ),
        (
            r#"{"name":"q","columns":{},"action":"modified"}"#,
            r#"invalid field `action`: expected "added" or "removed", found "modified""#,
        ),
        (
            r#"{"name":"q","columns":{},"action":"added","unixTime":"yesterday"}"#,
            r#"invalid field `unixTime`: expected Unix seconds, found "yesterday""#,
        ),
        (
            r#"{"name":"q","columns":{},"action":"added","hostIdentifier":7}"#,
            "invalid field `hostIdentifier`: expected a string, found a number",
        ),
        (
            r#"{"name":"q","diffResults":{"added":[{},"x"]}}"#,
            r#"invalid field `diffResults.added[1]`: expected an object, found "x""#,
        ),
        (
            r#"{"name":"processes","columns":{"pid":"abc"},"action":"added"}"#,
            r#"invalid field `columns.pid`: expected an integer, found "abc""#,
        ),
        (
            r#"{"name":"process_events","snapshot":[{"time":"noon"}]}"#,
            r#"invalid field `snapshot[0].time`: expected an integer, found "noon""#,
        ),
    ];
    for (record, reason) in cases {
        let out = osquery(record);
        assert_eq!(out.rejections.len(), 1, "{record}");
        assert_eq!(out.rejections[0].reason, reason, "{record}");
        assert!(out.events.is_empty(), "a rejected record yields no event: {record}");
    }
}

#[test]
fn pretty_printed_login_uses_the_utmp_time() {
    let (out, _) = shapes();
    let login = out.events.iter().find(|e| text(e, "osquery.table") == Some("last")).expect("last row");
    assert_eq!(login.timestamp().timestamp(), 1_710_322_150);
    assert_eq!(text(login, "event.action"), Some("user-login"));
    assert_eq!(list(login, "event.type"), ["start"]);
    assert_eq!(
        login.get("source.ip").and_then(FieldValue::as_ip).map(|i| i.to_string()).as_deref(),
        Some("192.0.2.44")
    );
}

#[test]
fn odd_column_names_stay_one_segment_and_read_back() {
    let out = osquery(
        r#"{"name":"q","columns":{"p.pid":"1","":"x","a":{"b.c":"2"}},"action":"added","decorations":{"k.v":"d"}}"#,
    );
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    let e = &out.events[0];
    assert_eq!(text(e, "osquery.columns.p_pid"), Some("1"));
    assert_eq!(text(e, "osquery.columns._"), Some("x"));
    assert_eq!(text(e, "osquery.columns.a.b_c"), Some("2"));
    assert_eq!(text(e, "osquery.decorations.k_v"), Some("d"));
    let back = Event::from_json(serde_json::to_value(e).expect("serializes")).expect("reads back");
    assert_eq!(&back, e);
}

#[test]
fn records_without_time_use_the_run_time_and_say_so() {
    let out = osquery(r#"{"name":"q","columns":{"a":"1"},"action":"removed"}"#);
    let e = &out.events[0];
    assert_eq!(e.timestamp(), crate::common::ctx().now);
    assert_eq!(text(e, "event.ingested"), Some("2026-01-15T00:00:00Z"));
    assert_eq!(list(e, "event.type"), ["deletion"], "unknown tables get a generic lifecycle type");
    assert!(e.get("osquery.table").is_none());
}

fn column_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("pid".to_owned()),
        Just("path".to_owned()),
        Just("cmdline".to_owned()),
        Just("uid".to_owned()),
        Just("username".to_owned()),
        Just("local_address".to_owned()),
        Just("remote_port".to_owned()),
        Just("target_path".to_owned()),
        Just("action".to_owned()),
        Just("time".to_owned()),
        "[a-z_]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary text never panics: it decodes or is rejected with a reason.
    #[test]
    fn arbitrary_text_is_decoded_or_rejected(s in ".{0,300}") {
        let out = osquery(&s);
        for r in &out.rejections {
            prop_assert!(!r.reason.is_empty());
        }
    }

    /// Any row of text columns, under any table name, keeps every column verbatim (or is
    /// rejected naming a typed column that does not convert).
    #[test]
    fn any_row_keeps_its_columns(
        table in prop_oneof![Just("processes"), Just("process_events"), Just("socket_events"), Just("file_events"), Just("users"), Just("whatever")],
        cols in proptest::collection::btree_map(column_name(), ".{0,20}", 0..8),
    ) {
        let rec = json!({"name": format!("pack_p_{table}"), "hostIdentifier": "h", "unixTime": 1, "columns": cols, "action": "added"});
        let out = osquery(&rec.to_string());
        prop_assert_eq!(out.events.len() + out.rejections.len(), 1);
        if let Some(r) = out.rejections.first() {
            prop_assert!(r.reason.starts_with("invalid field `columns."), "{}", r.reason);
        }
        for e in &out.events {
            for (k, v) in &cols {
                prop_assert_eq!(e.str(&format!("osquery.columns.{k}")), Some(v.as_str()));
            }
        }
    }
}
