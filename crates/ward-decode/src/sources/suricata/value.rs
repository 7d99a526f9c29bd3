//! Typed access to EVE members.
//!
//! Two policies: the members an event is built on (time, addresses, ports, flow counters, rule
//! ids) are checked strictly and a wrong type rejects the record; every other member that does
//! not fit its ECS field is kept under `suricata.<object>.<member>` instead, so nothing is lost.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use ward_model::Event;

use crate::DecodeError;
use crate::util::{Object, flatten_into, kind_of, parse_timestamp};

/// Keeps `value` under `suricata.<object>.<key>` (`suricata.<key>` for a top-level member).
///
/// # Errors
/// [`DecodeError::Shape`] for a member name that cannot be a path segment (empty, or with a
/// `.`): such a name would make one path both a leaf and a parent.
pub(super) fn vendor(ev: &mut Event, object: &str, key: &str, value: &Value) -> Result<(), DecodeError> {
    if key.is_empty() || key.contains('.') {
        let at = if object.is_empty() { "the record" } else { object };
        return Err(DecodeError::Shape(format!("member name {key:?} in {at} is empty or contains '.'")));
    }
    let path = if object.is_empty() { format!("suricata.{key}") } else { format!("suricata.{object}.{key}") };
    flatten_into(ev, &path, value);
    Ok(())
}

/// The member as an object.
///
/// # Errors
/// [`DecodeError::InvalidField`] when it is not an object.
pub(super) fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Object, DecodeError> {
    value.as_object().ok_or_else(|| expected(field, "an object", value))
}

/// The member as text.
///
/// # Errors
/// [`DecodeError::InvalidField`] when it is not a string.
pub(super) fn text<'a>(value: &'a Value, field: &str) -> Result<&'a str, DecodeError> {
    value.as_str().ok_or_else(|| expected(field, "a string", value))
}

/// The member as a port number.
///
/// # Errors
/// [`DecodeError::InvalidField`] unless it is an integer from 0 to 65535.
pub(super) fn port(value: &Value, field: &str) -> Result<i64, DecodeError> {
    match value.as_u64() {
        Some(p) if p <= 65_535 => Ok(p as i64),
        _ => Err(expected(field, "a port number (0-65535)", value)),
    }
}

/// The member as a count (bytes, packets, ids).
///
/// # Errors
/// [`DecodeError::InvalidField`] unless it is an integer from 0 to 2^63-1.
pub(super) fn count(value: &Value, field: &str) -> Result<i64, DecodeError> {
    value.as_i64().filter(|n| *n >= 0).ok_or_else(|| expected(field, "a non-negative integer", value))
}

/// The member as a time.
///
/// # Errors
/// [`DecodeError::InvalidField`] unless it is a string with a time Suricata writes.
pub(super) fn time(value: &Value, field: &str) -> Result<DateTime<Utc>, DecodeError> {
    let t = text(value, field)?;
    parse_time(t).ok_or_else(|| DecodeError::invalid(field, format!("unparseable time {t:?}")))
}

/// Parses an EVE time: Suricata's own `2016-10-14T15:29:08.218361+0000` first (the fast path),
/// then every format [`parse_timestamp`] knows.
pub(super) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_timestamp(text))
}

/// A time as ECS writes dates (RFC 3339, UTC, `Z`).
pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Sets a non-empty string; `false` (nothing set) for any other value.
pub(super) fn put_str(ev: &mut Event, path: &str, value: &Value) -> bool {
    match value.as_str() {
        Some(s) if !s.is_empty() => {
            ev.set(path, s);
            true
        }
        _ => false,
    }
}

/// Sets an integer (also from a numeric string); `false` for any other value.
pub(super) fn put_int(ev: &mut Event, path: &str, value: &Value) -> bool {
    let n = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.map(|n| ev.set(path, n)).is_some()
}

/// Sets a boolean; `false` for any other value.
pub(super) fn put_bool(ev: &mut Event, path: &str, value: &Value) -> bool {
    value.as_bool().map(|b| ev.set(path, b)).is_some()
}

/// Error for a member of the wrong type.
pub(super) fn expected(field: &str, what: &str, found: &Value) -> DecodeError {
    DecodeError::invalid(field, format!("expected {what}, found {}", kind_of(found)))
}
