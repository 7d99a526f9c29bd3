//! From YAML text to checked documents. A file may hold several documents (`---`): rules,
//! filters and correlations side by side, and Sigma 1 collections (`action: global` / `reset` /
//! `repeat`) whose documents are merged before being read.

pub mod condition;
mod correlation;
mod detection;
mod meta;
pub mod modifiers;
mod transform;
pub mod value;

pub use correlation::parse_timespan;

use std::sync::Arc;

use self::correlation::parse_correlation;
use self::detection::parse_detection;
use self::meta::{optional_text, parse_logsource, parse_meta, text_list};
use crate::ast::{Correlation, Filter, Rule, SourceRef};
use crate::error::{ErrorKind, Problem, Rejection};
use crate::yaml::{self, Node, Value};

/// One document of a rule file.
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    /// A detection rule.
    Rule(Box<Rule>),
    /// A filter for other rules.
    Filter(Box<Filter>),
    /// A correlation over other rules.
    Correlation(Box<Correlation>),
}

/// Parses every document of a file; each is either read or rejected with file, line and reason.
pub fn parse_source(file: &str, text: &str) -> Vec<Result<Document, Rejection>> {
    let docs = match yaml::parse_stream(text) {
        Ok(docs) => docs,
        Err(problem) => return vec![Err(Rejection::new(file, problem))],
    };
    let file_ref: Arc<str> = Arc::from(file);
    let mut collection = Collection::default();
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        match collection.next(doc) {
            Ok(Some(doc)) => {
                out.push(read_document(&doc, &file_ref).map_err(|r| *r));
                collection.previous = Some(doc);
            }
            Ok(None) => {}
            Err(problem) => out.push(Err(Rejection::new(file, problem))),
        }
    }
    out
}

/// Sigma 1 collection state: the `global` document and the previous one (for `repeat`).
#[derive(Default)]
struct Collection {
    global: Option<Node>,
    previous: Option<Node>,
}

impl Collection {
    /// The document to read for `doc`, or `None` when `doc` only changes the state. The caller
    /// stores the document it read in `previous` (for `repeat`).
    fn next(&mut self, doc: Node) -> Result<Option<Node>, Problem> {
        if doc.as_map().is_none() {
            return Err(Problem::invalid(
                doc.line,
                "document",
                format!("expected a mapping, found {}", doc.kind_name()),
            ));
        }
        let action = optional_text(&doc, "action")?;
        let body = without_key(doc, "action");
        let merged = match action.as_deref() {
            None => match &self.global {
                Some(global) => merge(global, &body),
                None => body,
            },
            Some("global") => {
                self.global = Some(body);
                return Ok(None);
            }
            Some("reset") => {
                self.global = None;
                return Ok(None);
            }
            Some("repeat") => match &self.previous {
                Some(prev) => merge(prev, &body),
                None => {
                    return Err(Problem::new(
                        body.line,
                        ErrorKind::Collection("`repeat` without a previous document".into()),
                    ));
                }
            },
            Some(other) => {
                let reason = format!("unknown action `{other}` (expected global, reset or repeat)");
                return Err(Problem::new(body.line, ErrorKind::Collection(reason)));
            }
        };
        Ok(Some(merged))
    }
}

fn without_key(mut doc: Node, key: &str) -> Node {
    if let Value::Map(entries) = &mut doc.value {
        entries.retain(|(k, _)| k.text != key);
    }
    doc
}

/// Deep merge: mappings merge key by key, anything else in `over` replaces `base`.
fn merge(base: &Node, over: &Node) -> Node {
    let (Value::Map(b), Value::Map(o)) = (&base.value, &over.value) else {
        return over.clone();
    };
    let mut entries = b.clone();
    for (key, value) in o {
        match entries.iter_mut().find(|(k, _)| k.text == key.text) {
            Some((_, existing)) => *existing = merge(existing, value),
            None => entries.push((key.clone(), value.clone())),
        }
    }
    Node { line: over.line, value: Value::Map(entries) }
}

fn read_document(doc: &Node, file: &Arc<str>) -> Result<Document, Box<Rejection>> {
    let source = SourceRef { file: file.clone(), line: doc.line };
    let result = if doc.get("correlation").is_some() {
        parse_correlation(doc, source).map(|c| Document::Correlation(Box::new(c)))
    } else if doc.get("filter").is_some() {
        parse_filter(doc, source).map(|f| Document::Filter(Box::new(f)))
    } else if doc.get("detection").is_some() {
        parse_rule(doc, source).map(|r| Document::Rule(Box::new(r)))
    } else {
        Err(Problem::new(doc.line, ErrorKind::Missing("detection")))
    };
    result.map_err(|problem| {
        let id = doc.get("id").and_then(Node::as_text);
        let title = doc.get("title").and_then(Node::as_text);
        Box::new(Rejection::new(file.as_ref(), problem).with_rule(id, title))
    })
}

fn parse_rule(doc: &Node, source: SourceRef) -> Result<Rule, Problem> {
    let meta = parse_meta(doc)?;
    let logsource = parse_logsource(doc)?;
    let node = doc.get("detection").ok_or_else(|| Problem::new(doc.line, ErrorKind::Missing("detection")))?;
    let detection = parse_detection(node, "detection", &[])?;
    Ok(Rule { meta, logsource, detection, source })
}

fn parse_filter(doc: &Node, source: SourceRef) -> Result<Filter, Problem> {
    let meta = parse_meta(doc)?;
    let logsource = parse_logsource(doc)?;
    let node = doc.get("filter").ok_or_else(|| Problem::new(doc.line, ErrorKind::Missing("filter")))?;
    let rules = text_list(node, "rules")?;
    if rules.is_empty() {
        return Err(Problem::new(node.line, ErrorKind::Missing("filter.rules")));
    }
    let detection = parse_detection(node, "filter", &["rules"])?;
    Ok(Filter { meta, logsource, rules, detection, source })
}
