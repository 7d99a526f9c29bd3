//! Model directories, the registry (versions, promote, rollback) and retraining from labels.

use ward_ml::model::{Mode, Model, ModelKind, TrainOptions};
use ward_ml::registry::Registry;

fn sessions_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("train.txt");
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("s{i},1 2 3 4 5\n"));
    }
    text.push_str("bad1,1 2 7 7 5\n");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn save_load_round_trip_scores_identically() {
    let dir = crate::tmp();
    let input = sessions_file(dir.path());
    for kind in [ModelKind::Ngram, ModelKind::Count] {
        let (model, meta) = Model::train_file(kind, &input, &TrainOptions::default()).unwrap();
        assert_eq!(meta.training_rows, 41);
        assert_eq!(meta.training_data_hash.len(), 32);
        let out = dir.path().join(kind.as_str());
        model.save(&meta, &out).unwrap();
        let (loaded, meta2) = Model::load(&out).unwrap();
        assert_eq!(meta, meta2);
        let text = "x,1 2 3 4 5\ny,5 4 3 2 1\nz,1 2 99\n";
        let a: Vec<_> = model.score_text(text, "-").into_iter().map(Result::unwrap).collect();
        let b: Vec<_> = loaded.score_text(text, "-").into_iter().map(Result::unwrap).collect();
        assert_eq!(a, b);
        assert!(!a[0].anomaly && a[2].anomaly, "{kind}: {a:?}");
    }
}

#[test]
fn versions_promote_and_roll_back() {
    let dir = crate::tmp();
    let input = sessions_file(dir.path());
    let (model, meta) = Model::train_file(ModelKind::Ngram, &input, &TrainOptions::default()).unwrap();
    let src = dir.path().join("m");
    model.save(&meta, &src).unwrap();
    let reg = Registry::new(dir.path().join("models"));
    assert_eq!(reg.register("hdfs", &src).unwrap().version, 1);
    assert_eq!(reg.register("hdfs", &src).unwrap().version, 2);
    assert!(reg.active("hdfs").unwrap().is_none());
    assert!(reg.list().unwrap().iter().all(|e| e.meta.mode == Mode::Shadow));
    assert_eq!(reg.promote("hdfs", Some(1)).unwrap().version, 1);
    assert_eq!(reg.promote("hdfs", None).unwrap().version, 2);
    let modes: Vec<_> = reg.list().unwrap().iter().map(|e| (e.version, e.meta.mode)).collect();
    assert_eq!(modes, vec![(1, Mode::Shadow), (2, Mode::Active)]);
    assert_eq!(reg.rollback("hdfs").unwrap().unwrap().version, 1);
    assert_eq!(reg.active("hdfs").unwrap().unwrap().meta.mode, Mode::Active);
    assert!(reg.rollback("hdfs").unwrap().is_none());
    assert!(reg.rollback("hdfs").is_err());
    assert!(reg.promote("hdfs", Some(9)).is_err());
    assert!(reg.register("../evil", &src).is_err());
}

#[test]
fn retrain_drops_sessions_analysts_called_attacks() {
    let dir = crate::tmp();
    let input = sessions_file(dir.path());
    let (before, _) = Model::train_file(ModelKind::Ngram, &input, &TrainOptions::default()).unwrap();
    let probe = "p,1 2 7 7 5\n";
    assert!(!before.score_text(probe, "-")[0].as_ref().unwrap().anomaly, "the attack was learnt as normal");
    let labels_path = dir.path().join("labels.jsonl");
    std::fs::write(&labels_path, "{\"incident_id\":\"inc-1\",\"label\":\"true_positive\",\"id\":\"bad1\"}\n{\"incident_id\":\"inc-2\",\"label\":\"false_positive\",\"id\":\"nope\"}\n").unwrap();
    let labels = ward_ml::labels::read_labels(&labels_path).unwrap();
    let (after, meta, summary) =
        ward_ml::labels::retrain(ModelKind::Ngram, &input, &labels, &TrainOptions::default()).unwrap();
    assert_eq!((summary.input, summary.removed_attacks, summary.matched, summary.unmatched), (41, 1, 1, 1));
    assert_eq!(meta.training_rows, 40);
    assert!(after.score_text(probe, "-")[0].as_ref().unwrap().anomaly);
    std::fs::write(&labels_path, "{\"incident\":1}\n").unwrap();
    assert!(ward_ml::labels::read_labels(&labels_path).unwrap_err().to_string().contains(":1:"));
}
