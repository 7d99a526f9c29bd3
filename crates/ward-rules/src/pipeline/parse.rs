//! Reads a pipeline YAML file, rejecting unknown attributes with their line.

use std::collections::HashMap;

use super::{Constraint, Entry, Pipeline, Unmapped};
use crate::error::{ErrorKind, PipelineError, Problem};
use crate::yaml::{self, Node, Value};

const TOP_KEYS: [&str; 6] =
    ["name", "description", "unmapped", "fieldmappings", "placeholders", "logsources"];
const ENTRY_KEYS: [&str; 7] =
    ["name", "product", "category", "service", "conditions", "fieldmappings", "unmapped"];

/// Parses one pipeline file.
pub(super) fn parse(name: &str, text: &str) -> Result<Pipeline, PipelineError> {
    let err = |p: Problem| PipelineError { name: name.to_owned(), line: p.line, kind: p.kind };
    let mut docs = yaml::parse_stream(text).map_err(err)?;
    if docs.len() != 1 {
        return Err(err(Problem::invalid(0, "pipeline", "expected exactly one YAML document")));
    }
    read(name, &docs.remove(0)).map_err(err)
}

fn read(file: &str, doc: &Node) -> Result<Pipeline, Problem> {
    check_keys(doc, &TOP_KEYS, "pipeline")?;
    let unmapped = unmapped(doc, Unmapped::Raw)?;
    let global = field_map(doc.get("fieldmappings"))?;
    let placeholders = placeholders(doc.get("placeholders"))?;
    let list =
        doc.get("logsources").ok_or_else(|| Problem::new(doc.line, ErrorKind::Missing("logsources")))?;
    let Value::Seq(items) = &list.value else {
        return Err(Problem::invalid(list.line, "logsources", "expected a list"));
    };
    let mut entries: Vec<Entry> = Vec::with_capacity(items.len());
    for item in items {
        let entry = entry(file, item, &global, unmapped)?;
        if entries.iter().any(|e| e.name == entry.name) {
            return Err(Problem::invalid(
                item.line,
                "logsources.name",
                format!("`{}` is used twice", entry.name),
            ));
        }
        entries.push(entry);
    }
    Ok(Pipeline { entries, placeholders })
}

fn entry(
    file: &str,
    node: &Node,
    global: &HashMap<String, Vec<String>>,
    unmapped_default: Unmapped,
) -> Result<Entry, Problem> {
    check_keys(node, &ENTRY_KEYS, "logsources[]")?;
    let text = |key: &str| -> Result<Option<String>, Problem> {
        match node.get(key) {
            None => Ok(None),
            Some(n) => n
                .as_text()
                .map(|t| Some(t.to_owned()))
                .ok_or_else(|| Problem::invalid(n.line, key, "expected text")),
        }
    };
    let name =
        text("name")?.ok_or_else(|| Problem::new(node.line, ErrorKind::Missing("logsources[].name")))?;
    let mut fields = global.clone();
    fields.extend(field_map(node.get("fieldmappings"))?);
    let entry = Entry {
        name,
        pipeline: file.to_owned(),
        line: node.line,
        product: text("product")?,
        category: text("category")?,
        service: text("service")?,
        conditions: conditions(node.get("conditions"))?,
        fields,
        unmapped: unmapped(node, unmapped_default)?,
    };
    if entry.product.is_none() && entry.category.is_none() && entry.service.is_none() {
        return Err(Problem::invalid(
            node.line,
            "logsources[]",
            "needs at least one of product, category, service",
        ));
    }
    Ok(entry)
}

fn check_keys(node: &Node, allowed: &[&str], what: &str) -> Result<(), Problem> {
    let entries = node.as_map().ok_or_else(|| Problem::invalid(node.line, what, "expected a mapping"))?;
    match entries.iter().find(|(k, _)| !allowed.contains(&k.text.as_str())) {
        Some((k, _)) => Err(Problem::invalid(k.line, format!("{what}.{}", k.text), "unknown attribute")),
        None => Ok(()),
    }
}

fn unmapped(node: &Node, default: Unmapped) -> Result<Unmapped, Problem> {
    match node.get("unmapped") {
        None => Ok(default),
        Some(n) => match n.as_text() {
            Some("raw") => Ok(Unmapped::Raw),
            Some("reject") => Ok(Unmapped::Reject),
            _ => Err(Problem::invalid(n.line, "unmapped", "expected `raw` or `reject`")),
        },
    }
}

/// A mapping of names to one text value or a list of them.
fn text_lists(node: Option<&Node>, what: &str) -> Result<Vec<(String, Vec<String>)>, Problem> {
    let Some(node) = node else { return Ok(Vec::new()) };
    let entries = node.as_map().ok_or_else(|| Problem::invalid(node.line, what, "expected a mapping"))?;
    entries
        .iter()
        .map(|(key, value)| {
            let values = match &value.value {
                Value::Seq(items) => items
                    .iter()
                    .map(|i| {
                        i.as_text()
                            .map(str::to_owned)
                            .ok_or_else(|| Problem::invalid(i.line, what, "expected text values"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => vec![
                    value
                        .as_text()
                        .map(str::to_owned)
                        .ok_or_else(|| Problem::invalid(value.line, what, "expected text"))?,
                ],
            };
            if values.is_empty() {
                return Err(Problem::invalid(value.line, what, format!("`{}` has no values", key.text)));
            }
            Ok((key.text.clone(), values))
        })
        .collect()
}

fn field_map(node: Option<&Node>) -> Result<HashMap<String, Vec<String>>, Problem> {
    Ok(text_lists(node, "fieldmappings")?.into_iter().collect())
}

fn placeholders(node: Option<&Node>) -> Result<HashMap<String, Vec<String>>, Problem> {
    Ok(text_lists(node, "placeholders")?.into_iter().collect())
}

fn conditions(node: Option<&Node>) -> Result<Vec<Constraint>, Problem> {
    Ok(text_lists(node, "conditions")?
        .into_iter()
        .map(|(path, values)| Constraint { path, values })
        .collect())
}
