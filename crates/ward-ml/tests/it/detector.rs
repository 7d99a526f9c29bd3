//! The pipeline adapter: DGA on DNS events, iforest on numeric fields, shadow vs active.

use chrono::Utc;
use ward_ml::detector::ModelDetector;
use ward_ml::dga::{DgaModel, DgaParams};
use ward_ml::model::{Mode, Model, ModelKind, TrainOptions};
use ward_model::{Event, SignalKind, TenantId};

fn dga_model() -> Model {
    Model::Dga(
        DgaModel::train(&crate::toy_domains(), DgaParams { epochs: 30, ..Default::default() }).unwrap(),
    )
}

fn dns_event(name: &str) -> Event {
    let tenant = TenantId::new("acme").unwrap();
    let mut e = Event::new(&tenant, "suricata", &format!("{{\"q\":\"{name}\"}}"), 0, Utc::now());
    e.set("dns.question.name", name);
    e.set("source.ip", "10.1.2.3");
    e
}

#[test]
fn active_dga_model_alerts_with_explanation_and_shadow_does_not() {
    let active = ModelDetector::new("dga", 3, Mode::Active, dga_model());
    let alert = active.score_event(&dns_event("qxzjkvwpb.com")).expect("alert");
    assert_eq!(alert.kind, SignalKind::Model);
    assert_eq!(alert.rule_id, "model:dga");
    assert_eq!(alert.tenant.as_str(), "acme");
    assert_eq!(alert.entities["dns.question.name"], vec!["qxzjkvwpb.com"]);
    assert!(!alert.details["explain"]["top"].as_array().unwrap().is_empty());
    assert!(active.score_event(&dns_event("www.google.com")).is_none());

    let shadow = ModelDetector::new("dga", 4, Mode::Shadow, dga_model());
    assert!(shadow.score_event(&dns_event("qxzjkvwpb.com")).is_none());
    assert_eq!(shadow.stats().scored, 1);
    assert_eq!(shadow.stats().anomalies, 1);
    let tenant = TenantId::new("acme").unwrap();
    assert!(shadow.score(&Event::new(&tenant, "x", "{}", 0, Utc::now())).is_none(), "no DNS name, no score");
}

#[test]
fn iforest_scores_numeric_event_fields() {
    let dir = crate::tmp();
    let path = dir.path().join("flows.csv");
    let mut text = String::from("source.bytes,destination.port\n");
    let mut rng = ward_ml::rng::Rng::new(9);
    for _ in 0..300 {
        text.push_str(&format!("{},{}\n", 500 + rng.below(100), [80, 443][rng.below(2)]));
    }
    std::fs::write(&path, text).unwrap();
    let (model, _) = Model::train_file(ModelKind::Iforest, &path, &TrainOptions::default()).unwrap();
    let det = ModelDetector::new("flows", 1, Mode::Active, model);
    let tenant = TenantId::new("acme").unwrap();
    let mut e = Event::new(&tenant, "netflow", "{\"a\":1}", 0, Utc::now());
    e.set("source.bytes", 9_000_000i64);
    e.set("destination.port", 31337i64);
    let alert = det.score_event(&e).expect("outlier alerts");
    assert!(alert.score > 0.6);
    let mut ok = Event::new(&tenant, "netflow", "{\"a\":2}", 0, Utc::now());
    ok.set("source.bytes", 550i64);
    ok.set("destination.port", 443i64);
    assert!(det.score_event(&ok).is_none());
}
