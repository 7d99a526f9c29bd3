//! Matching events and observed values against an [`IndicatorSet`].
//!
//! [`MatchFields`] says which event fields hold which kind of observable (ECS by default).
//! Each value costs a bounded number of index probes: one for an address plus one trie walk,
//! one per label for a host name, one per directory level for a URL. An indicator that matches
//! through several fields (`source.ip` and `related.ip`) is reported once, under the first.

use std::net::IpAddr;

use ward_model::{Event, FieldValue};

use crate::indicator::Indicator;
use crate::kind::IndicatorKind;
use crate::set::IndicatorSet;
use crate::{normalize, url};

/// What kind of observable an event field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldRole {
    /// IP addresses: exact addresses and containing networks.
    Ip,
    /// Host names: the name and its parent domains.
    Domain,
    /// URLs: the URL and its directories, its path, and its host as a domain or address. A
    /// relative value (`/a?b`, as Suricata writes `url.original`) is joined to the event's
    /// `url.domain` and `url.port`.
    Url,
    /// URL paths on any host.
    UrlPath,
    /// Hex digests; the kind follows from the length (32 MD5, 40 SHA-1, 64 SHA-256, 128
    /// SHA-512).
    Hash,
    /// E-mail addresses.
    Email,
    /// JA3 fingerprints.
    Ja3,
    /// JA4 fingerprints.
    Ja4,
}

/// The event fields to check, each with its role, plus address/port field pairs for `ip:port`
/// indicators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchFields {
    fields: Vec<(Box<str>, FieldRole)>,
    sockets: Vec<(Box<str>, Box<str>)>,
}

const ECS_FIELDS: &[(&str, FieldRole)] = &[
    ("source.ip", FieldRole::Ip),
    ("destination.ip", FieldRole::Ip),
    ("client.ip", FieldRole::Ip),
    ("server.ip", FieldRole::Ip),
    ("source.nat.ip", FieldRole::Ip),
    ("destination.nat.ip", FieldRole::Ip),
    ("host.ip", FieldRole::Ip),
    ("dns.resolved_ip", FieldRole::Ip),
    ("related.ip", FieldRole::Ip),
    ("dns.question.name", FieldRole::Domain),
    ("url.domain", FieldRole::Domain),
    ("destination.domain", FieldRole::Domain),
    ("source.domain", FieldRole::Domain),
    ("client.domain", FieldRole::Domain),
    ("server.domain", FieldRole::Domain),
    ("tls.client.server_name", FieldRole::Domain),
    ("related.hosts", FieldRole::Domain),
    ("url.original", FieldRole::Url),
    ("url.full", FieldRole::Url),
    ("http.request.referrer", FieldRole::Url),
    ("url.path", FieldRole::UrlPath),
    ("file.hash.md5", FieldRole::Hash),
    ("file.hash.sha1", FieldRole::Hash),
    ("file.hash.sha256", FieldRole::Hash),
    ("file.hash.sha512", FieldRole::Hash),
    ("process.hash.md5", FieldRole::Hash),
    ("process.hash.sha1", FieldRole::Hash),
    ("process.hash.sha256", FieldRole::Hash),
    ("process.hash.sha512", FieldRole::Hash),
    ("process.parent.hash.sha256", FieldRole::Hash),
    ("dll.hash.sha256", FieldRole::Hash),
    ("related.hash", FieldRole::Hash),
    ("email.from.address", FieldRole::Email),
    ("email.sender.address", FieldRole::Email),
    ("email.reply_to.address", FieldRole::Email),
    ("email.to.address", FieldRole::Email),
    ("email.cc.address", FieldRole::Email),
    ("user.email", FieldRole::Email),
    ("source.user.email", FieldRole::Email),
    ("destination.user.email", FieldRole::Email),
    ("tls.client.ja3", FieldRole::Ja3),
    ("tls.client.ja4", FieldRole::Ja4),
];

const ECS_SOCKETS: &[(&str, &str)] = &[
    ("source.ip", "source.port"),
    ("destination.ip", "destination.port"),
    ("client.ip", "client.port"),
    ("server.ip", "server.port"),
];

impl Default for MatchFields {
    /// The ECS fields that carry addresses, host names, URLs, hashes, e-mail addresses and TLS
    /// fingerprints.
    fn default() -> Self {
        Self {
            fields: ECS_FIELDS.iter().map(|(p, r)| (Box::from(*p), *r)).collect(),
            sockets: ECS_SOCKETS.iter().map(|(i, p)| (Box::from(*i), Box::from(*p))).collect(),
        }
    }
}

impl MatchFields {
    /// No fields at all (build up with [`MatchFields::with`]).
    pub fn empty() -> Self {
        Self { fields: Vec::new(), sockets: Vec::new() }
    }

    /// Adds a field with its role (after the existing ones).
    pub fn with(mut self, path: &str, role: FieldRole) -> Self {
        self.fields.push((path.into(), role));
        self
    }

    /// Adds an address/port field pair checked against `ip:port` indicators.
    pub fn with_socket(mut self, ip_path: &str, port_path: &str) -> Self {
        self.sockets.push((ip_path.into(), port_path.into()));
        self
    }

    /// The fields and their roles, in checking order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, FieldRole)> {
        self.fields.iter().map(|(p, r)| (p.as_ref(), *r))
    }
}

/// One observed value to look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observable<'a> {
    /// An address.
    Ip(IpAddr),
    /// An address and port.
    Socket(IpAddr, u16),
    /// A host name.
    Domain(&'a str),
    /// A URL (absolute, or `host/path` without scheme).
    Url(&'a str),
    /// A URL path.
    UrlPath(&'a str),
    /// A hex digest of any supported length.
    Hash(&'a str),
    /// An e-mail address.
    Email(&'a str),
    /// A JA3 fingerprint.
    Ja3(&'a str),
    /// A JA4 fingerprint.
    Ja4(&'a str),
}

/// An indicator found in an event.
#[derive(Clone, Debug, PartialEq)]
pub struct Match<'a> {
    /// The event field it was found in.
    pub field: &'a str,
    /// The observed value that matched (the host, for a URL matched through its host).
    pub value: String,
    /// The indicator, with feed, entry, kind and confidence.
    pub indicator: &'a Indicator,
}

impl IndicatorSet {
    /// Every indicator `observable` matches (each once, in index order).
    pub fn lookup(&self, observable: Observable<'_>) -> Vec<&Indicator> {
        let mut ids = Vec::new();
        self.visit(observable, &mut |id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
        });
        ids.into_iter().map(|id| self.indicator(id)).collect()
    }

    /// Whether `observable` matches anything.
    pub fn contains(&self, observable: Observable<'_>) -> bool {
        let mut hit = false;
        self.visit(observable, &mut |_| hit = true);
        hit
    }

    /// Calls `f` with the id of every indicator `observable` matches (possibly repeated).
    fn visit(&self, observable: Observable<'_>, f: &mut impl FnMut(u32)) {
        match observable {
            Observable::Ip(ip) => self.visit_ip(ip, f),
            Observable::Socket(ip, port) => self.visit_socket(ip, port, f),
            Observable::Domain(name) => self.visit_domain(name, f),
            Observable::Url(text) => {
                if let Ok(u) = url::normalize(text) {
                    self.visit_url(&u, f);
                }
            }
            Observable::UrlPath(path) => {
                if let Ok(p) = url::normalize_path(path) {
                    self.visit_url_key(IndicatorKind::UrlPath, &p, 0, f);
                }
            }
            Observable::Hash(h) => {
                if let Some(kind) = IndicatorKind::hash_of_len(h.len()) {
                    self.visit_text(kind, &normalize::lower(h), f);
                }
            }
            Observable::Email(e) => {
                if let Ok(e) = normalize::email(e) {
                    self.visit_text(IndicatorKind::Email, &e, f);
                }
            }
            Observable::Ja3(h) => self.visit_text(IndicatorKind::Ja3, &normalize::lower(h), f),
            Observable::Ja4(h) => self.visit_text(IndicatorKind::Ja4, &normalize::lower(h), f),
        }
    }

    /// A URL hits URL indicators, URL-path indicators, and its host as a domain or address.
    fn visit_url(&self, u: &url::NormUrl, f: &mut impl FnMut(u32)) {
        let key = u.key();
        self.visit_url_key(IndicatorKind::Url, key, key.len() - u.path().len(), f);
        self.visit_url_key(IndicatorKind::UrlPath, u.path(), 0, f);
        match u.host().parse::<IpAddr>() {
            Ok(ip) => self.visit_ip(ip, f),
            Err(_) => self.visit_domain(u.host(), f),
        }
    }

    /// Every indicator found in the event's configured fields.
    pub fn matches_event(&self, event: &Event) -> Vec<Match<'_>> {
        self.matches_event_with(event, &self.fields)
    }

    /// Every indicator found in `fields` of the event.
    pub fn matches_event_with<'a>(&'a self, event: &Event, fields: &'a MatchFields) -> Vec<Match<'a>> {
        let mut found = Found { set: self, matches: Vec::new() };
        for (path, role) in &fields.fields {
            if let Some(value) = event.get(path) {
                scalars(value, &mut |v| found.value(event, path, *role, v));
            }
        }
        for (ip_path, port_path) in &fields.sockets {
            let port = event.get(port_path).and_then(FieldValue::as_i64).and_then(|p| u16::try_from(p).ok());
            let ip = event.get(ip_path).and_then(as_ip);
            if let (Some(ip), Some(port)) = (ip, port) {
                found.record(
                    ip_path,
                    || normalize::format_socket(ip, port),
                    |f| {
                        self.visit_socket(ip, port, &mut |id| f(id));
                    },
                );
            }
        }
        found.matches
    }
}

/// Matches collected from one event, each indicator once.
struct Found<'a> {
    set: &'a IndicatorSet,
    matches: Vec<Match<'a>>,
}

impl<'a> Found<'a> {
    fn value(&mut self, event: &Event, path: &'a str, role: FieldRole, value: &FieldValue) {
        let text = value.as_str();
        let s = self.set;
        match (role, text) {
            (FieldRole::Ip, _) => {
                if let Some(ip) = as_ip(value) {
                    self.record(path, || ip.to_string(), |f| s.visit_ip(ip, &mut |id| f(id)));
                }
            }
            (FieldRole::Url, Some(t)) => self.url(event, path, t),
            (_, Some(t)) => {
                let observable = match role {
                    FieldRole::Domain => Observable::Domain(t),
                    FieldRole::UrlPath => Observable::UrlPath(t),
                    FieldRole::Hash => Observable::Hash(t),
                    FieldRole::Email => Observable::Email(t),
                    FieldRole::Ja3 => Observable::Ja3(t),
                    _ => Observable::Ja4(t),
                };
                self.record(path, || t.to_owned(), |f| s.visit(observable, &mut |id| f(id)));
            }
            (_, None) => {}
        }
    }

    /// An absolute URL, or a relative one joined to `url.domain`/`url.port`.
    fn url(&mut self, event: &Event, path: &'a str, text: &str) {
        let joined;
        let text = match (text.starts_with('/'), event.str("url.domain")) {
            (true, Some(host)) => {
                let port = event.get("url.port").and_then(FieldValue::as_i64);
                joined = match port {
                    Some(p) => format!("{host}:{p}{text}"),
                    None => format!("{host}{text}"),
                };
                joined.as_str()
            }
            (true, None) => {
                let s = self.set;
                let observable = Observable::UrlPath(text);
                return self.record(path, || text.to_owned(), |f| s.visit(observable, &mut |id| f(id)));
            }
            (false, _) => text,
        };
        let Ok(u) = url::normalize(text) else { return };
        let s = self.set;
        self.record(path, || u.display(), |f| s.visit_url(&u, &mut |id| f(id)));
    }

    /// Runs one lookup; indicators not matched yet become matches, with the value rendered
    /// once.
    fn record(
        &mut self,
        path: &'a str,
        value: impl FnOnce() -> String,
        visit: impl FnOnce(&mut dyn FnMut(u32)),
    ) {
        let mut fresh: Vec<&'a Indicator> = Vec::new();
        let set = self.set;
        let matches = &self.matches;
        visit(&mut |id| {
            let ind = set.indicator(id);
            let known = |i: &&Indicator| std::ptr::eq(*i, ind);
            if !fresh.iter().any(known) && !matches.iter().any(|m| std::ptr::eq(m.indicator, ind)) {
                fresh.push(ind);
            }
        });
        if fresh.is_empty() {
            return;
        }
        let value = value();
        for indicator in fresh {
            self.matches.push(Match { field: path, value: value.clone(), indicator });
        }
    }
}

/// Calls `f` for a value, or for each item of a list.
fn scalars(value: &FieldValue, f: &mut impl FnMut(&FieldValue)) {
    match value {
        FieldValue::List(items) => items.iter().for_each(|i| scalars(i, f)),
        other => f(other),
    }
}

fn as_ip(value: &FieldValue) -> Option<IpAddr> {
    match value {
        FieldValue::Ip(ip) => Some(*ip),
        FieldValue::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}
