//! Loading a whole configuration of feed files into one [`IndicatorSet`], with format
//! detection for files named without one (`[enrich.ioc] files = [...]`).
//!
//! Warning-lists are loaded first, so that every indicator is checked against all of them
//! whatever the order of the files. Large text feeds are parsed one at a time straight into
//! the builder. Every file that fails is reported together, and then nothing is built.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{LoadError, LoadErrors};
use crate::load::csv::{CsvOptions, parse_csv};
use crate::load::list::{ListOptions, parse_list};
use crate::load::misp::{MispOptions, is_misp, parse_misp_event};
use crate::load::stix::{StixOptions, is_stix, parse_stix_bundle};
use crate::load::{FileReport, LoadReport, Loaded, parse_json, read_bytes};
use crate::matching::MatchFields;
use crate::set::{Added, IndicatorSet, IndicatorSetBuilder};
use crate::warninglist::{WarningListOptions, WarningLists, parse_warning_list};

/// The format of a feed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FeedFormat {
    /// Detect: JSON by content (MISP event, STIX bundle, MISP warning-list); `.csv` as
    /// maltrail `trails.csv`; text whose first entry is `value<TAB>number` as ipsum; any other
    /// text as a plain list.
    #[default]
    Auto,
    /// One indicator per line.
    List(ListOptions),
    /// Delimited columns.
    Csv(CsvOptions),
    /// MISP event JSON.
    Misp(MispOptions),
    /// STIX 2.x bundle.
    Stix(StixOptions),
    /// MISP warning-list (suppresses indicators instead of adding any).
    WarningList(WarningListOptions),
}

/// One feed file and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSource {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FeedFormat,
}

impl FeedSource {
    /// A file in a given format.
    pub fn new(path: impl Into<PathBuf>, format: FeedFormat) -> Self {
        Self { path: path.into(), format }
    }
}

impl From<PathBuf> for FeedSource {
    fn from(path: PathBuf) -> Self {
        Self::new(path, FeedFormat::Auto)
    }
}

impl From<&Path> for FeedSource {
    fn from(path: &Path) -> Self {
        Self::new(path, FeedFormat::Auto)
    }
}

impl From<&str> for FeedSource {
    fn from(path: &str) -> Self {
        Self::new(path, FeedFormat::Auto)
    }
}

/// A file read far enough to know whether it suppresses or supplies indicators.
enum Stage {
    /// A JSON feed, already parsed.
    Ready(Loaded),
    /// Text of unknown format, read to sniff it.
    Text(Vec<u8>),
    /// A plain list, read when its turn comes.
    List(ListOptions),
    /// A delimited feed, read when its turn comes.
    Csv(CsvOptions),
}

/// Loads every source into a new set that checks `fields`; warning-lists suppress indicators
/// from every other file.
pub fn load_sources(
    sources: &[FeedSource],
    fields: MatchFields,
) -> Result<(IndicatorSet, LoadReport), LoadErrors> {
    let mut errors = Vec::new();
    let mut warning = WarningLists::default();
    let mut reports: Vec<Option<FileReport>> = vec![None; sources.len()];
    let mut staged = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        match stage(source) {
            Ok(Staged::Warning(staged)) => {
                let (list, report) = *staged;
                warning.push(list);
                reports[i] = Some(report);
            }
            Ok(Staged::Indicators(stage)) => staged.push((i, stage)),
            Err(e) => errors.push(e),
        }
    }
    let mut builder = IndicatorSetBuilder::new(warning).fields(fields);
    for (i, stage) in staged {
        match finish(stage, &sources[i].path) {
            Ok(loaded) => reports[i] = Some(add_all(&mut builder, loaded)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors));
    }
    let files = reports.into_iter().flatten().collect();
    Ok((builder.build(), LoadReport { files }))
}

enum Staged {
    Warning(Box<(crate::warninglist::WarningList, FileReport)>),
    Indicators(Stage),
}

/// Reads a source; JSON documents are parsed now (to tell warning-lists apart), text later.
fn stage(source: &FeedSource) -> Result<Staged, LoadError> {
    let path = source.path.as_path();
    match &source.format {
        FeedFormat::List(o) => return Ok(Staged::Indicators(Stage::List(o.clone()))),
        FeedFormat::Csv(o) => return Ok(Staged::Indicators(Stage::Csv(o.clone()))),
        _ => {}
    }
    let bytes = read_bytes(path)?;
    let json = |bytes: &[u8]| parse_json(bytes, path);
    Ok(match &source.format {
        FeedFormat::WarningList(o) => {
            let (list, report) = parse_warning_list(json(&bytes)?, path, o)?;
            Staged::Warning(Box::new((list, report)))
        }
        FeedFormat::Misp(o) => Staged::Indicators(Stage::Ready(parse_misp_event(&json(&bytes)?, path, o)?)),
        FeedFormat::Stix(o) => Staged::Indicators(Stage::Ready(parse_stix_bundle(&json(&bytes)?, path, o)?)),
        FeedFormat::Auto if is_json(path, &bytes) => detect_json(json(&bytes)?, path)?,
        _ => Staged::Indicators(Stage::Text(bytes)),
    })
}

fn is_json(path: &Path, bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) || matches!(first, Some(b'{' | b'['))
}

fn detect_json(doc: Json, path: &Path) -> Result<Staged, LoadError> {
    if is_stix(&doc) {
        return Ok(Staged::Indicators(Stage::Ready(parse_stix_bundle(&doc, path, &StixOptions::default())?)));
    }
    if is_misp(&doc) {
        return Ok(Staged::Indicators(Stage::Ready(parse_misp_event(&doc, path, &MispOptions::default())?)));
    }
    if doc.get("list").is_some_and(Json::is_array) && doc.get("name").is_some() {
        let (list, report) = parse_warning_list(doc, path, &WarningListOptions::default())?;
        return Ok(Staged::Warning(Box::new((list, report))));
    }
    Err(LoadError::Format {
        path: path.to_owned(),
        reason: "JSON is neither a MISP event, a STIX bundle nor a MISP warning-list".into(),
    })
}

fn finish(stage: Stage, path: &Path) -> Result<Loaded, LoadError> {
    match stage {
        Stage::Ready(loaded) => Ok(loaded),
        Stage::Csv(o) => parse_csv(&read_bytes(path)?, path, &o),
        Stage::List(o) => Ok(parse_list(&read_bytes(path)?, path, &o)),
        Stage::Text(bytes) => detect_text(&bytes, path),
    }
}

fn detect_text(bytes: &[u8], path: &Path) -> Result<Loaded, LoadError> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return parse_csv(bytes, path, &CsvOptions::maltrail());
    }
    if looks_like_ipsum(bytes) {
        return parse_csv(bytes, path, &CsvOptions::ipsum());
    }
    Ok(parse_list(bytes, path, &ListOptions::default()))
}

/// The first entry line is `value<TAB>number`.
fn looks_like_ipsum(bytes: &[u8]) -> bool {
    let first = bytes
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.is_empty() && l.first() != Some(&b'#'));
    let Some(line) = first.and_then(|l| std::str::from_utf8(l).ok()) else { return false };
    line.split_once('\t').is_some_and(|(v, n)| !v.is_empty() && n.trim().parse::<u32>().is_ok())
}

/// Adds a file's indicators to the builder and completes its report.
pub(crate) fn add_all(builder: &mut IndicatorSetBuilder, loaded: Loaded) -> FileReport {
    let mut report = loaded.report;
    for ind in loaded.indicators {
        match builder.add(ind) {
            Added::New => {}
            Added::Duplicate => report.duplicates += 1,
            Added::Suppressed => report.suppressed += 1,
        }
    }
    report
}
