//! Binds rules to a pipeline: each rule is routed to the logsource entries that apply to it, its
//! Sigma field names become event paths and its `expand` placeholders become values. Both
//! evaluators (reference and compiled) work on this bound form, so they agree on routing,
//! mapping and rejections by construction and differ only in how they match.

use crate::ast::{
    Cond, Item, Modifier, NumOp, Pattern, RefKind, RegexMatch, Rule, SearchExpr, TimePart, ValueMatch,
};
use crate::error::{ErrorKind, Problem, Rejection};
use crate::parse::modifiers::strings;
use crate::parse::value::{expand_template, parse_template};
use crate::pipeline::{Entry, Pipeline};
use crate::ruleset::RuleSet;
use crate::yaml::{Scalar, ScalarKind};

/// Where an item reads its values.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Every text field of the event (keyword search).
    Keyword,
    /// The event paths a Sigma field maps to (any of them).
    Paths(Vec<String>),
}

/// A value matcher with field references resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundValue {
    /// Wildcard pattern.
    Str {
        /// The pattern.
        pattern: Pattern,
        /// Case-sensitive.
        cased: bool,
    },
    /// Regular expression.
    Regex(RegexMatch),
    /// IP network.
    Cidr(ipnet::IpNet),
    /// Numeric comparison.
    Num(NumOp, f64),
    /// Presence test.
    Exists(bool),
    /// Absence test.
    Null,
    /// Comparison with other event paths.
    FieldRef {
        /// The other field's paths.
        paths: Vec<String>,
        /// How to compare.
        kind: RefKind,
        /// Case-sensitive.
        cased: bool,
    },
    /// Date part equality.
    Time(TimePart, i64),
}

/// A detection item bound to event paths.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundItem {
    /// The Sigma field name (`None` for keywords).
    pub field: Option<String>,
    /// Where the values are read.
    pub target: Target,
    /// Values linked with AND.
    pub all: bool,
    /// Negated (`neq`).
    pub negate: bool,
    /// The values.
    pub values: Vec<BoundValue>,
}

/// A search identifier bound to event paths.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundExpr {
    /// All items.
    Map(Vec<BoundItem>),
    /// Any alternative.
    List(Vec<BoundExpr>),
    /// One item.
    Item(BoundItem),
}

/// A rule bound to one pipeline logsource entry.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundRule {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    /// Index into [`Pipeline::entries`].
    pub entry: usize,
    /// The search identifiers, in the rule's order.
    pub searches: Vec<BoundExpr>,
    /// The rule's condition.
    pub condition: Cond,
}

/// Binds every rule of `set`; a rule that cannot be routed or bound is rejected whole.
pub fn bind(set: &RuleSet, pipeline: &Pipeline) -> (Vec<BoundRule>, Vec<Rejection>) {
    let mut bound = Vec::new();
    let mut rejections = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        match bind_rule(index, rule, pipeline) {
            Ok(variants) => bound.extend(variants),
            Err(problem) => rejections.push(
                Rejection::new(rule.source.file.as_ref(), problem)
                    .with_rule(rule.meta.id.as_deref(), Some(&rule.meta.title)),
            ),
        }
    }
    (bound, rejections)
}

fn bind_rule(index: usize, rule: &Rule, pipeline: &Pipeline) -> Result<Vec<BoundRule>, Problem> {
    let routes = pipeline.routes(&rule.logsource);
    if routes.is_empty() {
        return Err(Problem::new(rule.source.line, ErrorKind::NoRoute(rule.logsource.to_string())));
    }
    let mut out = Vec::with_capacity(routes.len());
    for entry_index in routes {
        let entry = &pipeline.entries()[entry_index];
        let searches = rule
            .detection
            .searches
            .iter()
            .map(|s| bind_expr(&s.expr, entry, pipeline))
            .collect::<Result<_, _>>()?;
        out.push(BoundRule {
            rule: index,
            entry: entry_index,
            searches,
            condition: rule.detection.condition.clone(),
        });
    }
    Ok(out)
}

fn bind_expr(expr: &SearchExpr, entry: &Entry, pipeline: &Pipeline) -> Result<BoundExpr, Problem> {
    Ok(match expr {
        SearchExpr::Map(items) => {
            BoundExpr::Map(items.iter().map(|i| bind_item(i, entry, pipeline)).collect::<Result<_, _>>()?)
        }
        SearchExpr::List(alts) => {
            BoundExpr::List(alts.iter().map(|a| bind_expr(a, entry, pipeline)).collect::<Result<_, _>>()?)
        }
        SearchExpr::Item(item) => BoundExpr::Item(bind_item(item, entry, pipeline)?),
    })
}

fn bind_item(item: &Item, entry: &Entry, pipeline: &Pipeline) -> Result<BoundItem, Problem> {
    let at = |kind| Problem::new(item.line, kind);
    let target = match &item.field {
        None => Target::Keyword,
        Some(f) => Target::Paths(entry.paths(f).map_err(at)?),
    };
    let mut values = Vec::with_capacity(item.values.len());
    for value in &item.values {
        bind_value(value, item, entry, pipeline, &mut values)?;
    }
    Ok(BoundItem { field: item.field.clone(), target, all: item.all, negate: item.negate, values })
}

fn bind_value(
    value: &ValueMatch,
    item: &Item,
    entry: &Entry,
    pipeline: &Pipeline,
    out: &mut Vec<BoundValue>,
) -> Result<(), Problem> {
    let bound = match value {
        ValueMatch::Str { pattern, cased } => BoundValue::Str { pattern: pattern.clone(), cased: *cased },
        ValueMatch::Regex(r) => BoundValue::Regex(r.clone()),
        ValueMatch::Cidr(n) => BoundValue::Cidr(*n),
        ValueMatch::Num(op, n) => BoundValue::Num(*op, *n),
        ValueMatch::Exists(b) => BoundValue::Exists(*b),
        ValueMatch::Null => BoundValue::Null,
        ValueMatch::Time(p, v) => BoundValue::Time(*p, *v),
        ValueMatch::FieldRef { field, kind, cased } => {
            let paths = entry.paths(field).map_err(|k| Problem::new(item.line, k))?;
            BoundValue::FieldRef { paths, kind: *kind, cased: *cased }
        }
        ValueMatch::Expand(expand) => {
            let parts =
                parse_template(&expand.template).map_err(|r| Problem::modifier(item.line, "expand", r))?;
            let texts = expand_template(&parts, |name| pipeline.placeholder(name))
                .map_err(|name| Problem::new(item.line, ErrorKind::MissingPlaceholder(name)))?;
            let cased = expand.modifiers.contains(&Modifier::Cased);
            for text in texts {
                let scalar = Scalar { text, kind: ScalarKind::Str };
                for v in strings(&scalar, &expand.modifiers, item.field.is_none(), cased, item.line)? {
                    bind_value(&v, item, entry, pipeline, out)?;
                }
            }
            return Ok(());
        }
    };
    out.push(bound);
    Ok(())
}
