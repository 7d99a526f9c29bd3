//! STIX 2.x bundles (`{"type": "bundle", "objects": [...]}`, or a lone indicator object).
//!
//! Each `indicator` object with a STIX `pattern` yields one indicator per OR-ed comparison (see
//! [`super::stix_pattern`]), all with the object's id as entry; `confidence` (0–100) is kept,
//! `labels` and `indicator_types` become tags, `valid_from` / `valid_until` become first / last
//! seen. Revoked indicators and other object types are counted as ignored; patterns of another
//! `pattern_type` (snort, yara, sigma) or outside the supported subset are rejected with the
//! reason.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::error::{LoadError, Location, RejectReason, Rejection};
use crate::indicator::{DEFAULT_CONFIDENCE, Entry, Indicator, tags};
use crate::load::{FileReport, Loaded, feed_name, read_json, stix_pattern};

/// How to read STIX bundles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StixOptions {
    /// Feed name; the file stem when absent.
    pub feed: Option<String>,
    /// Confidence for indicators without a `confidence` property.
    pub confidence: u8,
}

impl Default for StixOptions {
    fn default() -> Self {
        Self { feed: None, confidence: DEFAULT_CONFIDENCE }
    }
}

/// Reads a STIX bundle file.
pub fn load_stix_bundle(path: &Path, options: &StixOptions) -> Result<Loaded, LoadError> {
    parse_stix_bundle(&read_json(path)?, path, options)
}

/// Whether a JSON document is a STIX bundle or a lone STIX indicator.
pub(crate) fn is_stix(doc: &Json) -> bool {
    matches!(doc.get("type").and_then(Json::as_str), Some("bundle" | "indicator"))
}

/// Indicators of a parsed STIX bundle.
pub fn parse_stix_bundle(doc: &Json, path: &Path, options: &StixOptions) -> Result<Loaded, LoadError> {
    let objects: &[Json] = match doc.get("type").and_then(Json::as_str) {
        Some("bundle") => {
            doc.get("objects").and_then(Json::as_array).map(Vec::as_slice).ok_or_else(|| {
                LoadError::Format {
                    path: path.to_owned(),
                    reason: "STIX bundle without an `objects` array".into(),
                }
            })?
        }
        Some("indicator") => std::slice::from_ref(doc),
        _ => {
            return Err(LoadError::Format {
                path: path.to_owned(),
                reason: "not a STIX bundle: `type` is not `bundle`".into(),
            });
        }
    };
    let feed = feed_name(path, options.feed.as_deref());
    let mut report = FileReport::new(path, "stix-bundle", &feed);
    let mut indicators = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        match object.get("type").and_then(Json::as_str) {
            Some("indicator") => {}
            Some(other) => {
                report.ignore(&format!("object {other}"));
                continue;
            }
            None => {
                let id = format!("objects[{i}]");
                report.reject(Rejection::new(
                    path.to_owned(),
                    Location::Record(id),
                    &object.to_string(),
                    RejectReason::MissingField("type"),
                ));
                continue;
            }
        }
        indicator(object, i, &feed, options, &mut report, &mut indicators);
    }
    report.loaded = indicators.len();
    Ok(Loaded { indicators, report })
}

fn indicator(
    object: &Json,
    index: usize,
    feed: &Arc<str>,
    options: &StixOptions,
    report: &mut FileReport,
    out: &mut Vec<Indicator>,
) {
    let id =
        object.get("id").and_then(Json::as_str).map_or_else(|| format!("objects[{index}]"), str::to_owned);
    let reject = |report: &mut FileReport, entry: &str, reason| {
        report.reject(Rejection::new(report.path.clone(), Location::Record(id.clone()), entry, reason));
    };
    if object.get("revoked").and_then(Json::as_bool) == Some(true) {
        return report.ignore("revoked indicator");
    }
    let Some(pattern) = object.get("pattern").and_then(Json::as_str) else {
        return reject(report, &object.to_string(), RejectReason::MissingField("pattern"));
    };
    if let Some(ty) = object.get("pattern_type").and_then(Json::as_str).filter(|t| *t != "stix") {
        return reject(report, pattern, RejectReason::PatternType(ty.to_owned()));
    }
    let comparisons = match stix_pattern::parse(pattern) {
        Ok(c) => c,
        Err(reason) => return reject(report, pattern, reason),
    };
    let shared = object_tags(object);
    let confidence = object
        .get("confidence")
        .and_then(Json::as_u64)
        .map_or(options.confidence, |c| u8::try_from(c.min(100)).unwrap_or(100));
    let seen = (date(object, "valid_from"), date(object, "valid_until"));
    for (target, value) in comparisons {
        match target.indicator(&value, Arc::clone(feed)) {
            Ok(ind) => out.push(
                ind.with_entry(Entry::Record(id.as_str().into()))
                    .with_confidence(confidence)
                    .with_tags(Arc::clone(&shared))
                    .with_seen(seen.0, seen.1),
            ),
            Err(reason) => reject(report, &value, reason),
        }
    }
}

fn object_tags(object: &Json) -> Arc<[Box<str>]> {
    let names = ["labels", "indicator_types"]
        .iter()
        .filter_map(|k| object.get(*k).and_then(Json::as_array))
        .flatten()
        .filter_map(Json::as_str);
    tags(names)
}

fn date(object: &Json, key: &str) -> Option<DateTime<Utc>> {
    let text = object.get(key)?.as_str()?;
    DateTime::parse_from_rfc3339(text).ok().map(|d| d.with_timezone(&Utc))
}
