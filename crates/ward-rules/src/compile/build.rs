//! Builds compiled trees from bound rules: interns event paths into slots, registers substring
//! literals as automaton needles, groups exact values into hash sets and orders evaluation.

use std::collections::{HashMap, HashSet};

use super::ctx::SlotId;
use super::matcher::StrTest;
use super::plan::{Leaf, Node, Source, Test, Value};
use crate::ast::{Cond, Piece};
use crate::bind::{BoundExpr, BoundItem, BoundRule, BoundValue, Target};
use crate::semantics::fold;

/// Fewest exact values worth a hash set.
const SET_THRESHOLD: usize = 4;

/// Interned paths and substring needles shared by every entry of an engine.
#[derive(Debug, Default)]
pub struct Registry {
    /// Slot → path.
    pub paths: Vec<String>,
    slot_of: HashMap<String, SlotId>,
    /// Needle → (slot, folded literal, entry).
    pub needles: Vec<(SlotId, String, usize)>,
    needle_of: HashMap<(usize, SlotId, String), u32>,
}

impl Registry {
    /// The slot of a path.
    pub fn slot(&mut self, path: &str) -> SlotId {
        if let Some(&s) = self.slot_of.get(path) {
            return s;
        }
        let s = SlotId::try_from(self.paths.len()).unwrap_or(SlotId::MAX);
        self.paths.push(path.to_owned());
        self.slot_of.insert(path.to_owned(), s);
        s
    }

    /// The needle id of a folded literal on a slot, within one entry.
    pub fn needle(&mut self, entry: usize, slot: SlotId, literal: &str) -> u32 {
        let key = (entry, slot, literal.to_owned());
        if let Some(&n) = self.needle_of.get(&key) {
            return n;
        }
        let n = u32::try_from(self.needles.len()).unwrap_or(u32::MAX);
        self.needles.push((slot, literal.to_owned(), entry));
        self.needle_of.insert(key, n);
        n
    }
}

/// Compiles a bound rule for entry `entry`.
pub fn compile_rule(rule: &BoundRule, entry: usize, reg: &mut Registry) -> Node {
    let mut node = cond(&rule.condition, rule, entry, reg);
    node.order();
    node
}

fn cond(c: &Cond, rule: &BoundRule, entry: usize, reg: &mut Registry) -> Node {
    match c {
        Cond::And(v) => Node::And(v.iter().map(|x| cond(x, rule, entry, reg)).collect()),
        Cond::Or(v) => Node::Or(v.iter().map(|x| cond(x, rule, entry, reg)).collect()),
        Cond::Not(x) => Node::Not(Box::new(cond(x, rule, entry, reg))),
        Cond::Search(i) => expr(&rule.searches[*i], entry, reg),
        Cond::AtLeast(n, v) => {
            Node::AtLeast(*n, v.iter().map(|&i| expr(&rule.searches[i], entry, reg)).collect())
        }
    }
}

fn expr(e: &BoundExpr, entry: usize, reg: &mut Registry) -> Node {
    match e {
        BoundExpr::Map(items) => {
            Node::And(items.iter().map(|i| Node::Leaf(Box::new(leaf(i, entry, reg)))).collect())
        }
        BoundExpr::List(alts) => Node::Or(alts.iter().map(|a| expr(a, entry, reg)).collect()),
        BoundExpr::Item(i) => Node::Leaf(Box::new(leaf(i, entry, reg))),
    }
}

fn leaf(item: &BoundItem, entry: usize, reg: &mut Registry) -> Leaf {
    let source = match &item.target {
        Target::Keyword => Source::Keyword,
        Target::Paths(paths) => Source::Slots(paths.iter().map(|p| reg.slot(p)).collect()),
    };
    let single_slot = match &source {
        Source::Slots(s) if s.len() == 1 => Some(s[0]),
        _ => None,
    };
    let mut exact = HashSet::new();
    let exact_values = item.values.iter().filter(|v| exact_literal(v).is_some()).count();
    let use_set = !item.all && exact_values >= SET_THRESHOLD && !matches!(source, Source::Keyword);
    let contains_values = item.values.iter().filter(|v| contains_literal(v).is_some()).count();
    let use_automaton = !item.all && single_slot.is_none() && contains_values >= 2;
    let mut literals = Vec::new();
    let mut values = Vec::with_capacity(item.values.len());
    for v in &item.values {
        if use_set && let Some(lit) = exact_literal(v) {
            exact.insert(fold(lit).into_boxed_str());
            continue;
        }
        if use_automaton && let Some(lit) = contains_literal(v) {
            literals.push(fold(lit));
            continue;
        }
        values.push(value(v, single_slot, entry, reg));
    }
    if !literals.is_empty() {
        any_contains(literals, &mut values);
    }
    let exact = use_set.then_some(exact);
    let slots = match &source {
        Source::Slots(s) => s.len() as u32,
        Source::Keyword => 40,
    };
    let cost = slots * (values.iter().map(value_cost).sum::<u32>() + u32::from(exact.is_some()) * 2).max(1);
    Leaf { source, all: item.all, negate: item.negate, exact, values, cost }
}

/// One automaton over several folded substrings, or separate substring tests should the
/// automaton exceed its size limits.
fn any_contains(literals: Vec<String>, values: &mut Vec<Value>) {
    let kind = Some(aho_corasick::AhoCorasickKind::ContiguousNFA);
    match aho_corasick::AhoCorasick::builder().kind(kind).build(&literals) {
        Ok(ac) => values.insert(0, Value::Elem(Test::AnyContains(ac))),
        Err(_) => values
            .extend(literals.into_iter().map(|l| Value::Elem(Test::Folded(StrTest::Contains(l.into()))))),
    }
}

/// The literal of a case-insensitive substring value (`*literal*`).
fn contains_literal(v: &BoundValue) -> Option<&str> {
    match v {
        BoundValue::Str { pattern, cased: false } => match pattern.pieces.as_slice() {
            [Piece::Star, Piece::Lit(lit), Piece::Star] if !lit.is_empty() => Some(lit),
            _ => None,
        },
        _ => None,
    }
}

/// The literal of a case-insensitive exact-match value.
fn exact_literal(v: &BoundValue) -> Option<&str> {
    match v {
        BoundValue::Str { pattern, cased: false } => pattern.as_literal(),
        _ => None,
    }
}

fn value(v: &BoundValue, single_slot: Option<SlotId>, entry: usize, reg: &mut Registry) -> Value {
    Value::Elem(match v {
        BoundValue::Exists(want) => return Value::Presence(*want),
        BoundValue::Null => return Value::Presence(false),
        BoundValue::Str { pattern, cased: false } => match (pattern.pieces.as_slice(), single_slot) {
            ([Piece::Star, Piece::Lit(lit), Piece::Star], Some(slot)) if !lit.is_empty() => {
                Test::Bit(reg.needle(entry, slot, &fold(lit)))
            }
            _ => Test::Folded(StrTest::new(pattern, false)),
        },
        BoundValue::Str { pattern, cased: true } => Test::Cased(StrTest::new(pattern, true)),
        BoundValue::Regex(r) => Test::Regex(r.regex.clone()),
        BoundValue::Cidr(net) => Test::Cidr(*net),
        BoundValue::Num(op, n) => Test::Num(*op, *n),
        BoundValue::Time(part, n) => Test::Time(*part, *n),
        BoundValue::FieldRef { paths, kind, cased } => {
            Test::FieldRef(paths.iter().map(|p| reg.slot(p)).collect(), *kind, *cased)
        }
    })
}

fn value_cost(v: &Value) -> u32 {
    match v {
        Value::Presence(_) | Value::Elem(Test::Bit(_)) => 1,
        Value::Elem(Test::Folded(t) | Test::Cased(t)) => t.cost(),
        Value::Elem(Test::AnyContains(_)) => 6,
        Value::Elem(Test::Cidr(_) | Test::Num(..) | Test::Time(..)) => 4,
        Value::Elem(Test::FieldRef(..)) => 20,
        Value::Elem(Test::Regex(_)) => 60,
    }
}
