//! Drift: a shifted score stream raises a model monitoring alert; a stable one does not.

use chrono::Utc;
use ward_ml::drift::{DriftMonitor, drift_alert};
use ward_model::{Severity, SignalKind, TenantId};

fn stream(seed: u64, n: usize, shift: f64) -> Vec<f64> {
    let mut rng = ward_ml::rng::Rng::new(seed);
    (0..n).map(|_| (rng.unit() + rng.unit() + rng.unit()) / 3.0 * 0.5 + shift).collect()
}

#[test]
fn shifted_distribution_raises_a_medium_model_alert() {
    let reference = stream(1, 2000, 0.0);
    let mut stable = DriftMonitor::new(reference.clone(), 200);
    assert!(stream(2, 2000, 0.0).into_iter().filter_map(|x| stable.observe(x)).next().is_none());

    let mut monitor = DriftMonitor::new(reference, 200);
    let mut values = stream(3, 500, 0.0);
    values.extend(stream(4, 500, 0.2));
    let drift = values.into_iter().find_map(|x| monitor.observe(x)).expect("drift detected");
    assert!(drift.observed > 500, "no alarm before the shift: {drift:?}");
    let tenant = TenantId::new("acme").unwrap();
    let alert = drift_alert(&tenant, "hdfs-ngram", &drift, Utc::now());
    assert_eq!((alert.kind, alert.level), (SignalKind::Model, Severity::Medium));
    assert_eq!(alert.tenant, tenant);
    assert_eq!(alert.rule_id, "model-drift:hdfs-ngram");
    assert!(alert.details["psi"].as_f64().unwrap() > 0.0);
}
