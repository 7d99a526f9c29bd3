//! ATT&CK names on alerts and rule coverage, checked against the full v18.1 extract.

use chrono::Utc;
use serde_json::Value;
use ward_enrich::Attack;
use ward_model::{AlertRecord, Entities, Severity, SignalKind, TenantId};

/// An alert as the Sigma detector emits it, with `tags`.
pub fn alert(tags: &[&str]) -> AlertRecord {
    AlertRecord {
        id: "0".repeat(32),
        tenant: TenantId::default(),
        kind: SignalKind::Sigma,
        rule_id: "r1".into(),
        rule_title: "SSH brute force".into(),
        level: Severity::High,
        score: 0.75,
        timestamp: Utc::now(),
        event_ids: Vec::new(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        techniques: Vec::new(),
        entities: Entities::new(),
        source: "cowrie".into(),
        details: Value::Null,
    }
}

#[test]
fn the_bundled_extract_agrees_with_the_full_techniques_file() {
    let bundled = Attack::bundled().unwrap();
    assert_eq!(bundled.tactics().len(), 14);
    assert_eq!(bundled.tactics()[0].shortname, "reconnaissance", "matrix order");
    let Some(path) = ward_testkit::shared("reference/mitre_attack/enterprise-attack-techniques.json") else {
        return;
    };
    let full = Attack::load(&path).unwrap();
    assert_eq!(full.len(), bundled.len());
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut checked = 0;
    for o in doc["objects"].as_array().unwrap().iter().filter(|o| o["type"] == "attack-pattern") {
        if o["revoked"] == true || o["x_mitre_deprecated"] == true {
            continue;
        }
        let id = o["external_references"][0]["external_id"].as_str().unwrap();
        let t = bundled.technique(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(t.name, o["name"].as_str().unwrap());
        let tactics: Vec<&str> = o["kill_chain_phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["phase_name"].as_str().unwrap())
            .collect();
        assert_eq!(t.tactics, tactics);
        assert_eq!(full.technique(id), Some(t));
        checked += 1;
    }
    assert!(checked > 600, "{checked}");
}

#[test]
fn attach_names_techniques_and_tactics_from_rule_tags() {
    let attack = Attack::bundled().unwrap();
    let mut a = alert(&["attack.credential_access", "attack.t1110.001", "attack.t9999"]);
    attack.attach(&mut a);
    assert_eq!(a.techniques, ["T1110.001"]);
    let t = &a.details["attack"]["techniques"][0];
    assert_eq!(t["id"], "T1110.001");
    assert_eq!(t["name"], "Password Guessing");
    assert_eq!(t["parent"]["name"], "Brute Force");
    assert_eq!(t["tactics"][0]["id"], "TA0006");
    assert_eq!(a.details["attack"]["tactics"][0]["name"], "Credential Access");
    assert_eq!(a.details["attack"]["unknown"], serde_json::json!(["T9999"]));
}

#[test]
fn coverage_counts_parents_of_sub_techniques_per_tactic() {
    let attack = Attack::bundled().unwrap();
    let cov = attack.coverage(["T1110.001", "attack.t1110.003", "T1059", "T9999"]);
    assert_eq!(cov.covered, 2, "T1110 (via two sub-techniques) and T1059");
    assert_eq!(cov.unknown, ["T9999"]);
    let cred = cov.tactics.iter().find(|t| t.shortname == "credential-access").unwrap();
    assert_eq!(cred.covered, 1);
    assert_eq!(cred.covered_techniques[0].id, "T1110");
    assert_eq!(cred.covered + cred.uncovered_techniques.len(), cred.total);
    assert!(cov.total > 150 && cov.total < 300, "top-level techniques: {}", cov.total);
    let exec = cov.tactics.iter().find(|t| t.shortname == "execution").unwrap();
    assert!(exec.covered_techniques.iter().any(|t| t.id == "T1059"));
    let none = attack.coverage([]);
    assert_eq!((none.covered, none.ratio), (0, 0.0));
}

#[test]
fn a_broken_bundle_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("attack.json");
    std::fs::write(&path, "{\"type\":\"bundle\",\"objects\":[").unwrap();
    let err = Attack::load(&path).unwrap_err().to_string();
    assert!(err.contains("attack.json"), "{err}");
}
