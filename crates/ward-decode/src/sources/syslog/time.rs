//! Syslog timestamps: the BSD form without a year (`Mmm dd hh:mm:ss[.frac]`) and RFC 3339, and
//! the rule that gives a year to timestamps that have none.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use crate::DecodeError;

/// English month abbreviations as BSD syslog and CEF write them.
pub(crate) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// How far after `now` a year-less timestamp may lie and still be taken as this year's: enough
/// for clocks and time zones ahead of the collector, small enough that replayed old files land
/// in the past.
const FUTURE_SLACK: Duration = Duration::days(2);

/// The month (1-12) of a three-letter English abbreviation.
pub(crate) fn month_of(abbr: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == abbr).and_then(|i| u32::try_from(i + 1).ok())
}

/// Places a year-less date and time in the latest year, at most `now`'s year + 1, in which the
/// date exists and which puts it no more than [`FUTURE_SLACK`] after `now`. A December line read
/// in January thus belongs to the previous year; February 29 goes to the latest leap year.
pub(crate) fn infer_year(month: u32, day: u32, time: NaiveTime, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let limit = now + FUTURE_SLACK;
    (now.year() - 8..=now.year() + 1)
        .rev()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .map(|d| Utc.from_utc_datetime(&NaiveDateTime::new(d, time)))
        .find(|t| *t <= limit)
}

/// A BSD timestamp at the start of `text`, which begins at byte `base` of the record: returns
/// the time and the number of bytes it spans.
///
/// Accepts `Mmm dd hh:mm:ss`, with the day space-padded (`Jul  3`), zero-padded or bare
/// (`Jul 3`), and optional fractional seconds (`.123456`). The time is taken as UTC.
pub(crate) fn parse_bsd(
    text: &str,
    base: usize,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, usize), DecodeError> {
    let bad =
        |at: usize, what: &str| DecodeError::invalid("timestamp", format!("byte {}: {what}", base + at));
    let b = text.as_bytes();
    let month = text
        .get(..3)
        .and_then(month_of)
        .ok_or_else(|| bad(0, "expected a month abbreviation (`Jan`…`Dec`)"))?;
    if b.get(3) != Some(&b' ') {
        return Err(bad(3, "expected a space after the month"));
    }
    let (day, mut i) = match (b.get(4), b.get(5)) {
        (Some(b' '), Some(d)) if d.is_ascii_digit() => (u32::from(d - b'0'), 6),
        (Some(d1), Some(d2)) if d1.is_ascii_digit() && d2.is_ascii_digit() => {
            (u32::from(d1 - b'0') * 10 + u32::from(d2 - b'0'), 6)
        }
        (Some(d), Some(b' ')) if d.is_ascii_digit() => (u32::from(d - b'0'), 5),
        _ => return Err(bad(4, "expected a day of month (1-31)")),
    };
    if b.get(i) != Some(&b' ') {
        return Err(bad(i, "expected a space after the day"));
    }
    i += 1;
    let (time, len) =
        parse_clock(&text[i..]).ok_or_else(|| bad(i, "expected a time `hh:mm:ss` (00:00:00-23:59:59)"))?;
    i += len;
    if !(1..=31).contains(&day) {
        return Err(bad(4, &format!("day {day} is not 1-31")));
    }
    let ts = infer_year(month, day, time, now).ok_or_else(|| {
        bad(0, &format!("{} {day} is not a date in any recent year", MONTHS[month as usize - 1]))
    })?;
    Ok((ts, i))
}

/// `hh:mm:ss[.frac]` at the start of `text`: the time and the bytes it spans.
pub(crate) fn parse_clock(text: &str) -> Option<(NaiveTime, usize)> {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<u32> {
        let (h, l) = (b[i], b[i + 1]);
        (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
    };
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    let mut len = 8;
    let mut nanos = 0u32;
    if b.get(8) == Some(&b'.') {
        let digits = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let frac: u32 = text[9..9 + digits].parse().ok()?;
        nanos = frac * 10u32.pow(9 - u32::try_from(digits).ok()?);
        len += 1 + digits;
    }
    NaiveTime::from_hms_nano_opt(h, m, s, nanos).filter(|_| s < 60).map(|t| (t, len))
}

/// An RFC 3339 timestamp (`2003-10-11T22:14:15.003Z`, `…+02:00`), as RFC 5424 and rsyslog write.
pub(crate) fn parse_rfc3339(token: &str, at: usize) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(token).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        DecodeError::invalid("timestamp", format!("byte {at}: `{token}` is not an RFC 3339 timestamp ({e})"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap()
    }

    fn t(h: u32, m: u32, s: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, s).unwrap()
    }

    #[test]
    fn december_read_in_january_is_last_year() {
        let ts = infer_year(12, 31, t(23, 59, 0), now()).unwrap();
        assert_eq!(ts, Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 0).unwrap());
    }

    #[test]
    fn slightly_ahead_stays_this_year_and_january_read_on_new_years_eve_is_next_year() {
        let ahead = infer_year(1, 16, t(12, 0, 0), now()).unwrap();
        assert_eq!(ahead.year(), 2026);
        let eve = Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(infer_year(1, 1, t(0, 30, 0), eve).unwrap().year(), 2026);
    }

    #[test]
    fn february_29_goes_to_the_latest_leap_year() {
        assert_eq!(infer_year(2, 29, t(0, 0, 0), now()).unwrap().year(), 2024);
    }

    #[test]
    fn bsd_forms_parse_and_bad_ones_say_where() {
        for (text, len) in [("Jul  3 04:08:03 x", 15), ("Jul 03 04:08:03", 15), ("Jul 3 04:08:03.250", 18)] {
            let (ts, n) = parse_bsd(text, 0, now()).unwrap();
            assert_eq!((ts.month(), ts.day(), n), (7, 3, len), "{text}");
        }
        let err = parse_bsd("Jul  3 24:08:03", 4, now()).unwrap_err().to_string();
        assert!(err.contains("byte 11"), "{err}");
        let err = parse_bsd("Jux  3 04:08:03", 0, now()).unwrap_err().to_string();
        assert!(err.contains("byte 0") && err.contains("month"), "{err}");
        assert!(parse_bsd("Feb 30 00:00:00", 0, now()).is_err());
    }
}
