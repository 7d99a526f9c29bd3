//! Tabular input: CSV with a header, or header-less CSV with a names file (NSL-KDD layout:
//! `name,continuous|symbolic` per line; a row's extra trailing fields are named `label` and
//! `difficulty`). Symbolic columns become category codes ordered by their training attack
//! share (so tree splits on them are meaningful); unseen categories get a code of their own.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};

/// Columns never used as features: the label and NSL-KDD's difficulty score (it is derived
/// from how many classifiers got the row right, i.e. from labels).
const EXCLUDED: [&str; 2] = ["difficulty", "id"];

/// A parsed table: column names and raw string rows, with 1-based source line numbers.
#[derive(Clone, Debug)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows (each as long as `columns`).
    pub rows: Vec<Vec<String>>,
    /// Source line of each row.
    pub lines: Vec<usize>,
}

impl Table {
    /// Reads `path`; with `names`, the file has no header and the names file supplies one.
    pub fn read(path: &Path, names: Option<&Path>) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let mut columns = match names {
            Some(n) => read_names(n)?.into_iter().map(|(name, _)| name).collect(),
            None => lines.next().map(|(_, l)| crate::csv::split(l)).unwrap_or_default(),
        };
        let mut rows = Vec::new();
        let mut numbers = Vec::new();
        for (i, line) in lines {
            let fields = crate::csv::split(line);
            if names.is_some() && fields.len() > columns.len() && columns.len() + 2 >= fields.len() {
                for extra in ["label", "difficulty"].iter().take(fields.len() - columns.len()) {
                    columns.push((*extra).to_owned());
                }
            }
            if fields.len() != columns.len() {
                return Err(MlError::Input {
                    path: path.display().to_string(),
                    line: i + 1,
                    reason: format!("{} fields, expected {}", fields.len(), columns.len()),
                });
            }
            rows.push(fields);
            numbers.push(i + 1);
        }
        Ok(Self { columns, rows, lines: numbers })
    }

    /// Index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// A names file: `name,type` per line.
pub fn read_names(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).map_err(|e| MlError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let f = crate::csv::split(line.trim_end_matches('.'));
        match f.as_slice() {
            [name, kind] => out.push((name.trim().to_owned(), kind.trim().to_owned())),
            [name] => out.push((name.trim().to_owned(), "continuous".to_owned())),
            _ => {
                return Err(MlError::Input {
                    path: path.display().to_string(),
                    line: i + 1,
                    reason: "expected `name,type`".into(),
                });
            }
        }
    }
    Ok(out)
}

/// How one feature column is encoded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Column {
    /// A number (unparseable values are an error at scoring time).
    Numeric {
        /// Column name.
        name: String,
    },
    /// A category: code = position in `categories`, `categories.len()` for unseen values.
    Symbolic {
        /// Column name.
        name: String,
        /// Known categories, lowest attack share first.
        categories: Vec<String>,
    },
}

impl Column {
    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Numeric { name } | Self::Symbolic { name, .. } => name,
        }
    }
}

/// Feature encoding learnt from a training table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Schema {
    /// Feature columns, in feature order.
    pub features: Vec<Column>,
    /// The label column's name (not a feature).
    pub label: String,
    /// The label value meaning "normal" (everything else is an attack).
    pub normal: String,
}

impl Schema {
    /// Learns an encoding: every column but the label and [`EXCLUDED`] is a feature; a column
    /// is symbolic when any training value is not a number.
    pub fn learn(table: &Table, label: &str, normal: &str) -> Result<Self> {
        let li = table.column(label);
        let attack: Vec<bool> = table.rows.iter().map(|r| li.is_some_and(|i| r[i] != normal)).collect();
        let mut features = Vec::new();
        for (c, name) in table.columns.iter().enumerate() {
            if Some(c) == li || EXCLUDED.contains(&name.as_str()) {
                continue;
            }
            let numeric = table.rows.iter().all(|r| r[c].trim().parse::<f64>().is_ok());
            if numeric {
                features.push(Column::Numeric { name: name.clone() });
                continue;
            }
            let mut stats: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
            for (r, &a) in table.rows.iter().zip(&attack) {
                let e = stats.entry(r[c].as_str()).or_default();
                e.0 += f64::from(u8::from(a));
                e.1 += 1.0;
            }
            let mut cats: Vec<(&str, f64)> = stats.into_iter().map(|(k, (a, n))| (k, a / n)).collect();
            cats.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
            features.push(Column::Symbolic {
                name: name.clone(),
                categories: cats.into_iter().map(|(k, _)| k.to_owned()).collect(),
            });
        }
        if features.is_empty() {
            return Err(MlError::training("tabular", "no feature columns"));
        }
        Ok(Self { features, label: label.to_owned(), normal: normal.to_owned() })
    }

    /// Encodes every row of `table` (looking columns up by name; the label is never read).
    pub fn encode(&self, table: &Table, path: &str) -> Result<Vec<Vec<f64>>> {
        let idx: Vec<usize> = self
            .features
            .iter()
            .map(|f| {
                table.column(f.name()).ok_or_else(|| MlError::Input {
                    path: path.to_owned(),
                    line: 1,
                    reason: format!("missing column `{}`", f.name()),
                })
            })
            .collect::<Result<_>>()?;
        table
            .rows
            .iter()
            .zip(&table.lines)
            .map(|(row, &line)| {
                self.encode_row(&idx.iter().map(|&i| row[i].as_str()).collect::<Vec<_>>(), path, line)
            })
            .collect()
    }

    /// Encodes one row given as the feature columns' values in schema order.
    pub fn encode_row(&self, values: &[&str], path: &str, line: usize) -> Result<Vec<f64>> {
        self.features
            .iter()
            .zip(values)
            .map(|(col, v)| match col {
                Column::Numeric { name } => v.trim().parse::<f64>().map_err(|_| MlError::Input {
                    path: path.to_owned(),
                    line,
                    reason: format!("column `{name}`: `{v}` is not a number"),
                }),
                Column::Symbolic { categories, .. } => {
                    Ok(categories.iter().position(|c| c == v).unwrap_or(categories.len()) as f64)
                }
            })
            .collect()
    }

    /// Binary labels of `table` (true = attack).
    pub fn labels(&self, table: &Table) -> Result<Vec<bool>> {
        let li = table
            .column(&self.label)
            .ok_or_else(|| MlError::training("tabular", format!("no label column `{}`", self.label)))?;
        Ok(table.rows.iter().map(|r| r[li] != self.normal).collect())
    }

    /// Feature names in order.
    pub fn names(&self) -> Vec<String> {
        self.features.iter().map(|c| c.name().to_owned()).collect()
    }
}
