//! `ward eval logparse|sequence|tabular|dga`: reproduce the evaluation numbers from the
//! shared public data (table on stdout, then one JSON line per result).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ward_ml::eval::{self, EvalRow};
use ward_ml::model::{ModelKind, TrainOptions};
use ward_ml::tabular::Table;

use crate::Outcome;

/// `ward eval …`.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Template-mining grouping accuracy on the 16 loghub 2k sets.
    Logparse(LogparseArgs),
    /// Sequence anomaly models (k-fold over normal sessions, plus abnormal ones).
    Sequence(SequenceArgs),
    /// Random forest and isolation forest on a labelled CSV (NSL-KDD layout with --names).
    Tabular(TabularArgs),
    /// DGA classifier on a labelled domain CSV.
    Dga(DgaArgs),
}

/// `ward eval logparse`.
#[derive(Debug, Args)]
pub struct LogparseArgs {
    /// The loghub 2k folder (`<name>/<name>_2k.log_structured.csv`).
    #[arg(long, default_value = "../shared/data/logs/loghub_2k")]
    pub dir: PathBuf,
}

/// `ward eval sequence`.
#[derive(Debug, Args)]
pub struct SequenceArgs {
    /// Normal sessions (one per line).
    #[arg(long)]
    pub normal: Option<PathBuf>,
    /// Abnormal sessions.
    #[arg(long)]
    pub abnormal: Option<PathBuf>,
    /// Or: a named set under --shared (hdfs_deeplog, hdfs_loghub, hadoop, openstack,
    /// openstack_parisakalaki, adfa_ld; `all` for every one).
    #[arg(long)]
    pub set: Option<String>,
    /// Shared data folder.
    #[arg(long, default_value = "../shared/data")]
    pub shared: PathBuf,
    /// Models to evaluate (comma separated).
    #[arg(long, default_value = "ngram,count")]
    pub models: String,
    /// Folds of the normal sessions.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Shuffle seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// `ward eval tabular`.
#[derive(Debug, Args)]
pub struct TabularArgs {
    /// Training CSV.
    #[arg(long)]
    pub train: PathBuf,
    /// Test CSV (e.g. KDDTest+); without it a seeded share of --train is held out.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Column names for header-less CSV.
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// Label column.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Held-out share when there is no --test.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Shuffle seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// `ward eval dga`.
#[derive(Debug, Args)]
pub struct DgaArgs {
    /// Labelled domains (`domain,class,…`; `.gz` allowed).
    #[arg(long, default_value = "../shared/data/reference/threat_intel/dga_tisage/domains_features.csv.gz")]
    pub input: PathBuf,
    /// Held-out share.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Shuffle seed.
    #[arg(long, default_value_t = 5)]
    pub seed: u64,
}

/// Runs `ward eval …`.
///
/// # Errors
/// Missing or malformed data.
pub fn run(command: &EvalCommand) -> Result<Outcome> {
    match command {
        EvalCommand::Logparse(a) => logparse(a),
        EvalCommand::Sequence(a) => sequence(a),
        EvalCommand::Tabular(a) => tabular(a),
        EvalCommand::Dga(a) => {
            let data = ward_ml::dga::read_labelled(&a.input)?;
            let row = eval::dga("dga", &data, a.holdout, a.seed, ward_ml::dga::DgaParams::default())?;
            print_rows(&[row])
        }
    }
}

fn logparse(a: &LogparseArgs) -> Result<Outcome> {
    let results = ward_ml::logparse::evaluate_dir(&a.dir)
        .with_context(|| format!("loghub folder {}", a.dir.display()))?;
    let mut table = comfy_table::Table::new();
    table.set_header(["dataset", "lines", "oracle events", "templates", "grouping accuracy"]);
    for r in &results {
        table.add_row([
            r.dataset.clone(),
            r.lines.to_string(),
            r.oracle_events.to_string(),
            r.templates.to_string(),
            format!("{:.4}", r.grouping_accuracy),
        ]);
    }
    let avg = results.iter().map(|r| r.grouping_accuracy).sum::<f64>() / results.len().max(1) as f64;
    table.add_row(["average".to_owned(), String::new(), String::new(), String::new(), format!("{avg:.4}")]);
    println!("{table}");
    for r in &results {
        println!("{}", serde_json::to_string(r)?);
    }
    println!("{}", serde_json::json!({ "dataset": "average", "grouping_accuracy": avg }));
    Ok(Outcome::Success)
}

fn sequence(a: &SequenceArgs) -> Result<Outcome> {
    let kinds: Vec<ModelKind> = a.models.split(',').map(|k| k.trim().parse()).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    match (&a.normal, &a.set) {
        (Some(normal), None) => {
            let n = ward_ml::sequence::read_sessions(normal)?;
            let ab = match &a.abnormal {
                Some(p) => ward_ml::sequence::read_sessions(p)?,
                None => Vec::new(),
            };
            let name = normal.file_name().and_then(|s| s.to_str()).unwrap_or("input");
            for &k in &kinds {
                rows.push(eval::sequence_kfold(name, k, &n, &ab, a.folds, a.seed)?);
            }
        }
        (None, Some(set)) => {
            let sets: Vec<&str> = if set == "all" {
                eval::SEQUENCE_SETS.iter().map(|s| s.0).collect()
            } else {
                vec![set.as_str()]
            };
            for s in sets {
                for &k in &kinds {
                    rows.push(eval::sequence_set(&a.shared, s, k, a.folds, a.seed)?);
                }
            }
        }
        _ => bail!("give either --normal FILE [--abnormal FILE] or --set NAME"),
    }
    print_rows(&rows)
}

fn tabular(a: &TabularArgs) -> Result<Outcome> {
    let opts =
        TrainOptions { label_column: a.label_column.clone(), names: a.names.clone(), normal_label: None };
    let full = Table::read(&a.train, a.names.as_deref())?;
    let (train, test) = match &a.test {
        Some(t) => (full, Table::read(t, a.names.as_deref())?),
        None => eval::split_table(&full, a.holdout, a.seed),
    };
    let name = a.train.file_name().and_then(|s| s.to_str()).unwrap_or("input");
    print_rows(&eval::tabular(name, &train, &test, &opts)?)
}

fn print_rows(rows: &[EvalRow]) -> Result<Outcome> {
    let mut table = comfy_table::Table::new();
    table.set_header([
        "dataset",
        "model",
        "train",
        "test",
        "precision",
        "recall",
        "F1",
        "FPR",
        "accuracy",
        "train ms",
    ]);
    for r in rows {
        let m = &r.metrics;
        table.add_row([
            r.dataset.clone(),
            r.model.clone(),
            r.train.to_string(),
            r.test.to_string(),
            format!("{:.4}", m.precision),
            format!("{:.4}", m.recall),
            format!("{:.4}", m.f1),
            format!("{:.4}", m.fpr),
            format!("{:.4}", m.accuracy),
            r.train_ms.to_string(),
        ]);
    }
    println!("{table}");
    for r in rows {
        println!("{}", serde_json::to_string(r)?);
    }
    Ok(Outcome::Success)
}
