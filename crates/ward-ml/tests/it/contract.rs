//! The `ward model train|score` contract through the library: one output per input line, in
//! order, with id/anomaly/score (+ label for classifiers), never reading labels.

use ward_ml::model::{Model, ModelKind, TrainOptions};

#[test]
fn tabular_scores_every_row_in_order_without_reading_labels() {
    let dir = crate::tmp();
    let names = dir.path().join("names.csv");
    std::fs::write(&names, "duration,continuous\nproto,symbolic\nbytes,continuous\n").unwrap();
    let train = dir.path().join("train.csv");
    let mut text = String::new();
    for i in 0..200 {
        let attack = i % 4 == 0;
        let bytes = if attack { 90_000 + i } else { 100 + i };
        let label = if attack { "neptune" } else { "normal" };
        text.push_str(&format!("{},{},{bytes},{label},21\n", i % 7, if i % 2 == 0 { "tcp" } else { "udp" }));
    }
    std::fs::write(&train, &text).unwrap();
    let opts = TrainOptions { names: Some(names), ..Default::default() };
    let (model, meta) = Model::train_file(ModelKind::Tabular, &train, &opts).unwrap();
    assert_eq!(meta.features, vec!["duration", "proto", "bytes"], "label and difficulty are not features");
    let input = "1,tcp,90001,normal,21\n2,udp,150,neptune,21\n3,icmp,95000\n";
    let out = model.score_text(input, "in.csv");
    assert_eq!(out.len(), 3);
    let lines: Vec<_> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
    assert!(lines[0].anomaly && !lines[1].anomaly && lines[2].anomaly, "labels in the input are ignored");
    assert_eq!(lines[0].label.as_deref(), Some("attack"));
    let json = serde_json::to_value(&lines[1]).unwrap();
    for key in ["id", "anomaly", "score", "label"] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    let bad = model.score_text("1,tcp,lots\n", "in.csv");
    assert!(bad[0].as_ref().unwrap_err().to_string().contains("in.csv:1"));
}

#[test]
fn sequence_score_keeps_ids_and_order_and_has_no_label() {
    let sessions = "a,1 2 3\nb,1 2 3\nc,1 2 3\n1 2 3\n";
    let dir = crate::tmp();
    let path = dir.path().join("s.txt");
    std::fs::write(&path, sessions.repeat(10)).unwrap();
    let (model, _) = Model::train_file("sequence".parse().unwrap(), &path, &TrainOptions::default()).unwrap();
    assert_eq!(model.kind(), ModelKind::Ngram);
    let out: Vec<_> = model.score_text("x,1 2 3\n3 2 1\n", "-").into_iter().map(Result::unwrap).collect();
    assert_eq!((out[0].id.as_str(), out[1].id.as_str()), ("x", "2"));
    assert!(!out[0].anomaly && out[1].anomaly);
    let json = serde_json::to_value(&out[0]).unwrap();
    assert!(json.get("label").is_none());
    assert!("bogus".parse::<ModelKind>().is_err());
}
