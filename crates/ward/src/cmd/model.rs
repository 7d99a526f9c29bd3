//! `ward model train|score|register|list|promote|rollback|retrain`: learned models on the
//! command line (contract in `shared/design/CONTRACTS.md`, "Models").

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ward_ml::model::{Model, ModelKind, TrainOptions};
use ward_ml::registry::Registry;

use crate::Outcome;

/// `ward model …`.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Train a model from a file and write it to a model directory.
    Train(TrainArgs),
    /// Score a file: one JSON line per input line, in order (labels are never read).
    Score(ScoreArgs),
    /// Copy a model directory into the registry as the next version of NAME (shadow mode).
    Register(RegisterArgs),
    /// List registered models and versions.
    List(ListArgs),
    /// Make a version active (default: the newest); the previously active one goes to shadow.
    Promote(PromoteArgs),
    /// Return NAME to the version that was active before the current one.
    Rollback(NameArg),
    /// Retrain a model from its input corrected by analyst labels (JSONL).
    Retrain(RetrainArgs),
}

/// `ward model train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// sequence (= ngram), ngram, lstm, count, iforest, tabular or dga.
    #[arg(long)]
    pub kind: String,
    /// Training input: sessions (`id,k1 k2 …` or `k1 k2 …`), CSV, or labelled domains.
    #[arg(long)]
    pub input: PathBuf,
    /// Label column of tabular input (default `label`).
    #[arg(long)]
    pub label_column: Option<String>,
    /// Column names for header-less CSV (`name,continuous|symbolic` per line).
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// The label value meaning normal (default `normal`).
    #[arg(long)]
    pub normal_label: Option<String>,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also register the model under this name in `<data-dir>/models`.
    #[arg(long)]
    pub register: Option<String>,
}

/// `ward model score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Model directory (from `ward model train` or the registry).
    #[arg(long)]
    pub model: PathBuf,
    /// Input file (`-` for standard input).
    #[arg(long)]
    pub input: PathBuf,
}

/// `ward model register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Registry name.
    #[arg(long)]
    pub name: String,
    /// Model directory to register.
    #[arg(long)]
    pub model: PathBuf,
}

/// `ward model list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// One JSON object per version instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `ward model promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// Registry name.
    pub name: String,
    /// Version (default: the newest).
    #[arg(value_name = "VERSION")]
    pub number: Option<u32>,
}

/// A model name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// Registry name.
    pub name: String,
}

/// `ward model retrain`.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The model to retrain (its kind is kept).
    #[arg(long)]
    pub model: PathBuf,
    /// Training input (same layout as for `train`).
    #[arg(long)]
    pub input: PathBuf,
    /// Labels: JSONL `{"incident_id","label"[,"id"]}`.
    #[arg(long)]
    pub labels: PathBuf,
    /// Label column of tabular input.
    #[arg(long)]
    pub label_column: Option<String>,
    /// Column names for header-less CSV.
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also register the new model under this name.
    #[arg(long)]
    pub register: Option<String>,
}

/// Runs `ward model …`.
///
/// # Errors
/// Unreadable input or model, invalid kind, registry errors.
pub fn run(command: &ModelCommand, data_dir: &Path) -> Result<Outcome> {
    let registry = Registry::new(data_dir.join("models"));
    match command {
        ModelCommand::Train(a) => train(a, &registry),
        ModelCommand::Score(a) => score(a),
        ModelCommand::Register(a) => {
            let e = registry.register(&a.name, &a.model)?;
            println!(
                "registered {} version {} ({}, shadow) at {}",
                e.name,
                e.version,
                e.meta.kind,
                e.dir.display()
            );
            Ok(Outcome::Success)
        }
        ModelCommand::List(a) => list(a, &registry),
        ModelCommand::Promote(a) => {
            let e = registry.promote(&a.name, a.number)?;
            println!("{} version {} is active", e.name, e.version);
            Ok(Outcome::Success)
        }
        ModelCommand::Rollback(a) => {
            match registry.rollback(&a.name)? {
                Some(e) => println!("{} version {} is active again", e.name, e.version),
                None => println!("{} has no active version now (all shadow)", a.name),
            }
            Ok(Outcome::Success)
        }
        ModelCommand::Retrain(a) => retrain(a, &registry),
    }
}

fn options(label_column: &Option<String>, names: &Option<PathBuf>, normal: Option<String>) -> TrainOptions {
    TrainOptions { label_column: label_column.clone(), names: names.clone(), normal_label: normal }
}

fn train(a: &TrainArgs, registry: &Registry) -> Result<Outcome> {
    let kind: ModelKind = a.kind.parse()?;
    let start = std::time::Instant::now();
    let (model, meta) =
        Model::train_file(kind, &a.input, &options(&a.label_column, &a.names, a.normal_label.clone()))
            .with_context(|| format!("training {kind} on {}", a.input.display()))?;
    model.save(&meta, &a.out)?;
    eprintln!(
        "trained {kind} on {} rows in {} ms → {}",
        meta.training_rows,
        start.elapsed().as_millis(),
        a.out.display()
    );
    if let Some(name) = &a.register {
        let e = registry.register(name, &a.out)?;
        eprintln!("registered {} version {} (shadow)", e.name, e.version);
    }
    Ok(Outcome::Success)
}

fn score(a: &ScoreArgs) -> Result<Outcome> {
    let (model, _) = Model::load(&a.model).with_context(|| format!("loading model {}", a.model.display()))?;
    let text = if a.input == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        ward_ml::dga::read_text(&a.input)?
    };
    let origin = a.input.display().to_string();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut scored, mut rejected) = (0usize, 0usize);
    for line in model.score_text(&text, &origin) {
        match line {
            Ok(l) => {
                serde_json::to_writer(&mut out, &l)?;
                out.write_all(b"\n")?;
                scored += 1;
            }
            Err(e) => {
                eprintln!("{}", serde_json::json!({ "error": e.to_string() }));
                rejected += 1;
            }
        }
    }
    out.flush()?;
    eprintln!("scored={scored} rejected={rejected}");
    Ok(if rejected > 0 { Outcome::Partial } else { Outcome::Success })
}

fn list(a: &ListArgs, registry: &Registry) -> Result<Outcome> {
    let entries = registry.list()?;
    if a.json {
        for e in &entries {
            println!(
                "{}",
                serde_json::json!({ "name": e.name, "version": e.version, "dir": e.dir, "meta": e.meta })
            );
        }
        return Ok(Outcome::Success);
    }
    let mut table = comfy_table::Table::new();
    table.set_header(["name", "version", "kind", "mode", "rows", "data hash", "created at"]);
    for e in &entries {
        table.add_row([
            e.name.clone(),
            e.version.to_string(),
            e.meta.kind.to_string(),
            e.meta.mode.as_str().to_owned(),
            e.meta.training_rows.to_string(),
            e.meta.training_data_hash.chars().take(12).collect(),
            e.meta.created_at.to_rfc3339(),
        ]);
    }
    println!("{table}");
    Ok(Outcome::Success)
}

fn retrain(a: &RetrainArgs, registry: &Registry) -> Result<Outcome> {
    let meta = ward_ml::model::read_meta(&a.model)?;
    let labels = ward_ml::labels::read_labels(&a.labels)?;
    if labels.is_empty() {
        bail!("{}: no labels", a.labels.display());
    }
    let (model, meta, summary) =
        ward_ml::labels::retrain(meta.kind, &a.input, &labels, &options(&a.label_column, &a.names, None))?;
    model.save(&meta, &a.out)?;
    println!("{}", serde_json::to_string(&summary)?);
    if let Some(name) = &a.register {
        let e = registry.register(name, &a.out)?;
        eprintln!("registered {} version {} (shadow)", e.name, e.version);
    }
    Ok(if summary.unmatched > 0 { Outcome::Partial } else { Outcome::Success })
}
