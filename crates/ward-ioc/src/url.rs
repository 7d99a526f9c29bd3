//! URL normalization and the candidate keys an observed URL is looked up under.
//!
//! A normalized URL is `scheme://host[:port]/path[?query]`: scheme and host lowercase, the
//! default port of the scheme removed (`http` when there is no scheme, as in maltrail trails),
//! user info and fragment dropped, percent-escapes of unreserved characters decoded and all
//! others uppercased, bytes outside printable ASCII escaped, `.` and `..` segments resolved,
//! an empty path written `/`. The lookup key is the same without `scheme://`, so an indicator
//! `http://evil.example/x` also matches `https://evil.example/x`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::RejectReason;
use crate::normalize;

/// How many directory prefixes of one observed path are tried (bounds the work per value).
const MAX_DIR_PREFIXES: usize = 32;

/// A URL in canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NormUrl {
    scheme: Option<String>,
    key: String,
    host_len: usize,
    path_start: usize,
}

impl NormUrl {
    /// The canonical text, with the scheme when there was one.
    pub(crate) fn display(&self) -> String {
        match &self.scheme {
            Some(s) => format!("{s}://{}", self.key),
            None => self.key.clone(),
        }
    }

    /// `host[:port]/path[?query]`: what indicators are keyed by.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The host (IPv6 without brackets).
    pub(crate) fn host(&self) -> &str {
        let host = &self.key[..self.host_len];
        host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
    }

    /// The path and query (`/a/b?c`).
    pub(crate) fn path(&self) -> &str {
        &self.key[self.path_start..]
    }
}

/// Parses and normalizes a URL, with or without a scheme.
pub(crate) fn normalize(raw: &str) -> Result<NormUrl, RejectReason> {
    let raw = raw.trim();
    if raw.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(RejectReason::InvalidUrl("whitespace or control character"));
    }
    let (scheme, rest) = split_scheme(raw)?;
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = split_host_port(authority)?;
    let mut key = normalize_host(host)?;
    let host_len = key.len();
    if let Some(port) = port.filter(|p| Some(*p) != default_port(scheme.as_deref())) {
        let _ = write!(key, ":{port}");
    }
    let path_start = key.len();
    key.push_str(&path_and_query(&rest[authority_end..]));
    Ok(NormUrl { scheme, key, host_len, path_start })
}

/// A URL path on any host (`/gate.php?id=1`), normalized like the path of a URL.
pub(crate) fn normalize_path(raw: &str) -> Result<String, RejectReason> {
    let raw = raw.trim();
    if !raw.starts_with('/') {
        return Err(RejectReason::InvalidUrl("a URL path starts with `/`"));
    }
    if raw.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return Err(RejectReason::InvalidUrl("whitespace or control character"));
    }
    Ok(path_and_query(raw.split('#').next().unwrap_or_default()))
}

/// The indicator key of a stored URL value (its text without `scheme://`).
pub(crate) fn key_of(value: &str) -> &str {
    value.split_once("://").map_or(value, |(_, rest)| rest)
}

/// The keys an observed `host/path?query` (or `/path?query`, with `path_start` 0) is looked up
/// under: itself, without the query, then each directory prefix (`host/a/b/`, `host/a/`,
/// `host/`) — an indicator ending in `/` covers everything below it.
pub(crate) fn lookup_keys(key: &str, path_start: usize) -> impl Iterator<Item = &str> {
    let no_query = key.find('?').map_or(key, |q| &key[..q]);
    let with_query = (no_query.len() != key.len()).then_some(key);
    let dirs = no_query[path_start..]
        .rmatch_indices('/')
        .map(move |(i, _)| &no_query[..path_start + i + 1])
        .filter(move |prefix| prefix.len() != no_query.len())
        .take(MAX_DIR_PREFIXES);
    with_query.into_iter().chain(std::iter::once(no_query)).chain(dirs)
}

fn split_scheme(raw: &str) -> Result<(Option<String>, &str), RejectReason> {
    let Some((scheme, rest)) = raw.split_once("://") else { return Ok((None, raw)) };
    let valid = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid {
        return Err(RejectReason::InvalidUrl("invalid scheme"));
    }
    Ok((Some(scheme.to_ascii_lowercase()), rest))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), RejectReason> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']').ok_or(RejectReason::InvalidUrl("unclosed `[`"))?;
            (&authority[..v6.len() + 2], after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(p.parse::<u16>().map_err(|_| RejectReason::InvalidUrl("invalid port"))?),
    };
    Ok((host, port))
}

fn normalize_host(host: &str) -> Result<String, RejectReason> {
    if host.is_empty() {
        return Err(RejectReason::InvalidUrl("no host"));
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = v6.parse().map_err(|_| RejectReason::InvalidUrl("invalid IPv6 host"))?;
        return Ok(format!("[{ip}]"));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(ip.to_string());
    }
    normalize::domain(host)
}

fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme {
        None | Some("http" | "ws") => Some(80),
        Some("https" | "wss") => Some(443),
        Some("ftp") => Some(21),
        _ => None,
    }
}

/// Normalized `/path[?query]` from the text after the authority.
fn path_and_query(tail: &str) -> String {
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut out = if path.is_empty() { "/".to_owned() } else { remove_dot_segments(&percent(path)) };
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(&percent(q));
    }
    out
}

/// RFC 3986 percent-encoding normalization (section 6.2.2.2 and 6.2.2.1); borrows text that
/// needs none.
fn percent(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'%' || !(0x21..0x7f).contains(&b)) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escaped = (b == b'%').then(|| hex_pair(bytes.get(i + 1..i + 3))).flatten();
        match escaped {
            Some(d) if is_unreserved(d) => out.push(char::from(d)),
            Some(d) => push_escape(&mut out, d),
            None if (0x21..0x7f).contains(&b) => out.push(char::from(b)),
            None => push_escape(&mut out, b),
        }
        i += if escaped.is_some() { 3 } else { 1 };
    }
    Cow::Owned(out)
}

fn push_escape(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

fn hex_pair(pair: Option<&[u8]>) -> Option<u8> {
    let pair = std::str::from_utf8(pair?).ok()?;
    if !normalize::is_hex(pair) {
        return None;
    }
    u8::from_str_radix(pair, 16).ok()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// RFC 3986 section 5.2.4 for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let has_dots = path.split('/').any(|seg| seg == "." || seg == "..");
    if !has_dots {
        return path.to_owned();
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {}
            ".." => {
                out.pop();
            }
            other => out.push(other),
        }
        if last && matches!(*seg, "." | "..") {
            out.push("");
        }
    }
    let mut joined = String::with_capacity(path.len());
    for seg in out {
        joined.push('/');
        joined.push_str(seg);
    }
    if joined.is_empty() { "/".to_owned() } else { joined }
}
