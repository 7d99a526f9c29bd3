//! Correlation rules parse into their AST with every attribute, from the specification's
//! examples; their evaluation belongs to the streaming detect stage.

use std::time::Duration;

use ward_rules::ast::{CmpOp, CorrelationType};
use ward_rules::{ErrorKind, RuleSet};

/// The specification's "failed logins followed by a successful login" file: two correlations
/// and two rules in one multi-document file.
const SPEC_EXAMPLE: &str = r#"title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
"#;

#[test]
fn multi_document_correlation_chain() {
    let (set, rejections) = RuleSet::from_sources([("mr.yml", SPEC_EXAMPLE)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    assert_eq!(set.rules().len(), 2);
    let c = set.correlations();
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].kind, CorrelationType::TemporalOrdered);
    assert_eq!(c[0].rules, ["multiple_failed_login", "successful_login"]);
    assert_eq!(c[0].group_by, ["User"]);
    assert_eq!(c[0].timespan, Duration::from_secs(600));
    assert!(c[0].condition.is_none());
    assert_eq!(c[0].meta.level.map(|l| l.as_str()), Some("high"));
    assert_eq!(c[1].meta.name.as_deref(), Some("multiple_failed_login"));
    let cond = c[1].condition.as_ref().unwrap();
    assert_eq!(cond.bounds, [(CmpOp::Gte, 10.0)]);
    assert!(cond.holds(10.0) && !cond.holds(9.0));
    assert_eq!(c[1].source.line, 14);
}

#[test]
fn value_count_range_aliases_and_generate() {
    let yaml = r#"title: internal error then connection
correlation:
    type: value_count
    rules:
        - internal_error
        - new_network_connection
    group-by:
        - internal_ip
    timespan: 1d
    condition:
        field: User
        gt: 100
        lte: 200
    aliases:
        internal_ip:
            internal_error: destination.ip
            new_network_connection: source.ip
    generate: true
---
title: e
name: internal_error
logsource: {category: webserver}
detection: {s: {sc-status: 500}, condition: s}
---
title: n
name: new_network_connection
logsource: {category: firewall}
detection: {s: {action: allow}, condition: s}
"#;
    let (set, rejections) = RuleSet::from_sources([("v.yml", yaml)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    let c = &set.correlations()[0];
    assert_eq!(c.kind, CorrelationType::ValueCount);
    let cond = c.condition.as_ref().unwrap();
    assert_eq!(cond.field, ["User"]);
    assert!(cond.holds(150.0) && !cond.holds(100.0) && !cond.holds(201.0));
    assert_eq!(c.aliases[0].name, "internal_ip");
    assert_eq!(c.aliases[0].fields[1], ("new_network_connection".to_string(), "source.ip".to_string()));
    assert!(c.generate);
    assert_eq!(c.timespan, Duration::from_secs(86_400));
}

#[test]
fn invalid_correlations_are_rejected_precisely() {
    let base = |body: &str| format!("title: c\nid: c1\ncorrelation:\n{body}");
    let cases = [
        ("    type: event_count\n    rules: [a]\n    timespan: 5m\n", "missing `correlation.condition`"),
        (
            "    type: value_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        gte: 3\n",
            "missing `correlation.condition.field`",
        ),
        ("    type: count\n    rules: [a]\n    timespan: 5m\n", "is not a correlation type"),
        ("    type: temporal\n    rules: [a]\n    timespan: 5 minutes\n", "is not a number followed by"),
        ("    type: temporal\n    rules: [a]\n    timespan: 5m\n    window: 3\n", "unknown attribute"),
        ("    type: temporal\n    timespan: 5m\n", "missing `correlation.rules`"),
    ];
    for (body, reason) in cases {
        let (_, rejections) = RuleSet::from_sources([("c.yml", base(body).as_str())]);
        assert_eq!(rejections.len(), 1, "{body}");
        assert!(rejections[0].to_string().contains(reason), "{body}: {}", rejections[0]);
        assert_eq!(rejections[0].rule_id.as_deref(), Some("c1"));
    }
    let (_, rejections) = RuleSet::from_sources([(
        "c.yml",
        base("    type: temporal\n    rules: [nope]\n    timespan: 5m\n").as_str(),
    )]);
    assert_eq!(rejections[0].kind, ErrorKind::UnknownRule("nope".into()));
}

#[test]
fn metric_types_of_sigma_2_1() {
    let yaml = "title: m\ncorrelation:\n    type: value_percentile\n    rules: [r]\n    group-by: [host]\n    timespan: 1h\n    condition:\n        field: bytes\n        percentile: 95\n        gt: 1000\n---\ntitle: r\nname: r\nlogsource: {category: proxy}\ndetection: {s: {cs-method: POST}, condition: s}\n";
    let (set, rejections) = RuleSet::from_sources([("m.yml", yaml)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    let cond = set.correlations()[0].condition.as_ref().unwrap();
    assert_eq!(cond.percentile, Some(95.0));
}

#[test]
fn filters_add_exclusions_to_the_rules_they_name() {
    let yaml = "title: rar\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    s:\n        Image|endswith: '\\rar.exe'\n    condition: s\n---\ntitle: Filter Administrator account\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n        - df0841c0-9846-4e9f-ad8a-7df91571771b\n    selection:\n        User|startswith: 'adm_'\n    condition: selection\n";
    let (set, rejections) = RuleSet::from_sources([("f.yml", yaml)]);
    assert_eq!(set.filters().len(), 1);
    assert_eq!(rejections.len(), 1, "the unknown second rule is reported");
    assert_eq!(rejections[0].kind, ErrorKind::UnknownRule("df0841c0-9846-4e9f-ad8a-7df91571771b".into()));
    let rule = crate::common::proc(&[("Image", "C:\\rar.exe"), ("User", "adm_bob")]);
    let other = crate::common::proc(&[("Image", "C:\\rar.exe"), ("User", "bob")]);
    let (engine, _) = ward_rules::Engine::compile(&set, &crate::common::pipeline());
    let mut s = ward_rules::Scratch::default();
    assert!(engine.matching_rules(&rule, &mut s).is_empty());
    assert_eq!(engine.matching_rules(&other, &mut s), vec![0]);
}

#[test]
fn sigma1_collections_merge_global_documents() {
    let yaml = "action: global\ntitle: base\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    condition: selection\n---\nid: one\ndetection:\n    selection:\n        Image|endswith: '\\a.exe'\n---\nid: two\ndetection:\n    selection:\n        Image|endswith: '\\b.exe'\n";
    let (set, rejections) = RuleSet::from_sources([("g.yml", yaml)]);
    assert!(rejections.is_empty(), "{rejections:#?}");
    assert_eq!(set.rules().len(), 2);
    assert_eq!(set.rules()[1].meta.title, "base");
    assert_eq!(set.rules()[1].meta.id.as_deref(), Some("two"));
    let (_, rejections) = RuleSet::from_sources([("g.yml", "action: bogus\ntitle: x\n")]);
    assert!(matches!(rejections[0].kind, ErrorKind::Collection(_)));
}
