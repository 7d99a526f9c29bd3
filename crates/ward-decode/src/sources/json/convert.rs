//! Value conversions (`type:`) and time formats (`timestamp.format`) of mapping rules, compiled
//! once when the mapping is loaded.

use std::net::IpAddr;

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeZone, Utc};
use serde_json::Value;
use ward_model::FieldValue;

use super::mapping::Conv;
use crate::util;

/// How a time field is written.
#[derive(Debug)]
pub(crate) enum TimeFormat {
    /// RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) or Unix seconds/milliseconds, whichever fits.
    Auto,
    /// RFC 3339 text only.
    Rfc3339,
    /// A Unix time in units of 1/`n` seconds (number or numeric text).
    Unix(i64),
    /// A chrono strftime pattern, with the offset assumed when the pattern has none.
    Pattern(Vec<Item<'static>>, FixedOffset),
}

impl TimeFormat {
    /// Compiles `format` (default `auto`) with `timezone` (default UTC).
    pub(crate) fn compile(format: Option<&str>, timezone: Option<&str>) -> Result<Self, String> {
        let offset = match timezone.map(str::trim) {
            None | Some("UTC" | "Z" | "utc") => FixedOffset::east_opt(0).ok_or("zero offset")?,
            Some(tz) => tz
                .parse::<FixedOffset>()
                .map_err(|_| format!("timezone {tz:?} is not UTC or an offset like +02:00"))?,
        };
        if timezone.is_some() && !format.is_some_and(|f| f.contains('%')) {
            return Err("timezone applies only to strftime patterns".into());
        }
        Ok(match format.unwrap_or("auto") {
            "auto" => Self::Auto,
            "rfc3339" => Self::Rfc3339,
            "unix" => Self::Unix(1),
            "unix_ms" => Self::Unix(1_000),
            "unix_us" => Self::Unix(1_000_000),
            "unix_ns" => Self::Unix(1_000_000_000),
            pattern if pattern.contains('%') => {
                let items = StrftimeItems::new(pattern)
                    .parse_to_owned()
                    .map_err(|_| format!("invalid strftime pattern {pattern:?}"))?;
                Self::Pattern(items, offset)
            }
            other => {
                return Err(format!(
                    "unknown format {other:?} (expected auto, rfc3339, unix, unix_ms, unix_us, unix_ns or a strftime pattern)"
                ));
            }
        })
    }

    /// Reads a time; `Err` says why the value does not fit the format.
    pub(crate) fn read(&self, v: &Value) -> Result<DateTime<Utc>, String> {
        let parsed = match (self, v) {
            (Self::Auto, Value::String(s)) => {
                s.trim().parse::<i64>().ok().and_then(epoch_exact).or_else(|| util::parse_timestamp(s))
            }
            (Self::Auto, Value::Number(n)) => {
                n.as_i64().and_then(epoch_exact).or_else(|| n.as_f64().and_then(util::epoch))
            }
            (Self::Rfc3339, Value::String(s)) => {
                DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.to_utc())
            }
            (Self::Unix(per_sec), Value::Number(_) | Value::String(_)) => unix(v, *per_sec),
            (Self::Pattern(items, offset), Value::String(s)) => pattern(s, items, *offset),
            _ => return Err(format!("expected a time, found {}", describe(v))),
        };
        parsed.ok_or_else(|| format!("{} does not match the time format", describe(v)))
    }
}

/// Whole Unix seconds, or milliseconds when too large to be seconds (as [`util::epoch`] decides),
/// without going through floating point.
fn epoch_exact(n: i64) -> Option<DateTime<Utc>> {
    if n < 0 {
        return None;
    }
    if n > 100_000_000_000 { Utc.timestamp_millis_opt(n).single() } else { Utc.timestamp_opt(n, 0).single() }
}

/// A Unix time in units of 1/`per_sec` seconds.
fn unix(v: &Value, per_sec: i64) -> Option<DateTime<Utc>> {
    let whole = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    if let Some(n) = whole {
        let nanos = n.rem_euclid(per_sec) * (1_000_000_000 / per_sec);
        return Utc.timestamp_opt(n.div_euclid(per_sec), u32::try_from(nanos).ok()?).single();
    }
    let x = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    } / per_sec as f64;
    if !x.is_finite() || x.abs() > 1e15 {
        return None;
    }
    let nanos = ((x - x.floor()) * 1e9).round().min(999_999_999.0) as u32;
    Utc.timestamp_opt(x.floor() as i64, nanos).single()
}

/// A strftime-formatted time; without a zone in the text, `offset` applies.
fn pattern(text: &str, items: &[Item<'static>], offset: FixedOffset) -> Option<DateTime<Utc>> {
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text.trim(), items.iter()).ok()?;
    if parsed.offset().is_some() {
        return parsed.to_datetime().ok().map(|t| t.to_utc());
    }
    let naive = parsed.to_naive_datetime_with_offset(0).ok()?;
    offset.from_local_datetime(&naive).single().map(|t| t.to_utc())
}

/// Converts one scalar as `type:` says; `Err` says why it does not fit.
pub(crate) fn convert(conv: Conv, v: &Value) -> Result<FieldValue, String> {
    let fail = |what: &str| format!("expected {what}, found {}", describe(v));
    let text = v.as_str().map(str::trim);
    Ok(match conv {
        Conv::Ip => {
            FieldValue::Ip(text.and_then(|t| t.parse::<IpAddr>().ok()).ok_or_else(|| fail("an IP address"))?)
        }
        Conv::Int => FieldValue::Int(to_int(v).ok_or_else(|| fail("an integer"))?),
        Conv::Float => {
            let x = match v {
                Value::Number(n) => n.as_f64(),
                _ => text.and_then(|t| t.parse::<f64>().ok()),
            };
            FieldValue::Float(x.filter(|x| x.is_finite()).ok_or_else(|| fail("a number"))?)
        }
        Conv::Bool => FieldValue::Bool(to_bool(v).ok_or_else(|| fail("a boolean"))?),
        Conv::String => match v {
            Value::String(s) => FieldValue::from(s.as_str()),
            Value::Number(n) => FieldValue::from(n.to_string()),
            Value::Bool(b) => FieldValue::from(b.to_string()),
            _ => return Err(fail("a scalar")),
        },
        Conv::Date => {
            let t = TimeFormat::Auto.read(v).map_err(|_| fail("a time"))?;
            FieldValue::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
    })
}

fn to_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let x = n.as_f64()?;
            (x.fract() == 0.0 && x.abs() < 9.0e15).then_some(x as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A value for an error message: strings quoted (and cut), other values by type.
pub(crate) fn describe(v: &Value) -> String {
    const MAX: usize = 60;
    match v {
        Value::String(s) => match s.char_indices().nth(MAX) {
            Some((cut, _)) => format!("{:?}…", &s[..cut]),
            None => format!("{s:?}"),
        },
        Value::Number(n) => n.to_string(),
        other => util::kind_of(other).to_owned(),
    }
}

/// The text a value map looks values up by (`SUCCESS`, `200`, `true`).
pub(crate) fn map_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap()
    }

    #[test]
    fn unix_scales_are_exact() {
        let f = TimeFormat::compile(Some("unix_ms"), None).unwrap();
        assert_eq!(f.read(&json!(1_700_000_000_123i64)).unwrap(), at("2023-11-14T22:13:20.123Z"));
        assert_eq!(f.read(&json!("1700000000123")).unwrap(), at("2023-11-14T22:13:20.123Z"));
        let s = TimeFormat::compile(Some("unix"), None).unwrap();
        assert_eq!(s.read(&json!(1_700_000_000.5)).unwrap(), at("2023-11-14T22:13:20.5Z"));
        assert!(s.read(&json!("soon")).is_err());
        assert!(s.read(&json!(1e300)).is_err());
    }

    #[test]
    fn patterns_use_their_zone_or_the_configured_offset() {
        let apache = TimeFormat::compile(Some("%d/%b/%Y:%H:%M:%S %z"), None).unwrap();
        assert_eq!(apache.read(&json!("10/Oct/2000:13:55:36 -0700")).unwrap(), at("2000-10-10T20:55:36Z"));
        let local = TimeFormat::compile(Some("%Y-%m-%d %H:%M:%S"), Some("+02:00")).unwrap();
        assert_eq!(local.read(&json!("2024-03-01 12:00:00")).unwrap(), at("2024-03-01T10:00:00Z"));
        assert!(TimeFormat::compile(Some("%Q"), None).is_err());
        assert!(TimeFormat::compile(Some("iso"), None).is_err());
        assert!(TimeFormat::compile(Some("rfc3339"), Some("+01:00")).is_err());
    }

    #[test]
    fn conversions_accept_text_forms_and_say_what_they_expected() {
        assert_eq!(convert(Conv::Int, &json!(" 42 ")).unwrap(), FieldValue::Int(42));
        assert_eq!(convert(Conv::Int, &json!(42.0)).unwrap(), FieldValue::Int(42));
        assert_eq!(convert(Conv::Bool, &json!("Yes")).unwrap(), FieldValue::Bool(true));
        assert_eq!(convert(Conv::String, &json!(7)).unwrap(), FieldValue::from("7"));
        assert_eq!(convert(Conv::Date, &json!(0)).unwrap(), FieldValue::from("1970-01-01T00:00:00Z"));
        assert_eq!(
            convert(Conv::Date, &json!(1_710_325_003_789i64)).unwrap(),
            FieldValue::from("2024-03-13T10:16:43.789Z")
        );
        assert_eq!(
            convert(Conv::Date, &json!("1710325003")).unwrap(),
            FieldValue::from("2024-03-13T10:16:43Z")
        );
        assert_eq!(convert(Conv::Ip, &json!("::1")).unwrap(), FieldValue::Ip("::1".parse().unwrap()));
        assert_eq!(
            convert(Conv::Ip, &json!("example.org")).unwrap_err(),
            r#"expected an IP address, found "example.org""#
        );
        assert_eq!(convert(Conv::Float, &json!({})).unwrap_err(), "expected a number, found an object");
    }
}
