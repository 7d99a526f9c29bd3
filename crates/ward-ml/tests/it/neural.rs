//! The GRU next-key model (feature `neural`): a tiny model trained in seconds on an HDFS
//! subset must separate held-out normal sessions from anomalous ones, and survive a save/load.

use ward_ml::Metrics;
use ward_ml::Model;
use ward_ml::sequence::neural::{GruModel, GruParams};
use ward_ml::sequence::{read_sessions, split_holdout};

#[test]
fn tiny_gru_detects_hdfs_anomalies_and_round_trips() {
    let Some(dir) = ward_testkit::shared("logs/hdfs_sequences/deeplog_split") else { return };
    let normal = read_sessions(&dir.join("hdfs_train")).unwrap();
    let abnormal = read_sessions(&dir.join("hdfs_dev_abnormal")).unwrap();
    let (train, test) = split_holdout(&normal, 0.2, 7);
    let params =
        GruParams { epochs: 2, max_windows: 8_000, hidden: 16, embed: 8, history: 6, ..Default::default() };
    let gru = GruModel::train(&train[..1500], params).unwrap();
    let model = Model::Lstm(gru);
    let mut m = Metrics::default();
    for s in test.iter().take(300) {
        m.add(model.score_session(s).anomaly, false);
    }
    for s in abnormal.iter().take(300) {
        m.add(model.score_session(s).anomaly, true);
    }
    let m = m.finish();
    eprintln!("gru {m:?}");
    // A 2-epoch, 16-unit model trained in about a second: it must clearly separate the
    // classes (the full-size model's numbers are in docs/evaluation.md).
    assert!(m.precision >= 0.95 && m.recall >= 0.6 && m.fpr <= 0.05, "{m:?}");

    let Model::Lstm(gru) = &model else { unreachable!() };
    let keys: Vec<&[String]> = abnormal.iter().take(50).map(|s| s.keys.as_slice()).collect();
    let one_by_one: Vec<_> = keys.iter().map(|k| gru.score(k)).collect();
    assert_eq!(gru.score_batch(&keys).len(), 50);
    for (a, b) in gru.score_batch(&keys).iter().zip(&one_by_one) {
        assert_eq!(a.anomaly, b.anomaly);
        assert!((a.score - b.score).abs() < 1e-9);
    }

    let out = crate::tmp();
    let meta = ward_ml::model::Metadata {
        kind: ward_ml::ModelKind::Lstm,
        version: 0,
        training_data_hash: String::new(),
        training_input: "subset".into(),
        training_rows: 1500,
        features: model.feature_names(),
        metrics: Default::default(),
        params: model.params(),
        created_at: chrono::Utc::now(),
        mode: ward_ml::model::Mode::Shadow,
    };
    model.save(&meta, out.path()).unwrap();
    let (loaded, _) = Model::load(out.path()).unwrap();
    for s in abnormal.iter().take(20) {
        assert_eq!(loaded.score_session(s), model.score_session(s));
    }
}
