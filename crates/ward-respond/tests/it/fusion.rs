//! Fusion: the score is the sum of listed contributions, each with its weight and evidence.

use ward_model::{Severity, SignalKind};
use ward_respond::config::FusionWeights;
use ward_respond::fusion::fuse;

use crate::common::{alert, decoy_band_alerts, incident};

#[test]
fn score_is_explained_by_its_contributions() {
    let inc = incident("i1", "203.0.113.7");
    let fused = fuse(&FusionWeights::default(), &inc, &decoy_band_alerts());
    let sum: f64 = fused.contributions.iter().map(|c| c.contribution).sum();
    assert!((fused.score - sum).abs() < 1e-9);
    assert!((fused.score - 0.745).abs() < 0.03, "{}", fused.score);
    for c in &fused.contributions {
        assert!((c.contribution - c.strength * c.weight).abs() < 1e-9, "{c:?}");
        assert!(!c.evidence.is_empty());
    }
    let names: Vec<&str> = fused.contributions.iter().map(|c| c.signal.as_str()).collect();
    for expected in ["rule_level", "ioc", "correlation"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(!names.contains(&"rule_breadth"), "one rule has no breadth");
    let mut wide = decoy_band_alerts();
    wide.push(alert(SignalKind::Sigma, "ssh-root-login", Severity::Medium, 0.5));
    let broader = fuse(&FusionWeights::default(), &inc, &wide);
    let breadth = broader.contributions.iter().find(|c| c.signal == "rule_breadth").unwrap();
    assert!((breadth.contribution - 0.05).abs() < 1e-9, "{breadth:?}");
    let factors = fused.factors();
    assert!(
        factors.iter().any(|f| f.name == "fusion.ioc" && f.detail.contains("weight 0.25")),
        "{factors:?}"
    );
}

#[test]
fn weights_come_from_config_and_the_score_stays_in_range() {
    let inc = incident("i1", "203.0.113.7");
    let heavy = FusionWeights { ioc: 5.0, ..FusionWeights::default() };
    let fused = fuse(&heavy, &inc, &decoy_band_alerts());
    assert_eq!(fused.score, 1.0);
    let none = FusionWeights {
        rule_level: 0.0,
        rule_breadth: 0.0,
        correlation: 0.0,
        ioc: 0.0,
        model: 0.0,
        asset_criticality: 0.0,
    };
    assert_eq!(fuse(&none, &inc, &decoy_band_alerts()).score, 0.0);
}

#[test]
fn asset_criticality_and_model_scores_contribute() {
    let mut inc = incident("i1", "10.0.0.5");
    inc.entities.insert("ward.asset.criticality".into(), vec!["critical".into()]);
    let alerts = vec![alert(SignalKind::Model, "iforest", Severity::Medium, 0.6)];
    let fused = fuse(&FusionWeights::default(), &inc, &alerts);
    assert_eq!(fused.criticality.as_deref(), Some("critical"));
    let model = fused.contributions.iter().find(|c| c.signal == "model").unwrap();
    assert!((model.contribution - 0.6 * 0.15).abs() < 1e-9);
    assert!(fused.contributions.iter().any(|c| c.signal == "asset_criticality" && c.strength == 1.0));
}
