//! The CEF wire format: `[syslog prefix] CEF:Version|Device Vendor|Device Product|Device
//! Version|Device Event Class ID|Name|Severity|Extension`.
//!
//! Header fields escape `|` and `\` with a backslash. Extension values escape `\`, `=`, and
//! encode newlines as `\n`/`\r`; a value runs up to the space before the next `key=`. `\|` is
//! also accepted in values (several producers escape pipes everywhere); any other backslash
//! sequence is rejected with its byte position.

use std::borrow::Cow;

use memchr::memmem;

use crate::DecodeError;

/// The header fields in order, as the specification names them.
pub(super) const HEADER_FIELDS: [&str; 7] = [
    "Version",
    "Device Vendor",
    "Device Product",
    "Device Version",
    "Device Event Class ID",
    "Name",
    "Severity",
];

/// One CEF record, borrowed from the line where no escape had to be undone.
#[derive(Debug)]
pub(super) struct Record<'a> {
    /// Text before `CEF:` (a syslog header), trimmed; empty when there is none.
    pub prefix: &'a str,
    /// The seven header fields, unescaped, in [`HEADER_FIELDS`] order.
    pub header: [Cow<'a, str>; 7],
    /// Byte offset of each header field.
    pub header_at: [usize; 7],
    /// The extension pairs in record order.
    pub extensions: Vec<Extension<'a>>,
}

/// One `key=value` extension pair.
#[derive(Debug)]
pub(super) struct Extension<'a> {
    /// The key as written.
    pub key: &'a str,
    /// The value, unescaped.
    pub value: Cow<'a, str>,
    /// Byte offset of the value in the record, for error messages.
    pub at: usize,
}

fn malformed(at: usize, what: impl std::fmt::Display) -> DecodeError {
    DecodeError::Malformed(format!("byte {at}: {what}"))
}

/// Splits a record into prefix, header and extensions.
///
/// # Errors
/// No `CEF:` marker, fewer than seven `|`-terminated header fields, a bad escape, or an
/// extension that does not start with `key=`; each names its byte offset.
pub(super) fn parse(line: &str) -> Result<Record<'_>, DecodeError> {
    let start = memmem::find(line.as_bytes(), b"CEF:")
        .ok_or_else(|| DecodeError::Malformed("no `CEF:` header in the record".into()))?;
    let mut pos = start + 4;
    let mut header: [Cow<'_, str>; 7] = Default::default();
    let mut header_at = [0; 7];
    for (n, slot) in header.iter_mut().enumerate() {
        header_at[n] = pos;
        let (value, next) = header_field(line, pos, n)?;
        *slot = value;
        pos = next;
    }
    let extensions = parse_extensions(line, pos)?;
    Ok(Record { prefix: line[..start].trim(), header, header_at, extensions })
}

/// The header field starting at `pos` (the `n`th): its unescaped text and the byte after its `|`.
fn header_field(line: &str, pos: usize, n: usize) -> Result<(Cow<'_, str>, usize), DecodeError> {
    let b = line.as_bytes();
    let mut i = pos;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'|' => return Ok((unescape(line, pos, i, escaped), i + 1)),
            b'\\' => match b.get(i + 1) {
                Some(b'|' | b'\\') => {
                    escaped = true;
                    i += 2;
                }
                other => {
                    return Err(bad_escape(
                        line,
                        i,
                        other,
                        &format!("header field {}", HEADER_FIELDS[n]),
                        "`\\|` and `\\\\`",
                    ));
                }
            },
            _ => i += 1,
        }
    }
    Err(malformed(
        b.len(),
        format_args!(
            "header ends inside {} (field {} of 7): every header field needs a closing `|`",
            HEADER_FIELDS[n],
            n + 1
        ),
    ))
}

fn bad_escape(line: &str, at: usize, next: Option<&u8>, place: &str, allowed: &str) -> DecodeError {
    let what = match next {
        None => "a `\\` at the end of the record escapes nothing".to_owned(),
        Some(_) => {
            let c = line[at + 1..].chars().next().unwrap_or_default();
            format!("invalid escape `\\{c}` in {place} (allowed: {allowed})")
        }
    };
    malformed(at, what)
}

/// Undoes the escapes of `line[start..end]` (already validated) when there are any.
fn unescape(line: &str, start: usize, end: usize, escaped: bool) -> Cow<'_, str> {
    let text = &line[start..end];
    if !escaped {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(e) => out.push(e),
            None => {}
        }
    }
    Cow::Owned(out)
}

/// Length of the extension key starting at `pos` when a `=` follows it.
fn key_at(b: &[u8], pos: usize) -> Option<usize> {
    let len = b
        .get(pos..)?
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    (len > 0 && b.get(pos + len) == Some(&b'=')).then_some(len)
}

/// The extension pairs starting at `pos`.
fn parse_extensions(line: &str, mut pos: usize) -> Result<Vec<Extension<'_>>, DecodeError> {
    let b = line.as_bytes();
    let mut out = Vec::with_capacity(16);
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    if pos >= b.len() {
        return Ok(out);
    }
    let Some(mut key_len) = key_at(b, pos) else {
        return Err(malformed(
            pos,
            "the extension must start with `key=` (key: letters, digits, `_`, `.`, `-`)",
        ));
    };
    let mut key_start = pos;
    loop {
        let value_start = key_start + key_len + 1;
        let span = value_span(line, value_start)?;
        out.push(Extension {
            key: &line[key_start..key_start + key_len],
            value: unescape(line, value_start, span.end, span.escaped),
            at: value_start,
        });
        match span.next_key {
            Some((start, len)) => (key_start, key_len) = (start, len),
            None => return Ok(out),
        }
    }
}

/// Where an extension value ends.
struct Span {
    /// The byte after the value.
    end: usize,
    /// Whether the value has escapes to undo.
    escaped: bool,
    /// Start and length of the next key, if any.
    next_key: Option<(usize, usize)>,
}

/// The span of the value starting at `start`: it runs to the space before the next `key=`.
fn value_span(line: &str, start: usize) -> Result<Span, DecodeError> {
    let b = line.as_bytes();
    let mut i = start;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' => match b.get(i + 1) {
                Some(b'\\' | b'=' | b'n' | b'r' | b'|') => {
                    escaped = true;
                    i += 2;
                }
                other => {
                    return Err(bad_escape(
                        line,
                        i,
                        other,
                        "an extension value",
                        "`\\\\`, `\\=`, `\\n`, `\\r`, `\\|`",
                    ));
                }
            },
            b' ' => match key_at(b, i + 1) {
                Some(len) => return Ok(Span { end: i, escaped, next_key: Some((i + 1, len)) }),
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    Ok(Span { end: b.len(), escaped, next_key: None })
}

/// Escapes text for a CEF header field (`\` → `\\`, `|` → `\|`).
pub fn escape_header(text: &str) -> Cow<'_, str> {
    escape(text, |c| matches!(c, '\\' | '|'))
}

/// Escapes text for a CEF extension value (`\` → `\\`, `=` → `\=`, newline → `\n`, CR → `\r`).
pub fn escape_value(text: &str) -> Cow<'_, str> {
    if !text.contains(['\\', '=', '\n', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn escape(text: &str, special: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_run_to_the_next_key_and_unescape() {
        let r = parse(r"CEF:0|a\|b|c\\d|1|7|n=x|5|act=blocked a \= b  msg=line\nnext src=10.0.0.1").unwrap();
        assert_eq!(r.header[1], "a|b");
        assert_eq!(r.header[2], "c\\d");
        assert_eq!(r.header[5], "n=x");
        let pairs: Vec<(&str, &str)> = r.extensions.iter().map(|e| (e.key, e.value.as_ref())).collect();
        assert_eq!(pairs, [("act", "blocked a = b "), ("msg", "line\nnext"), ("src", "10.0.0.1")]);
    }

    #[test]
    fn errors_name_the_byte() {
        let e = parse("CEF:0|a|b|c|d|e").unwrap_err().to_string();
        assert!(e.contains("byte 15") && e.contains("inside Name (field 6"), "{e}");
        let e = parse(r"CEF:0|a\x|b|c|d|e|5|").unwrap_err().to_string();
        assert!(e.contains("byte 7") && e.contains(r"`\x`"), "{e}");
        let e = parse(r"CEF:0|a|b|c|d|e|5|src=1 fname=C:\temp").unwrap_err().to_string();
        assert!(e.contains("byte 32") && e.contains(r"`\t`"), "{e}");
        let e = parse("CEF:0|a|b|c|d|e|5| just text").unwrap_err().to_string();
        assert!(e.contains("byte 19") && e.contains("key="), "{e}");
        let e = parse(r"CEF:0|a|b|c|d|e|5|k=v\").unwrap_err().to_string();
        assert!(e.contains("byte 21") && e.contains("escapes nothing"), "{e}");
    }

    #[test]
    fn escaping_round_trips() {
        for v in ["a=b", "c:\\x", "l1\nl2\r", "plain", " k=v "] {
            let line = format!("CEF:0|{}|p|1|2|n|3|k={} z=1", escape_header(v), escape_value(v));
            let r = parse(&line).unwrap();
            assert_eq!((r.header[1].as_ref(), r.extensions[0].value.as_ref()), (v, v), "{line}");
        }
    }
}
