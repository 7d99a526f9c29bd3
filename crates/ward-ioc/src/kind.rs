//! The closed set of indicator kinds, and per-line auto-detection of a kind from raw text.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::RejectReason;
use crate::indicator::Value;
use crate::normalize;

/// What an indicator value is; decides how it is normalized and which index it lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    /// One IPv4 address (exact match).
    Ipv4,
    /// One IPv6 address (exact match).
    Ipv6,
    /// An IPv4 or IPv6 network; every address inside it matches.
    Cidr,
    /// An address and a port together (`1.2.3.4:8080`, `[2001:db8::1]:443`).
    IpPort,
    /// A domain name; the name itself and every subdomain match.
    Domain,
    /// A URL; a path ending in `/` also matches everything below it.
    Url,
    /// A URL path on any host (`/gate.php`), as maltrail lists them.
    UrlPath,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
    /// A SHA-512 file hash.
    Sha512,
    /// An e-mail address.
    Email,
    /// A JA3 TLS client fingerprint (an MD5 in hex).
    Ja3,
    /// A JA4 TLS client fingerprint (`t13d1516h2_8daaf6152771_b186095e22b6`).
    Ja4,
}

impl IndicatorKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 14] = [
        Self::Ipv4,
        Self::Ipv6,
        Self::Cidr,
        Self::IpPort,
        Self::Domain,
        Self::Url,
        Self::UrlPath,
        Self::Md5,
        Self::Sha1,
        Self::Sha256,
        Self::Sha512,
        Self::Email,
        Self::Ja3,
        Self::Ja4,
    ];

    /// The kind's name as written in lists (`ipv4`, `ip-port`, `url-path`, `sha256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Cidr => "cidr",
            Self::IpPort => "ip-port",
            Self::Domain => "domain",
            Self::Url => "url",
            Self::UrlPath => "url-path",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
            Self::Email => "email",
            Self::Ja3 => "ja3",
            Self::Ja4 => "ja4",
        }
    }

    /// The ECS `threat.indicator.type` of this kind, where ECS has one.
    pub fn ecs_type(self) -> Option<&'static str> {
        Some(match self {
            Self::Ipv4 => "ipv4-addr",
            Self::Ipv6 => "ipv6-addr",
            Self::Cidr => "ipv4-addr",
            Self::IpPort => "port",
            Self::Domain => "domain-name",
            Self::Url | Self::UrlPath => "url",
            Self::Md5 | Self::Sha1 | Self::Sha256 | Self::Sha512 => "file",
            Self::Email => "email-addr",
            Self::Ja3 | Self::Ja4 => return None,
        })
    }

    /// The hash kind of a hex digest of `len` characters.
    pub fn hash_of_len(len: usize) -> Option<Self> {
        match len {
            32 => Some(Self::Md5),
            40 => Some(Self::Sha1),
            64 => Some(Self::Sha256),
            128 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Normalizes `raw` as a value of this kind (lowercase names and digests, canonical
    /// addresses and networks, normalized URLs), or says why it is not one.
    ///
    /// `Cidr` accepts a plain address as a one-address network; [`classify`] turns `/32` and
    /// `/128` networks into exact addresses instead.
    pub fn normalize(self, raw: &str) -> Result<Value, RejectReason> {
        let raw = raw.trim();
        Ok(match self {
            Self::Ipv4 => Value::Ip(normalize::ipv4(raw)?),
            Self::Ipv6 => Value::Ip(normalize::ipv6(raw)?),
            Self::Cidr => Value::Net(normalize::cidr(raw)?),
            Self::IpPort => {
                let (ip, port) = normalize::parse_ip_port(raw)?;
                Value::Socket(ip, port)
            }
            Self::Domain => Value::text(normalize::domain(raw.strip_prefix('.').unwrap_or(raw))?),
            Self::Url => Value::text(crate::url::normalize(raw)?.display()),
            Self::UrlPath => Value::text(crate::url::normalize_path(raw)?),
            Self::Md5 | Self::Sha1 | Self::Sha256 | Self::Sha512 | Self::Ja3 => {
                Value::text(normalize::hex_digest(raw, self.digest_len())?)
            }
            Self::Email => Value::text(normalize::email(raw)?),
            Self::Ja4 => Value::text(normalize::ja4(raw)?),
        })
    }

    fn digest_len(self) -> usize {
        match self {
            Self::Md5 | Self::Ja3 => 32,
            Self::Sha1 => 40,
            Self::Sha256 => 64,
            _ => 128,
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IndicatorKind {
    type Err = RejectReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| RejectReason::UnknownKind(s.to_owned()))
    }
}

/// Detects the kind of one raw indicator and normalizes it.
///
/// An explicit `kind:` prefix (`ja3:…`, `domain:tk`) wins; otherwise, in order: URLs (`://`),
/// URL paths (`/…`), `address:port`, addresses, networks, e-mail addresses, hex digests by
/// length (32 hex digits are MD5, never JA3, without a prefix), JA4 fingerprints, scheme-less
/// URLs (`host/path`, `host:port`) and domain names with at least two labels (or one label
/// after a leading dot, as in maltrail's `.cc`). Regular-expression trails are rejected.
pub fn classify(raw: &str) -> Result<(IndicatorKind, Value), RejectReason> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(RejectReason::Empty);
    }
    if let Some((kind, rest)) = explicit_kind(raw) {
        return kind.normalize(rest).map(|v| (kind, v));
    }
    if raw.contains("://") {
        return IndicatorKind::Url.normalize(raw).map(|v| (IndicatorKind::Url, v));
    }
    if raw.starts_with('/') {
        return IndicatorKind::UrlPath.normalize(raw).map(|v| (IndicatorKind::UrlPath, v));
    }
    if looks_like_regex(raw) {
        return Err(RejectReason::RegexTrail);
    }
    classify_plain(raw)
}

fn classify_plain(raw: &str) -> Result<(IndicatorKind, Value), RejectReason> {
    if let Some(found) = classify_network(raw)? {
        return Ok(found);
    }
    if raw.contains('@') {
        return normalize::email(raw).map(|v| (IndicatorKind::Email, Value::text(v)));
    }
    if let Some(kind) = IndicatorKind::hash_of_len(raw.len()).filter(|_| normalize::is_hex(raw)) {
        return kind.normalize(raw).map(|v| (kind, v));
    }
    if normalize::looks_like_ja4(raw) {
        return normalize::ja4(raw).map(|v| (IndicatorKind::Ja4, Value::text(v)));
    }
    if raw.contains('/') || raw.contains(':') {
        return IndicatorKind::Url.normalize(raw).map(|v| (IndicatorKind::Url, v));
    }
    classify_domain(raw)
}

/// Addresses, `address:port` and networks; `None` when the text is none of these.
fn classify_network(raw: &str) -> Result<Option<(IndicatorKind, Value)>, RejectReason> {
    if let Ok(ip) = raw.parse::<std::net::IpAddr>() {
        return Ok(Some(ip_value(ip)));
    }
    if normalize::looks_like_ip_port(raw) {
        let (ip, port) = normalize::parse_ip_port(raw)?;
        return Ok(Some((IndicatorKind::IpPort, Value::Socket(ip, port))));
    }
    let Some((addr, len)) = raw.split_once('/') else { return Ok(None) };
    if addr.parse::<std::net::IpAddr>().is_err() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(Some(net_value(normalize::cidr(raw)?)))
}

/// An address as an `Ipv4` or `Ipv6` indicator value.
pub(crate) fn ip_value(ip: std::net::IpAddr) -> (IndicatorKind, Value) {
    let ip = normalize::canonical_ip(ip);
    let kind = if ip.is_ipv4() { IndicatorKind::Ipv4 } else { IndicatorKind::Ipv6 };
    (kind, Value::Ip(ip))
}

/// A network as a `Cidr` value, or as an exact address when it holds one address.
pub(crate) fn net_value(net: ipnet::IpNet) -> (IndicatorKind, Value) {
    if net.prefix_len() == net.max_prefix_len() {
        ip_value(net.addr())
    } else {
        (IndicatorKind::Cidr, Value::Net(net))
    }
}

fn classify_domain(raw: &str) -> Result<(IndicatorKind, Value), RejectReason> {
    let (suffix, name) = match raw.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let value = normalize::domain(name)?;
    if !suffix && !value.contains('.') {
        return Err(RejectReason::SingleLabel);
    }
    Ok((IndicatorKind::Domain, Value::text(value)))
}

fn explicit_kind(raw: &str) -> Option<(IndicatorKind, &str)> {
    let (prefix, rest) = raw.split_once(':')?;
    if rest.starts_with("//") {
        return None;
    }
    prefix.parse().ok().map(|k| (k, rest))
}

/// Maltrail writes some trails as regular expressions (`0ba[0-9]{8,15}\.win`); they are not
/// exact indicators.
fn looks_like_regex(raw: &str) -> bool {
    let ipv6_bracket = raw.starts_with('[') && raw.contains("]:");
    !ipv6_bracket && raw.bytes().any(|b| b"\\()[]{}*+?|^$".contains(&b))
}
