//! Template-mining evaluation on the loghub 2k samples: each dataset's `Content` column is
//! mined line by line and the resulting grouping is compared with the oracle `EventId`s
//! (grouping accuracy, Zhu et al., ICSE-SEIP 2019: a line counts as correct when the set of
//! lines sharing its mined template is exactly the set sharing its oracle event).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::drain::{DrainConfig, Rewrite, TemplateMiner};
use crate::error::{MlError, Result};

/// The 16 loghub 2k datasets, in the loghub order.
pub const DATASETS: [&str; 16] = [
    "HDFS",
    "Hadoop",
    "Spark",
    "Zookeeper",
    "BGL",
    "HPC",
    "Thunderbird",
    "Windows",
    "Linux",
    "Android",
    "HealthApp",
    "Apache",
    "Proxifier",
    "OpenSSH",
    "OpenStack",
    "Mac",
];

/// Per-dataset preprocessing and Drain parameters, as in the loghub benchmark
/// (`Drain_benchmark.py`), with the masks extended where the benchmark leaves identifiers
/// (paths, hex ids, numbers) in place.
pub fn preset(dataset: &str) -> DrainConfig {
    let rewrites: &[(&str, &str)] = match dataset {
        "Proxifier" => &[(r"\s*\(\d+(\.\d+)?\s*[KMGT]?B\)", "")],
        "OpenSSH" => &[(r"\b(user|for) \S+ from", "$1 <*> from")],
        "Linux" => &[
            (r"rhost=\S+", "rhost=<*>"),
            (r"\buser \S+", "user <*>"),
            (r"\(\S*\) at \w{3} \w{3}\s+\d+ \S+ \d{4}", "(<*>) at <*>"),
        ],
        _ => &[],
    };
    let (depth, st, masks, delimiters): (usize, f64, &[&str], &str) = match dataset {
        "HDFS" => (4, 0.5, &[r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], ""),
        "Hadoop" => (4, 0.5, &[r"(\d+\.){3}\d+"], ""),
        "Spark" => (4, 0.5, &[r"(\d+\.){3}\d+", r"\b[KGTM]?B\b", r"([\w-]+\.){2,}[\w-]+"], ""),
        "Zookeeper" => (4, 0.5, &[r"(/|)(\d+\.){3}\d+(:\d+)?"], ""),
        "BGL" => (4, 0.5, &[r"core\.\d+"], ""),
        "HPC" => (4, 0.6, &[r"=\d+"], ""),
        "Thunderbird" => (4, 0.5, &[r"(\d+\.){3}\d+"], ""),
        "Windows" => (5, 0.7, &[r"0x.*?\s"], ""),
        "Linux" => (6, 0.9, &[r"(\d+\.){3}\d+", r"\d{2}:\d{2}:\d{2}", r"\b[0-9a-f]{8,}\b", r"\b\d+\b"], ""),
        "Android" => (
            6,
            0.2,
            &[
                r"(/[\w-]+)+",
                r"([\w-]+\.){2,}[\w-]+",
                r"\b(\-?\+?\d+)\b|\b0[Xx][a-fA-F\d]+\b|\b[a-fA-F\d]{4,}\b",
            ],
            "",
        ),
        "HealthApp" => (4, 0.7, &[r"\d+(##\d+)+", r"\b\d+\b"], ""),
        "Apache" => (4, 0.5, &[r"(\d+\.){3}\d+"], ""),
        "Proxifier" => {
            (3, 0.6, &[r"<\d+\ssec", r"([\w-]+\.)+[\w-]+(:\d+)?", r"\d{2}:\d{2}(:\d{2})*", r"[KGTM]B"], "")
        }
        "OpenSSH" => (5, 0.7, &[r"(\d+\.){3}\d+", r"([\w-]+\.){2,}[\w-]+", r"\b\d+\b"], ""),
        "OpenStack" => (
            5,
            0.9,
            &[
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                r"((\d+\.){3}\d+,?)+",
                r"/.+?\s",
                r"\d+",
            ],
            "",
        ),
        "Mac" => (6, 0.6, &[r"([\w-]+\.){2,}[\w-]+", r"taskID\[\d+\]"], ""),
        _ => return DrainConfig::default(),
    };
    DrainConfig {
        depth,
        sim_threshold: st,
        max_children: 100,
        masks: masks.iter().map(|m| (*m).to_owned()).collect(),
        delimiters: delimiters.to_owned(),
        rewrites: rewrites
            .iter()
            .map(|(p, r)| Rewrite { pattern: (*p).to_owned(), replacement: (*r).to_owned() })
            .collect(),
    }
}

/// One dataset's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DatasetResult {
    /// Dataset name.
    pub dataset: String,
    /// Lines mined.
    pub lines: usize,
    /// Oracle event count.
    pub oracle_events: usize,
    /// Mined template count.
    pub templates: usize,
    /// Grouping accuracy in [0, 1].
    pub grouping_accuracy: f64,
}

/// Grouping accuracy of `mined` against `oracle` (same length, one label per line).
pub fn grouping_accuracy<A: Eq + std::hash::Hash, B: Eq + std::hash::Hash>(mined: &[A], oracle: &[B]) -> f64 {
    if mined.is_empty() {
        return 1.0;
    }
    let mut oracle_size: HashMap<&B, usize> = HashMap::new();
    for o in oracle {
        *oracle_size.entry(o).or_default() += 1;
    }
    let mut groups: HashMap<&A, Vec<usize>> = HashMap::new();
    for (i, m) in mined.iter().enumerate() {
        groups.entry(m).or_default().push(i);
    }
    let mut correct = 0;
    for lines in groups.values() {
        let first = &oracle[lines[0]];
        if lines.iter().all(|&i| &oracle[i] == first) && oracle_size[first] == lines.len() {
            correct += lines.len();
        }
    }
    correct as f64 / mined.len() as f64
}

/// Reads `<dir>/<name>_2k.log_structured.csv` into (content, event id) pairs.
pub fn read_structured(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
    let mut lines = text.lines();
    let header = crate::csv::split(lines.next().unwrap_or_default());
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| MlError::Input {
            path: path.display().to_string(),
            line: 1,
            reason: format!("no `{name}` column"),
        })
    };
    let (content, event) = (col("Content")?, col("EventId")?);
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let (fields, closed) = crate::csv::split_checked(line);
        match (fields.get(content), fields.get(event)) {
            (Some(c), Some(e)) if closed => rows.push((c.clone(), e.clone())),
            _ => {
                return Err(MlError::Input {
                    path: path.display().to_string(),
                    line: i + 2,
                    reason: format!("expected {} fields, found {}", header.len(), fields.len()),
                });
            }
        }
    }
    Ok(rows)
}

/// Mines `rows` with `config`; grouping is by final template text, as in the benchmark.
pub fn evaluate_rows(dataset: &str, rows: &[(String, String)], config: DrainConfig) -> Result<DatasetResult> {
    let mut miner = TemplateMiner::new(config)?;
    let ids: Vec<u32> = rows.iter().map(|(c, _)| miner.add(c).template_id).collect();
    let mined: Vec<String> =
        ids.iter().map(|&id| miner.template(id).map(|t| t.text()).unwrap_or_default()).collect();
    let oracle: Vec<&str> = rows.iter().map(|(_, e)| e.as_str()).collect();
    let distinct: std::collections::HashSet<&str> = oracle.iter().copied().collect();
    let templates: std::collections::HashSet<&String> = mined.iter().collect();
    Ok(DatasetResult {
        dataset: dataset.to_owned(),
        lines: rows.len(),
        oracle_events: distinct.len(),
        templates: templates.len(),
        grouping_accuracy: grouping_accuracy(&mined, &oracle),
    })
}

/// Evaluates every dataset of [`DATASETS`] found under `loghub_dir` (`<name>/<name>_2k.log_structured.csv`).
pub fn evaluate_dir(loghub_dir: &Path) -> Result<Vec<DatasetResult>> {
    let mut out = Vec::new();
    for name in DATASETS {
        let path = loghub_dir.join(name).join(format!("{name}_2k.log_structured.csv"));
        if !path.is_file() {
            return Err(MlError::io(&path, std::io::Error::from(std::io::ErrorKind::NotFound)));
        }
        let rows = read_structured(&path)?;
        out.push(evaluate_rows(name, &rows, preset(name))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_accuracy_counts_exact_groups_only() {
        // mined groups: {0,1} {2,3}; oracle: {0,1} {2} {3}
        assert_eq!(grouping_accuracy(&[1, 1, 2, 2], &["a", "a", "b", "c"]), 0.5);
        assert_eq!(grouping_accuracy(&[1, 2, 3], &["a", "b", "c"]), 1.0);
    }
}
