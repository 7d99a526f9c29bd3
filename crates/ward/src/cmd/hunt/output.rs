//! Printing alerts as JSON lines, CSV or a table. Every alert arrives as a JSON object with at
//! least `id`, `rule_id`, `rule_title`, `level`, `timestamp`, `event_ids` and `tags`.

use std::io::{self, BufWriter, StdoutLock, Write};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use crate::cli::HuntFormat;

/// The columns of the CSV and table forms.
const COLUMNS: [&str; 7] = ["timestamp", "level", "rule_id", "rule_title", "event_ids", "tags", "id"];

/// Where alerts go, in the chosen format.
pub(super) enum AlertWriter {
    /// One JSON object per line, written at once.
    Jsonl { out: BufWriter<StdoutLock<'static>>, count: u64 },
    /// A header, then one row per alert, written at once.
    Csv { out: BufWriter<StdoutLock<'static>>, count: u64 },
    /// Rows kept until the end, then one table.
    Table { rows: Vec<[String; 7]> },
}

impl AlertWriter {
    /// A writer for `format` on stdout.
    pub(super) fn new(format: HuntFormat) -> Self {
        let out = || BufWriter::with_capacity(1 << 16, io::stdout().lock());
        match format {
            HuntFormat::Jsonl => Self::Jsonl { out: out(), count: 0 },
            HuntFormat::Csv => Self::Csv { out: out(), count: 0 },
            HuntFormat::Table => Self::Table { rows: Vec::new() },
        }
    }

    /// Writes (or keeps) one alert.
    pub(super) fn write(&mut self, alert: &Value) -> io::Result<()> {
        match self {
            Self::Jsonl { out, count } => {
                *count += 1;
                serde_json::to_writer(&mut *out, alert)?;
                out.write_all(b"\n")
            }
            Self::Csv { out, count } => {
                if *count == 0 {
                    writeln!(out, "{}", COLUMNS.join(","))?;
                }
                *count += 1;
                let fields: Vec<String> = row(alert).iter().map(|f| csv_field(f)).collect();
                writeln!(out, "{}", fields.join(","))
            }
            Self::Table { rows } => {
                rows.push(table_row(alert));
                Ok(())
            }
        }
    }

    /// Flushes (or prints the table); returns how many alerts were written.
    pub(super) fn finish(self) -> io::Result<u64> {
        match self {
            Self::Jsonl { mut out, count } | Self::Csv { mut out, count } => {
                out.flush()?;
                Ok(count)
            }
            Self::Table { rows } => {
                let mut out = io::stdout().lock();
                if !rows.is_empty() {
                    let mut t = Table::new();
                    t.load_style(UTF8_FULL_CONDENSED).set_header(COLUMNS);
                    rows.iter().for_each(|r| {
                        t.add_row(r);
                    });
                    writeln!(out, "{t}")?;
                }
                out.flush()?;
                Ok(rows.len() as u64)
            }
        }
    }
}

/// The [`COLUMNS`] of an alert as text; lists joined with `;`.
fn row(alert: &Value) -> [String; 7] {
    COLUMNS.map(|c| match alert.get(c) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items.iter().map(text).collect::<Vec<_>>().join(";"),
        Some(other) => text(other),
        None => String::new(),
    })
}

/// A [`row`] with the event ids cut to the first one and a count, to keep tables narrow.
fn table_row(alert: &Value) -> [String; 7] {
    let mut r = row(alert);
    let ids: Vec<&str> = r[4].split(';').collect();
    if ids.len() > 1 {
        r[4] = format!("{} (+{})", ids[0], ids.len() - 1);
    }
    r
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn rows_join_lists_and_blank_missing_columns() {
        let alert = serde_json::json!({"rule_id": "r", "event_ids": ["a", "b"], "tags": [], "level": "high"});
        let r = row(&alert);
        assert_eq!(r[1], "high");
        assert_eq!(r[2], "r");
        assert_eq!(r[4], "a;b");
        assert_eq!(r[5], "");
        assert_eq!(r[0], "");
    }
}
