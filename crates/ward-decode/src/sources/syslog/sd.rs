//! RFC 5424 STRUCTURED-DATA: `-` or `[SD-ID PARAM="value" …]…`, with `\"`, `\\` and `\]`
//! escapes in values (a backslash before anything else stays a backslash, as the RFC says).

use serde_json::{Map, Value};

use crate::DecodeError;

/// Longest SD-ID and PARAM-NAME (RFC 5424 section 6.3).
const MAX_NAME: usize = 32;

fn err(at: usize, what: impl std::fmt::Display) -> DecodeError {
    DecodeError::invalid("STRUCTURED-DATA", format!("byte {at}: {what}"))
}

/// Parses STRUCTURED-DATA starting at byte `pos` of `line`: the elements as
/// `{SD-ID: {PARAM: value}}` (a repeated PARAM becomes an array), and the byte after it.
///
/// # Errors
/// A bad SD-NAME, a missing `=` or `"`, an unterminated value or element, or an SD-ID that
/// occurs twice (RFC 5424 forbids it).
pub(super) fn parse(line: &str, mut pos: usize) -> Result<(Option<Value>, usize), DecodeError> {
    let b = line.as_bytes();
    match b.get(pos) {
        Some(b'-') => return Ok((None, pos + 1)),
        Some(b'[') => {}
        _ => return Err(err(pos, "expected `-` or `[`")),
    }
    let mut elements = Map::new();
    while b.get(pos) == Some(&b'[') {
        let (id, params, end) = element(line, pos)?;
        if elements.contains_key(id) {
            return Err(err(pos + 1, format_args!("SD-ID `{id}` occurs twice")));
        }
        elements.insert(id.to_owned(), Value::Object(params));
        pos = end;
    }
    Ok((Some(Value::Object(elements)), pos))
}

/// One `[SD-ID PARAM="value" …]` at `pos`: its id, params and the byte after `]`.
fn element(line: &str, pos: usize) -> Result<(&str, Map<String, Value>, usize), DecodeError> {
    let b = line.as_bytes();
    let mut i = pos + 1;
    let id = name(line, i, "SD-ID")?;
    i += id.len();
    let mut params = Map::new();
    loop {
        match b.get(i) {
            Some(b']') => return Ok((id, params, i + 1)),
            Some(b' ') => i += 1,
            None => {
                return Err(err(i, format_args!("element `{id}` opened at byte {pos} is not closed by `]`")));
            }
            Some(_) => return Err(err(i, "expected a space or `]`")),
        }
        let key = name(line, i, "PARAM-NAME")?;
        i += key.len();
        if b.get(i) != Some(&b'=') || b.get(i + 1) != Some(&b'"') {
            return Err(err(i, format_args!("expected `=\"` after PARAM-NAME `{key}`")));
        }
        let (value, end) = param_value(line, i + 2)?;
        i = end;
        add_param(&mut params, key, value);
    }
}

/// An SD-NAME at `at`: 1-32 printable US-ASCII characters except `=`, space, `]` and `"`.
fn name<'a>(line: &'a str, at: usize, what: &str) -> Result<&'a str, DecodeError> {
    let rest = &line.as_bytes()[at..];
    let len = rest.iter().take_while(|&&c| c.is_ascii_graphic() && !matches!(c, b'=' | b']' | b'"')).count();
    if len == 0 {
        let found = rest
            .first()
            .map_or_else(|| "the end of the line".to_owned(), |c| format!("{:?}", char::from(*c)));
        return Err(err(at, format_args!("expected {what}, found {found}")));
    }
    if len > MAX_NAME {
        return Err(err(at, format_args!("{what} is {len} characters, more than {MAX_NAME}")));
    }
    Ok(&line[at..at + len])
}

/// A PARAM-VALUE whose text starts at `start` (after the opening quote): the unescaped value
/// and the byte after the closing quote.
fn param_value(line: &str, start: usize) -> Result<(String, usize), DecodeError> {
    let mut out = String::new();
    let mut chars = line[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + i + 1)),
            '\\' => match chars.clone().next() {
                Some((_, e @ ('"' | '\\' | ']'))) => {
                    out.push(e);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err(err(line.len(), format_args!("PARAM-VALUE opened at byte {} is not closed by `\"`", start - 1)))
}

fn add_param(params: &mut Map<String, Value>, key: &str, value: String) {
    match params.get_mut(key) {
        Some(Value::Array(items)) => items.push(Value::String(value)),
        Some(first) => {
            let prev = first.take();
            *first = Value::Array(vec![prev, Value::String(value)]);
        }
        None => {
            params.insert(key.to_owned(), Value::String(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_escapes_and_repeats_parse() {
        let line = r#"[a@1 x="q\"t\]\\ \n" x="2"][b y=""] msg"#;
        let (v, end) = parse(line, 0).unwrap();
        assert_eq!(v.unwrap(), serde_json::json!({"a@1": {"x": ["q\"t]\\ \\n", "2"]}, "b": {"y": ""}}));
        assert_eq!(&line[end..], " msg");
    }

    #[test]
    fn errors_name_the_byte() {
        let e = parse(r#"[a x="1"#, 0).unwrap_err().to_string();
        assert!(e.contains("byte 7") && e.contains("opened at byte 5"), "{e}");
        let e = parse(r#"[a x=1]"#, 0).unwrap_err().to_string();
        assert!(e.contains("byte 4"), "{e}");
        let e = parse(r#"[a][a]"#, 0).unwrap_err().to_string();
        assert!(e.contains("occurs twice"), "{e}");
        let e = parse(r#"[ x="1"]"#, 0).unwrap_err().to_string();
        assert!(e.contains("byte 1") && e.contains("SD-ID"), "{e}");
    }
}
