//! Feed loaders. Each format has a pure `parse_*` function (bytes or JSON in, indicators and a
//! report out) and a `load_*` function that reads the file it is given; nothing else here
//! touches the filesystem.
//!
//! A malformed entry becomes a [`Rejection`] in the file's [`FileReport`] and loading goes on;
//! only a file that cannot be read or parsed as a whole is a [`LoadError`].

pub(crate) mod csv;
pub(crate) mod list;
pub(crate) mod misp;
pub(crate) mod sources;
pub(crate) mod stix;
mod stix_pattern;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{LoadError, Rejection};
use crate::indicator::Indicator;

/// What loading one file produced, besides the indicators.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// The format it was read as (`list`, `csv`, `misp-event`, `stix-bundle`,
    /// `misp-warninglist`).
    pub format: &'static str,
    /// The feed name its indicators carry (the warning-list name for warning-lists).
    pub feed: String,
    /// Indicators (or warning-list entries) read successfully.
    pub loaded: usize,
    /// Indicators already present from the same feed (kept once).
    pub duplicates: usize,
    /// Indicators a warning-list suppressed.
    pub suppressed: usize,
    /// Entries refused, with where and why.
    pub rejected: Vec<Rejection>,
    /// Entries deliberately not loaded, counted by what they were (`type text`, `object
    /// attack-pattern`, `revoked`), so nothing disappears unaccounted.
    pub ignored: BTreeMap<String, usize>,
}

impl FileReport {
    pub(crate) fn new(path: &Path, format: &'static str, feed: &str) -> Self {
        Self { path: path.to_owned(), format, feed: feed.to_owned(), ..Self::default() }
    }

    pub(crate) fn reject(&mut self, rejection: Rejection) {
        self.rejected.push(rejection);
    }

    pub(crate) fn ignore(&mut self, what: &str) {
        *self.ignored.entry(what.to_owned()).or_insert(0) += 1;
    }

    /// Entries deliberately not loaded, all reasons together.
    pub fn ignored_total(&self) -> usize {
        self.ignored.values().sum()
    }
}

/// The reports of every file of one load, in the order the sources were given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// One report per file.
    pub files: Vec<FileReport>,
}

impl LoadReport {
    /// Indicators read over all files (before duplicates and suppression).
    pub fn loaded(&self) -> usize {
        self.files.iter().map(|f| f.loaded).sum()
    }

    /// Rejected entries over all files.
    pub fn rejected(&self) -> usize {
        self.files.iter().map(|f| f.rejected.len()).sum()
    }

    /// Suppressed indicators over all files.
    pub fn suppressed(&self) -> usize {
        self.files.iter().map(|f| f.suppressed).sum()
    }

    /// The report of one file.
    pub fn file(&self, path: &Path) -> Option<&FileReport> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Indicators parsed from one file, with its report.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The indicators, in file order.
    pub indicators: Vec<Indicator>,
    /// What happened.
    pub report: FileReport,
}

/// The file's stem, the default feed name (`emotet` for `malware/emotet.txt`).
pub(crate) fn feed_name(path: &Path, explicit: Option<&str>) -> Arc<str> {
    match explicit {
        Some(name) => Arc::from(name),
        None => Arc::from(path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default().as_ref()),
    }
}

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Io { path: path.to_owned(), source })
}

pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, LoadError> {
    let bytes = read_bytes(path)?;
    parse_json(&bytes, path)
}

pub(crate) fn parse_json(bytes: &[u8], path: &Path) -> Result<serde_json::Value, LoadError> {
    serde_json::from_slice(bytes).map_err(|e| LoadError::json(path.to_owned(), e))
}

/// Lines with their 1-based numbers; a line that is not UTF-8 is an `Err` carrying a lossy
/// rendering for the report. A trailing `\r` is removed.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u32, Result<&str, String>)> {
    bytes.split(|b| *b == b'\n').enumerate().map(|(i, raw)| {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        (n, std::str::from_utf8(raw).map_err(|_| String::from_utf8_lossy(raw).into_owned()))
    })
}

/// Removes a `#` comment: a line starting with `#`, or `#` after whitespace (maltrail writes
/// `evil.example   # family`); a `#` inside a value (a URL fragment) is kept.
pub(crate) fn strip_comment(line: &str) -> &str {
    let line = line.trim();
    if line.starts_with('#') {
        return "";
    }
    let cut = line
        .char_indices()
        .find(|&(i, c)| c == '#' && line[..i].ends_with(char::is_whitespace))
        .map_or(line.len(), |(i, _)| i);
    line[..cut].trim_end()
}
