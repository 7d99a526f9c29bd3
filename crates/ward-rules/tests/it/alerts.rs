//! Alerts carry the rule, ATT&CK techniques, the event and the matched fields, and their ids are
//! stable across compilations so replays deduplicate.

use ward_rules::{Alert, AlertId, Engine, RuleSet};

use crate::common::{pipeline, proc};

const RULE: &str = "title: Whoami Execution\nid: 8f5a9d3c-0000-4000-8000-000000000001\nstatus: test\nlevel: high\ntags:\n    - attack.discovery\n    - attack.t1033\n    - attack.t1059.001\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image|endswith: '\\whoami.exe'\n    filter:\n        User: 'SYSTEM'\n    condition: selection and not filter\n";

fn alerts(events: &[ward_model::Event]) -> Vec<Alert> {
    let (set, rej) = RuleSet::from_sources([("r.yml", RULE)]);
    assert!(rej.is_empty());
    let (engine, rej) = Engine::compile(&set, &pipeline());
    assert!(rej.is_empty());
    let mut out = Vec::new();
    for e in events {
        engine.matches(e, &mut out);
    }
    out
}

#[test]
fn alert_carries_rule_event_and_matched_fields() {
    let ev = proc(&[("Image", "C:\\Windows\\System32\\whoami.exe"), ("User", "alice")]);
    let out = alerts(std::slice::from_ref(&ev));
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.rule.id, "8f5a9d3c-0000-4000-8000-000000000001");
    assert_eq!(a.rule.title, "Whoami Execution");
    assert_eq!(a.rule.level.as_str(), "high");
    assert_eq!(a.rule.techniques, ["T1033", "T1059.001"]);
    assert_eq!(a.event_ids, [ev.id()]);
    assert_eq!(a.timestamp, ev.timestamp());
    assert_eq!(a.matched.len(), 1, "the negated filter is not a matched field");
    assert_eq!(a.matched[0].field, "Image");
    assert_eq!(a.matched[0].value, "C:\\Windows\\System32\\whoami.exe");
    let json = serde_json::to_value(a).unwrap();
    for key in ["rule_id", "rule_title", "level", "timestamp", "event_ids", "tags"] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }
    assert_eq!(json["event_ids"][0], ev.id().to_string());
}

#[test]
fn alert_ids_are_deterministic_and_depend_on_rule_and_events() {
    let a = proc(&[("Image", "C:\\whoami.exe"), ("CommandLine", "whoami /all")]);
    let b = proc(&[("Image", "C:\\whoami.exe"), ("CommandLine", "whoami /priv")]);
    let first = alerts(&[a.clone(), b.clone()]);
    let again = alerts(&[a.clone(), b]);
    assert_eq!(first, again, "same input, same alerts in the same order");
    assert_ne!(first[0].id, first[1].id);
    assert_eq!(first[0].id, AlertId::of("8f5a9d3c-0000-4000-8000-000000000001", &[a.id()]));
    assert_ne!(first[0].id, AlertId::of("another-rule", &[a.id()]));
    assert_eq!(first[0].id.to_string().len(), 32);
}

#[test]
fn filtered_events_raise_nothing() {
    let ev = proc(&[("Image", "C:\\whoami.exe"), ("User", "system")]);
    assert!(alerts(&[ev]).is_empty());
}
