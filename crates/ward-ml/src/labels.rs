//! Analyst feedback as a file: JSONL rows `{"incident_id":…,"label":…}` (or the store's label
//! export with the same fields, plus optional `id`/`key` naming the session, row or domain the
//! label applies to). `ward model retrain` joins them with the training input.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{MlError, Result};

/// One analyst label.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Label {
    /// Incident the disposition was given on.
    pub incident_id: String,
    /// `false_positive`/`benign`/`normal`, or `true_positive`/`malicious`/`attack`/….
    pub label: String,
    /// The session id, row id or domain the label is about (defaults to the incident id).
    #[serde(default, alias = "key")]
    pub id: Option<String>,
}

impl Label {
    /// Whether the label says "not an attack".
    pub fn is_benign(&self) -> bool {
        matches!(self.label.as_str(), "false_positive" | "benign" | "normal" | "legit")
    }

    /// What the label is about.
    pub fn subject(&self) -> &str {
        self.id.as_deref().unwrap_or(&self.incident_id)
    }
}

/// Reads a labels file; a later label for the same subject wins. Malformed lines are errors
/// naming their line.
pub fn read_labels(path: &Path) -> Result<BTreeMap<String, Label>> {
    let text = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let label: Label = serde_json::from_str(line).map_err(|e| MlError::Input {
            path: path.display().to_string(),
            line: i + 1,
            reason: format!("not a label row: {e}"),
        })?;
        out.insert(label.subject().to_owned(), label);
    }
    Ok(out)
}

/// What a retrain changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RetrainSummary {
    /// Sessions/rows/domains in the input.
    pub input: usize,
    /// Labels that matched an input item.
    pub matched: usize,
    /// Labels naming nothing in the input.
    pub unmatched: usize,
    /// Items dropped from the training set because an analyst called them attacks.
    pub removed_attacks: usize,
    /// Items whose label was overridden (tabular/DGA).
    pub relabelled: usize,
}

/// Retrains a model of `kind` on `input` corrected by analyst `labels`: sequence and
/// isolation-forest training sets lose the items labelled attacks (they learn normal only);
/// tabular and DGA sets take the analyst's label over the file's.
pub fn retrain(
    kind: crate::model::ModelKind,
    input: &Path,
    labels: &BTreeMap<String, Label>,
    opts: &crate::model::TrainOptions,
) -> Result<(crate::model::Model, crate::model::Metadata, RetrainSummary)> {
    use crate::model::{Model, ModelKind};
    let dir = tempdir_for(input)?;
    let mut summary = RetrainSummary::default();
    let mut seen = std::collections::BTreeSet::new();
    let corrected = dir.join("retrain-input");
    let text = crate::dga::read_text(input)?;
    let mut out = String::new();
    match kind {
        k if k.is_sequence() => {
            for (i, line) in text.lines().enumerate() {
                summary.input += 1;
                let s = crate::sequence::parse_session(line, i + 1);
                if let Some(l) = labels.get(&s.id) {
                    seen.insert(s.id.clone());
                    if !l.is_benign() {
                        summary.removed_attacks += 1;
                        continue;
                    }
                }
                out.push_str(line);
                out.push('\n');
            }
        }
        ModelKind::Dga => {
            let mut lines = text.lines();
            let header = lines.next().unwrap_or_default();
            let cols = crate::csv::split(header);
            let (d, c) = (
                cols.iter().position(|h| h == "domain"),
                cols.iter().position(|h| h == "class" || h == "label"),
            );
            out.push_str("domain,class\n");
            for line in lines {
                summary.input += 1;
                let f = crate::csv::split(line);
                let (Some(name), Some(class)) = (d.and_then(|d| f.get(d)), c.and_then(|c| f.get(c))) else {
                    continue;
                };
                let class = match labels.get(name) {
                    Some(l) => {
                        seen.insert(name.clone());
                        summary.relabelled += 1;
                        if l.is_benign() { "legit" } else { "dga" }
                    }
                    None => class.as_str(),
                };
                out.push_str(&format!("{name},{class}\n"));
            }
        }
        _ => {
            let table = crate::tabular::Table::read(input, opts.names.as_deref())?;
            let label = opts.label_column.as_deref().unwrap_or("label");
            let normal = opts.normal_label.as_deref().unwrap_or("normal");
            let li = table.column(label);
            let id_col = table.column("id");
            out.push_str(&table.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
            out.push('\n');
            for (n, row) in table.rows.iter().enumerate() {
                summary.input += 1;
                let id = id_col.map_or_else(|| (n + 1).to_string(), |c| row[c].clone());
                let mut row = row.clone();
                if let Some(l) = labels.get(&id) {
                    seen.insert(id.clone());
                    if kind == ModelKind::Iforest && !l.is_benign() {
                        summary.removed_attacks += 1;
                        continue;
                    }
                    if let Some(li) = li {
                        row[li] = if l.is_benign() { normal.to_owned() } else { "attack".to_owned() };
                        summary.relabelled += 1;
                    }
                }
                out.push_str(&row.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
                out.push('\n');
            }
        }
    }
    summary.matched = seen.len();
    summary.unmatched = labels.len() - seen.len();
    std::fs::write(&corrected, out).map_err(|e| MlError::io(&corrected, e))?;
    let opts = crate::model::TrainOptions { names: None, ..opts.clone() };
    let result = Model::train_file(kind, &corrected, &opts);
    let _ = std::fs::remove_dir_all(&dir);
    let (model, mut meta) = result?;
    meta.training_input = format!("{} + labels", input.display());
    Ok((model, meta, summary))
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// A private scratch directory next to the system temp dir for the corrected input.
fn tempdir_for(input: &Path) -> Result<std::path::PathBuf> {
    let tag = xxhash_rust::xxh3::xxh3_64(
        format!("{}{:?}", input.display(), std::time::SystemTime::now()).as_bytes(),
    );
    let dir = std::env::temp_dir().join(format!("ward-ml-retrain-{}-{tag:016x}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| MlError::io(&dir, e))?;
    Ok(dir)
}
