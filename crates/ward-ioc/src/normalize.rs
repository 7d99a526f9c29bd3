//! Canonical forms of indicator values: the same normalization is applied to feed entries when
//! they are loaded and to event values when they are looked up, so equal things compare equal.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::error::RejectReason;

/// Longest domain name DNS allows (RFC 1035), without the trailing dot.
const MAX_DOMAIN: usize = 253;
/// Longest DNS label.
const MAX_LABEL: usize = 63;

pub(crate) fn ipv4(raw: &str) -> Result<IpAddr, RejectReason> {
    raw.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| RejectReason::InvalidIp)
}

pub(crate) fn ipv6(raw: &str) -> Result<IpAddr, RejectReason> {
    let inner = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(raw);
    inner.parse::<Ipv6Addr>().map(|ip| canonical_ip(IpAddr::V6(ip))).map_err(|_| RejectReason::InvalidIp)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) stand for the IPv4 address.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A network with host bits cleared (`10.1.2.3/8` → `10.0.0.0/8`); a bare address is a
/// single-address network.
pub(crate) fn cidr(raw: &str) -> Result<IpNet, RejectReason> {
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    raw.parse::<IpNet>().map(|n| n.trunc()).map_err(|e| RejectReason::InvalidCidr(e.to_string()))
}

/// `1.2.3.4:80` or `[2001:db8::1]:443`.
pub(crate) fn looks_like_ip_port(raw: &str) -> bool {
    if raw.starts_with('[') {
        return raw.contains("]:");
    }
    match raw.rsplit_once(':') {
        Some((ip, _)) => ip.parse::<Ipv4Addr>().is_ok(),
        None => false,
    }
}

pub(crate) fn parse_ip_port(raw: &str) -> Result<(IpAddr, u16), RejectReason> {
    let (ip, port) = match raw.strip_prefix('[') {
        Some(rest) => rest.split_once("]:").ok_or(RejectReason::InvalidIp)?,
        None => raw.rsplit_once(':').ok_or(RejectReason::InvalidPort)?,
    };
    let ip: IpAddr = ip.parse().map_err(|_| RejectReason::InvalidIp)?;
    let port = port.parse::<u16>().map_err(|_| RejectReason::InvalidPort)?;
    Ok((canonical_ip(ip), port))
}

pub(crate) fn format_socket(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

/// A lowercase domain name without trailing dot; labels of letters, digits, `-` and `_`
/// (underscores occur in real DNS names such as `_dmarc` and in feeds), at most 63 bytes each.
pub(crate) fn domain(raw: &str) -> Result<String, RejectReason> {
    let name = raw.strip_suffix('.').unwrap_or(raw);
    if !name.is_ascii() {
        return Err(RejectReason::NonAscii);
    }
    if name.is_empty() || name.len() > MAX_DOMAIN {
        return Err(RejectReason::InvalidDomain("empty or longer than 253 bytes"));
    }
    for label in name.split('.') {
        check_label(label)?;
    }
    if name.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(RejectReason::InvalidDomain("numeric top-level label"));
    }
    Ok(name.to_ascii_lowercase())
}

fn check_label(label: &str) -> Result<(), RejectReason> {
    if label.is_empty() {
        return Err(RejectReason::InvalidDomain("empty label"));
    }
    if label.len() > MAX_LABEL {
        return Err(RejectReason::InvalidDomain("label longer than 63 bytes"));
    }
    if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(RejectReason::InvalidDomain("character not allowed in a host name"));
    }
    Ok(())
}

/// Lowercase `local@domain` with a valid domain; surrounding `<…>` is removed.
pub(crate) fn email(raw: &str) -> Result<String, RejectReason> {
    let raw = raw.strip_prefix("mailto:").unwrap_or(raw);
    let raw = raw.strip_prefix('<').and_then(|r| r.strip_suffix('>')).unwrap_or(raw);
    let (local, host) = raw.rsplit_once('@').ok_or(RejectReason::InvalidEmail)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_graphic() && !b"<>()[],;:\"@".contains(&b));
    if !local_ok {
        return Err(RejectReason::InvalidEmail);
    }
    let host = domain(host).map_err(|_| RejectReason::InvalidEmail)?;
    Ok(format!("{}@{host}", local.to_ascii_lowercase()))
}

pub(crate) fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A lowercase hex digest of exactly `len` digits.
pub(crate) fn hex_digest(raw: &str, len: usize) -> Result<String, RejectReason> {
    if raw.len() != len || !is_hex(raw) {
        return Err(RejectReason::InvalidHash { expected: len, found: raw.len() });
    }
    Ok(raw.to_ascii_lowercase())
}

/// JA4 `a_b_c`: a 10-character header (`t13d1516h2`), then two 12-digit hex hashes.
pub(crate) fn looks_like_ja4(raw: &str) -> bool {
    let mut parts = raw.split('_');
    let (Some(head), Some(b), Some(c), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    head.len() == 10
        && matches!(head.as_bytes()[0], b't' | b'q' | b'd' | b'T' | b'Q' | b'D')
        && head.bytes().all(|x| x.is_ascii_alphanumeric())
        && b.len() == 12
        && c.len() == 12
        && is_hex(b)
        && is_hex(c)
}

pub(crate) fn ja4(raw: &str) -> Result<String, RejectReason> {
    if !looks_like_ja4(raw) {
        return Err(RejectReason::InvalidJa4);
    }
    Ok(raw.to_ascii_lowercase())
}

/// Lowercases only when needed, so the lookup path does not allocate for values that are
/// already canonical.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// An observed host name prepared for lookup: trailing dot removed, lowercase.
pub(crate) fn observed_domain(s: &str) -> Cow<'_, str> {
    let s = s.strip_suffix('.').unwrap_or(s);
    lower(s)
}

/// The suffixes of a domain at label boundaries, longest first: `a.b.c`, `b.c`, `c`.
pub(crate) fn domain_suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::once(name)
        .chain(name.match_indices('.').map(move |(i, _)| &name[i + 1..]))
        .filter(|s| !s.is_empty())
}
