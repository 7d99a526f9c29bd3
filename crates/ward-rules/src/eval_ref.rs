//! The reference evaluator: a direct, unoptimized reading of the bound rules — every routing
//! constraint checked, every condition walked, every pattern matched by plain backtracking on
//! folded text. It is the oracle the compiled [`crate::Engine`] is property-tested against, and it
//! explains matches (which fields matched) for alerts.

use ward_model::{Event, FieldValue};

use crate::ast::{Cond, Piece, RefKind, WINDASH};
use crate::bind::{BoundExpr, BoundItem, BoundRule, BoundValue, Target, bind};
use crate::error::Rejection;
use crate::pipeline::{Entry, Pipeline};
use crate::ruleset::RuleSet;
use crate::semantics::{
    as_ip, as_number, element_text, fold, for_each_element, skipped_by_keywords, time_part,
};

/// Evaluates rules the plain way.
#[derive(Debug)]
pub struct ReferenceEngine {
    bound: Vec<BoundRule>,
    entries: Vec<Entry>,
}

impl ReferenceEngine {
    /// Binds `set` to `pipeline`; rules that cannot be bound are returned as rejections.
    pub fn new(set: &RuleSet, pipeline: &Pipeline) -> (Self, Vec<Rejection>) {
        let (bound, rejections) = bind(set, pipeline);
        (Self { bound, entries: pipeline.entries().to_vec() }, rejections)
    }

    /// Indices (into [`RuleSet::rules`]) of the rules that match `event`, ascending.
    pub fn matching_rules(&self, event: &Event) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .bound
            .iter()
            .filter(|b| entry_applies(&self.entries[b.entry], event) && rule_holds(b, event))
            .map(|b| b.rule)
            .collect();
        out.dedup();
        out
    }
}

/// Whether an event meets every constraint of a pipeline entry.
pub fn entry_applies(entry: &Entry, event: &Event) -> bool {
    entry.conditions.iter().all(|c| {
        let Some(value) = event.lookup(&c.path) else { return false };
        let mut buf = String::new();
        for_each_element(value, &mut |e| {
            element_text(e, &mut buf) && c.values.iter().any(|v| fold(v) == fold(&buf))
        })
    })
}

/// Whether a bound rule's condition holds for an event.
pub fn rule_holds(rule: &BoundRule, event: &Event) -> bool {
    cond_holds(&rule.condition, rule, event)
}

fn cond_holds(cond: &Cond, rule: &BoundRule, event: &Event) -> bool {
    match cond {
        Cond::And(c) => c.iter().all(|x| cond_holds(x, rule, event)),
        Cond::Or(c) => c.iter().any(|x| cond_holds(x, rule, event)),
        Cond::Not(c) => !cond_holds(c, rule, event),
        Cond::Search(i) => expr_holds(&rule.searches[*i], event),
        Cond::AtLeast(n, v) => v.iter().filter(|&&i| expr_holds(&rule.searches[i], event)).count() >= *n,
    }
}

fn expr_holds(expr: &BoundExpr, event: &Event) -> bool {
    match expr {
        BoundExpr::Map(items) => items.iter().all(|i| item_holds(i, event)),
        BoundExpr::List(alts) => alts.iter().any(|a| expr_holds(a, event)),
        BoundExpr::Item(item) => item_holds(item, event),
    }
}

/// The scalar elements an item reads, and whether any of its paths is present.
fn elements<'e>(target: &Target, event: &'e Event) -> (Vec<&'e FieldValue>, bool) {
    let mut out = Vec::new();
    let mut present = false;
    match target {
        Target::Keyword => {
            for (path, value) in event.fields().iter() {
                if !skipped_by_keywords(path) {
                    push_elements(value, &mut out);
                }
            }
            present = true;
        }
        Target::Paths(paths) => {
            for path in paths {
                if let Some(value) = event.lookup(path) {
                    present = true;
                    push_elements(value, &mut out);
                }
            }
        }
    }
    (out, present)
}

fn push_elements<'e>(value: &'e FieldValue, out: &mut Vec<&'e FieldValue>) {
    match value {
        FieldValue::List(items) => out.extend(items.iter().filter(|i| !matches!(i, FieldValue::List(_)))),
        other => out.push(other),
    }
}

/// Whether an item holds.
pub fn item_holds(item: &BoundItem, event: &Event) -> bool {
    let (elements, present) = elements(&item.target, event);
    let check = |v: &BoundValue| value_holds(v, &elements, present, event);
    let result = if item.all { item.values.iter().all(check) } else { item.values.iter().any(check) };
    if item.negate { present && !result } else { result }
}

fn value_holds(value: &BoundValue, elements: &[&FieldValue], present: bool, event: &Event) -> bool {
    match value {
        BoundValue::Exists(want) => present == *want,
        BoundValue::Null => !present,
        BoundValue::Str { pattern, cased } => {
            let pieces = char_pieces(&pattern.pieces, *cased);
            elements.iter().any(|e| {
                let mut text = String::new();
                element_text(e, &mut text) && glob(&pieces, &prepare(&text, *cased))
            })
        }
        BoundValue::Regex(r) => elements.iter().any(|e| {
            let mut text = String::new();
            element_text(e, &mut text) && r.regex.is_match(&text)
        }),
        BoundValue::Cidr(net) => elements.iter().any(|e| as_ip(e).is_some_and(|ip| net.contains(&ip))),
        BoundValue::Num(op, n) => elements.iter().any(|e| as_number(e).is_some_and(|x| op.holds(x, *n))),
        BoundValue::Time(part, n) => elements.iter().any(|e| time_part(e, *part) == Some(*n)),
        BoundValue::FieldRef { paths, kind, cased } => {
            let (others, _) = elements_of_paths(paths, event);
            elements.iter().any(|e| others.iter().any(|o| refers(e, o, *kind, *cased)))
        }
    }
}

fn elements_of_paths<'e>(paths: &[String], event: &'e Event) -> (Vec<&'e FieldValue>, bool) {
    elements(&Target::Paths(paths.to_vec()), event)
}

fn refers(a: &FieldValue, b: &FieldValue, kind: RefKind, cased: bool) -> bool {
    let (mut x, mut y) = (String::new(), String::new());
    if !element_text(a, &mut x) || !element_text(b, &mut y) {
        return false;
    }
    let (x, y) = if cased { (x, y) } else { (fold(&x), fold(&y)) };
    match kind {
        RefKind::Equals => x == y,
        RefKind::Contains => x.contains(&y),
        RefKind::StartsWith => x.starts_with(&y),
        RefKind::EndsWith => x.ends_with(&y),
    }
}

fn prepare(text: &str, cased: bool) -> Vec<char> {
    if cased { text.chars().collect() } else { fold(text).chars().collect() }
}

/// A pattern piece with its literal as (folded) characters.
enum CharPiece {
    Lit(Vec<char>),
    Star,
    One,
    Dash,
}

fn char_pieces(pieces: &[Piece], cased: bool) -> Vec<CharPiece> {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(l) if cased => CharPiece::Lit(l.chars().collect()),
            Piece::Lit(l) => CharPiece::Lit(fold(l).chars().collect()),
            Piece::Star => CharPiece::Star,
            Piece::One => CharPiece::One,
            Piece::Dash => CharPiece::Dash,
        })
        .collect()
}

/// Plain backtracking wildcard matching over characters.
fn glob(pieces: &[CharPiece], text: &[char]) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((CharPiece::Star, rest)) => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        Some((CharPiece::One, rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((CharPiece::Dash, rest)) => {
            text.first().is_some_and(|c| WINDASH.contains(c)) && glob(rest, &text[1..])
        }
        Some((CharPiece::Lit(lit), rest)) => {
            text.len() >= lit.len() && text[..lit.len()] == lit[..] && glob(rest, &text[lit.len()..])
        }
    }
}

/// The Sigma fields that took part in a match: for each search that holds (outside any `not`),
/// its non-negated field items that hold, with the first path present and its value.
pub fn explain(rule: &BoundRule, event: &Event) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    collect(&rule.condition, rule, event, &mut out);
    out.dedup();
    out
}

fn collect(cond: &Cond, rule: &BoundRule, event: &Event, out: &mut Vec<(String, String, String)>) {
    match cond {
        Cond::And(c) | Cond::Or(c) => c.iter().for_each(|x| collect(x, rule, event, out)),
        Cond::Not(_) => {}
        Cond::Search(i) => collect_expr(&rule.searches[*i], event, out),
        Cond::AtLeast(_, v) => v.iter().for_each(|&i| collect_expr(&rule.searches[i], event, out)),
    }
}

fn collect_expr(expr: &BoundExpr, event: &Event, out: &mut Vec<(String, String, String)>) {
    if !expr_holds(expr, event) {
        return;
    }
    let items: Vec<&BoundItem> = match expr {
        BoundExpr::Map(items) => items.iter().collect(),
        BoundExpr::Item(item) => vec![item],
        BoundExpr::List(alts) => return alts.iter().for_each(|a| collect_expr(a, event, out)),
    };
    for item in items {
        let (Some(field), Target::Paths(paths), false) = (&item.field, &item.target, item.negate) else {
            continue;
        };
        if !item_holds(item, event) {
            continue;
        }
        if let Some((path, value)) = paths.iter().find_map(|p| event.lookup(p).map(|v| (p, v))) {
            out.push((field.clone(), path.clone(), value.to_string()));
        }
    }
}
