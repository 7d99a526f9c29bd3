//! Rule metadata and logsource attributes.

use crate::ast::{Level, Logsource, Related, RuleMeta, Status};
use crate::error::{ErrorKind, Problem};
use crate::yaml::{Node, Value};

/// Reads the descriptive attributes of a rule, filter or correlation document.
///
/// # Errors
/// A [`Problem`] naming the attribute with the wrong type or an invalid value.
pub fn parse_meta(doc: &Node) -> Result<RuleMeta, Problem> {
    let title = required_text(doc, "title")?;
    let level = optional_text(doc, "level")?
        .map(|l| {
            Level::from_name(&l)
                .ok_or_else(|| invalid_choice(doc, "level", &l, "informational, low, medium, high, critical"))
        })
        .transpose()?;
    let status = optional_text(doc, "status")?
        .map(|s| {
            Status::from_name(&s).ok_or_else(|| {
                invalid_choice(doc, "status", &s, "stable, test, experimental, deprecated, unsupported")
            })
        })
        .transpose()?;
    Ok(RuleMeta {
        title,
        id: optional_text(doc, "id")?,
        name: optional_text(doc, "name")?,
        status,
        level,
        description: optional_text(doc, "description")?,
        author: optional_text(doc, "author")?,
        date: optional_text(doc, "date")?,
        modified: optional_text(doc, "modified")?,
        references: text_list(doc, "references")?,
        tags: text_list(doc, "tags")?,
        falsepositives: text_list(doc, "falsepositives")?,
        fields: text_list(doc, "fields")?,
        related: related(doc)?,
        license: optional_text(doc, "license")?,
        scope: text_list(doc, "scope")?,
        taxonomy: optional_text(doc, "taxonomy")?,
    })
}

/// Reads the `logsource` mapping.
///
/// # Errors
/// A [`Problem`] when it is missing, not a mapping, or a known attribute is not text.
pub fn parse_logsource(doc: &Node) -> Result<Logsource, Problem> {
    let node = doc.get("logsource").ok_or_else(|| Problem::new(doc.line, ErrorKind::Missing("logsource")))?;
    if node.as_map().is_none() {
        return Err(Problem::invalid(
            node.line,
            "logsource",
            format!("expected a mapping, found {}", node.kind_name()),
        ));
    }
    Ok(Logsource {
        product: optional_text(node, "product")?,
        category: optional_text(node, "category")?,
        service: optional_text(node, "service")?,
        definition: optional_text(node, "definition")?,
    })
}

/// A mandatory, non-empty text attribute.
pub fn required_text(doc: &Node, key: &'static str) -> Result<String, Problem> {
    match optional_text(doc, key)? {
        Some(t) if !t.trim().is_empty() => Ok(t),
        Some(_) => Err(Problem::invalid(line_of(doc, key), key, "empty")),
        None => Err(Problem::new(doc.line, ErrorKind::Missing(key))),
    }
}

/// An optional text attribute (numbers are taken as written).
pub fn optional_text(doc: &Node, key: &str) -> Result<Option<String>, Problem> {
    match doc.get(key) {
        None => Ok(None),
        Some(n) if n.is_null() => Ok(None),
        Some(n) => n
            .as_text()
            .map(|t| Some(t.to_owned()))
            .ok_or_else(|| Problem::invalid(n.line, key, format!("expected text, found {}", n.kind_name()))),
    }
}

/// A list of text values; a single text value counts as a one-element list.
pub fn text_list(doc: &Node, key: &str) -> Result<Vec<String>, Problem> {
    let Some(node) = doc.get(key) else { return Ok(Vec::new()) };
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter(|n| !n.is_null())
            .map(|n| {
                n.as_text().map(str::to_owned).ok_or_else(|| {
                    Problem::invalid(n.line, key, format!("expected text items, found {}", n.kind_name()))
                })
            })
            .collect(),
        Value::Scalar(_) if node.is_null() => Ok(Vec::new()),
        Value::Scalar(_) => Ok(node.as_text().map(|t| vec![t.to_owned()]).unwrap_or_default()),
        Value::Map(_) => Err(Problem::invalid(node.line, key, "expected a list, found a mapping")),
    }
}

fn related(doc: &Node) -> Result<Vec<Related>, Problem> {
    let Some(node) = doc.get("related") else { return Ok(Vec::new()) };
    let Value::Seq(items) = &node.value else {
        return Err(Problem::invalid(
            node.line,
            "related",
            format!("expected a list, found {}", node.kind_name()),
        ));
    };
    items
        .iter()
        .map(|item| {
            let id = optional_text(item, "id")?;
            let kind = optional_text(item, "type")?;
            match (id, kind) {
                (Some(id), Some(kind)) => Ok(Related { id, kind }),
                _ => Err(Problem::invalid(item.line, "related", "each entry needs `id` and `type`")),
            }
        })
        .collect()
}

fn line_of(doc: &Node, key: &str) -> u32 {
    doc.get(key).map_or(doc.line, |n| n.line)
}

fn invalid_choice(doc: &Node, key: &str, value: &str, choices: &str) -> Problem {
    Problem::invalid(line_of(doc, key), key, format!("`{value}` is not one of {choices}"))
}
