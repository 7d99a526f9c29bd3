//! Plain lists: one indicator per line, `#` comments, kind detected per line (maltrail trails,
//! ipsum level files, any hand-written list).

use std::path::Path;
use std::sync::Arc;

use crate::error::{LoadError, Location, RejectReason, Rejection};
use crate::indicator::{DEFAULT_CONFIDENCE, Entry, Indicator, tags};
use crate::kind::IndicatorKind;
use crate::load::{FileReport, Loaded, feed_name, lines, read_bytes, strip_comment};

/// How to read a plain list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListOptions {
    /// Feed name; the file stem when absent.
    pub feed: Option<String>,
    /// Force one kind for every line instead of detecting it.
    pub kind: Option<IndicatorKind>,
    /// Confidence of every indicator (0–100).
    pub confidence: u8,
    /// Tags of every indicator.
    pub tags: Vec<String>,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self { feed: None, kind: None, confidence: DEFAULT_CONFIDENCE, tags: Vec::new() }
    }
}

/// Reads a plain list file.
pub fn load_list(path: &Path, options: &ListOptions) -> Result<Loaded, LoadError> {
    let bytes = read_bytes(path)?;
    Ok(parse_list(&bytes, path, options))
}

/// Parses a plain list; `path` names the file in the report and in rejections.
pub fn parse_list(bytes: &[u8], path: &Path, options: &ListOptions) -> Loaded {
    let feed = feed_name(path, options.feed.as_deref());
    let shared_tags = tags(options.tags.iter().map(String::as_str));
    let mut report = FileReport::new(path, "list", &feed);
    let mut indicators = Vec::new();
    for (n, line) in lines(bytes) {
        let line = match line {
            Ok(line) => line,
            Err(lossy) => {
                report.reject(Rejection::new(
                    path.to_owned(),
                    Location::Line(n),
                    &lossy,
                    RejectReason::NotUtf8,
                ));
                continue;
            }
        };
        let value = strip_comment(line);
        if value.is_empty() {
            continue;
        }
        match parse_value(value, options.kind, &feed) {
            Ok(ind) => indicators.push(
                ind.with_entry(Entry::Line(n))
                    .with_confidence(options.confidence)
                    .with_tags(Arc::clone(&shared_tags)),
            ),
            Err(reason) => report.reject(Rejection::new(path.to_owned(), Location::Line(n), value, reason)),
        }
    }
    report.loaded = indicators.len();
    Loaded { indicators, report }
}

fn parse_value(value: &str, kind: Option<IndicatorKind>, feed: &Arc<str>) -> Result<Indicator, RejectReason> {
    match kind {
        Some(kind) => Indicator::new(kind, value, Arc::clone(feed)),
        None => Indicator::detect(value, Arc::clone(feed)),
    }
}
