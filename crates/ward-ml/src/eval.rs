//! Evaluations behind `ward eval`: each trains on the documented split of a public data set,
//! scores the held-out part with the same code `ward model score` uses, and reports metrics.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::dga::{DgaModel, DgaParams};
use crate::error::{MlError, Result};
use crate::metrics::Metrics;
use crate::model::{Model, ModelKind, TrainOptions};
use crate::rng::Rng;
use crate::sequence::{Session, split_holdout};
use crate::tabular::Table;

/// One evaluated model on one data set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalRow {
    /// Data set name.
    pub dataset: String,
    /// Model kind.
    pub model: String,
    /// Training items.
    pub train: usize,
    /// Test items.
    pub test: usize,
    /// Metrics (attack/anomaly = positive).
    pub metrics: Metrics,
    /// Training time in milliseconds.
    pub train_ms: u128,
}

/// Sequence evaluation: trains `kind` on normal sessions minus a `held_out` share, scores the
/// held-out normal sessions and every abnormal one.
pub fn sequence(
    dataset: &str,
    kind: ModelKind,
    normal: &[Session],
    abnormal: &[Session],
    held_out: f64,
    seed: u64,
) -> Result<EvalRow> {
    let (train, test) = split_holdout(normal, held_out, seed);
    let mut m = Metrics::default();
    let train_ms = train_and_score(kind, &train, &test, abnormal, &mut m)?;
    Ok(EvalRow {
        dataset: dataset.to_owned(),
        model: kind.to_string(),
        train: train.len(),
        test: test.len() + abnormal.len(),
        metrics: m.finish(),
        train_ms,
    })
}

/// k-fold sequence evaluation: normal sessions are cut into `folds` parts; each part is held
/// out once while the model trains on the others, and the abnormal sessions are scored by
/// every fold's model. Counts are summed over folds.
pub fn sequence_kfold(
    dataset: &str,
    kind: ModelKind,
    normal: &[Session],
    abnormal: &[Session],
    folds: usize,
    seed: u64,
) -> Result<EvalRow> {
    let folds = folds.max(2);
    let mut idx: Vec<usize> = (0..normal.len()).collect();
    Rng::new(seed).shuffle(&mut idx);
    let mut m = Metrics::default();
    let mut train_ms = 0;
    let mut trained = 0;
    for f in 0..folds {
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for (pos, &i) in idx.iter().enumerate() {
            if pos % folds == f { test.push(normal[i].clone()) } else { train.push(normal[i].clone()) }
        }
        train_ms += train_and_score(kind, &train, &test, abnormal, &mut m)?;
        trained += train.len();
    }
    Ok(EvalRow {
        dataset: dataset.to_owned(),
        model: kind.to_string(),
        train: trained / folds,
        test: normal.len() + abnormal.len() * folds,
        metrics: m.finish(),
        train_ms: train_ms / folds as u128,
    })
}

/// Trains `kind` on `train`, then counts into `m` its verdicts on the normal `test` sessions and
/// on every `abnormal` one; returns the training time in milliseconds.
fn train_and_score(
    kind: ModelKind,
    train: &[Session],
    test: &[Session],
    abnormal: &[Session],
    m: &mut Metrics,
) -> Result<u128> {
    let start = std::time::Instant::now();
    let model = Model::train_sessions(kind, train)?;
    let train_ms = start.elapsed().as_millis();
    for s in test {
        m.add(model.score_session(s).anomaly, false);
    }
    for s in abnormal {
        m.add(model.score_session(s).anomaly, true);
    }
    Ok(train_ms)
}

/// Splits a table's rows into (train, test) by a seeded shuffle.
pub fn split_table(table: &Table, test_share: f64, seed: u64) -> (Table, Table) {
    let mut idx: Vec<usize> = (0..table.rows.len()).collect();
    Rng::new(seed).shuffle(&mut idx);
    let cut = (table.rows.len() as f64 * test_share).round() as usize;
    let pick = |ix: &[usize]| Table {
        columns: table.columns.clone(),
        rows: ix.iter().map(|&i| table.rows[i].clone()).collect(),
        lines: ix.iter().map(|&i| table.lines[i]).collect(),
    };
    (pick(&idx[cut..]), pick(&idx[..cut]))
}

/// Tabular evaluation: the supervised forest on `train`, and the isolation forest on the
/// normal rows of `train`; both scored on `test` (labels read only to count).
pub fn tabular(dataset: &str, train: &Table, test: &Table, opts: &TrainOptions) -> Result<Vec<EvalRow>> {
    let label = opts.label_column.as_deref().unwrap_or("label");
    let normal = opts.normal_label.as_deref().unwrap_or("normal");
    let li = train
        .column(label)
        .ok_or_else(|| MlError::training("tabular", format!("no label column `{label}`")))?;
    let truth: Vec<bool> = test.rows.iter().map(|r| r[li] != normal).collect();
    let normal_train = Table {
        columns: train.columns.clone(),
        rows: train.rows.iter().filter(|r| r[li] == normal).cloned().collect(),
        lines: train
            .rows
            .iter()
            .zip(&train.lines)
            .filter(|(r, _)| r[li] == normal)
            .map(|(_, &l)| l)
            .collect(),
    };
    let mut out = Vec::new();
    for (kind, data) in [(ModelKind::Tabular, train), (ModelKind::Iforest, &normal_train)] {
        let start = std::time::Instant::now();
        let model = Model::train_table(kind, data, opts)?;
        let train_ms = start.elapsed().as_millis();
        let (Model::Tabular { schema, .. } | Model::Iforest { schema, .. }) = &model else {
            return Err(MlError::Unsupported("unexpected model kind".into()));
        };
        let rows = schema.encode(test, "test")?;
        let mut m = Metrics::default();
        for (i, (x, &t)) in rows.iter().zip(&truth).enumerate() {
            m.add(model.score_row(schema, (i + 1).to_string(), x)?.anomaly, t);
        }
        out.push(EvalRow {
            dataset: dataset.to_owned(),
            model: kind.to_string(),
            train: data.rows.len(),
            test: test.rows.len(),
            metrics: m.finish(),
            train_ms,
        });
    }
    Ok(out)
}

/// DGA evaluation: a seeded `test_share` split of the labelled names.
pub fn dga(
    dataset: &str,
    data: &[(String, bool)],
    test_share: f64,
    seed: u64,
    params: DgaParams,
) -> Result<EvalRow> {
    let mut idx: Vec<usize> = (0..data.len()).collect();
    Rng::new(seed).shuffle(&mut idx);
    let cut = (data.len() as f64 * test_share).round() as usize;
    let train: Vec<(String, bool)> = idx[cut..].iter().map(|&i| data[i].clone()).collect();
    let start = std::time::Instant::now();
    let model = DgaModel::train(&train, params)?;
    let train_ms = start.elapsed().as_millis();
    let m = Metrics::from_pairs(idx[..cut].iter().map(|&i| (model.score(&data[i].0).generated, data[i].1)));
    Ok(EvalRow {
        dataset: dataset.to_owned(),
        model: "dga".into(),
        train: train.len(),
        test: cut,
        metrics: m,
        train_ms,
    })
}

/// Sequence data sets under the shared data folder: (name, normal file, abnormal file).
pub const SEQUENCE_SETS: [(&str, &str, Option<&str>); 6] = [
    (
        "hdfs_deeplog",
        "logs/hdfs_sequences/deeplog_split/hdfs_train",
        Some("logs/hdfs_sequences/deeplog_split/hdfs_dev_abnormal"),
    ),
    (
        "hdfs_loghub",
        "logs/hdfs_sequences/ait_loghub_parse/hdfs_train_normal",
        Some("logs/hdfs_sequences/ait_loghub_parse/hdfs_dev_abnormal"),
    ),
    ("hadoop", "logs/ait_sequence_datasets/hadoop_loghub/hadoop_train", None),
    ("openstack", "logs/ait_sequence_datasets/openstack_loghub/openstack_train", None),
    ("openstack_parisakalaki", "logs/ait_sequence_datasets/openstack_parisakalaki/openstack_train", None),
    ("adfa_ld", "logs/ait_sequence_datasets/adfa_verazuo/adfa_train", None),
];

/// Evaluates `kind` on one of [`SEQUENCE_SETS`] below `shared` by `folds`-fold cross
/// validation of the normal sessions (sets without anomalies report FPR only).
pub fn sequence_set(shared: &Path, set: &str, kind: ModelKind, folds: usize, seed: u64) -> Result<EvalRow> {
    let (_, normal, abnormal) = SEQUENCE_SETS
        .iter()
        .find(|(n, _, _)| *n == set)
        .ok_or_else(|| MlError::Unsupported(format!("unknown sequence data set `{set}`")))?;
    let normal = crate::sequence::read_sessions(&shared.join(normal))?;
    let abnormal = match abnormal {
        Some(a) => crate::sequence::read_sessions(&shared.join(a))?,
        None => Vec::new(),
    };
    sequence_kfold(set, kind, &normal, &abnormal, folds, seed)
}
