//! HTTP/1.x request line, `Host` and `User-Agent` from the first segment of a request.

use super::{Fields, put};

const METHODS: [&str; 9] = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];

/// The request's ECS fields, `None` when the payload does not start an HTTP request.
pub(super) fn request(payload: &[u8]) -> Option<Fields> {
    let sp = payload.iter().take(8).position(|&b| b == b' ')?;
    let method = std::str::from_utf8(&payload[..sp]).ok()?;
    if !METHODS.contains(&method) {
        return None;
    }
    let head_end = payload.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(payload.len());
    let head = String::from_utf8_lossy(&payload[..head_end]);
    let mut lines = head.split("\r\n");
    let line = lines.next()?;
    let mut parts = line.splitn(3, ' ');
    let (_, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let version = version.strip_prefix("HTTP/")?;
    let mut f = Fields::new();
    put(&mut f, "http.request.method", method);
    put(&mut f, "http.version", version);
    put(&mut f, "url.original", target);
    let path = target.split(['?', '#']).next().unwrap_or(target);
    if path.starts_with('/') {
        put(&mut f, "url.path", path);
    }
    if let Some((_, q)) = target.split_once('?') {
        put(&mut f, "url.query", q.split('#').next().unwrap_or(q));
    }
    for h in lines {
        let Some((name, value)) = h.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("host") {
            let host = value
                .rsplit_once(':')
                .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
                .map_or(value, |(h, _)| h);
            put(&mut f, "url.domain", host);
        } else if name.eq_ignore_ascii_case("user-agent") {
            put(&mut f, "user_agent.original", value);
        }
    }
    Some(f)
}
