//! Correlation documents (`correlation:` section).

use std::time::Duration;

use super::meta::{optional_text, parse_meta, text_list};
use crate::ast::{Alias, CmpOp, Correlation, CorrelationCondition, CorrelationType, SourceRef};
use crate::error::{ErrorKind, Problem};
use crate::yaml::{Node, ScalarKind, Value};

const KEYS: [&str; 7] = ["type", "rules", "group-by", "timespan", "condition", "aliases", "generate"];

/// Parses a correlation document.
///
/// # Errors
/// A [`Problem`] naming the attribute (`correlation.timespan`, …) and what is wrong with it.
pub fn parse_correlation(doc: &Node, source: SourceRef) -> Result<Correlation, Problem> {
    let meta = parse_meta(doc)?;
    let node =
        doc.get("correlation").ok_or_else(|| Problem::new(doc.line, ErrorKind::Missing("correlation")))?;
    let Some(entries) = node.as_map() else {
        return Err(Problem::invalid(
            node.line,
            "correlation",
            format!("expected a mapping, found {}", node.kind_name()),
        ));
    };
    if let Some((key, _)) = entries.iter().find(|(k, _)| !KEYS.contains(&k.text.as_str())) {
        return Err(Problem::invalid(key.line, format!("correlation.{}", key.text), "unknown attribute"));
    }
    let type_text = optional_text(node, "type")?
        .ok_or_else(|| Problem::new(node.line, ErrorKind::Missing("correlation.type")))?;
    let kind = CorrelationType::from_name(&type_text).ok_or_else(|| {
        let reason = format!("`{type_text}` is not a correlation type");
        Problem::invalid(line(node, "type"), "correlation.type", reason)
    })?;
    let rules = text_list(node, "rules")?;
    if rules.is_empty() {
        return Err(Problem::new(node.line, ErrorKind::Missing("correlation.rules")));
    }
    let timespan_text = optional_text(node, "timespan")?
        .ok_or_else(|| Problem::new(node.line, ErrorKind::Missing("correlation.timespan")))?;
    let timespan = parse_timespan(&timespan_text).ok_or_else(|| {
        Problem::invalid(
            line(node, "timespan"),
            "correlation.timespan",
            format!("`{timespan_text}` is not a number followed by s, m, h, d, w or y"),
        )
    })?;
    let condition = condition(node, kind)?;
    Ok(Correlation {
        meta,
        kind,
        rules,
        group_by: text_list(node, "group-by")?,
        timespan,
        timespan_text,
        condition,
        aliases: aliases(node)?,
        generate: generate(node)?,
        source,
    })
}

fn line(node: &Node, key: &str) -> u32 {
    node.get(key).map_or(node.line, |n| n.line)
}

/// Parses `30s`, `5m`, `1h`, `7d`, `2w`, `1y`.
pub fn parse_timespan(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: u64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 604_800,
        'y' => 31_536_000,
        _ => return None,
    };
    if number == 0 {
        return None;
    }
    Some(Duration::from_secs(number.checked_mul(seconds)?))
}

fn condition(node: &Node, kind: CorrelationType) -> Result<Option<CorrelationCondition>, Problem> {
    let Some(cond) = node.get("condition") else {
        if kind.needs_condition() {
            return Err(Problem::new(node.line, ErrorKind::Missing("correlation.condition")));
        }
        return Ok(None);
    };
    let Some(entries) = cond.as_map() else {
        return Err(Problem::invalid(
            cond.line,
            "correlation.condition",
            format!("expected a mapping, found {}", cond.kind_name()),
        ));
    };
    let mut out = CorrelationCondition::default();
    for (key, value) in entries {
        match key.text.as_str() {
            "field" => out.field = text_list(cond, "field")?,
            "percentile" => out.percentile = Some(number(value, "correlation.condition.percentile")?),
            op => {
                let op = CmpOp::from_name(op).ok_or_else(|| {
                    Problem::invalid(
                        key.line,
                        "correlation.condition",
                        format!("`{op}` is not gt, gte, lt, lte, eq, neq or field"),
                    )
                })?;
                out.bounds.push((op, number(value, "correlation.condition")?));
            }
        }
    }
    if out.bounds.is_empty() {
        return Err(Problem::invalid(
            cond.line,
            "correlation.condition",
            "needs at least one of gt, gte, lt, lte, eq, neq",
        ));
    }
    if kind.needs_field() && out.field.is_empty() {
        return Err(Problem::new(cond.line, ErrorKind::Missing("correlation.condition.field")));
    }
    Ok(Some(out))
}

fn number(node: &Node, field: &str) -> Result<f64, Problem> {
    match node.as_scalar().map(|s| s.kind) {
        Some(ScalarKind::Int(i)) => Ok(i as f64),
        Some(ScalarKind::Float(f)) if f.is_finite() => Ok(f),
        _ => {
            Err(Problem::invalid(node.line, field, format!("expected a number, found {}", node.kind_name())))
        }
    }
}

fn aliases(node: &Node) -> Result<Vec<Alias>, Problem> {
    let Some(aliases) = node.get("aliases") else { return Ok(Vec::new()) };
    let Some(entries) = aliases.as_map() else {
        return Err(Problem::invalid(aliases.line, "correlation.aliases", "expected a mapping"));
    };
    entries
        .iter()
        .map(|(name, per_rule)| {
            let Some(fields) = per_rule.as_map() else {
                return Err(Problem::invalid(
                    per_rule.line,
                    "correlation.aliases",
                    "each alias maps rule names to fields",
                ));
            };
            let fields = fields
                .iter()
                .map(|(rule, field)| {
                    let text = field.as_text().ok_or_else(|| {
                        Problem::invalid(
                            field.line,
                            "correlation.aliases",
                            format!("expected a field name, found {}", field.kind_name()),
                        )
                    })?;
                    Ok((rule.text.clone(), text.to_owned()))
                })
                .collect::<Result<_, Problem>>()?;
            Ok(Alias { name: name.text.clone(), fields })
        })
        .collect()
}

fn generate(node: &Node) -> Result<bool, Problem> {
    match node.get("generate") {
        None => Ok(false),
        Some(n) => match &n.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Bool(b) => Ok(b),
                _ => Err(Problem::invalid(n.line, "correlation.generate", "expected true or false")),
            },
            _ => Err(Problem::invalid(n.line, "correlation.generate", "expected true or false")),
        },
    }
}
