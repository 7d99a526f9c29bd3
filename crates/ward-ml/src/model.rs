//! One type over every model kind: train from an input file, save to and load from a model
//! directory (`model.json` + `meta.json`), and score input lines in order with explanations.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::dga::{DgaModel, DgaParams};
use crate::error::{MlError, Result};
use crate::forest::{RandomForest, RandomForestParams};
use crate::iforest::{ForestParams, IsolationForest};
use crate::sequence::count::{CountModel, CountParams};
use crate::sequence::ngram::{NgramModel, NgramParams};
use crate::sequence::{Session, parse_session};
use crate::tabular::{Schema, Table};

/// The kinds of model `ward model train --kind` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// DeepLog-style n-gram next-key sequence model (`sequence` is an alias).
    Ngram,
    /// GRU next-key sequence model (feature `neural`).
    Lstm,
    /// Count-vector PCA sequence model.
    Count,
    /// Isolation forest over numeric/tabular features.
    Iforest,
    /// Supervised random forest over tabular features.
    Tabular,
    /// DGA domain classifier.
    Dga,
}

impl ModelKind {
    /// Every kind.
    pub const ALL: [ModelKind; 6] =
        [Self::Ngram, Self::Lstm, Self::Count, Self::Iforest, Self::Tabular, Self::Dga];

    /// The name used on the command line and in metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ngram => "ngram",
            Self::Lstm => "lstm",
            Self::Count => "count",
            Self::Iforest => "iforest",
            Self::Tabular => "tabular",
            Self::Dga => "dga",
        }
    }

    /// Whether the model reads sessions (one per line).
    pub fn is_sequence(self) -> bool {
        matches!(self, Self::Ngram | Self::Lstm | Self::Count)
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ModelKind {
    type Err = MlError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ngram" | "sequence" => Self::Ngram,
            "lstm" | "gru" | "neural" => Self::Lstm,
            "count" => Self::Count,
            "iforest" => Self::Iforest,
            "tabular" => Self::Tabular,
            "dga" => Self::Dga,
            _ => {
                return Err(MlError::Unsupported(format!(
                    "unknown model kind `{s}` (expected one of: sequence, ngram, lstm, count, iforest, tabular, dga)"
                )));
            }
        })
    }
}

/// Whether a deployed model may raise alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Scores are recorded, no alerts.
    #[default]
    Shadow,
    /// Anomalies become alerts.
    Active,
}

impl Mode {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shadow => "shadow",
            Self::Active => "active",
        }
    }
}

/// What a model directory says about its model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Model kind.
    pub kind: ModelKind,
    /// Registry version (0 until registered).
    #[serde(default)]
    pub version: u32,
    /// XXH3-128 of the training input, hex.
    pub training_data_hash: String,
    /// Training input path as given.
    pub training_input: String,
    /// Training rows or sessions used.
    pub training_rows: usize,
    /// Feature names (tabular), or the key vocabulary size for sequence models.
    pub features: Vec<String>,
    /// Evaluation metrics recorded for this model (empty until evaluated).
    #[serde(default)]
    pub metrics: serde_json::Map<String, serde_json::Value>,
    /// Training parameters.
    pub params: serde_json::Value,
    /// When it was trained.
    pub created_at: DateTime<Utc>,
    /// Shadow or active.
    #[serde(default)]
    pub mode: Mode,
}

/// A trained model of any kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    /// n-gram next-key model.
    Ngram(NgramModel),
    /// GRU next-key model.
    #[cfg(feature = "neural")]
    Lstm(crate::sequence::neural::GruModel),
    /// Count-vector PCA model.
    Count(CountModel),
    /// Isolation forest with its feature encoding.
    Iforest {
        /// Feature encoding.
        schema: Schema,
        /// Column layout of header-less training input.
        columns: Vec<String>,
        /// The forest.
        forest: IsolationForest,
    },
    /// Random forest classifier with its feature encoding.
    Tabular {
        /// Feature encoding.
        schema: Schema,
        /// Column layout of header-less training input.
        columns: Vec<String>,
        /// The forest.
        forest: RandomForest,
        /// Probability above which a row is an attack.
        threshold: f64,
    },
    /// DGA classifier.
    Dga(DgaModel),
}

/// One scored input line, printed by `ward model score`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// Session id, row id (`id` column or 1-based data row) or domain.
    pub id: String,
    /// Whether the model calls it anomalous (or an attack / generated).
    pub anomaly: bool,
    /// Score in [0, 1]; higher is more anomalous.
    pub score: f64,
    /// Predicted class (classifiers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Why: the unexpected keys, top features or n-grams.
    pub explain: serde_json::Value,
}

/// Training options beyond the input file.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Label column for tabular input (default `label`).
    pub label_column: Option<String>,
    /// Names file for header-less tabular input.
    pub names: Option<std::path::PathBuf>,
    /// The label value meaning normal (default `normal`).
    pub normal_label: Option<String>,
}

impl Model {
    /// The model's kind.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Ngram(_) => ModelKind::Ngram,
            #[cfg(feature = "neural")]
            Self::Lstm(_) => ModelKind::Lstm,
            Self::Count(_) => ModelKind::Count,
            Self::Iforest { .. } => ModelKind::Iforest,
            Self::Tabular { .. } => ModelKind::Tabular,
            Self::Dga(_) => ModelKind::Dga,
        }
    }

    /// Trains a model of `kind` on sessions (sequence kinds).
    pub fn train_sessions(kind: ModelKind, sessions: &[Session]) -> Result<Self> {
        match kind {
            ModelKind::Ngram => Ok(Self::Ngram(NgramModel::train(sessions, NgramParams::default())?)),
            ModelKind::Count => Ok(Self::Count(CountModel::train(sessions, CountParams::default())?)),
            #[cfg(feature = "neural")]
            ModelKind::Lstm => Ok(Self::Lstm(crate::sequence::neural::GruModel::train(
                sessions,
                crate::sequence::neural::GruParams::default(),
            )?)),
            #[cfg(not(feature = "neural"))]
            ModelKind::Lstm => Err(MlError::Unsupported(
                "the lstm model needs ward built with the `ml-neural` feature".into(),
            )),
            other => Err(MlError::Unsupported(format!("{other} is not a sequence model"))),
        }
    }

    /// Trains a tabular model (`tabular` needs labels; `iforest` ignores them).
    pub fn train_table(kind: ModelKind, table: &Table, opts: &TrainOptions) -> Result<Self> {
        let label = opts.label_column.as_deref().unwrap_or("label");
        let normal = opts.normal_label.as_deref().unwrap_or("normal");
        let schema = Schema::learn(table, label, normal)?;
        let rows = schema.encode(table, "training input")?;
        match kind {
            ModelKind::Iforest => Ok(Self::Iforest {
                forest: IsolationForest::train(&rows, ForestParams::default())?,
                columns: table.columns.clone(),
                schema,
            }),
            ModelKind::Tabular => {
                let labels = schema.labels(table)?;
                Ok(Self::Tabular {
                    forest: RandomForest::train(&rows, &labels, RandomForestParams::default())?,
                    columns: table.columns.clone(),
                    schema,
                    threshold: 0.5,
                })
            }
            other => Err(MlError::Unsupported(format!("{other} is not a tabular model"))),
        }
    }

    /// Trains a model of `kind` from the file `input`, returning it with its metadata.
    pub fn train_file(kind: ModelKind, input: &Path, opts: &TrainOptions) -> Result<(Self, Metadata)> {
        let bytes = std::fs::read(input).map_err(|e| MlError::io(input, e))?;
        let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&bytes));
        let (model, rows) = if kind.is_sequence() {
            let sessions = crate::sequence::read_sessions(input)?;
            (Self::train_sessions(kind, &sessions)?, sessions.len())
        } else if kind == ModelKind::Dga {
            let data = crate::dga::read_labelled(input)?;
            (Self::Dga(DgaModel::train(&data, DgaParams::default())?), data.len())
        } else {
            let table = Table::read(input, opts.names.as_deref())?;
            (Self::train_table(kind, &table, opts)?, table.rows.len())
        };
        let meta = Metadata {
            kind,
            version: 0,
            training_data_hash: hash,
            training_input: input.display().to_string(),
            training_rows: rows,
            features: model.feature_names(),
            metrics: serde_json::Map::new(),
            params: model.params(),
            created_at: Utc::now(),
            mode: Mode::Shadow,
        };
        Ok((model, meta))
    }

    /// Feature names (tabular) or the key vocabulary (sequence models).
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            Self::Iforest { schema, .. } | Self::Tabular { schema, .. } => schema.names(),
            Self::Ngram(m) => vec![format!("keys={}", m.vocab.len() - 1)],
            Self::Count(m) => vec![format!("keys={}", m.vocab.len() - 1)],
            #[cfg(feature = "neural")]
            Self::Lstm(m) => vec![format!("keys={}", m.vocab.len() - 1)],
            Self::Dga(_) => vec![
                "char_ngrams_1_4".into(),
                "length".into(),
                "entropy".into(),
                "digits".into(),
                "vowels".into(),
            ],
        }
    }

    /// Training parameters as JSON.
    pub fn params(&self) -> serde_json::Value {
        match self {
            Self::Ngram(m) => json!(m.params),
            Self::Count(m) => json!(m.params),
            #[cfg(feature = "neural")]
            Self::Lstm(m) => json!(m.params),
            Self::Iforest { forest, .. } => json!(forest.params),
            Self::Tabular { forest, .. } => json!(forest.params),
            Self::Dga(m) => json!(m.params),
        }
    }

    /// Rebuilds lookup structures after loading.
    fn reindex(&mut self) {
        match self {
            Self::Ngram(m) => m.reindex(),
            Self::Count(m) => m.vocab.reindex(),
            _ => {}
        }
    }

    /// Writes `model.json` and `meta.json` into `dir` (created if needed).
    pub fn save(&self, meta: &Metadata, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| MlError::io(dir, e))?;
        let write = |name: &str, json: String| {
            let path = dir.join(name);
            std::fs::write(&path, json).map_err(|e| MlError::io(&path, e))
        };
        let err = |e: serde_json::Error| MlError::Unsupported(format!("serializing model: {e}"));
        write("model.json", serde_json::to_string(self).map_err(err)?)?;
        write("meta.json", serde_json::to_string_pretty(meta).map_err(err)?)
    }

    /// Loads a model directory written by [`Model::save`].
    pub fn load(dir: &Path) -> Result<(Self, Metadata)> {
        let meta = read_meta(dir)?;
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| MlError::io(&path, e))?;
        let mut model: Self = serde_json::from_str(&text).map_err(|source| {
            if meta.kind == ModelKind::Lstm && cfg!(not(feature = "neural")) {
                MlError::Unsupported("this lstm model needs ward built with the `ml-neural` feature".into())
            } else {
                MlError::Format { path: path.clone(), source }
            }
        })?;
        model.reindex();
        #[cfg(feature = "neural")]
        if let Self::Lstm(m) = &mut model {
            m.rebuild()?;
        }
        Ok((model, meta))
    }

    /// Scores every line of `text` in order (the label column, if present, is never read).
    /// Each line gives a score or the reason it could not be scored.
    pub fn score_text(&self, text: &str, origin: &str) -> Vec<Result<ScoreLine>> {
        match self {
            Self::Iforest { schema, columns, .. } | Self::Tabular { schema, columns, .. } => {
                self.score_table(schema, columns, text, origin)
            }
            Self::Dga(m) => {
                let mut lines = text.lines().peekable();
                let header =
                    lines.peek().map(|l| crate::csv::split(l)).filter(|h| h.iter().any(|c| c == "domain"));
                let col = header.as_ref().and_then(|h| h.iter().position(|c| c == "domain"));
                if header.is_some() {
                    lines.next();
                }
                lines
                    .map(|l| {
                        let name = match col {
                            Some(c) => crate::csv::split(l).get(c).cloned().unwrap_or_default(),
                            None => l.trim().to_owned(),
                        };
                        let s = m.score(&name);
                        Ok(ScoreLine {
                            id: name,
                            anomaly: s.generated,
                            score: s.probability,
                            label: Some(if s.generated { "dga" } else { "legit" }.to_owned()),
                            explain: json!({ "label": s.label, "top": s.top }),
                        })
                    })
                    .collect()
            }
            _ => text
                .lines()
                .enumerate()
                .map(|(i, l)| Ok(self.score_session(&parse_session(l, i + 1))))
                .collect(),
        }
    }

    /// Scores one session (sequence models; other kinds score it as not anomalous with an
    /// explanation saying why).
    pub fn score_session(&self, s: &Session) -> ScoreLine {
        let (anomaly, score, explain) = match self {
            Self::Ngram(m) => {
                let r = m.score(&s.keys);
                (r.anomaly, r.score, json!({ "unexpected": r.unexpected }))
            }
            Self::Count(m) => {
                let r = m.score(&s.keys);
                (r.anomaly, r.score, json!({ "spe": r.spe, "threshold": m.threshold, "top": r.top }))
            }
            #[cfg(feature = "neural")]
            Self::Lstm(m) => {
                let r = m.score(&s.keys);
                (r.anomaly, r.score, json!({ "unexpected": r.unexpected }))
            }
            other => (false, 0.0, json!({ "error": format!("{} does not score sessions", other.kind()) })),
        };
        ScoreLine { id: s.id.clone(), anomaly, score, label: None, explain }
    }

    fn score_table(
        &self,
        schema: &Schema,
        columns: &[String],
        text: &str,
        origin: &str,
    ) -> Vec<Result<ScoreLine>> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).peekable();
        let first = lines.peek().map(|(_, l)| crate::csv::split(l)).unwrap_or_default();
        let has_header = schema.features.iter().all(|f| first.iter().any(|c| c == f.name()));
        let layout: Vec<String> = if has_header {
            lines.next();
            first
        } else {
            columns.to_vec()
        };
        let idx: Vec<Option<usize>> =
            schema.features.iter().map(|f| layout.iter().position(|c| c == f.name())).collect();
        let id_col = layout.iter().position(|c| c == "id");
        let mut out = Vec::new();
        for (n, (i, line)) in lines.enumerate() {
            let fields = crate::csv::split(line);
            let values: Option<Vec<&str>> =
                idx.iter().map(|c| c.and_then(|c| fields.get(c)).map(String::as_str)).collect();
            let id = id_col.and_then(|c| fields.get(c).cloned()).unwrap_or_else(|| (n + 1).to_string());
            let Some(values) = values else {
                out.push(Err(MlError::Input {
                    path: origin.to_owned(),
                    line: i + 1,
                    reason: format!("{} fields: a feature column is missing", fields.len()),
                }));
                continue;
            };
            out.push(schema.encode_row(&values, origin, i + 1).and_then(|x| self.score_row(schema, id, &x)));
        }
        out
    }

    /// Scores one encoded row (tabular kinds).
    pub fn score_row(&self, schema: &Schema, id: String, x: &[f64]) -> Result<ScoreLine> {
        let names = schema.names();
        let name = |i: usize| names.get(i).cloned().unwrap_or_default();
        match self {
            Self::Iforest { forest, .. } => {
                let s = forest.score(x)?;
                let top: Vec<_> = s
                    .top
                    .iter()
                    .map(|&(f, w)| json!({ "feature": name(f), "value": x[f], "weight": w }))
                    .collect();
                Ok(ScoreLine {
                    id,
                    anomaly: s.anomaly,
                    score: s.score,
                    label: None,
                    explain: json!({ "top": top }),
                })
            }
            Self::Tabular { forest, threshold, .. } => {
                let s = forest.score(x);
                let attack = s.probability > *threshold;
                let top: Vec<_> = s
                    .top
                    .iter()
                    .map(|&(f, w)| json!({ "feature": name(f), "value": x[f], "contribution": w }))
                    .collect();
                Ok(ScoreLine {
                    id,
                    anomaly: attack,
                    score: s.probability,
                    label: Some(if attack { "attack".to_owned() } else { schema.normal.clone() }),
                    explain: json!({ "top": top }),
                })
            }
            other => Err(MlError::Unsupported(format!("{} does not score table rows", other.kind()))),
        }
    }
}

/// Reads `meta.json` from a model directory.
pub fn read_meta(dir: &Path) -> Result<Metadata> {
    let path = dir.join("meta.json");
    let text = std::fs::read_to_string(&path).map_err(|e| MlError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|source| MlError::Format { path, source })
}

/// Writes `meta.json` into a model directory.
pub fn write_meta(dir: &Path, meta: &Metadata) -> Result<()> {
    let path = dir.join("meta.json");
    let json = serde_json::to_string_pretty(meta)
        .map_err(|e| MlError::Unsupported(format!("serializing metadata: {e}")))?;
    std::fs::write(&path, json).map_err(|e| MlError::io(&path, e))
}
