//! The shipped policies pass their fixtures; versions and errors name what they should.

use std::path::PathBuf;

use ward_respond::Outcome;
use ward_respond::policy::{PolicyInput, PolicySet, run_fixtures};

fn root() -> PathBuf {
    ward_testkit::workspace_root().join("policies")
}

#[test]
fn shipped_policies_pass_every_fixture() {
    let set = PolicySet::load_dir(&root()).unwrap();
    let results = run_fixtures(&set, &root().join("fixtures")).unwrap();
    assert!(results.len() >= 15, "fixtures found: {}", results.len());
    let failed: Vec<_> = results.iter().filter(|r| r.failure.is_some()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn version_combines_the_declared_version_and_a_content_hash() {
    let text = std::fs::read_to_string(root().join("response.rego")).unwrap();
    let a = PolicySet::from_sources(vec![("response.rego".into(), text.clone())]).unwrap();
    let b = PolicySet::from_sources(vec![("response.rego".into(), format!("{text}\n# changed\n"))]).unwrap();
    assert!(a.version().starts_with("2026.11.25@"), "{}", a.version());
    assert_ne!(a.version(), b.version(), "a content change must change the version");
}

#[test]
fn a_broken_policy_is_rejected_naming_its_file() {
    let err =
        PolicySet::from_sources(vec![("bad.rego".into(), "package ward.response\nversion := \n".into())])
            .unwrap_err();
    assert!(err.to_string().contains("bad.rego"), "{err}");
}

#[test]
fn a_failing_fixture_is_reported_with_the_difference() {
    let set = PolicySet::load_dir(&root()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let case = serde_json::json!([{
        "name": "wrong on purpose",
        "input": {"action": "block_ip", "risk": "high", "target": "203.0.113.7", "score": 0.3,
                  "criticality": "", "origin": "automated", "severity": "high"},
        "expect": {"outcome": "allow"}
    }]);
    std::fs::write(dir.path().join("case.json"), case.to_string()).unwrap();
    let results = run_fixtures(&set, dir.path()).unwrap();
    let failure = results[0].failure.as_deref().unwrap();
    assert!(failure.contains("expected allow got deny"), "{failure}");
}

#[test]
fn critical_assets_always_need_approval() {
    let set = PolicySet::load_dir(&root()).unwrap();
    for action in ["block_ip", "launch_decoy", "notify", "rotate_ssh_key"] {
        for origin in ["automated", "manual"] {
            let input = PolicyInput {
                action: action.into(),
                risk: "low".into(),
                target: "x".into(),
                score: 0.75,
                criticality: "critical".into(),
                origin: origin.into(),
                severity: "high".into(),
            };
            let d = set.decide(&input).unwrap();
            assert!(
                d.outcome == Outcome::RequireApproval || d.outcome == Outcome::Deny,
                "{action}/{origin}: {d:?}"
            );
            assert_ne!(d.outcome, Outcome::Allow);
        }
    }
}
