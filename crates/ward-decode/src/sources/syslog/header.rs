//! A strict parser for syslog headers: `<PRI>`, then either RFC 5424 (`VERSION TIMESTAMP HOSTNAME
//! APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`) or RFC 3164 (`TIMESTAMP HOSTNAME TAG: MSG`, with
//! a BSD or RFC 3339 timestamp, the PRI optional as in files under `/var/log`).
//!
//! Every rejection names the byte where the record stops following the format.

use chrono::{DateTime, Utc};

use super::{sd, time};
use crate::DecodeError;

/// Longest RFC 3164 TAG (with its `[pid]`) recognised before a `:`; RFC 3164 allows 32
/// characters, real programs write longer ones (`sshd(pam_unix)[19939]`).
const MAX_TAG: usize = 64;

/// The header fields of one syslog line, borrowed from the line.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    /// `<PRI>`: facility × 8 + severity.
    pub pri: Option<u8>,
    /// RFC 5424 VERSION; `None` for RFC 3164.
    pub version: Option<u16>,
    /// The event time; `None` when RFC 5424 sends NILVALUE.
    pub timestamp: Option<DateTime<Utc>>,
    /// HOSTNAME.
    pub hostname: Option<&'a str>,
    /// APP-NAME, or the RFC 3164 TAG without its `[pid]`.
    pub appname: Option<&'a str>,
    /// PROCID, or the RFC 3164 `[pid]`.
    pub procid: Option<&'a str>,
    /// RFC 5424 MSGID.
    pub msgid: Option<&'a str>,
    /// RFC 5424 STRUCTURED-DATA as `{SD-ID: {PARAM: value}}`.
    pub structured_data: Option<serde_json::Value>,
    /// The message, BOM and surrounding whitespace removed (may be empty).
    pub msg: &'a str,
}

/// Parses a whole syslog line.
///
/// # Errors
/// A [`DecodeError`] naming the byte where the line stops following RFC 5424 or RFC 3164.
pub(crate) fn parse(line: &str, now: DateTime<Utc>) -> Result<Header<'_>, DecodeError> {
    let (pri, start) = parse_pri(line)?;
    let rest = &line[start..];
    let mut header = match version_len(rest) {
        Some(len) if pri.is_some() => parse_5424(line, start, len)?,
        _ => parse_3164(line, start, now)?,
    };
    header.pri = pri;
    Ok(header)
}

/// `<PRI>` at the start of the line: its value and the byte after `>`.
fn parse_pri(line: &str) -> Result<(Option<u8>, usize), DecodeError> {
    let Some(rest) = line.strip_prefix('<') else { return Ok((None, 0)) };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 3 || rest.as_bytes().get(digits) != Some(&b'>') {
        return Err(DecodeError::Malformed(format!(
            "byte {}: `<` must open a PRI of 1-3 digits closed by `>`",
            1 + digits.min(3)
        )));
    }
    match rest[..digits].parse::<u8>() {
        Ok(p) if p <= 191 => Ok((Some(p), digits + 2)),
        _ => Err(DecodeError::invalid("PRI", format!("byte 1: `{}` is not 0-191", &rest[..digits]))),
    }
}

/// The length of an RFC 5424 VERSION (1-3 digits, no leading zero, then a space).
fn version_len(rest: &str) -> Option<usize> {
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ok =
        (1..=3).contains(&digits) && !rest.starts_with('0') && rest.as_bytes().get(digits) == Some(&b' ');
    ok.then_some(digits)
}

/// A cursor over the line that produces precise errors.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn malformed(&self, what: impl std::fmt::Display) -> DecodeError {
        DecodeError::Malformed(format!("byte {}: {what}", self.pos))
    }

    /// The space-delimited token at the cursor, after `field`'s separating space.
    fn field(&mut self, field: &str, max: usize) -> Result<&'a str, DecodeError> {
        if self.line.as_bytes().get(self.pos) != Some(&b' ') {
            let found = if self.pos >= self.line.len() {
                "the end of the line".to_owned()
            } else {
                "no space".to_owned()
            };
            return Err(self.malformed(format_args!("expected a space then {field}, found {found}")));
        }
        self.pos += 1;
        let rest = &self.line[self.pos..];
        let len = rest.find(' ').unwrap_or(rest.len());
        let token = &rest[..len];
        if token.is_empty() {
            return Err(self.malformed(format_args!("{field} is empty")));
        }
        if let Some((i, c)) = token.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
            self.pos += i;
            return Err(self.malformed(format_args!("{field} must be printable US-ASCII, found {c:?}")));
        }
        if len > max {
            return Err(self.malformed(format_args!("{field} is {len} characters, more than {max}")));
        }
        self.pos += len;
        Ok(token)
    }
}

fn nil(token: &str) -> Option<&str> {
    (token != "-").then_some(token)
}

/// RFC 5424 after `<PRI>`; `version_len` digits of VERSION start at `start`.
fn parse_5424(line: &str, start: usize, version_len: usize) -> Result<Header<'_>, DecodeError> {
    let version = line[start..start + version_len]
        .parse()
        .map_err(|_| DecodeError::invalid("VERSION", format!("byte {start}: not a number")))?;
    let mut c = Cursor { line, pos: start + version_len };
    let ts_at = c.pos + 1;
    let ts = c.field("TIMESTAMP", 64)?;
    let timestamp = nil(ts).map(|t| time::parse_rfc3339(t, ts_at)).transpose()?;
    let hostname = nil(c.field("HOSTNAME", 255)?);
    let appname = nil(c.field("APP-NAME", 48)?);
    let procid = nil(c.field("PROCID", 128)?);
    let msgid = nil(c.field("MSGID", 32)?);
    if line.as_bytes().get(c.pos) != Some(&b' ') {
        return Err(c.malformed("expected a space then STRUCTURED-DATA (`-` or `[…]`)"));
    }
    let (structured_data, end) = sd::parse(line, c.pos + 1)?;
    let msg = match line[end..].strip_prefix(' ') {
        Some(m) => m.strip_prefix('\u{feff}').unwrap_or(m).trim(),
        None if end == line.len() => "",
        None => return Err(DecodeError::Malformed(format!("byte {end}: expected a space before MSG"))),
    };
    Ok(Header {
        version: Some(version),
        timestamp,
        hostname,
        appname,
        procid,
        msgid,
        structured_data,
        msg,
        ..Header::default()
    })
}

/// RFC 3164 (and the same layout with an RFC 3339 timestamp) from byte `start`.
fn parse_3164(line: &str, start: usize, now: DateTime<Utc>) -> Result<Header<'_>, DecodeError> {
    let rest = &line[start..];
    let (timestamp, len) = if rest.len() > 4
        && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && rest.as_bytes()[4] == b'-'
    {
        let len = rest.find(' ').unwrap_or(rest.len());
        (time::parse_rfc3339(&rest[..len], start)?, len)
    } else if rest.get(..3).and_then(time::month_of).is_some() {
        time::parse_bsd(rest, start, now)?
    } else {
        return Err(DecodeError::Malformed(format!(
            "byte {start}: expected a timestamp (`Mmm dd hh:mm:ss` or RFC 3339){}",
            if start == 0 { " or `<PRI>`" } else { "" }
        )));
    };
    let after = &rest[len..];
    let body = after.trim_start_matches(' ');
    if body.len() == after.len() && !after.is_empty() {
        return Err(DecodeError::Malformed(format!(
            "byte {}: expected a space after the timestamp",
            start + len
        )));
    }
    if body.is_empty() {
        return Err(DecodeError::Malformed(format!(
            "byte {}: missing HOSTNAME after the timestamp",
            line.len()
        )));
    }
    let (hostname, tagged) = split_host(body);
    let (appname, procid, msg) = split_tag(tagged);
    Ok(Header { timestamp: Some(timestamp), hostname, appname, procid, msg: msg.trim(), ..Header::default() })
}

/// Splits off HOSTNAME, unless the first token is already the TAG (`sshd[7]:`), as in lines
/// written to the local socket without a hostname.
fn split_host(body: &str) -> (Option<&str>, &str) {
    let (token, rest) = body.split_once(' ').unwrap_or((body, ""));
    if token.ends_with(':') { (None, body) } else { (Some(token), rest.trim_start_matches(' ')) }
}

/// Splits `TAG[pid]: MSG`. The TAG is the text before the first `: ` (or a final `:`) when it is
/// at most [`MAX_TAG`] bytes with at most one space (`syslogd 1.4.1:`, `-- root[2421]:`);
/// otherwise the line has no TAG and all of it is the message.
fn split_tag(text: &str) -> (Option<&str>, Option<&str>, &str) {
    let window = &text.as_bytes()[..text.len().min(MAX_TAG + 1)];
    let Some(colon) = window.iter().position(|&b| b == b':') else { return (None, None, text) };
    let tag = &text[..colon];
    let after = &text[colon + 1..];
    let spaces = tag.bytes().filter(|&b| b == b' ').count();
    if tag.is_empty() || tag.starts_with(' ') || spaces > 1 || !(after.is_empty() || after.starts_with(' ')) {
        return (None, None, text);
    }
    match tag.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
        Some((app, pid)) if !app.is_empty() && !pid.is_empty() => (Some(app), Some(pid), after),
        Some(_) => (None, None, text),
        None if tag.contains(['[', ']']) => (None, None, text),
        None => (Some(tag), None, after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap()
    }

    #[test]
    fn tags_are_split_as_real_programs_write_them() {
        assert_eq!(split_tag("sshd[24200]: Invalid user"), (Some("sshd"), Some("24200"), " Invalid user"));
        assert_eq!(split_tag("syslogd 1.4.1: restart."), (Some("syslogd 1.4.1"), None, " restart."));
        assert_eq!(split_tag("-- root[2421]: ROOT LOGIN"), (Some("-- root"), Some("2421"), " ROOT LOGIN"));
        assert_eq!(split_tag("Use the BFG!"), (None, None, "Use the BFG!"));
        assert_eq!(split_tag("a b c: d"), (None, None, "a b c: d"));
        assert_eq!(split_tag("ratio 1:2"), (None, None, "ratio 1:2"));
    }

    #[test]
    fn local_socket_lines_have_no_hostname() {
        let h = parse("<13>Oct 11 22:14:15 sshd[7]: hello", now()).unwrap();
        assert_eq!((h.hostname, h.appname, h.procid, h.msg), (None, Some("sshd"), Some("7"), "hello"));
    }

    #[test]
    fn pri_errors_name_the_byte() {
        let err = parse("<1913>Oct 11 22:14:15 h x", now()).unwrap_err().to_string();
        assert!(err.contains("byte 4"), "{err}");
        let err = parse("<192>Oct 11 22:14:15 h x", now()).unwrap_err().to_string();
        assert!(err.contains("`192` is not 0-191"), "{err}");
    }

    #[test]
    fn rfc5424_fields_are_checked_in_order() {
        let err = parse("<34>1 2003-10-11T22:14:15.003Z host su", now()).unwrap_err().to_string();
        assert!(err.contains("byte 38") && err.contains("PROCID"), "{err}");
        let err = parse("<34>1 2003-10-11 host su - - -", now()).unwrap_err().to_string();
        assert!(err.contains("byte 6") && err.contains("RFC 3339"), "{err}");
        let err = parse("<34>1 - host su - - x", now()).unwrap_err().to_string();
        assert!(err.contains("byte 20") && err.contains("STRUCTURED-DATA"), "{err}");
    }
}
