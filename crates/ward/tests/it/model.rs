//! `ward model train|score|register|promote|rollback|list` and `ward eval` through the binary:
//! the CONTRACTS.md model contract (one JSON line per input line, in order).

use std::path::Path;
use std::process::{Command, Output};

fn ward(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("WARD_CONFIG")
        .output()
        .expect("ward runs")
}

#[test]
fn train_score_register_promote_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = d.join("train.txt");
    std::fs::write(&train, "a,1 2 3 4\nb,1 2 3 4\n1 2 3 4\n".repeat(20)).unwrap();
    let model = d.join("m");
    let out = ward(
        d,
        &[
            "model",
            "train",
            "--kind",
            "sequence",
            "--input",
            train.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let input = d.join("score.txt");
    std::fs::write(&input, "x,1 2 3 4\n4 3 2 1\ny,1 2 9 4\n").unwrap();
    let out =
        ward(d, &["model", "score", "--model", model.to_str().unwrap(), "--input", input.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[1]["id"].as_str(), lines[2]["id"].as_str()),
        (Some("x"), Some("2"), Some("y"))
    );
    assert_eq!(
        lines.iter().map(|l| l["anomaly"].as_bool().unwrap()).collect::<Vec<_>>(),
        [false, true, true]
    );
    assert!(lines.iter().all(|l| l["score"].is_number() && l.get("label").is_none()));

    let m = model.to_str().unwrap();
    assert!(ward(d, &["model", "register", "--name", "hdfs", "--model", m]).status.success());
    assert!(ward(d, &["model", "register", "--name", "hdfs", "--model", m]).status.success());
    assert!(ward(d, &["model", "promote", "hdfs", "1"]).status.success());
    assert!(ward(d, &["model", "promote", "hdfs"]).status.success());
    assert!(ward(d, &["model", "rollback", "hdfs"]).status.success());
    let out = ward(d, &["model", "list", "--json"]);
    let modes: Vec<(u64, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["version"].as_u64().unwrap(), v["meta"]["mode"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(modes, vec![(1, "active".to_owned()), (2, "shadow".to_owned())]);
    assert_eq!(
        ward(d, &["model", "train", "--kind", "bogus", "--input", "x", "--out", "y"]).status.code(),
        Some(1)
    );
}

#[test]
fn bad_rows_are_reported_and_exit_partial() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = d.join("t.csv");
    let mut text = String::from("bytes,port\n");
    for i in 0..100 {
        text.push_str(&format!("{},{}\n", 100 + i, 443));
    }
    std::fs::write(&train, text).unwrap();
    let model = d.join("m");
    let out = ward(
        d,
        &[
            "model",
            "train",
            "--kind",
            "iforest",
            "--input",
            train.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let input = d.join("s.csv");
    std::fs::write(&input, "bytes,port\n150,443\nlots,443\n").unwrap();
    let out =
        ward(d, &["model", "score", "--model", model.to_str().unwrap(), "--input", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("s.csv:3") && err.trim_end().ends_with("scored=1 rejected=1"), "{err}");
}
