//! Reading MISP warning-list JSON into a [`WarningList`]: entries are checked one by one and
//! malformed ones rejected by index; `matching_attributes` become indicator kinds.

use std::path::Path;

use aho_corasick::AhoCorasick;
use regex::RegexSet;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::{Matcher, WarningList, WarningListOptions};
use crate::error::{LoadError, Location, RejectReason, Rejection};
use crate::kind::IndicatorKind;
use crate::load::{FileReport, read_json};
use crate::normalize;
use crate::trie::NetTrie;

#[derive(Debug, Deserialize)]
struct RawList {
    name: String,
    #[serde(rename = "type", default = "default_type")]
    kind: String,
    list: Vec<serde_json::Value>,
    #[serde(default)]
    matching_attributes: Vec<String>,
}

fn default_type() -> String {
    "string".into()
}

/// Reads a MISP warning-list JSON file; malformed entries are rejected one by one.
pub fn load_warning_list(
    path: &Path,
    options: &WarningListOptions,
) -> Result<(WarningList, FileReport), LoadError> {
    let doc = read_json(path)?;
    parse_warning_list(doc, path, options)
}

/// Builds a warning-list from its parsed JSON document.
pub fn parse_warning_list(
    doc: serde_json::Value,
    path: &Path,
    options: &WarningListOptions,
) -> Result<(WarningList, FileReport), LoadError> {
    let raw: RawList = serde_json::from_value(doc).map_err(|e| LoadError::Format {
        path: path.to_owned(),
        reason: format!("not a MISP warning-list: {e}"),
    })?;
    let mut report = FileReport::new(path, "misp-warninglist", &raw.name);
    let kinds = applicable_kinds(&raw, &mut report);
    let items = entries(&raw.list, path, &mut report);
    let (entries, matcher) = build_matcher(&raw.kind, items, path, &mut report)?;
    report.loaded = entries.len();
    report.rejected.sort_by_key(|r| match r.location {
        Location::Index(i) => i,
        _ => usize::MAX,
    });
    let list = WarningList { name: raw.name.into(), kinds, entries, matcher, scope: options.hostname_scope };
    Ok((list, report))
}

fn entries(list: &[serde_json::Value], path: &Path, report: &mut FileReport) -> Vec<(usize, String)> {
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        match item.as_str().map(str::trim) {
            Some(s) if !s.is_empty() => out.push((i, s.to_owned())),
            _ => report.reject(Rejection::new(
                path.to_owned(),
                Location::Index(i),
                &item.to_string(),
                RejectReason::Empty,
            )),
        }
    }
    out
}

type Built = (Vec<Box<str>>, Matcher);

fn build_matcher(
    kind: &str,
    items: Vec<(usize, String)>,
    path: &Path,
    report: &mut FileReport,
) -> Result<Built, LoadError> {
    let mut keep = |items: Vec<(usize, String)>, check: &dyn Fn(&str) -> Result<String, RejectReason>| {
        let mut kept = Vec::with_capacity(items.len());
        for (i, raw) in items {
            match check(&raw) {
                Ok(key) => kept.push((raw, key)),
                Err(reason) => {
                    report.reject(Rejection::new(path.to_owned(), Location::Index(i), &raw, reason))
                }
            }
        }
        kept
    };
    Ok(match kind {
        "cidr" => cidr_matcher(keep(items, &|s| normalize::cidr(s).map(|n| n.to_string()))),
        "hostname" => hostname_matcher(keep(items, &hostname_key)),
        "string" => exact_matcher(keep(items, &|s| Ok(s.to_ascii_lowercase()))),
        "substring" => substring_matcher(keep(items, &|s| Ok(s.to_owned())), path)?,
        "regex" => regex_matcher(keep(items, &check_regex), path)?,
        other => {
            return Err(LoadError::Format {
                path: path.to_owned(),
                reason: format!("unknown warning-list type `{other}`"),
            });
        }
    })
}

/// A host name, or an address (MISP hostname lists carry some, e.g. public DNS resolvers).
fn hostname_key(raw: &str) -> Result<String, RejectReason> {
    match raw.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(ip.to_string()),
        Err(_) => normalize::domain(raw.trim_matches('.')),
    }
}

fn hostname_matcher(kept: Vec<(String, String)>) -> Built {
    let mut ips = NetTrie::default();
    let mut names = FxHashMap::default();
    let mut entries = Vec::with_capacity(kept.len());
    for (raw, key) in kept {
        let id = u32::try_from(entries.len()).unwrap_or(crate::trie::NONE);
        match key.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                let slot = ips.slot(ip.into());
                if *slot == crate::trie::NONE {
                    *slot = id;
                }
            }
            Err(_) => {
                names.entry(key.into_boxed_str()).or_insert(id);
            }
        }
        entries.push(raw.into_boxed_str());
    }
    ips.freeze();
    (entries, Matcher::Hostname(names, ips))
}

fn cidr_matcher(kept: Vec<(String, String)>) -> Built {
    let mut trie = NetTrie::default();
    let mut entries = Vec::with_capacity(kept.len());
    for (raw, key) in kept {
        let Ok(net) = normalize::cidr(&key) else { continue };
        let slot = trie.slot(net);
        if *slot == crate::trie::NONE {
            *slot = u32::try_from(entries.len()).unwrap_or(crate::trie::NONE);
        }
        entries.push(raw.into_boxed_str());
    }
    trie.freeze();
    (entries, Matcher::Cidr(trie))
}

fn exact_matcher(kept: Vec<(String, String)>) -> Built {
    let mut map = FxHashMap::default();
    let mut entries = Vec::with_capacity(kept.len());
    for (raw, key) in kept {
        let id = u32::try_from(entries.len()).unwrap_or(crate::trie::NONE);
        map.entry(key.into_boxed_str()).or_insert(id);
        entries.push(raw.into_boxed_str());
    }
    (entries, Matcher::Exact(map))
}

fn substring_matcher(kept: Vec<(String, String)>, path: &Path) -> Result<Built, LoadError> {
    let entries: Vec<Box<str>> = kept.into_iter().map(|(raw, _)| raw.into_boxed_str()).collect();
    if entries.is_empty() {
        return Ok((entries, Matcher::Substring(None)));
    }
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(entries.iter().map(|e| e.as_bytes()))
        .map_err(|e| format_error(path, &e))?;
    Ok((entries, Matcher::Substring(Some(ac))))
}

fn regex_matcher(kept: Vec<(String, String)>, path: &Path) -> Result<Built, LoadError> {
    let set = RegexSet::new(kept.iter().map(|(_, re)| re.as_str())).map_err(|e| format_error(path, &e))?;
    Ok((kept.into_iter().map(|(raw, _)| raw.into_boxed_str()).collect(), Matcher::Regex(set)))
}

fn format_error(path: &Path, e: &dyn std::fmt::Display) -> LoadError {
    LoadError::Format { path: path.to_owned(), reason: format!("cannot build the matcher: {e}") }
}

/// A warning-list regex, PHP-delimited (`/…/i`) or bare, as the regex crate's syntax.
fn check_regex(raw: &str) -> Result<String, RejectReason> {
    let pattern = match raw.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((body, flags)) if flags.bytes().all(|b| b.is_ascii_alphabetic()) => {
            let inline: String = flags.chars().filter(|c| "imsx".contains(*c)).collect();
            if inline.is_empty() { body.to_owned() } else { format!("(?{inline}){body}") }
        }
        _ => raw.to_owned(),
    };
    regex::Regex::new(&pattern).map(|_| pattern).map_err(|e| RejectReason::InvalidRegex(e.to_string()))
}

/// The kinds a list applies to, from its `matching_attributes` (MISP attribute types).
fn applicable_kinds(raw: &RawList, report: &mut FileReport) -> Vec<IndicatorKind> {
    if raw.matching_attributes.is_empty() {
        return default_kinds(&raw.kind);
    }
    let mut kinds = Vec::new();
    for attr in &raw.matching_attributes {
        let mapped = misp_attribute_kinds(attr);
        if mapped.is_empty() {
            report.ignore(&format!("matching attribute {attr}"));
        }
        for k in mapped {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
    }
    kinds
}

fn default_kinds(list_type: &str) -> Vec<IndicatorKind> {
    use IndicatorKind as K;
    match list_type {
        "cidr" => vec![K::Ipv4, K::Ipv6, K::Cidr, K::IpPort],
        "hostname" => vec![K::Domain, K::Url, K::Email],
        _ => K::ALL.to_vec(),
    }
}

/// Indicator kinds a MISP attribute type stands for (the hash half of `filename|md5` too).
fn misp_attribute_kinds(attr: &str) -> &'static [IndicatorKind] {
    use IndicatorKind as K;
    let attr = attr.strip_prefix("filename|").unwrap_or(attr);
    match attr {
        "ip-src" | "ip-dst" | "ip" => &[K::Ipv4, K::Ipv6, K::Cidr],
        "ip-src|port" | "ip-dst|port" => &[K::IpPort],
        "domain|ip" => &[K::Domain, K::Ipv4, K::Ipv6],
        "domain" | "hostname" => &[K::Domain],
        "url" | "uri" | "link" => &[K::Url, K::UrlPath],
        "md5" => &[K::Md5],
        "sha1" => &[K::Sha1],
        "sha256" => &[K::Sha256],
        "sha512" => &[K::Sha512],
        "email" | "email-src" | "email-dst" | "email-reply-to" | "whois-registrant-email" => &[K::Email],
        "ja3-fingerprint-md5" => &[K::Ja3],
        "ja4-fingerprint" => &[K::Ja4],
        _ => &[],
    }
}
