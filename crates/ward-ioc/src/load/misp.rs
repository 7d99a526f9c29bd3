//! MISP event JSON: `{"Event": {...}}`, a bare event, a REST search `{"response": [...]}` or
//! an array of events. Indicators come from `Event.Attribute[]` and `Event.Object[].Attribute[]`.
//!
//! Attribute types map to kinds: `ip-src`/`ip-dst` (address or network), `ip-src|port`,
//! `domain`, `hostname`, `domain|ip` (two indicators), `hostname|port`, `url`, `uri`, `md5`,
//! `sha1`, `sha256`, `sha512` and their `filename|…` forms, `email`, `email-src`, `email-dst`,
//! `email-reply-to`, `whois-registrant-email`, `ja3-fingerprint-md5`. Other types (`text`,
//! `link`, `filename`, `ssdeep`, …) are context, counted as ignored per type. `to_ids` is kept
//! on each indicator; deleted attributes are ignored. Confidence comes from an
//! `osint:certainty="N"` or `estimative-language:likelihood-probability` tag on the attribute,
//! then on the event, else the configured default.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value as Json};

use crate::error::{LoadError, Location, RejectReason, Rejection};
use crate::indicator::{DEFAULT_CONFIDENCE, Entry, Indicator, tags};
use crate::kind::{IndicatorKind, ip_value, net_value};
use crate::load::{FileReport, Loaded, feed_name, read_json};
use crate::normalize;

/// How to read MISP events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MispOptions {
    /// Feed name; the file stem when absent.
    pub feed: Option<String>,
    /// Load only attributes with `to_ids` set (others are counted as ignored).
    pub ids_only: bool,
    /// Confidence when no tag states one.
    pub confidence: u8,
}

impl Default for MispOptions {
    fn default() -> Self {
        Self { feed: None, ids_only: false, confidence: DEFAULT_CONFIDENCE }
    }
}

/// Reads a MISP event JSON file.
pub fn load_misp_event(path: &Path, options: &MispOptions) -> Result<Loaded, LoadError> {
    parse_misp_event(&read_json(path)?, path, options)
}

/// Indicators of every event in a parsed MISP document.
pub fn parse_misp_event(doc: &Json, path: &Path, options: &MispOptions) -> Result<Loaded, LoadError> {
    let events = events(doc).ok_or_else(|| LoadError::Format {
        path: path.to_owned(),
        reason: "not a MISP event: no `Event`, `Attribute` or `Object` member".into(),
    })?;
    let feed = feed_name(path, options.feed.as_deref());
    let mut reader = Reader {
        path,
        options,
        report: FileReport::new(path, "misp-event", &feed),
        feed,
        indicators: Vec::new(),
        tag_cache: FxHashMap::default(),
    };
    for event in events {
        reader.event(event);
    }
    reader.report.loaded = reader.indicators.len();
    Ok(Loaded { indicators: reader.indicators, report: reader.report })
}

/// Whether a JSON document looks like a MISP event export.
pub(crate) fn is_misp(doc: &Json) -> bool {
    events(doc).is_some()
}

fn events(doc: &Json) -> Option<Vec<&Map<String, Json>>> {
    let is_event = |m: &Map<String, Json>| m.contains_key("Attribute") || m.contains_key("Object");
    let list: Vec<&Json> = match doc {
        Json::Array(items) => items.iter().collect(),
        Json::Object(m) => match m.get("response").and_then(Json::as_array) {
            Some(items) => items.iter().collect(),
            None => vec![doc],
        },
        _ => return None,
    };
    let events: Vec<&Map<String, Json>> = list
        .into_iter()
        .filter_map(|v| v.get("Event").unwrap_or(v).as_object())
        .filter(|m| is_event(m))
        .collect();
    (!events.is_empty()).then_some(events)
}

struct Reader<'a> {
    path: &'a Path,
    options: &'a MispOptions,
    report: FileReport,
    feed: Arc<str>,
    indicators: Vec<Indicator>,
    tag_cache: FxHashMap<Vec<String>, Arc<[Box<str>]>>,
}

/// The event-level context every attribute inherits.
struct EventCtx {
    tags: Vec<String>,
    confidence: Option<u8>,
}

impl Reader<'_> {
    fn event(&mut self, event: &Map<String, Json>) {
        let tags = tag_names(event.get("Tag"));
        let ctx = EventCtx { confidence: confidence_of(&tags), tags };
        for (i, attr) in array(event.get("Attribute")).iter().enumerate() {
            self.attribute(attr, &ctx, &format!("Attribute[{i}]"));
        }
        for (j, object) in array(event.get("Object")).iter().enumerate() {
            for (i, attr) in array(object.get("Attribute")).iter().enumerate() {
                self.attribute(attr, &ctx, &format!("Object[{j}].Attribute[{i}]"));
            }
        }
    }

    fn attribute(&mut self, attr: &Json, ctx: &EventCtx, position: &str) {
        let id = attr.get("uuid").and_then(Json::as_str).unwrap_or(position).to_owned();
        if attr.get("deleted").is_some_and(truthy) {
            return self.report.ignore("deleted");
        }
        let (Some(ty), Some(value)) =
            (attr.get("type").and_then(Json::as_str), attr.get("value").and_then(Json::as_str))
        else {
            let missing = if attr.get("type").and_then(Json::as_str).is_none() { "type" } else { "value" };
            return self.reject(&id, &attr.to_string(), RejectReason::MissingField(missing));
        };
        let to_ids = attr.get("to_ids").is_some_and(truthy);
        if self.options.ids_only && !to_ids {
            return self.report.ignore("to_ids false");
        }
        let Some(parts) = targets(ty, value) else {
            return self.report.ignore(&format!("type {ty}"));
        };
        let parts = match parts {
            Ok(parts) => parts,
            Err(reason) => return self.reject(&id, value, reason),
        };
        let attr_tags = tag_names(attr.get("Tag"));
        let confidence = confidence_of(&attr_tags).or(ctx.confidence).unwrap_or(self.options.confidence);
        let shared = self.tags(&ctx.tags, attr_tags);
        let seen = (self.date(attr, "first_seen"), self.date(attr, "last_seen"));
        for (target, text) in parts {
            match target.indicator(&text, Arc::clone(&self.feed)) {
                Ok(ind) => self.indicators.push(
                    ind.with_entry(Entry::Record(id.clone().into()))
                        .with_confidence(confidence)
                        .with_tags(Arc::clone(&shared))
                        .with_to_ids(to_ids)
                        .with_seen(seen.0, seen.1),
                ),
                Err(reason) => self.reject(&id, &text, reason),
            }
        }
    }

    fn reject(&mut self, id: &str, entry: &str, reason: RejectReason) {
        let location = Location::Record(id.to_owned());
        self.report.reject(Rejection::new(self.path.to_owned(), location, entry, reason));
    }

    fn date(&mut self, attr: &Json, key: &str) -> Option<DateTime<Utc>> {
        let text = attr.get(key)?.as_str()?;
        let parsed = DateTime::parse_from_rfc3339(text).ok().map(|d| d.with_timezone(&Utc));
        if parsed.is_none() {
            self.report.ignore(&format!("unparseable {key}"));
        }
        parsed
    }

    fn tags(&mut self, event: &[String], attr: Vec<String>) -> Arc<[Box<str>]> {
        let mut all: Vec<String> = event.to_vec();
        all.extend(attr.into_iter().filter(|t| !event.contains(t)));
        Arc::clone(self.tag_cache.entry(all).or_insert_with_key(|all| tags(all.iter().map(String::as_str))))
    }
}

/// What one part of an attribute value becomes.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Kind(IndicatorKind),
    /// An address or a network (`ip-dst` may hold either).
    Ip,
    /// `uri`: a path when it starts with `/`, else a URL.
    UrlOrPath,
}

impl Target {
    pub(crate) fn indicator(self, text: &str, feed: Arc<str>) -> Result<Indicator, RejectReason> {
        match self {
            Self::Kind(kind) => Indicator::new(kind, text, feed),
            Self::Ip => {
                let text = text.trim();
                let (kind, value) = match text.parse() {
                    Ok(ip) => ip_value(ip),
                    Err(_) => net_value(normalize::cidr(text)?),
                };
                Ok(Indicator::normalized(kind, value, feed))
            }
            Self::UrlOrPath if text.trim_start().starts_with('/') => {
                Indicator::new(IndicatorKind::UrlPath, text, feed)
            }
            Self::UrlOrPath => Indicator::new(IndicatorKind::Url, text, feed),
        }
    }
}

type Parts = Result<Vec<(Target, String)>, RejectReason>;

/// The indicator parts of an attribute, `None` for types that are not indicators.
fn targets(ty: &str, value: &str) -> Option<Parts> {
    use IndicatorKind as K;
    let one = |t: Target| Some(Ok(vec![(t, value.to_owned())]));
    let hash = ty.strip_prefix("filename|").unwrap_or(ty);
    match ty {
        "ip-src" | "ip-dst" => one(Target::Ip),
        "domain" | "hostname" => one(Target::Kind(K::Domain)),
        "url" => one(Target::Kind(K::Url)),
        "uri" => one(Target::UrlOrPath),
        "email" | "email-src" | "email-dst" | "email-reply-to" | "whois-registrant-email" => {
            one(Target::Kind(K::Email))
        }
        "ja3-fingerprint-md5" => one(Target::Kind(K::Ja3)),
        "ip-src|port" | "ip-dst|port" => Some(split(ty, value).map(|(ip, port)| {
            let ip = ip.trim();
            let socket = if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") };
            vec![(Target::Kind(K::IpPort), socket)]
        })),
        "domain|ip" => {
            Some(split(ty, value).map(|(d, ip)| vec![(Target::Kind(K::Domain), d), (Target::Ip, ip)]))
        }
        "hostname|port" => {
            Some(split(ty, value).map(|(h, p)| vec![(Target::Kind(K::Url), format!("{h}:{p}"))]))
        }
        _ => match hash {
            "md5" | "sha1" | "sha256" | "sha512" => {
                let kind = hash.parse::<K>().ok()?;
                let digest = if hash == ty { Ok(value.to_owned()) } else { split(ty, value).map(|(_, h)| h) };
                Some(digest.map(|d| vec![(Target::Kind(kind), d)]))
            }
            _ => None,
        },
    }
}

fn split(ty: &str, value: &str) -> Result<(String, String), RejectReason> {
    value
        .split_once('|')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .ok_or_else(|| RejectReason::InvalidComposite(ty.to_owned()))
}

fn array(v: Option<&Json>) -> &[Json] {
    v.and_then(Json::as_array).map_or(&[], Vec::as_slice)
}

fn truthy(v: &Json) -> bool {
    match v {
        Json::Bool(b) => *b,
        Json::String(s) => matches!(s.as_str(), "1" | "true" | "True"),
        Json::Number(n) => n.as_u64() == Some(1),
        _ => false,
    }
}

fn tag_names(tags: Option<&Json>) -> Vec<String> {
    array(tags).iter().filter_map(|t| t.get("name").and_then(Json::as_str)).map(str::to_owned).collect()
}

/// Confidence stated by a tag: `osint:certainty="93"`, or an estimative-language likelihood.
fn confidence_of(tags: &[String]) -> Option<u8> {
    tags.iter().find_map(|t| {
        if let Some(v) = t.strip_prefix("osint:certainty=") {
            return v.trim_matches('"').parse::<u8>().ok().map(|c| c.min(100));
        }
        let v = t.strip_prefix("estimative-language:likelihood-probability=")?.trim_matches('"');
        Some(match v {
            "almost-no-chance" => 5,
            "very-unlikely" => 15,
            "unlikely" => 30,
            "roughly-even-chance" => 50,
            "likely" => 70,
            "very-likely" => 85,
            "almost-certain" => 95,
            _ => return None,
        })
    })
}
