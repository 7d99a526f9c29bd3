//! A small YAML tree that keeps, for every node, the line it starts on and, for every scalar, the
//! text exactly as written next to its resolved YAML 1.2 core-schema type.
//!
//! Sigma needs both: the line for precise rejections, and the written text because an unquoted
//! `0x17` or `1.10` must match the event text `0x17` / `1.10`, not `23` / `1.1`. Built on the
//! event parser that `serde-saphyr` re-exports, so there is a single YAML implementation.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event as YamlEvent, Parser, ScalarStyle, Span};

use crate::error::{ErrorKind, Problem};

/// Deepest nesting accepted (Sigma rules use four or five levels).
const MAX_DEPTH: usize = 64;

/// One YAML node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// 1-based line where the node starts.
    pub line: u32,
    /// The node's content.
    pub value: Value,
}

/// The content of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with text keys, in document order, without duplicates.
    Map(Vec<(Key, Node)>),
}

/// A mapping key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key text.
    pub text: String,
    /// 1-based line of the key.
    pub line: u32,
}

/// A scalar: its text as written (after YAML escapes) and its resolved type.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The text.
    pub text: String,
    /// The type a plain scalar resolves to; quoted and block scalars are always strings.
    pub kind: ScalarKind,
}

/// The YAML 1.2 core-schema type of a scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarKind {
    /// `null`, `~` or empty.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A decimal, `0x` or `0o` integer that fits in 64 bits.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Str,
}

impl Node {
    /// The mapping entries, when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The scalar, when this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a non-null scalar.
    pub fn as_text(&self) -> Option<&str> {
        self.as_scalar().filter(|s| s.kind != ScalarKind::Null).map(|s| s.text.as_str())
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.text == key).map(|(_, v)| v)
    }

    /// Whether this is a null scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(Scalar { kind: ScalarKind::Null, .. }))
    }

    /// A short name of the node's type for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Scalar(s) => match s.kind {
                ScalarKind::Null => "null",
                ScalarKind::Bool(_) => "a boolean",
                ScalarKind::Int(_) | ScalarKind::Float(_) => "a number",
                ScalarKind::Str => "a string",
            },
        }
    }
}

/// Parses every document of a YAML stream. Empty documents are skipped.
///
/// # Errors
/// A [`Problem`] with the line of the first syntax error, duplicate key or unsupported construct.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, Problem> {
    let options = serde_saphyr::granit_parser::options! { emit_comments: false };
    let parser = Parser::new_from_str_with_options(text, options);
    let mut reader = Reader { parser, anchors: HashMap::new() };
    let mut docs = Vec::new();
    while let Some((event, span)) = reader.next()? {
        if let YamlEvent::DocumentStart(..) = event {
            reader.anchors.clear();
            if let Some(node) = reader.document()? {
                docs.push(node);
            }
        } else if matches!(event, YamlEvent::StreamEnd) {
            break;
        } else if !matches!(event, YamlEvent::StreamStart) {
            return Err(Problem::new(line_of(&span), ErrorKind::Yaml("unexpected content".into())));
        }
    }
    Ok(docs)
}

fn line_of(span: &Span) -> u32 {
    u32::try_from(span.start.line()).unwrap_or(u32::MAX)
}

struct Reader<'a> {
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Result<Option<(YamlEvent<'a>, Span)>, Problem> {
        loop {
            match self.parser.next_event() {
                None => return Ok(None),
                Some(Err(e)) => {
                    let line = u32::try_from(e.marker().line()).unwrap_or(0);
                    let info = e.info();
                    let info = if info.is_empty() { "syntax error".to_owned() } else { info };
                    let reason = format!("{info} (column {})", e.marker().col() + 1);
                    return Err(Problem::new(line, ErrorKind::Yaml(reason)));
                }
                Some(Ok((event, span))) if is_node_event(&event) => return Ok(Some((event, span))),
                Some(Ok(_)) => {} // comments and anchor metadata carry no data
            }
        }
    }

    fn must_next(&mut self) -> Result<(YamlEvent<'a>, Span), Problem> {
        self.next()?.ok_or_else(|| Problem::new(0, ErrorKind::Yaml("unexpected end of input".into())))
    }

    /// Reads the body of a document up to its end; `None` for an empty document.
    fn document(&mut self) -> Result<Option<Node>, Problem> {
        let (event, span) = self.must_next()?;
        if matches!(event, YamlEvent::DocumentEnd) {
            return Ok(None);
        }
        let node = self.node(event, &span, 0)?;
        match self.must_next()? {
            (YamlEvent::DocumentEnd, _) => Ok((!node.is_null()).then_some(node)),
            (_, span) => {
                Err(Problem::new(line_of(&span), ErrorKind::Yaml("expected end of document".into())))
            }
        }
    }

    fn node(&mut self, event: YamlEvent<'a>, span: &Span, depth: usize) -> Result<Node, Problem> {
        let line = line_of(span);
        if depth > MAX_DEPTH {
            return Err(Problem::new(line, ErrorKind::YamlShape(format!("nesting deeper than {MAX_DEPTH}"))));
        }
        let (node, anchor) = match event {
            YamlEvent::Scalar(text, style, anchor, _) => (Node { line, value: scalar(&text, style) }, anchor),
            YamlEvent::SequenceStart(_, anchor, _) => (self.sequence(line, depth)?, anchor),
            YamlEvent::MappingStart(_, anchor, _) => (self.mapping(line, depth)?, anchor),
            YamlEvent::Alias(id) => {
                let target = self.anchors.get(&id).cloned();
                let mut node =
                    target.ok_or_else(|| Problem::new(line, ErrorKind::Yaml("unknown alias".into())))?;
                node.line = line;
                return Ok(node);
            }
            _ => return Err(Problem::new(line, ErrorKind::Yaml("unexpected event".into()))),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn sequence(&mut self, line: u32, depth: usize) -> Result<Node, Problem> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.must_next()?;
            if matches!(event, YamlEvent::SequenceEnd) {
                return Ok(Node { line, value: Value::Seq(items) });
            }
            items.push(self.node(event, &span, depth + 1)?);
        }
    }

    fn mapping(&mut self, line: u32, depth: usize) -> Result<Node, Problem> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        loop {
            let (event, span) = self.must_next()?;
            if matches!(event, YamlEvent::MappingEnd) {
                return Ok(Node { line, value: Value::Map(entries) });
            }
            let key_node = self.node(event, &span, depth + 1)?;
            let key = match key_node.value {
                Value::Scalar(s) => Key { text: s.text, line: key_node.line },
                _ => {
                    return Err(Problem::new(
                        key_node.line,
                        ErrorKind::YamlShape("non-scalar mapping key".into()),
                    ));
                }
            };
            if let Some((first, _)) = entries.iter().find(|(k, _)| k.text == key.text) {
                let kind = ErrorKind::DuplicateKey { key: key.text.clone(), first_line: first.line };
                return Err(Problem::new(key.line, kind));
            }
            let (event, span) = self.must_next()?;
            let value = self.node(event, &span, depth + 1)?;
            entries.push((key, value));
        }
    }
}

fn is_node_event(event: &YamlEvent<'_>) -> bool {
    matches!(
        event,
        YamlEvent::StreamStart
            | YamlEvent::StreamEnd
            | YamlEvent::DocumentStart(..)
            | YamlEvent::DocumentEnd
            | YamlEvent::Alias(_)
            | YamlEvent::Scalar(..)
            | YamlEvent::SequenceStart(..)
            | YamlEvent::SequenceEnd
            | YamlEvent::MappingStart(..)
            | YamlEvent::MappingEnd
    )
}

fn scalar(text: &str, style: ScalarStyle) -> Value {
    let kind = if style == ScalarStyle::Plain { resolve_plain(text) } else { ScalarKind::Str };
    Value::Scalar(Scalar { text: text.to_owned(), kind })
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
pub fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return ScalarKind::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = resolve_int(text) {
        return ScalarKind::Int(int);
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return ScalarKind::Float(f);
    }
    ScalarKind::Str
}

fn resolve_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| i64::from_str_radix(hex, 16).ok())
            .flatten();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return (!oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)))
            .then(|| i64::from_str_radix(oct, 8).ok())
            .flatten();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int_part)
        && frac.is_none_or(digits)
        && (!int_part.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_text_and_types() {
        let docs = parse_stream("a: 0x17\nb: '1'\nc:\n  - 1.10\n  - ~\n---\nd: true\n").unwrap();
        assert_eq!(docs.len(), 2);
        let a = docs[0].get("a").unwrap().as_scalar().unwrap();
        assert_eq!((a.text.as_str(), a.kind), ("0x17", ScalarKind::Int(23)));
        assert_eq!(docs[0].get("b").unwrap().as_scalar().unwrap().kind, ScalarKind::Str);
        let Value::Seq(items) = &docs[0].get("c").unwrap().value else { panic!() };
        assert_eq!(items[0].line, 4);
        assert_eq!(items[0].as_scalar().unwrap().text, "1.10");
        assert!(items[1].is_null());
        assert_eq!(docs[1].get("d").unwrap().as_scalar().unwrap().kind, ScalarKind::Bool(true));
    }

    #[test]
    fn rejects_duplicate_keys_with_both_lines() {
        let err = parse_stream("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.kind, ErrorKind::DuplicateKey { key: "a".into(), first_line: 1 });
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let err = parse_stream("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Yaml(_)));
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn plain_scalars_resolve_by_core_schema() {
        assert_eq!(resolve_plain("4688"), ScalarKind::Int(4688));
        assert_eq!(resolve_plain("-3"), ScalarKind::Int(-3));
        assert_eq!(resolve_plain("1e3"), ScalarKind::Float(1000.0));
        assert_eq!(resolve_plain("yes"), ScalarKind::Str);
        assert_eq!(resolve_plain("1.2.3"), ScalarKind::Str);
        assert_eq!(resolve_plain("."), ScalarKind::Str);
        assert_eq!(resolve_plain("0x"), ScalarKind::Str);
    }
}
