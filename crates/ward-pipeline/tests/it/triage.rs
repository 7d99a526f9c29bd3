//! The built-in triager: verdicts, explainable factors, indicators and recommended actions.

use chrono::{TimeZone, Utc};
use ward_model::{
    AlertRecord, Entities, Incident, IncidentStatus, Severity, SignalKind, TenantId, Verdict, add_entity,
};
use ward_pipeline::BuiltinTriager;
use ward_pipeline::triage::{PriorSighting, TriageInput};

pub fn alert(kind: SignalKind, level: Severity, entities: &[(&str, &str)], source: &str) -> AlertRecord {
    let mut e = Entities::new();
    for (f, v) in entities {
        add_entity(&mut e, f, v);
    }
    AlertRecord {
        id: format!("{:032x}", entities.len() as u128 + level as u128),
        tenant: TenantId::default(),
        kind,
        rule_id: format!("{kind:?}-{level}"),
        rule_title: format!("{kind:?} rule at {level}"),
        level,
        score: level.base_score(),
        timestamp: Utc.timestamp_opt(1_764_097_200, 0).unwrap(),
        event_ids: vec![],
        tags: vec![],
        techniques: if source == "cowrie" { vec!["T1078".into()] } else { vec![] },
        entities: e,
        source: source.into(),
        details: serde_json::json!({}),
    }
}

pub fn incident(alerts: &[AlertRecord]) -> Incident {
    let mut entities = Entities::new();
    for a in alerts {
        ward_model::merge_entities(&mut entities, &a.entities);
    }
    let t = Utc.timestamp_opt(1_764_097_200, 0).unwrap();
    Incident {
        id: "0".repeat(32),
        tenant: TenantId::default(),
        status: IncidentStatus::New,
        severity: alerts.iter().map(|a| a.level).max().unwrap_or_default(),
        score: 0.5,
        title: "t".into(),
        group_key: "source.ip=203.0.113.7".into(),
        entities,
        alert_count: alerts.len() as u64,
        verdict: None,
        confidence: None,
        reasoning: vec![],
        iocs: Default::default(),
        recommended_actions: vec![],
        assignee: None,
        first_seen: t,
        last_seen: t,
        created_at: t,
        updated_at: t,
    }
}

#[test]
fn external_attacker_with_correlation_and_ioc_is_blocked() {
    let ents = [("source.ip", "203.0.113.7"), ("user.name", "root"), ("dns.question.name", "evil.example")];
    let alerts = vec![
        alert(SignalKind::Correlation, Severity::High, &ents, "suricata"),
        alert(SignalKind::Ioc, Severity::High, &ents, "suricata"),
    ];
    let inc = incident(&alerts);
    let prior = [PriorSighting { field: "source.ip".into(), value: "203.0.113.7".into(), incidents: 2 }];
    let t =
        BuiltinTriager::assess(TriageInput { incident: &inc, alerts: &alerts, prior: &prior, features: &[] });
    assert_eq!(t.verdict, Verdict::TruePositive, "{t:?}");
    let names: Vec<&str> = t.reasoning.iter().map(|f| f.name.as_str()).collect();
    for want in ["rule_level", "correlation", "ioc_hit", "repeat_offender"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(t.recommended_actions.contains(&"block_ip 203.0.113.7".to_owned()));
    assert_eq!(t.iocs.ips, vec!["203.0.113.7"]);
    assert_eq!(t.iocs.domains, vec!["evil.example"]);
    assert_eq!(t.iocs.users, vec!["root"]);
}

#[test]
fn critical_asset_compromise_isolates_the_host() {
    let ents = [("host.name", "db-1"), ("ward.asset.criticality", "critical"), ("source.ip", "10.0.0.5")];
    let alerts = vec![
        alert(SignalKind::Sigma, Severity::Critical, &ents, "winlog"),
        alert(SignalKind::Correlation, Severity::High, &ents, "winlog"),
    ];
    let inc = incident(&alerts);
    let t =
        BuiltinTriager::assess(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] });
    assert!(t.reasoning.iter().any(|f| f.name == "asset_criticality" && f.weight > 0.0));
    assert!(t.recommended_actions.contains(&"isolate_host db-1".to_owned()), "{:?}", t.recommended_actions);
    assert!(!t.recommended_actions.iter().any(|a| a.starts_with("block_ip")), "internal address not blocked");
}

#[test]
fn informational_internal_noise_is_a_false_positive() {
    let ents = [("source.ip", "192.168.1.20")];
    let alerts = vec![alert(SignalKind::Sigma, Severity::Informational, &ents, "syslog")];
    let inc = incident(&alerts);
    let t =
        BuiltinTriager::assess(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] });
    assert_eq!(t.verdict, Verdict::FalsePositive, "{t:?}");
    assert!(t.reasoning.iter().any(|f| f.name == "known_benign" && f.weight < 0.0));
    assert!(t.recommended_actions.is_empty());
}

#[test]
fn honeypot_login_recommends_rotating_ssh_keys() {
    let ents = [("source.ip", "198.51.100.9")];
    let alerts = vec![alert(SignalKind::Sigma, Severity::Medium, &ents, "cowrie")];
    let inc = incident(&alerts);
    let t =
        BuiltinTriager::assess(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] });
    assert!(t.recommended_actions.contains(&"rotate_ssh_key".to_owned()), "{t:?}");
}
