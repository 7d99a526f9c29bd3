//! How event values are read by rules — one definition shared by both evaluators:
//!
//! - a field's values are its scalar elements (a list contributes each element);
//! - text matching sees a value's text *as logged*: no trimming, no normalization (so the
//!   SigmaHQ value `'NtLmSsp '` with its trailing space matches Windows' `NtLmSsp `), numbers
//!   and addresses in their usual text form, nested JSON not at all;
//! - case-insensitive means both sides are lowercased character by character (Unicode);
//! - numeric comparisons accept numbers and numeric text; CIDR accepts addresses and address
//!   text; time parts accept RFC 3339 and `YYYY-MM-DD HH:MM:SS[.fff]` text.

use std::fmt::Write as _;
use std::net::IpAddr;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike};
use ward_model::FieldValue;

use crate::ast::TimePart;

/// Calls `f` with each scalar element of a value (lists flattened one level).
pub fn for_each_element<'v>(value: &'v FieldValue, f: &mut dyn FnMut(&'v FieldValue) -> bool) -> bool {
    match value {
        FieldValue::List(items) => items.iter().any(|i| !matches!(i, FieldValue::List(_)) && f(i)),
        other => f(other),
    }
}

/// Writes the text of a scalar element into `buf` (cleared first); `false` for nested JSON.
pub fn element_text(value: &FieldValue, buf: &mut String) -> bool {
    buf.clear();
    match value {
        FieldValue::Str(s) => buf.push_str(s),
        FieldValue::Int(i) => {
            let _ = write!(buf, "{i}");
        }
        FieldValue::Float(x) => {
            let _ = write!(buf, "{x}");
        }
        FieldValue::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
        FieldValue::Ip(ip) => {
            let _ = write!(buf, "{ip}");
        }
        FieldValue::List(_) | FieldValue::Json(_) => return false,
    }
    true
}

/// Appends `text` lowercased character by character.
pub fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// A string lowercased character by character.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// A scalar element as a number.
pub fn as_number(value: &FieldValue) -> Option<f64> {
    match value {
        FieldValue::Int(i) => Some(*i as f64),
        FieldValue::Float(x) => Some(*x),
        FieldValue::Str(s) => s.trim().parse::<f64>().ok().filter(|x| !x.is_nan()),
        _ => None,
    }
}

/// A scalar element as an IP address.
pub fn as_ip(value: &FieldValue) -> Option<IpAddr> {
    match value {
        FieldValue::Ip(ip) => Some(*ip),
        FieldValue::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The requested part of a date held by a scalar element.
pub fn time_part(value: &FieldValue, part: TimePart) -> Option<i64> {
    let FieldValue::Str(text) = value else { return None };
    let text = text.trim();
    let naive = DateTime::parse_from_rfc3339(text).map(|d| d.naive_utc()).ok().or_else(|| {
        ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    })?;
    Some(match part {
        TimePart::Minute => i64::from(naive.minute()),
        TimePart::Hour => i64::from(naive.hour()),
        TimePart::Day => i64::from(naive.day()),
        TimePart::Week => i64::from(naive.iso_week().week()),
        TimePart::Month => i64::from(naive.month()),
        TimePart::Year => i64::from(naive.year()),
    })
}

/// Whether a path is excluded from keyword search (the raw record and Ward's own bookkeeping).
pub fn skipped_by_keywords(path: &str) -> bool {
    path == "event.original" || path.starts_with("ward.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_logged() {
        let mut buf = String::new();
        assert!(element_text(&FieldValue::from("NtLmSsp "), &mut buf));
        assert_eq!(buf, "NtLmSsp ");
        assert!(element_text(&FieldValue::Int(4688), &mut buf));
        assert_eq!(buf, "4688");
        assert!(!element_text(&FieldValue::Json(Box::new(serde_json::json!({"a": 1}))), &mut buf));
        assert_eq!(fold("ÄBC"), "äbc");
        assert_eq!(as_number(&FieldValue::from(" 42 ")), Some(42.0));
        assert_eq!(as_ip(&FieldValue::from("10.1.2.3")), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(time_part(&FieldValue::from("2024-03-05 17:42:01.123"), TimePart::Hour), Some(17));
        assert_eq!(time_part(&FieldValue::from("2024-03-05T17:42:01Z"), TimePart::Month), Some(3));
    }
}
