//! Sequence models on HDFS (DeepLog split) and the AIT sets, trained on normal sessions only.

use ward_ml::eval;
use ward_ml::model::ModelKind;

#[test]
fn hdfs_ngram_f1_and_fpr_targets() {
    let Some(shared) = ward_testkit::shared_data() else { return };
    let row = eval::sequence_set(&shared, "hdfs_deeplog", ModelKind::Ngram, 5, 7).unwrap();
    eprintln!("ngram {:?}", row.metrics);
    assert!(row.metrics.f1 >= 0.98, "{:?}", row.metrics);
    assert!(row.metrics.fpr <= 0.01, "{:?}", row.metrics);
}

#[test]
fn hdfs_count_model_f1_and_fpr_targets() {
    let Some(shared) = ward_testkit::shared_data() else { return };
    let row = eval::sequence_set(&shared, "hdfs_deeplog", ModelKind::Count, 5, 7).unwrap();
    eprintln!("count {:?}", row.metrics);
    assert!(row.metrics.f1 >= 0.98, "{:?}", row.metrics);
    assert!(row.metrics.fpr <= 0.01, "{:?}", row.metrics);
}

#[test]
fn hdfs_loghub_parse_ngram_generalizes_to_another_parse() {
    let Some(shared) = ward_testkit::shared_data() else { return };
    let row = eval::sequence_set(&shared, "hdfs_loghub", ModelKind::Ngram, 5, 7).unwrap();
    eprintln!("hdfs_loghub ngram {:?}", row.metrics);
    assert!(row.metrics.f1 >= 0.95, "{:?}", row.metrics);
}

#[test]
fn ngram_explains_unexpected_keys() {
    let sessions: Vec<_> =
        (0..50).map(|i| ward_ml::sequence::parse_session(&format!("s{i},1 2 3 4"), i)).collect();
    let m = ward_ml::Model::train_sessions(ModelKind::Ngram, &sessions).unwrap();
    let ok = m.score_session(&ward_ml::sequence::parse_session("a,1 2 3 4", 1));
    let bad = m.score_session(&ward_ml::sequence::parse_session("b,1 2 9 4", 1));
    assert!(!ok.anomaly && bad.anomaly);
    let unexpected = bad.explain["unexpected"].as_array().unwrap();
    assert_eq!(unexpected[0]["key"], "9");
    assert_eq!(unexpected[0]["expected"][0], "3");
}
