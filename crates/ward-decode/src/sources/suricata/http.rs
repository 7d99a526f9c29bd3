//! `http` (HTTP/1 and, since Suricata 7, HTTP/2 transactions).

use serde_json::Value;
use ward_model::Event;

use super::Record;
use super::value::{object, put_int, put_str, vendor};
use crate::DecodeError;

/// `http`: URL parts, method, status, user agent, referrer, body size, MIME type and version to
/// ECS; headers, HTTP/2 frames and everything else under `suricata.http.*`.
///
/// # Errors
/// When `http` is not an object or has a member name that cannot be a path.
pub(super) fn http(ev: &mut Event, rec: &Record<'_>, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "http")?;
    for (k, v) in obj {
        let done = match k.as_str() {
            "hostname" => put_str(ev, "url.domain", v),
            "url" => url(ev, v),
            "http_port" => url_port(ev, v),
            "http_method" => put_str(ev, "http.request.method", v),
            "status" => put_int(ev, "http.response.status_code", v),
            "protocol" if ev.get("http.version").is_none() => version(ev, v),
            "version" if ev.get("http.version").is_none() => put_str(ev, "http.version", v),
            "http_user_agent" => put_str(ev, "user_agent.original", v),
            "http_refer" => put_str(ev, "http.request.referrer", v),
            "length" => put_int(ev, "http.response.body.bytes", v),
            "http_content_type" => put_str(ev, "http.response.mime_type", v),
            _ => false,
        };
        if !done {
            vendor(ev, "http", k, v)?;
        }
    }
    if rec.is_subject("http")
        && let Some(status) = ev.get("http.response.status_code").and_then(|s| s.as_i64())
    {
        ev.set("event.outcome", if status < 400 { "success" } else { "failure" });
    }
    Ok(())
}

/// `url` (the request target) → `url.original`, and `url.path`/`url.query` when it is a path.
fn url(ev: &mut Event, value: &Value) -> bool {
    let Some(target) = value.as_str().filter(|t| !t.is_empty()) else {
        return false;
    };
    ev.set("url.original", target);
    if target.starts_with('/') {
        let target = target.split_once('#').map_or(target, |(t, _)| t);
        match target.split_once('?') {
            Some((path, query)) => {
                ev.set("url.path", path);
                if !query.is_empty() {
                    ev.set("url.query", query);
                }
            }
            None => ev.set("url.path", target),
        }
    }
    true
}

/// `http_port` (the port in the `Host` header) → `url.port`; Suricata writes 0 when there was
/// none, which stays under `suricata.http.http_port`.
fn url_port(ev: &mut Event, value: &Value) -> bool {
    match value.as_u64().filter(|p| (1..=65_535).contains(p)) {
        Some(p) => {
            ev.set("url.port", p as i64);
            true
        }
        None => false,
    }
}

/// `protocol` (`HTTP/1.1`) → `http.version` (`1.1`).
fn version(ev: &mut Event, value: &Value) -> bool {
    match value.as_str().and_then(|p| p.strip_prefix("HTTP/")).filter(|v| !v.is_empty()) {
        Some(v) => {
            ev.set("http.version", v);
            true
        }
        None => false,
    }
}
