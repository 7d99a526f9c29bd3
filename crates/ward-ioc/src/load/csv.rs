//! Delimited feeds: maltrail's compiled `trails.csv` (`trail,info,reference`), ipsum
//! (`ip<TAB>level`, the level becoming confidence), or any CSV/TSV with a configurable value
//! column. Quoted fields (`"a,b"`, `""` for a quote) are understood; a quoted field cannot span
//! lines.

use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::error::{LoadError, Location, RejectReason, Rejection};
use crate::indicator::{DEFAULT_CONFIDENCE, Entry, Indicator, tags};
use crate::kind::IndicatorKind;
use crate::load::{FileReport, Loaded, feed_name, lines, read_bytes};

/// A column, by 0-based position or by header name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// 0-based position.
    Index(usize),
    /// Header name (needs `header: true`).
    Name(String),
}

/// Where an indicator's confidence comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confidence {
    /// The same for every row.
    Fixed(u8),
    /// A numeric column times `per_unit`, capped at 100 (ipsum: level × 10).
    Column {
        /// The column.
        column: Column,
        /// Confidence points per unit of the column.
        per_unit: u8,
    },
}

/// How to read a delimited feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Feed name; the file stem when absent.
    pub feed: Option<String>,
    /// Field separator.
    pub delimiter: u8,
    /// Whether the first non-comment line names the columns.
    pub header: bool,
    /// The indicator column.
    pub value: Column,
    /// Force one kind instead of detecting it per row.
    pub kind: Option<IndicatorKind>,
    /// Confidence source.
    pub confidence: Confidence,
    /// Columns whose non-empty text becomes tags.
    pub tags: Vec<Column>,
    /// Lines starting with this byte are comments.
    pub comment: Option<u8>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            feed: None,
            delimiter: b',',
            header: false,
            value: Column::Index(0),
            kind: None,
            confidence: Confidence::Fixed(DEFAULT_CONFIDENCE),
            tags: Vec::new(),
            comment: Some(b'#'),
        }
    }
}

impl CsvOptions {
    /// Maltrail's `trails.csv`: `trail,info,reference`, no header; info and reference become
    /// tags.
    pub fn maltrail() -> Self {
        Self { tags: vec![Column::Index(1), Column::Index(2)], ..Self::default() }
    }

    /// Ipsum's `ipsum.txt`: `ip<TAB>level` after `#` comments; confidence is level × 10
    /// (3 lists → 30, 10 or more → 100).
    pub fn ipsum() -> Self {
        Self {
            delimiter: b'\t',
            kind: None,
            confidence: Confidence::Column { column: Column::Index(1), per_unit: 10 },
            ..Self::default()
        }
    }
}

/// Column positions resolved against the header.
struct Resolved {
    value: usize,
    confidence: Option<(usize, u8)>,
    tags: Vec<usize>,
}

/// Reads a delimited feed file.
pub fn load_csv(path: &Path, options: &CsvOptions) -> Result<Loaded, LoadError> {
    let bytes = read_bytes(path)?;
    parse_csv(&bytes, path, options)
}

/// Parses a delimited feed; fails as a whole only when a named column is not in the header.
pub fn parse_csv(bytes: &[u8], path: &Path, options: &CsvOptions) -> Result<Loaded, LoadError> {
    let feed = feed_name(path, options.feed.as_deref());
    let mut report = FileReport::new(path, "csv", &feed);
    let mut rows = lines(bytes).filter(|(_, line)| !is_skipped(line, options.comment));
    let header = match options.header {
        true => rows.next().map(|(n, line)| split_header(n, line, path, options.delimiter)).transpose()?,
        false => None,
    };
    let cols = resolve(options, header.as_deref(), path)?;
    let mut row = RowReader { feed, options, cols, tag_cache: FxHashMap::default() };
    let mut indicators = Vec::new();
    for (n, line) in rows {
        match line.map_err(|lossy| (lossy, RejectReason::NotUtf8)).and_then(|l| row.read(n, l)) {
            Ok(ind) => indicators.push(ind),
            Err((text, reason)) => {
                report.reject(Rejection::new(path.to_owned(), Location::Line(n), &text, reason))
            }
        }
    }
    report.loaded = indicators.len();
    Ok(Loaded { indicators, report })
}

fn is_skipped(line: &Result<&str, String>, comment: Option<u8>) -> bool {
    match line {
        Ok(l) => {
            l.trim().is_empty() || comment.is_some_and(|c| l.trim_start().as_bytes().first() == Some(&c))
        }
        Err(_) => false,
    }
}

fn split_header(
    n: u32,
    line: Result<&str, String>,
    path: &Path,
    delim: u8,
) -> Result<Vec<String>, LoadError> {
    let bad = |reason: String| LoadError::Format {
        path: path.to_owned(),
        reason: format!("line {n}: header: {reason}"),
    };
    let line = line.map_err(|_| bad("not valid UTF-8".into()))?;
    split(line, delim).map_err(|r| bad(r.to_string()))
}

fn resolve(options: &CsvOptions, header: Option<&[String]>, path: &Path) -> Result<Resolved, LoadError> {
    let find = |col: &Column| -> Result<usize, LoadError> {
        match (col, header) {
            (Column::Index(i), _) => Ok(*i),
            (Column::Name(name), Some(h)) => {
                h.iter().position(|c| c.trim() == name).ok_or_else(|| LoadError::Format {
                    path: path.to_owned(),
                    reason: format!("no column `{name}` in the header"),
                })
            }
            (Column::Name(name), None) if options.header => Err(LoadError::Format {
                path: path.to_owned(),
                reason: format!("column `{name}` named but the file has no header line"),
            }),
            (Column::Name(name), None) => Err(LoadError::Format {
                path: path.to_owned(),
                reason: format!("column `{name}` named but the file is read without a header"),
            }),
        }
    };
    let confidence = match &options.confidence {
        Confidence::Fixed(_) => None,
        Confidence::Column { column, per_unit } => Some((find(column)?, *per_unit)),
    };
    let tags = options.tags.iter().map(&find).collect::<Result<_, _>>()?;
    Ok(Resolved { value: find(&options.value)?, confidence, tags })
}

struct RowReader<'a> {
    feed: Arc<str>,
    options: &'a CsvOptions,
    cols: Resolved,
    tag_cache: FxHashMap<Vec<String>, Arc<[Box<str>]>>,
}

impl RowReader<'_> {
    fn read(&mut self, n: u32, line: &str) -> Result<Indicator, (String, RejectReason)> {
        let fail = |reason| (line.to_owned(), reason);
        let fields = split(line, self.options.delimiter).map_err(fail)?;
        let cell = |i: usize| fields.get(i).map(|s| s.trim());
        let value = cell(self.cols.value)
            .ok_or_else(|| fail(RejectReason::MissingColumn(self.cols.value.to_string())))?;
        let confidence = self.confidence(&fields).map_err(fail)?;
        let ind = match self.options.kind {
            Some(kind) => Indicator::new(kind, value, Arc::clone(&self.feed)),
            None => Indicator::detect(value, Arc::clone(&self.feed)),
        }
        .map_err(|reason| (value.to_owned(), reason))?;
        let row_tags = self.tags(&fields);
        Ok(ind.with_entry(Entry::Line(n)).with_confidence(confidence).with_tags(row_tags))
    }

    fn confidence(&self, fields: &[String]) -> Result<u8, RejectReason> {
        let (col, per_unit) = match (self.cols.confidence, &self.options.confidence) {
            (Some(c), _) => c,
            (None, Confidence::Fixed(c)) => return Ok(*c),
            (None, Confidence::Column { .. }) => return Ok(DEFAULT_CONFIDENCE),
        };
        let text =
            fields.get(col).map(|s| s.trim()).ok_or_else(|| RejectReason::MissingColumn(col.to_string()))?;
        let level: f64 = text.parse().map_err(|_| RejectReason::InvalidConfidence(text.to_owned()))?;
        if !level.is_finite() || level < 0.0 {
            return Err(RejectReason::InvalidConfidence(text.to_owned()));
        }
        let points = (level * f64::from(per_unit)).round().min(100.0);
        Ok(u8::try_from(points as u64).unwrap_or(100))
    }

    /// Tags of a row, shared with earlier rows that had the same tags.
    fn tags(&mut self, fields: &[String]) -> Arc<[Box<str>]> {
        let row: Vec<String> = self
            .cols
            .tags
            .iter()
            .filter_map(|i| fields.get(*i).map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())
            .collect();
        Arc::clone(self.tag_cache.entry(row).or_insert_with_key(|row| tags(row.iter().map(String::as_str))))
    }
}

/// Splits one line into fields, honouring double quotes.
fn split(line: &str, delim: u8) -> Result<Vec<String>, RejectReason> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, c) if c == char::from(delim) => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err(RejectReason::UnterminatedQuote);
    }
    fields.push(field);
    Ok(fields)
}
