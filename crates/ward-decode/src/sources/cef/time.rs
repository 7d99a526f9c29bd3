//! CEF time values (`rt`, `start`, `end`, …): epoch milliseconds, `MMM dd [yyyy] HH:mm:ss[.SSS]
//! [zone]` as the specification lists, or RFC 3339 as some producers send.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::sources::syslog::{infer_year, month_of, parse_clock};
use crate::util;

/// Parses a CEF time; a date without a year gets one as syslog does (see `syslog::time`).
pub(super) fn parse(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return epoch(t);
    }
    if let Some(month) = t.get(..3).and_then(month_of) {
        return month_form(month, t, now);
    }
    util::parse_timestamp(t).ok_or_else(|| {
        format!(
            "`{t}` is not a CEF time (epoch milliseconds, `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]` or RFC 3339)"
        )
    })
}

/// Epoch milliseconds, or seconds when too small to be milliseconds after 1973 (as some
/// producers send), in integer arithmetic so no millisecond is lost.
fn epoch(t: &str) -> Result<DateTime<Utc>, String> {
    let n: i64 = t.parse().map_err(|_| format!("`{t}` is too large for epoch milliseconds"))?;
    let ms = if n < 100_000_000_000 { n.checked_mul(1000) } else { Some(n) };
    ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .ok_or_else(|| format!("`{t}` is out of range for epoch milliseconds"))
}

/// `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]` after the month abbreviation was recognised.
fn month_form(month: u32, t: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let bad = |what: &str| format!("`{t}`: {what} (expected `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]`)");
    let mut parts = t[3..].split_ascii_whitespace();
    let day: u32 = parts.next().and_then(|d| d.parse().ok()).ok_or_else(|| bad("no day of month"))?;
    let mut next = parts.next().ok_or_else(|| bad("no time"))?;
    let year = if next.len() == 4 && next.bytes().all(|b| b.is_ascii_digit()) {
        let y: i32 = next.parse().map_err(|_| bad("bad year"))?;
        next = parts.next().ok_or_else(|| bad("no time"))?;
        Some(y)
    } else {
        None
    };
    let (clock, _) =
        parse_clock(next).filter(|(_, len)| *len == next.len()).ok_or_else(|| bad("bad time"))?;
    let offset = match parts.next() {
        Some(zone) => zone_offset(zone).ok_or_else(|| bad(&format!("unknown time zone `{zone}`")))?,
        None => Duration::zero(),
    };
    if parts.next().is_some() {
        return Err(bad("unexpected text after the time"));
    }
    let local = match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day)
            .map(|d| Utc.from_utc_datetime(&NaiveDateTime::new(d, clock))),
        None => infer_year(month, day, clock, now),
    };
    local.map(|l| l - offset).ok_or_else(|| bad("no such date"))
}

/// The UTC offset of a zone: `Z`, `UTC`, `GMT`, `±hh[:mm]`, `±hhmm`, or a common abbreviation.
fn zone_offset(zone: &str) -> Option<Duration> {
    let hours = match zone {
        "Z" | "UTC" | "GMT" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        "CET" => 1,
        "CEST" | "EET" => 2,
        "EEST" => 3,
        _ => return numeric_offset(zone),
    };
    Some(Duration::hours(hours))
}

fn numeric_offset(zone: &str) -> Option<Duration> {
    let zone = zone.strip_prefix("GMT").or_else(|| zone.strip_prefix("UTC")).unwrap_or(zone);
    let (sign, rest) = match zone.as_bytes().first()? {
        b'+' => (1, &zone[1..]),
        b'-' => (-1, &zone[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    (h <= 14 && m < 60).then(|| Duration::minutes(sign * (h * 60 + m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap()
    }

    #[test]
    fn specification_forms_parse() {
        let want = Utc.with_ymd_and_hms(2024, 3, 9, 12, 30, 5).unwrap();
        for t in [
            "1709987405000",
            "1709987405",
            "Mar 09 2024 12:30:05",
            "Mar 9 2024 12:30:05 UTC",
            "Mar 09 2024 13:30:05 CET",
            "Mar 09 2024 07:30:05 EST",
            "Mar 09 2024 14:30:05 +02:00",
            "2024-03-09T12:30:05Z",
        ] {
            assert_eq!(parse(t, now()), Ok(want), "{t}");
        }
        assert_eq!(parse("1305034099211", now()).unwrap().timestamp_subsec_millis(), 211);
        let ms = parse("Mar 09 2024 12:30:05.250 GMT", now()).unwrap();
        assert_eq!(ms.timestamp_subsec_millis(), 250);
        assert_eq!(
            parse("Dec 31 23:00:00", now()).unwrap(),
            Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap()
        );
    }

    #[test]
    fn bad_times_say_why() {
        assert!(parse("Mar 09 2024 12:30:05 XYZ", now()).unwrap_err().contains("unknown time zone `XYZ`"));
        assert!(parse("Feb 30 2024 12:30:05", now()).unwrap_err().contains("no such date"));
        assert!(parse("yesterday", now()).unwrap_err().contains("not a CEF time"));
    }
}
