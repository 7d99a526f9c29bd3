//! The streaming correlator on the Sigma specification's examples (positive and negative
//! sequences), plus lateness, windows judged at their close, tenants and alert identity. The
//! property tests and the budget tests are in the submodules.

mod budget;
mod props;
mod spec;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use ward_model::{Event, FieldValue, TenantId};
use ward_rules::RuleSet;
use ward_rules::correlate::{Budget, CorrelationAlert, Correlator, CorrelatorConfig, Observed};

/// `secs` seconds after 2024-05-01T12:00:00Z.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_714_564_800 + secs, 0).unwrap()
}

/// Event number `n` at `secs`, in the default tenant, with text fields.
pub fn event(n: usize, secs: i64, fields: &[(&str, &str)]) -> Event {
    event_in("default", n, secs, fields)
}

/// Event number `n` at `secs` in `tenant`.
pub fn event_in(tenant: &str, n: usize, secs: i64, fields: &[(&str, &str)]) -> Event {
    let tenant = TenantId::new(tenant).expect("valid tenant");
    let mut e = Event::new(&tenant, "test", &format!("{n}/{secs}/{fields:?}"), 0, at(secs));
    for (k, v) in fields {
        e.set(k, *v);
    }
    e
}

/// A correlator over `yaml` that must load without any rejection.
pub fn correlator(yaml: &str, lateness_secs: u64, budget: Budget) -> Correlator {
    let (set, rejections) = RuleSet::from_sources([("c.yml", yaml)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    let config = CorrelatorConfig { allowed_lateness: Duration::from_secs(lateness_secs), budget };
    let (c, rejected) = Correlator::new(&set, &config).expect("budget is valid");
    assert!(rejected.is_empty(), "{rejected:#?}");
    c
}

/// Observes `(rule, event)` matches in the given order, then flushes.
pub fn run(c: &mut Correlator, matches: &[(&str, Event)]) -> Vec<CorrelationAlert> {
    let mut out = Vec::new();
    for (rule, e) in matches {
        c.observe(rule, e, &mut out);
    }
    c.flush(&mut out);
    out
}

/// The `(name, value)` pairs of a group.
pub fn group(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

const LATE: &str = "title: f\nname: f\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n---\ntitle: burst\nid: burst\ncorrelation:\n    type: event_count\n    rules: [f]\n    group-by: [host]\n    timespan: 1m\n    condition:\n        gte: 2\n";

#[test]
fn late_matches_are_refused_counted_and_reported() {
    let mut c = correlator(LATE, 10, Budget::default());
    let mut out = Vec::new();
    assert_eq!(
        c.observe("f", &event(0, 100, &[("host", "a")]), &mut out),
        Observed::Accepted { queued: 1, skipped: 0 }
    );
    assert_eq!(c.watermark(), Some(at(90)));
    assert_eq!(
        c.observe("f", &event(1, 89, &[("host", "a")]), &mut out),
        Observed::Late { watermark: at(90) }
    );
    assert_eq!(
        c.observe("f", &event(2, 90, &[("host", "b")]), &mut out),
        Observed::Accepted { queued: 1, skipped: 0 }
    );
    assert_eq!(c.observe("nope", &event(3, 95, &[("host", "a")]), &mut out), Observed::Unreferenced);
    assert_eq!(
        c.observe("f", &event(4, 95, &[("user", "a")]), &mut out),
        Observed::Accepted { queued: 0, skipped: 1 }
    );
    assert!(out.is_empty(), "host a has one accepted match only: {out:#?}");
    c.flush(&mut out);
    let stats = c.stats();
    assert_eq!((stats.late, stats.observed, stats.unreferenced), (1, 3, 1));
    assert_eq!(stats.operators[0].missing_fields, 1);
    assert_eq!(stats.pending(), 0);
    assert!(
        matches!(c.observe("f", &event(5, 200, &[("host", "a")]), &mut out), Observed::Late { .. }),
        "input ended"
    );
}

#[test]
fn matches_wait_for_the_watermark_then_apply_in_event_time_order() {
    let mut c = correlator(LATE, 10, Budget::default());
    let mut out = Vec::new();
    c.observe("f", &event(0, 5, &[("host", "a")]), &mut out);
    c.observe("f", &event(1, 3, &[("host", "a")]), &mut out);
    c.observe("f", &event(2, 14, &[("host", "z")]), &mut out);
    assert!(out.is_empty(), "watermark 4s: the match at 3s is applied, the one at 5s waits");
    assert_eq!(c.stats().pending(), 2);
    c.advance_watermark(at(6), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].first, out[0].last, out[0].timestamp), (at(3), at(5), at(5)));
    assert_eq!(out[0].matches, 2);
    c.flush(&mut out);
    assert_eq!(out.len(), 1, "the group reset after its alert; `z` has one match");
}

const CLOSE: &str = "title: f\nname: f\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n---\ntitle: few\nid: few\ncorrelation:\n    type: event_count\n    rules: [f]\n    group-by: [host]\n    timespan: 1m\n    condition:\n        gt: 1\n        lte: 3\n";

#[test]
fn upper_bounds_are_judged_when_the_window_closes() {
    let mut c = correlator(CLOSE, 0, Budget::default());
    let sequence = [(0, "two"), (10, "five"), (11, "five"), (12, "five"), (13, "five"), (14, "five")];
    let later = [(50, "two"), (60, "two"), (61, "two"), (62, "two"), (200, "one")];
    let matches: Vec<_> = sequence
        .iter()
        .chain(&later)
        .enumerate()
        .map(|(n, (secs, host))| ("f", event(n, *secs, &[("host", host)])))
        .collect();
    let out = run(&mut c, &matches);
    let seen: Vec<_> =
        out.iter().map(|a| (a.group[0].1.as_str(), a.value, a.window_start, a.window_end)).collect();
    let expected = [("two", 3, at(0), at(60)), ("two", 2, at(61), at(121))];
    assert_eq!(
        seen, expected,
        "the match at 60s is inside [0s, 60s]; `five` has 5 in its window, `one` has 1"
    );
    assert_eq!(out[0].timestamp, at(60), "certain only when the window closed");
    assert_eq!(c.stats().operators[0].live_groups, 0);
}

#[test]
fn group_keys_never_span_tenants() {
    let mut c = correlator(LATE, 0, Budget::default());
    let matches =
        [("f", event_in("acme", 0, 0, &[("host", "a")])), ("f", event_in("globex", 1, 1, &[("host", "a")]))];
    assert!(run(&mut c, &matches).is_empty());
    let mut c = correlator(LATE, 0, Budget::default());
    let matches =
        [("f", event_in("acme", 0, 0, &[("host", "a")])), ("f", event_in("acme", 1, 1, &[("host", "a")]))];
    let out = run(&mut c, &matches);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].tenant, "acme");
    assert_eq!(out[0].group, group(&[("host", "a")]));
}

#[test]
fn alert_ids_depend_on_correlation_group_and_window_start() {
    let matches = |offset: i64| {
        vec![("f", event(0, offset, &[("host", "a")])), ("f", event(1, offset + 1, &[("host", "a")]))]
    };
    let once = run(&mut correlator(LATE, 0, Budget::default()), &matches(0));
    let again = run(&mut correlator(LATE, 0, Budget::default()), &matches(0));
    let later = run(&mut correlator(LATE, 0, Budget::default()), &matches(7));
    assert_eq!(once, again, "a replay yields the same alerts");
    assert_ne!(once[0].id, later[0].id);
    let json = serde_json::to_value(&once[0]).unwrap();
    assert_eq!(json["rule_id"], "burst");
    assert_eq!(json["correlation"], "event_count");
    assert_eq!(json["group"]["host"], "a");
    assert_eq!(json["value"], 2);
    assert_eq!(json["event_ids"].as_array().unwrap().len(), 2);
    assert_eq!(json["id"], once[0].id.to_string());
}

#[test]
fn numbers_and_addresses_group_by_their_text() {
    let mut c = correlator(LATE, 0, Budget::default());
    let mut a = event(0, 0, &[]);
    a.set("host", FieldValue::Int(7));
    let b = event(1, 1, &[("host", "7")]);
    let out = run(&mut c, &[("f", a), ("f", b)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].group, group(&[("host", "7")]));
}
