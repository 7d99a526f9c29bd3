//! Small helpers every decoder needs: JSON access, timestamps, addresses.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};
use ward_model::{Event, FieldValue};

use crate::DecodeError;

/// A JSON object, as most sensor records are.
pub type Object = Map<String, Value>;

/// Parses a record that must be one JSON object.
///
/// # Errors
/// [`DecodeError::Json`] for invalid JSON, [`DecodeError::Shape`] for a non-object.
pub fn parse_object(record: &str) -> Result<Object, DecodeError> {
    match serde_json::from_str::<Value>(record)? {
        Value::Object(map) => Ok(map),
        other => Err(DecodeError::Shape(format!("expected a JSON object, found {}", kind_of(&other)))),
    }
}

/// The JSON type name of a value, for error messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string member of an object.
pub fn str_of<'a>(obj: &'a Object, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// An integer member of an object, accepting numbers and numeric strings.
pub fn i64_of(obj: &Object, key: &str) -> Option<i64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses the timestamp formats sensors write: RFC 3339 (also with `+0000`-style offsets, as
/// Suricata writes), `YYYY-MM-DD HH:MM:SS[.f]` taken as UTC, and Unix epoch seconds or
/// milliseconds.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.fZ"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Utc.from_utc_datetime(&naive));
        }
    }
    if let Ok(whole) = t.parse::<i64>() {
        return epoch_int(whole);
    }
    let secs: f64 = t.parse().ok()?;
    epoch(secs)
}

/// Converts whole Unix epoch seconds (or milliseconds, when too large to be seconds) exactly.
pub fn epoch_int(value: i64) -> Option<DateTime<Utc>> {
    if value < 0 {
        None
    } else if value > 100_000_000_000 {
        Utc.timestamp_millis_opt(value).single()
    } else {
        Utc.timestamp_opt(value, 0).single()
    }
}

/// Converts Unix epoch seconds (or milliseconds, when too large to be seconds) to a time.
pub fn epoch(value: f64) -> Option<DateTime<Utc>> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let secs = if value > 1e11 { value / 1000.0 } else { value };
    let whole = secs.trunc() as i64;
    // f64 carries about 16 significant digits: round to microseconds so that values written
    // with millisecond or microsecond precision come back exactly.
    let nanos = (((secs - secs.trunc()) * 1e6).round() as u32) * 1000;
    Utc.timestamp_opt(whole, nanos.min(999_999_999)).single()
}

/// Sets an IP field from text, also adding it to `related.ip`. Text that is not an address is
/// kept as text under the same path so nothing is lost (hostnames appear in some sensors).
pub fn set_ip(ev: &mut Event, path: &str, text: &str) {
    match text.trim().parse::<IpAddr>() {
        Ok(ip) => {
            ev.set(path, ip);
            ev.push("related.ip", ip);
        }
        Err(_) if !text.is_empty() => ev.set(path, text),
        Err(_) => {}
    }
}

/// Sets a text field and adds the value to `related.user`.
pub fn set_user(ev: &mut Event, path: &str, name: &str) {
    if !name.is_empty() {
        ev.set(path, name);
        ev.push("related.user", name);
    }
}

/// Sets ECS categorization: `event.kind`, `event.category` and `event.type` lists.
pub fn categorize(ev: &mut Event, kind: &str, category: &[&str], types: &[&str]) {
    ev.set("event.kind", kind);
    if !category.is_empty() {
        ev.set("event.category", list(category));
    }
    if !types.is_empty() {
        ev.set("event.type", list(types));
    }
}

fn list(items: &[&str]) -> FieldValue {
    FieldValue::List(items.iter().map(|s| FieldValue::from(*s)).collect())
}

/// Copies a JSON value under `prefix` as flattened dotted fields (objects recurse, arrays of
/// scalars become lists, arrays of objects stay JSON), skipping nulls.
pub fn flatten_into(ev: &mut Event, prefix: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            if map.keys().any(|k| k.is_empty() || k.contains('.')) {
                // Keys with dots cannot be addressed segment-wise; keep the object whole.
                ev.set(prefix, FieldValue::Json(Box::new(value.clone())));
                return;
            }
            for (k, v) in map {
                let path = format!("{prefix}.{k}");
                flatten_into(ev, &path, v);
            }
        }
        Value::Null => {}
        other => {
            if let Some(v) = FieldValue::from_json(other.clone()) {
                ev.set(prefix, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_timestamp_formats_parse() {
        let want = Utc.with_ymd_and_hms(2016, 10, 14, 15, 29, 8).unwrap();
        for t in [
            "2016-10-14T15:29:08+0000",
            "2016-10-14T15:29:08Z",
            "2016-10-14T17:29:08+02:00",
            "2016-10-14 15:29:08",
            "1476458948",
            "1476458948000",
        ] {
            assert_eq!(parse_timestamp(t), Some(want), "{t}");
        }
        assert_eq!(
            parse_timestamp("2016-10-14T15:29:08.218361+0000").map(|t| t.timestamp_subsec_micros()),
            Some(218_361)
        );
        assert!(parse_timestamp("yesterday").is_none());
        assert_eq!(parse_timestamp("1305034099211").map(|t| t.timestamp_millis()), Some(1_305_034_099_211));
        assert_eq!(epoch(1_305_034_099.211).map(|t| t.timestamp_subsec_micros()), Some(211_000));
    }
}
