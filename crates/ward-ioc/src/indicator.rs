//! One indicator of compromise: a normalized value of a kind, and where it came from.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Serialize;

use crate::error::RejectReason;
use crate::kind::IndicatorKind;
use crate::normalize::format_socket;

/// Confidence given to indicators whose feed states none (0–100 scale).
pub const DEFAULT_CONFIDENCE: u8 = 50;

/// Where an indicator sits in its feed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    /// A 1-based line of a text or CSV feed.
    Line(u32),
    /// A record id: MISP attribute uuid, STIX indicator id.
    Record(Box<str>),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Record(id) => f.write_str(id),
        }
    }
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A normalized indicator value, typed so lookups never parse it again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An address (`Ipv4`, `Ipv6`).
    Ip(IpAddr),
    /// A network with host bits cleared (`Cidr`).
    Net(IpNet),
    /// An address and port (`IpPort`).
    Socket(IpAddr, u16),
    /// Canonical text: domains, URLs, URL paths, digests, e-mail addresses, fingerprints.
    Text(Box<str>),
}

impl Value {
    pub(crate) fn text(s: String) -> Self {
        Self::Text(s.into_boxed_str())
    }

    /// The text of a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Net(net) => write!(f, "{net}"),
            Self::Socket(ip, port) => f.write_str(&format_socket(*ip, *port)),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A normalized indicator and its provenance.
///
/// Tags are shared between the indicators of one file (an `Arc`), so a million indicators
/// from a handful of feeds do not carry a million tag vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    kind: IndicatorKind,
    value: Value,
    feed: Arc<str>,
    entry: Entry,
    confidence: u8,
    tags: Arc<[Box<str>]>,
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    to_ids: bool,
}

impl Indicator {
    /// Normalizes `raw` as a `kind` value from `feed`; confidence [`DEFAULT_CONFIDENCE`], no
    /// tags, no dates, meant for detection (`to_ids`), entry line 0 until set.
    pub fn new(kind: IndicatorKind, raw: &str, feed: Arc<str>) -> Result<Self, RejectReason> {
        Ok(Self::normalized(kind, kind.normalize(raw)?, feed))
    }

    /// Detects the kind of `raw` (see [`crate::classify`]) and normalizes it.
    pub fn detect(raw: &str, feed: Arc<str>) -> Result<Self, RejectReason> {
        let (kind, value) = crate::kind::classify(raw)?;
        Ok(Self::normalized(kind, value, feed))
    }

    /// An indicator from a value already in canonical form (an address keeps the kind of its
    /// family, so `::ffff:1.2.3.4` is an `Ipv4` indicator).
    pub(crate) fn normalized(kind: IndicatorKind, value: Value, feed: Arc<str>) -> Self {
        let kind = match &value {
            Value::Ip(IpAddr::V4(_)) => IndicatorKind::Ipv4,
            Value::Ip(IpAddr::V6(_)) => IndicatorKind::Ipv6,
            _ => kind,
        };
        Self {
            kind,
            value,
            feed,
            entry: Entry::Line(0),
            confidence: DEFAULT_CONFIDENCE,
            tags: Arc::from(Vec::new()),
            first_seen: None,
            last_seen: None,
            to_ids: true,
        }
    }

    /// Sets where the indicator sits in its feed.
    pub fn with_entry(mut self, entry: Entry) -> Self {
        self.entry = entry;
        self
    }

    /// Sets the confidence, capped at 100.
    pub fn with_confidence(mut self, confidence: u8) -> Self {
        self.confidence = confidence.min(100);
        self
    }

    /// Sets the tags (shared with other indicators of the same file where possible).
    pub fn with_tags(mut self, tags: Arc<[Box<str>]>) -> Self {
        self.tags = tags;
        self
    }

    /// Sets when the indicator was first and last seen (STIX: `valid_from`, `valid_until`).
    pub fn with_seen(mut self, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> Self {
        self.first_seen = first;
        self.last_seen = last;
        self
    }

    /// Sets the MISP `to_ids` flag (false: context, not meant for detection).
    pub fn with_to_ids(mut self, to_ids: bool) -> Self {
        self.to_ids = to_ids;
        self
    }

    /// The kind.
    pub fn kind(&self) -> IndicatorKind {
        self.kind
    }

    /// The normalized value (`evil.example`, `10.0.0.0/8`, `http://evil.example/x`).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The feed it came from.
    pub fn feed(&self) -> &str {
        &self.feed
    }

    /// The shared feed name.
    pub fn feed_name(&self) -> &Arc<str> {
        &self.feed
    }

    /// Line or record in the feed.
    pub fn entry(&self) -> &Entry {
        &self.entry
    }

    /// Confidence, 0–100.
    pub fn confidence(&self) -> u8 {
        self.confidence
    }

    /// Tags (maltrail trail names, MISP tags, STIX labels and indicator types).
    pub fn tags(&self) -> &[Box<str>] {
        &self.tags
    }

    /// When it was first seen or became valid.
    pub fn first_seen(&self) -> Option<DateTime<Utc>> {
        self.first_seen
    }

    /// When it was last seen or stops being valid.
    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.last_seen
    }

    /// Whether the feed marks it for detection (MISP `to_ids`; true for other formats).
    pub fn to_ids(&self) -> bool {
        self.to_ids
    }
}

/// Tags in the shared form indicators carry.
pub fn tags<I, S>(tags: I) -> Arc<[Box<str>]>
where
    I: IntoIterator<Item = S>,
    S: Into<Box<str>>,
{
    tags.into_iter().map(Into::into).collect::<Vec<_>>().into()
}
