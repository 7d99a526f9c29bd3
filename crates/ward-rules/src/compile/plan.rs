//! The compiled form of one bound rule: a boolean tree whose `and` / `or` children are ordered
//! cheapest first, over leaves that test interned event slots with precompiled matchers
//! (hash sets for exact values, automaton bits for substrings, anchored checks, regexes).

use std::collections::HashSet;

use ward_model::FieldValue;

use super::ctx::{Ctx, SlotId};
use super::matcher::StrTest;
use crate::ast::{NumOp, RefKind, TimePart};
use crate::semantics::{
    as_ip, as_number, element_text, fold_into, for_each_element, skipped_by_keywords, time_part,
};

/// A test on one element of a field.
#[derive(Clone, Debug)]
pub enum Test {
    /// Case-insensitive substring, answered by the entry's automaton.
    Bit(u32),
    /// Case-insensitive string test on folded text.
    Folded(StrTest),
    /// Any of several case-insensitive substrings (keyword lists), one automaton scan.
    AnyContains(aho_corasick::AhoCorasick),
    /// Case-sensitive string test on text as logged.
    Cased(StrTest),
    /// Regular expression on text as logged.
    Regex(regex::Regex),
    /// IP network.
    Cidr(ipnet::IpNet),
    /// Numeric comparison.
    Num(NumOp, f64),
    /// Date part.
    Time(TimePart, i64),
    /// Comparison with other slots.
    FieldRef(Vec<SlotId>, RefKind, bool),
}

/// One value of a leaf.
#[derive(Clone, Debug)]
pub enum Value {
    /// Presence (`true`) or absence (`false`) of the field.
    Presence(bool),
    /// An element test.
    Elem(Test),
}

/// Where a leaf reads.
#[derive(Clone, Debug)]
pub enum Source {
    /// Every text field (keywords).
    Keyword,
    /// Any of these slots.
    Slots(Vec<SlotId>),
}

/// A compiled detection item.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// Where it reads.
    pub source: Source,
    /// Values linked with AND.
    pub all: bool,
    /// Negated.
    pub negate: bool,
    /// Folded exact values tested with one hash lookup (only when values are OR-ed).
    pub exact: Option<HashSet<Box<str>>>,
    /// The other values.
    pub values: Vec<Value>,
    /// Estimated cost.
    pub cost: u32,
}

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum Node {
    /// All children (cheapest first).
    And(Vec<Node>),
    /// Any child (cheapest first).
    Or(Vec<Node>),
    /// Negation.
    Not(Box<Node>),
    /// At least `n` children.
    AtLeast(usize, Vec<Node>),
    /// A leaf.
    Leaf(Box<Leaf>),
}

impl Node {
    /// Estimated cost of evaluating the node.
    pub fn cost(&self) -> u32 {
        match self {
            Self::And(c) | Self::Or(c) | Self::AtLeast(_, c) => {
                c.iter().map(Self::cost).fold(0, u32::saturating_add)
            }
            Self::Not(c) => c.cost(),
            Self::Leaf(l) => l.cost,
        }
    }

    /// Orders `and` / `or` children cheapest first.
    pub fn order(&mut self) {
        match self {
            Self::And(c) | Self::Or(c) => {
                c.iter_mut().for_each(Self::order);
                c.sort_by_key(Self::cost);
            }
            Self::AtLeast(_, c) => c.iter_mut().for_each(Self::order),
            Self::Not(c) => c.order(),
            Self::Leaf(_) => {}
        }
    }

    /// Evaluates the node.
    pub fn eval(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        match self {
            Self::And(c) => c.iter().all(|n| n.eval(ctx)),
            Self::Or(c) => c.iter().any(|n| n.eval(ctx)),
            Self::Not(c) => !c.eval(ctx),
            Self::AtLeast(n, c) => c.iter().filter(|x| x.eval(ctx)).take(*n).count() >= *n,
            Self::Leaf(l) => l.eval(ctx),
        }
    }
}

impl Leaf {
    fn eval(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        let (present, result) = match &self.source {
            Source::Keyword => (true, self.eval_keyword(ctx)),
            Source::Slots(slots) => {
                let present = slots.iter().any(|&s| ctx.value(s).is_some());
                (present, present && self.eval_slots(slots, ctx) || !present && self.absent_result())
            }
        };
        if self.negate { present && !result } else { result }
    }

    /// The result when no slot is present: only presence values can hold.
    fn absent_result(&self) -> bool {
        let check = |v: &Value| matches!(v, Value::Presence(false));
        if self.all {
            self.exact.is_none() && self.values.iter().all(check)
        } else {
            self.values.iter().any(check)
        }
    }

    fn eval_slots(&self, slots: &[SlotId], ctx: &mut Ctx<'_, '_>) -> bool {
        if let Some(set) = &self.exact
            && slots.iter().any(|&s| slot_in_set(s, set, ctx))
        {
            return true;
        }
        let check = |v: &Value, ctx: &mut Ctx<'_, '_>| match v {
            Value::Presence(want) => *want,
            Value::Elem(test) => slots.iter().any(|&s| slot_passes(s, test, ctx)),
        };
        if self.all {
            self.values.iter().all(|v| check(v, ctx))
        } else {
            self.values.iter().any(|v| check(v, ctx))
        }
    }

    fn eval_keyword(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        let check = |v: &Value, ctx: &mut Ctx<'_, '_>| match v {
            Value::Presence(want) => *want,
            Value::Elem(test) => keyword_passes(test, ctx),
        };
        if self.all {
            self.values.iter().all(|v| check(v, ctx))
        } else {
            self.values.iter().any(|v| check(v, ctx))
        }
    }
}

fn slot_in_set(slot: SlotId, set: &HashSet<Box<str>>, ctx: &mut Ctx<'_, '_>) -> bool {
    if ctx.prepare(slot) {
        return set.contains(ctx.folded(slot));
    }
    let Some(value) = ctx.value(slot) else { return false };
    let s = &mut *ctx.s;
    for_each_element(value, &mut |e| {
        element_text(e, &mut s.tmp) && {
            s.tmp_folded.clear();
            fold_into(&s.tmp, &mut s.tmp_folded);
            set.contains(s.tmp_folded.as_str())
        }
    })
}

/// Whether any element of a slot passes a test.
fn slot_passes(slot: SlotId, test: &Test, ctx: &mut Ctx<'_, '_>) -> bool {
    if let Test::Bit(needle) = test {
        return ctx.hit(*needle);
    }
    if let Test::FieldRef(others, kind, cased) = test {
        return field_ref(slot, others, *kind, *cased, ctx);
    }
    if ctx.prepare(slot) {
        return match test {
            Test::Folded(t) => t.matches(ctx.folded(slot)),
            Test::AnyContains(ac) => ac.is_match(ctx.folded(slot)),
            Test::Cased(t) => t.matches(ctx.raw(slot)),
            Test::Regex(r) => r.is_match(ctx.raw(slot)),
            other => ctx.value(slot).is_some_and(|v| element_passes(other, v)),
        };
    }
    let Some(value) = ctx.value(slot) else { return false };
    let s = &mut *ctx.s;
    for_each_element(value, &mut |e| text_or_element(test, e, &mut s.tmp, &mut s.tmp_folded))
}

/// A test on one element, rendering its text into the buffers when the test needs text.
fn text_or_element(test: &Test, e: &FieldValue, tmp: &mut String, folded: &mut String) -> bool {
    match test {
        Test::Folded(t) => {
            element_text(e, tmp) && {
                folded.clear();
                fold_into(tmp, folded);
                t.matches(folded)
            }
        }
        Test::AnyContains(ac) => {
            element_text(e, tmp) && {
                folded.clear();
                fold_into(tmp, folded);
                ac.is_match(folded.as_str())
            }
        }
        Test::Cased(t) => element_text(e, tmp) && t.matches(tmp),
        Test::Regex(r) => element_text(e, tmp) && r.is_match(tmp),
        other => element_passes(other, e),
    }
}

/// Tests that read the element itself rather than its text.
fn element_passes(test: &Test, e: &FieldValue) -> bool {
    match test {
        Test::Cidr(net) => as_ip(e).is_some_and(|ip| net.contains(&ip)),
        Test::Num(op, n) => as_number(e).is_some_and(|x| op.holds(x, *n)),
        Test::Time(part, n) => time_part(e, *part) == Some(*n),
        _ => false,
    }
}

fn keyword_passes(test: &Test, ctx: &mut Ctx<'_, '_>) -> bool {
    if matches!(test, Test::Cidr(_) | Test::Num(..) | Test::Time(..) | Test::FieldRef(..) | Test::Bit(_)) {
        let event = ctx.event;
        let s = &mut *ctx.s;
        return event.fields().iter().any(|(path, value)| {
            !skipped_by_keywords(path)
                && for_each_element(value, &mut |e| text_or_element(test, e, &mut s.tmp, &mut s.tmp_folded))
        });
    }
    ctx.keywords();
    let s = &*ctx.s;
    if s.kw_ranges.is_empty() {
        return false;
    }
    match test {
        Test::Folded(StrTest::Contains(lit)) => {
            memchr::memmem::find(s.kw_folded.as_bytes(), lit.as_bytes()).is_some()
        }
        Test::AnyContains(ac) => ac.is_match(s.kw_folded.as_str()),
        _ => s.kw_ranges.iter().any(|r| {
            let folded = &s.kw_folded[r.folded.0 as usize..r.folded.1 as usize];
            let raw = &s.kw_raw[r.raw.0 as usize..r.raw.1 as usize];
            match test {
                Test::Folded(t) => t.matches(folded),
                Test::AnyContains(ac) => ac.is_match(folded),
                Test::Cased(t) => t.matches(raw),
                Test::Regex(r) => r.is_match(raw),
                _ => false,
            }
        }),
    }
}

fn field_ref(slot: SlotId, others: &[SlotId], kind: RefKind, cased: bool, ctx: &mut Ctx<'_, '_>) -> bool {
    let Some(value) = ctx.value(slot) else { return false };
    let other_values: Vec<&FieldValue> = others.iter().filter_map(|&o| ctx.value(o)).collect();
    let (mut a, mut b) = (String::new(), String::new());
    let norm = |src: &str, out: &mut String| {
        out.clear();
        if cased { out.push_str(src) } else { fold_into(src, out) }
    };
    let (mut ta, mut tb) = (String::new(), String::new());
    for_each_element(value, &mut |e| {
        element_text(e, &mut ta) && {
            norm(&ta, &mut a);
            other_values.iter().any(|ov| {
                for_each_element(ov, &mut |o| {
                    element_text(o, &mut tb) && {
                        norm(&tb, &mut b);
                        match kind {
                            RefKind::Equals => a == b,
                            RefKind::Contains => a.contains(b.as_str()),
                            RefKind::StartsWith => a.starts_with(b.as_str()),
                            RefKind::EndsWith => a.ends_with(b.as_str()),
                        }
                    }
                })
            })
        }
    })
}
