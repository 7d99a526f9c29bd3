//! Scoring throughput and training time of each model on the shared data (run in release:
//! `cargo bench -p ward-ml [--features neural]`). Prints one line per measurement.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use ward_ml::Model;
use ward_ml::model::{ModelKind, TrainOptions};
use ward_ml::sequence::read_sessions;

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("WARD_SHARED_DATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
        PathBuf::from,
    );
    dir.is_dir().then_some(dir)
}

fn rate(what: &str, n: usize, f: impl Fn()) {
    let start = Instant::now();
    f();
    let secs = start.elapsed().as_secs_f64();
    println!("{what}: {n} in {:.3} s = {:.0}/s", secs, n as f64 / secs);
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(data) = shared() else {
        println!("shared data not found; set WARD_SHARED_DATA");
        return Ok(());
    };
    let normal = read_sessions(&data.join("logs/hdfs_sequences/deeplog_split/hdfs_train"))?;
    let abnormal = read_sessions(&data.join("logs/hdfs_sequences/deeplog_split/hdfs_dev_abnormal"))?;
    let all: Vec<_> = normal.iter().chain(&abnormal).cloned().collect();
    let mut kinds = vec![ModelKind::Ngram, ModelKind::Count];
    if cfg!(feature = "neural") {
        kinds.push(ModelKind::Lstm);
    }
    for kind in kinds {
        let start = Instant::now();
        let model = Model::train_sessions(kind, &normal)?;
        println!("train {kind} on {} HDFS sessions: {:.3} s", normal.len(), start.elapsed().as_secs_f64());
        #[cfg(feature = "neural")]
        if let Model::Lstm(gru) = &model {
            let keys: Vec<&[String]> = all.iter().map(|s| s.keys.as_slice()).collect();
            rate("score lstm sessions, batches of 512", all.len(), || {
                for chunk in keys.chunks(512) {
                    black_box(gru.score_batch(chunk));
                }
            });
        }
        let reps = if kind == ModelKind::Lstm { 1 } else { 20 };
        rate(&format!("score {kind} sessions"), all.len() * reps, || {
            for _ in 0..reps {
                for s in &all {
                    black_box(model.score_session(s));
                }
            }
        });
    }
    let kdd = data.join("network/nsl_kdd");
    let train = kdd.join("KDDTrain+_20Percent.txt");
    let opts = TrainOptions { names: Some(kdd.join("field_names.csv")), ..Default::default() };
    let text = std::fs::read_to_string(&train)?;
    for kind in [ModelKind::Tabular, ModelKind::Iforest] {
        let start = Instant::now();
        let (model, meta) = Model::train_file(kind, &train, &opts)?;
        println!(
            "train {kind} on {} NSL-KDD rows: {:.3} s",
            meta.training_rows,
            start.elapsed().as_secs_f64()
        );
        rate(&format!("score {kind} rows (CSV parse included)"), meta.training_rows, || {
            black_box(model.score_text(&text, "kdd"));
        });
    }
    let dga_path = data.join("reference/threat_intel/dga_tisage/domains_features.csv.gz");
    let start = Instant::now();
    let (model, meta) = Model::train_file(ModelKind::Dga, &dga_path, &TrainOptions::default())?;
    println!("train dga on {} names: {:.3} s", meta.training_rows, start.elapsed().as_secs_f64());
    let names: Vec<String> = ward_ml::dga::read_labelled(&dga_path)?.into_iter().map(|d| d.0).collect();
    let Model::Dga(dga) = &model else { return Ok(()) };
    rate("score dga names", names.len(), || {
        for n in &names {
            black_box(dga.score(n));
        }
    });
    let loghub = data.join("logs/loghub_2k");
    let start = Instant::now();
    let results = ward_ml::logparse::evaluate_dir(&loghub)?;
    let lines: usize = results.iter().map(|r| r.lines).sum();
    println!("template mining, 16 loghub sets: {lines} lines in {:.3} s", start.elapsed().as_secs_f64());
    Ok(())
}
