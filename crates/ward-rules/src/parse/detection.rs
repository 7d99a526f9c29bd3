//! The `detection` section: search identifiers (maps, lists of maps, keyword lists) and the
//! condition.

use super::condition::parse_condition;
use super::modifiers::build_item;
use crate::ast::{Cond, Detection, Item, Search, SearchExpr};
use crate::error::{ErrorKind, Problem};
use crate::yaml::{Key, Node, Value};

/// Parses a `detection` (or filter `filter`) mapping. `skip` names keys that are not search
/// identifiers (`rules` in filters).
///
/// # Errors
/// A [`Problem`] at the line of the offending search identifier, item or condition.
pub fn parse_detection(node: &Node, section: &str, skip: &[&str]) -> Result<Detection, Problem> {
    let entries = node.as_map().ok_or_else(|| {
        Problem::invalid(node.line, section, format!("expected a mapping, found {}", node.kind_name()))
    })?;
    let mut searches = Vec::new();
    let mut condition = None;
    for (key, value) in entries {
        match key.text.as_str() {
            "condition" => condition = Some((key.line, value)),
            "timeframe" => {} // only meaningful for Sigma 1 aggregations, which the condition rejects
            k if skip.contains(&k) => {}
            _ => searches.push(search(key, value)?),
        }
    }
    let (line, cond_node) =
        condition.ok_or_else(|| Problem::new(node.line, ErrorKind::Missing("condition")))?;
    let texts = condition_texts(cond_node, line)?;
    let names: Vec<&str> = searches.iter().map(|s: &Search| s.name.as_str()).collect();
    let mut conds = Vec::with_capacity(texts.len());
    for text in &texts {
        conds.push(parse_condition(text, &names).map_err(|kind| Problem::new(cond_node.line, kind))?);
    }
    let condition = if conds.len() == 1 { conds.remove(0) } else { Cond::Or(conds) };
    Ok(Detection { searches, condition, condition_text: texts })
}

fn condition_texts(node: &Node, line: u32) -> Result<Vec<String>, Problem> {
    let invalid = |l, what: &str| Problem::invalid(l, "condition", format!("expected text, found {what}"));
    match &node.value {
        Value::Seq(items) if !items.is_empty() => items
            .iter()
            .map(|n| n.as_text().map(str::to_owned).ok_or_else(|| invalid(n.line, n.kind_name())))
            .collect(),
        _ => match node.as_text() {
            Some(t) if !t.trim().is_empty() => Ok(vec![t.to_owned()]),
            _ => Err(if node.is_null() || node.as_text().is_some() {
                Problem::invalid(line, "condition", "empty")
            } else {
                invalid(node.line, node.kind_name())
            }),
        },
    }
}

fn search(key: &Key, value: &Node) -> Result<Search, Problem> {
    let expr = match &value.value {
        Value::Map(entries) => SearchExpr::Map(map_items(entries, value.line)?),
        Value::Seq(items) => list(items, value.line)?,
        Value::Scalar(_) if value.is_null() => {
            return Err(Problem::invalid(key.line, &key.text, "empty search identifier"));
        }
        Value::Scalar(_) => SearchExpr::Item(build_item(None, &[], value, value.line)?),
    };
    Ok(Search { name: key.text.clone(), line: key.line, expr })
}

fn map_items(entries: &[(Key, Node)], line: u32) -> Result<Vec<Item>, Problem> {
    if entries.is_empty() {
        return Err(Problem::invalid(line, "detection", "empty mapping"));
    }
    entries
        .iter()
        .map(|(key, value)| {
            let mut parts = key.text.split('|');
            let field = parts.next().unwrap_or("").trim();
            let modifiers: Vec<&str> = parts.map(str::trim).collect();
            let field = (!field.is_empty()).then_some(field);
            build_item(field, &modifiers, value, key.line)
        })
        .collect()
}

/// A list: maps become alternatives, runs of scalars become one keyword item each.
fn list(items: &[Node], line: u32) -> Result<SearchExpr, Problem> {
    if items.is_empty() {
        return Err(Problem::invalid(line, "detection", "empty list"));
    }
    let mut alternatives = Vec::new();
    let mut keywords: Vec<Node> = Vec::new();
    for item in items {
        match &item.value {
            Value::Map(entries) => {
                flush_keywords(&mut keywords, &mut alternatives)?;
                alternatives.push(SearchExpr::Map(map_items(entries, item.line)?));
            }
            Value::Scalar(_) => keywords.push(item.clone()),
            Value::Seq(_) => {
                return Err(Problem::invalid(item.line, "detection", "nested lists are not allowed"));
            }
        }
    }
    flush_keywords(&mut keywords, &mut alternatives)?;
    Ok(if alternatives.len() == 1 { alternatives.remove(0) } else { SearchExpr::List(alternatives) })
}

fn flush_keywords(keywords: &mut Vec<Node>, out: &mut Vec<SearchExpr>) -> Result<(), Problem> {
    if keywords.is_empty() {
        return Ok(());
    }
    let line = keywords[0].line;
    let node = Node { line, value: Value::Seq(std::mem::take(keywords)) };
    out.push(SearchExpr::Item(build_item(None, &[], &node, line)?));
    Ok(())
}
