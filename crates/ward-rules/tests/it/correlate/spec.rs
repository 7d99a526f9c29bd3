//! The Sigma correlation specification's examples as fixtures, each with sequences that must
//! and must not fire.

use ward_model::Event;
use ward_rules::correlate::{Budget, CorrelationAlert};
use ward_rules::{Engine, RuleSet};

use super::{at, correlator, event, group, run};

const FAILED_LOGON: &str = "title: Failed logon\nid: 5638f7c0-ac70-491d-8465-2a65075e0d86\nname: failed_logon\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 4625\n    condition: selection\n";

fn many_failed_logins() -> String {
    format!(
        "{FAILED_LOGON}---\ntitle: Many failed logins\nid: 0e95725d-7320-415d-80f7-004da920fc11\ncorrelation:\n    type: event_count\n    rules:\n        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n    group-by:\n        - ComputerName\n    timespan: 1h\n    condition:\n        gte: 100\n"
    )
}

/// `count` failed logons, `step` seconds apart, on the hosts given in turn.
fn failures(count: usize, step: i64, hosts: &[&str]) -> Vec<(&'static str, Event)> {
    let rule = "5638f7c0-ac70-491d-8465-2a65075e0d86";
    (0..count)
        .map(|n| (rule, event(n, n as i64 * step, &[("ComputerName", hosts[n % hosts.len()])])))
        .collect()
}

fn count_alerts(matches: &[(&str, Event)]) -> Vec<CorrelationAlert> {
    run(&mut correlator(&many_failed_logins(), 0, Budget::default()), matches)
}

#[test]
fn event_count_fires_on_the_hundredth_failure_within_an_hour() {
    let out = count_alerts(&failures(100, 30, &["dc1"]));
    assert_eq!(out.len(), 1);
    let a = &out[0];
    assert_eq!(a.rule.id, "0e95725d-7320-415d-80f7-004da920fc11");
    assert_eq!(a.rule.title, "Many failed logins");
    assert_eq!(a.rule.level.as_str(), "medium");
    assert_eq!(a.group, group(&[("ComputerName", "dc1")]));
    assert_eq!((a.value, a.matches), (100, 100));
    assert_eq!((a.first, a.last, a.timestamp), (at(0), at(99 * 30), at(99 * 30)));
    assert_eq!(a.event_ids.len(), Budget::default().max_alert_events, "listed ids are bounded");
    assert_eq!(a.event_ids[0], failures(1, 30, &["dc1"])[0].1.id(), "oldest first");
}

#[test]
fn event_count_resets_after_each_alert() {
    assert_eq!(count_alerts(&failures(199, 30, &["dc1"])).len(), 1);
    let out = count_alerts(&failures(200, 30, &["dc1"]));
    assert_eq!(out.len(), 2);
    assert_eq!(out[1].first, at(100 * 30));
}

#[test]
fn event_count_stays_silent_below_the_threshold() {
    assert!(count_alerts(&failures(99, 30, &["dc1"])).is_empty(), "99 failures");
    assert!(count_alerts(&failures(100, 40, &["dc1"])).is_empty(), "100 failures over 66 minutes");
    assert!(count_alerts(&failures(150, 20, &["dc1", "dc2"])).is_empty(), "75 per host");
}

#[test]
fn event_count_window_is_inclusive_and_slides() {
    let early = |n: usize, secs: i64| ("failed_logon", event(n, secs, &[("ComputerName", "dc1")]));
    let mut m = failures(99, 1, &["dc1"]);
    m.insert(0, early(1_000, -3_503));
    assert!(count_alerts(&m).is_empty(), "the first failure is 3,601 s before the last");
    m[0] = early(1_000, -3_502);
    let out = count_alerts(&m);
    assert_eq!(out.len(), 1, "100 failures within exactly one hour");
    assert_eq!(out[0].first, at(-3_502));
    m[0] = early(1_000, -3_503);
    m.push(early(1_001, 99));
    let out = count_alerts(&m);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].first, at(0), "the window slid past the early failure");
}

const VALUE_COUNT: &str = "---\ntitle: Failed login\nid: 0e95725d-7320-415d-80f7-004da920fc12\ncorrelation:\n    type: value_count\n    rules:\n        - 5638f7c0-ac70-491d-8465-2a65075e0d86\n    group-by:\n        - ComputerName\n        - WorkstationName\n    timespan: 1d\n    condition:\n        field: User\n        gte: 100\n";

fn users(count: usize, repeat: usize, workstations: &[&str]) -> Vec<(&'static str, Event)> {
    let rule = "failed_logon";
    (0..count * repeat)
        .map(|n| {
            let (user, ws) = (format!("user{}", n % count), workstations[n % workstations.len()]);
            (
                rule,
                event(n, n as i64 * 60, &[("ComputerName", "dc1"), ("WorkstationName", ws), ("User", &user)]),
            )
        })
        .collect()
}

fn value_alerts(matches: &[(&str, Event)]) -> Vec<CorrelationAlert> {
    run(&mut correlator(&format!("{FAILED_LOGON}{VALUE_COUNT}"), 0, Budget::default()), matches)
}

#[test]
fn value_count_fires_on_the_hundredth_distinct_user() {
    let out = value_alerts(&users(100, 1, &["ws1"]));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].group, group(&[("ComputerName", "dc1"), ("WorkstationName", "ws1")]));
    assert_eq!((out[0].value, out[0].matches), (100, 100));
}

#[test]
fn value_count_needs_distinct_values_in_one_group() {
    assert!(value_alerts(&users(99, 3, &["ws1"])).is_empty(), "297 failures, 99 users");
    assert!(value_alerts(&users(100, 1, &["ws1", "ws2"])).is_empty(), "50 users per workstation");
    let mut c = correlator(&format!("{FAILED_LOGON}{VALUE_COUNT}"), 0, Budget::default());
    let out =
        run(&mut c, &[("failed_logon", event(0, 0, &[("ComputerName", "dc1"), ("WorkstationName", "ws1")]))]);
    assert!(out.is_empty());
    assert_eq!(c.stats().operators[0].missing_fields, 1, "no User: skipped and counted");
}

const RECON: &str = "title: a\nname: recon_cmd_a\nlogsource: {category: process_creation, product: windows}\ndetection: {s: {CommandLine|contains: whoami}, condition: s}\n---\ntitle: b\nname: recon_cmd_b\nlogsource: {category: process_creation, product: windows}\ndetection: {s: {CommandLine|contains: ipconfig}, condition: s}\n---\ntitle: c\nname: recon_cmd_c\nlogsource: {category: process_creation, product: windows}\ndetection: {s: {CommandLine|contains: net user}, condition: s}\n---\ntitle: Recon commands\ncorrelation:\n    type: temporal\n    rules:\n        - recon_cmd_a\n        - recon_cmd_b\n        - recon_cmd_c\n    group-by:\n        - ComputerName\n        - User\n    timespan: 5m\nlevel: high\n";

fn recon(steps: &[(&'static str, i64, &str)]) -> Vec<CorrelationAlert> {
    let matches: Vec<_> = steps
        .iter()
        .enumerate()
        .map(|(n, (rule, secs, user))| (*rule, event(n, *secs, &[("ComputerName", "pc1"), ("User", user)])))
        .collect();
    run(&mut correlator(RECON, 0, Budget::default()), &matches)
}

#[test]
fn temporal_fires_when_all_rules_match_in_any_order() {
    let out = recon(&[
        ("recon_cmd_c", 0, "bob"),
        ("recon_cmd_a", 60, "bob"),
        ("recon_cmd_a", 61, "bob"),
        ("recon_cmd_b", 240, "bob"),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule.id, "Recon commands", "no id: the title names it");
    assert_eq!(out[0].rule.level.as_str(), "high");
    assert_eq!((out[0].value, out[0].matches), (3, 4));
    assert_eq!(out[0].group, group(&[("ComputerName", "pc1"), ("User", "bob")]));
}

#[test]
fn temporal_needs_every_rule_within_the_timespan_for_one_group() {
    assert!(recon(&[("recon_cmd_a", 0, "bob"), ("recon_cmd_b", 10, "bob")]).is_empty(), "c missing");
    assert!(
        recon(&[("recon_cmd_a", 0, "bob"), ("recon_cmd_b", 10, "bob"), ("recon_cmd_c", 301, "bob")])
            .is_empty(),
        "c too late"
    );
    assert!(
        recon(&[("recon_cmd_a", 0, "bob"), ("recon_cmd_b", 10, "bob"), ("recon_cmd_c", 20, "eve")])
            .is_empty(),
        "c by eve"
    );
    assert_eq!(
        recon(&[("recon_cmd_a", 0, "bob"), ("recon_cmd_b", 10, "bob"), ("recon_cmd_c", 300, "bob")]).len(),
        1
    );
}

/// The specification's "failed logins followed by successful login" chain.
const CHAIN: &str = "title: Correlation - Multiple Failed Logins Followed by Successful Login\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n    group-by:\n        - User\n    timespan: 10m\nlevel: high\n---\ntitle: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 10\n---\ntitle: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\nname: failed_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 529\n            - 4625\n    condition: selection\n---\ntitle: Successful login\nid: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8\nname: successful_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 528\n            - 4624\n    condition: selection\n";

/// `failed` failures for `user` every 10 s from 0, then a success at `success` seconds.
fn logins(failed: usize, success: i64, user: &str) -> Vec<(&'static str, Event)> {
    let mut out: Vec<_> =
        (0..failed).map(|n| ("failed_login", event(n, n as i64 * 10, &[("User", user)]))).collect();
    out.push(("successful_login", event(1_000, success, &[("User", user)])));
    out
}

#[test]
fn temporal_ordered_chain_fires_on_failures_then_success() {
    let mut c = correlator(CHAIN, 0, Budget::default());
    let out = run(&mut c, &logins(10, 120, "bob"));
    assert_eq!(out.len(), 1, "only the outer correlation emits: {out:#?}");
    let a = &out[0];
    assert_eq!(a.rule.id, "b180ead8-d58f-40b2-ae54-c8940995b9b6");
    assert_eq!(a.group, group(&[("User", "bob")]));
    assert_eq!((a.first, a.timestamp), (at(90), at(120)), "the chain starts when the inner alert fired");
    assert_eq!(a.event_ids.len(), 11, "ten failures and the success");
    assert_eq!(c.stats().operators[0].alerts, 1, "the inner alert fired, fed, not emitted");
    for rule in ["failed_login", "successful_login", "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8"] {
        assert!(!c.standalone(rule), "{rule} only feeds correlations without generate");
    }
}

#[test]
fn temporal_ordered_chain_needs_the_order_and_the_count() {
    let fire = |m: &[(&str, Event)]| run(&mut correlator(CHAIN, 0, Budget::default()), m).len();
    assert_eq!(fire(&logins(9, 120, "bob")), 0, "nine failures");
    assert_eq!(fire(&logins(10, 50, "bob")), 0, "success before the tenth failure");
    assert_eq!(fire(&logins(10, 90, "bob")), 1, "success at the same second as the tenth failure");
    assert_eq!(fire(&logins(10, 90 + 600, "bob")), 1, "exactly ten minutes later");
    assert_eq!(fire(&logins(10, 90 + 601, "bob")), 0, "ten minutes and one second later");
    let mut other = logins(10, 120, "bob");
    other.last_mut().unwrap().1 = event(1_000, 120, &[("User", "eve")]);
    assert_eq!(fire(&other), 0, "another user logged in");
}

#[test]
fn engine_alerts_feed_the_correlator_end_to_end() {
    let (set, rejections) = RuleSet::from_sources([("chain.yml", CHAIN)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    let (engine, rejections) = Engine::compile(&set, &crate::common::pipeline());
    assert!(rejections.is_empty(), "{rejections:#?}");
    let (mut c, rejected) = ward_rules::correlate::Correlator::new(&set, &Default::default()).unwrap();
    assert!(rejected.is_empty());
    let mut out = Vec::new();
    let mut base = Vec::new();
    for (n, code) in [4625; 10].into_iter().chain([4624]).enumerate() {
        let mut e = crate::common::win("Security", code, &[("User", "bob"), ("n", &n.to_string())]);
        e.set_timestamp(at(n as i64 * 10));
        base.clear();
        engine.matches(&e, &mut base);
        assert_eq!(base.len(), 1, "event {n}");
        c.observe_alert(&base[0], &e, &mut out);
        assert!(!c.standalone(&base[0].rule.id));
    }
    c.flush(&mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].rule.title, "Correlation - Multiple Failed Logins Followed by Successful Login");
}

const ALIASES: &str = "title: e\nname: internal_error\nlogsource: {category: webserver}\ndetection: {s: {http.response.status_code: 500}, condition: s}\n---\ntitle: n\nname: new_network_connection\nlogsource: {category: network_connection}\ndetection: {s: {event.category: network}, condition: s}\n---\ntitle: error then connection\nid: aliases\ncorrelation:\n    type: temporal\n    rules:\n        - internal_error\n        - new_network_connection\n    group-by:\n        - internal_ip\n        - remote_ip\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n        remote_ip:\n            internal_error: source.ip\n            new_network_connection: destination.ip\n    generate: true\n";

fn joined(connection: (&str, &str), secs: i64) -> Vec<CorrelationAlert> {
    let mut error = event(0, 0, &[("source.ip", "1.2.3.4")]);
    error.set("destination.ip", ward_model::FieldValue::Ip("10.0.0.5".parse().expect("an address")));
    let conn = event(1, secs, &[("source.ip", connection.0), ("destination.ip", connection.1)]);
    run(
        &mut correlator(ALIASES, 0, Budget::default()),
        &[("internal_error", error), ("new_network_connection", conn)],
    )
}

#[test]
fn aliases_group_differently_named_fields() {
    let out = joined(("10.0.0.5", "1.2.3.4"), 5);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].group, group(&[("internal_ip", "10.0.0.5"), ("remote_ip", "1.2.3.4")]));
    assert!(joined(("1.2.3.4", "10.0.0.5"), 5).is_empty(), "addresses the other way round");
    assert!(joined(("10.0.0.5", "1.2.3.4"), 11).is_empty(), "outside the 10 s");
    let c = correlator(ALIASES, 0, Budget::default());
    assert!(c.standalone("internal_error") && c.standalone("new_network_connection"), "generate: true");
}
