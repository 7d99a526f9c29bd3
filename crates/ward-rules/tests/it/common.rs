//! Helpers: events built like the Windows decoder lays them out, and a verdict that insists the
//! reference and the compiled evaluator agree.

use chrono::{TimeZone, Utc};
use ward_model::{Event, FieldValue, TenantId};
use ward_rules::{Engine, Pipeline, ReferenceEngine, RuleSet, Scratch};

/// A Windows event: channel, event id and raw EventData fields.
pub fn win(channel: &str, event_id: i64, data: &[(&str, &str)]) -> Event {
    let original = format!("{channel}/{event_id}/{data:?}");
    let ts = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time");
    let mut ev = Event::new(&TenantId::default(), "winlog", &original, 0, ts);
    ev.set("winlog.channel", channel);
    ev.set("winlog.event_id", event_id);
    ev.set("event.code", event_id.to_string());
    for (name, value) in data {
        ev.set(&format!("winlog.event_data.{name}"), *value);
    }
    ev
}

/// A Sysmon process creation (event 1).
pub fn proc(data: &[(&str, &str)]) -> Event {
    win("Microsoft-Windows-Sysmon/Operational", 1, data)
}

/// An event of any source with the given fields.
pub fn ecs(source: &str, fields: &[(&str, FieldValue)]) -> Event {
    let ts = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().expect("valid time");
    let mut ev = Event::new(&TenantId::default(), source, &format!("{fields:?}"), 0, ts);
    for (path, value) in fields {
        ev.set(path, value.clone());
    }
    ev
}

/// A Sysmon process_creation rule with the given detection (YAML, indented by 4).
pub fn proc_rule(detection: &str) -> String {
    format!(
        "title: test\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n{detection}\nlevel: high\n"
    )
}

/// Loads rules from YAML text, panicking on any rejection.
pub fn load(yaml: &str) -> RuleSet {
    let (set, rejections) = RuleSet::from_sources([("test.yml", yaml)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    set
}

/// The shipped pipelines.
pub fn pipeline() -> Pipeline {
    Pipeline::builtin().expect("shipped pipelines parse")
}

/// Indices of the rules of `yaml` matching `event`, asserting both evaluators agree.
pub fn matching(yaml: &str, event: &Event) -> Vec<usize> {
    let set = load(yaml);
    let pipeline = pipeline();
    let (reference, r1) = ReferenceEngine::new(&set, &pipeline);
    let (engine, r2) = Engine::compile(&set, &pipeline);
    assert!(r1.is_empty() && r2.is_empty(), "{r1:#?} {r2:#?}");
    let expected = reference.matching_rules(event);
    let got = engine.matching_rules(event, &mut Scratch::default());
    assert_eq!(got, expected, "compiled and reference evaluators disagree");
    got
}

/// Whether the single rule of `yaml` matches `event` (both evaluators agreeing).
pub fn fires(yaml: &str, event: &Event) -> bool {
    !matching(yaml, event).is_empty()
}

/// Whether a process_creation detection matches a Sysmon process event with `data`.
pub fn proc_fires(detection: &str, data: &[(&str, &str)]) -> bool {
    fires(&proc_rule(detection), &proc(data))
}

/// Decodes an in-memory input with one of Ward's decoders, asserting nothing was rejected.
pub fn decode(kind: ward_decode::SourceKind, data: &[u8]) -> Vec<Event> {
    let decoder = kind.build(None).expect("decoder builds");
    let ctx = ward_decode::DecodeContext::new(
        TenantId::default(),
        Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).single().expect("valid time"),
    );
    let mut sink = ward_decode::Collect::default();
    let opts = ward_decode::RunOptions::fixed(kind, ctx);
    ward_decode::run::decode_bytes(decoder.as_ref(), "test-input", data, &opts, &mut sink);
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections);
    sink.events
}
