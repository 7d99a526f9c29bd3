//! From parsed correlation rules to operator specs: references resolved (by id, then name;
//! rules before correlations), aliases applied per referenced rule, chains ordered so that a
//! correlation runs after the correlations it references, and whatever cannot run rejected.

use std::sync::Arc;

use super::alert::{display_name, kind_name, summary};
use super::config::Budget;
use super::error::CorrelateError;
use crate::alert::RuleSummary;
use crate::ast::{CmpOp, Correlation, CorrelationType, RuleMeta};
use crate::ruleset::RuleSet;

/// What a `rules:` entry resolves to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A detection rule (index into [`RuleSet::rules`]).
    Rule(usize),
    /// A correlation (index into [`RuleSet::correlations`]).
    Correlation(usize),
}

/// Where a match goes: an operator and the position of its rule in that operator's `rules:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Route {
    /// Operator index.
    pub op: usize,
    /// Position in `rules:`.
    pub pos: u32,
}

/// The fields read from a match of one referenced rule.
#[derive(Clone, Debug)]
pub(super) struct Input {
    /// Field per `group-by` entry (the alias resolved for this rule).
    pub group: Vec<String>,
    /// Field(s) whose value is counted (`value_count`).
    pub value: Vec<String>,
}

/// One correlation, ready to run.
#[derive(Debug)]
pub(super) struct Spec {
    /// Shared by its alerts.
    pub summary: Arc<RuleSummary>,
    /// Its type.
    pub kind: CorrelationType,
    /// `group-by` as written.
    pub group_by: Vec<String>,
    /// `timespan`, microseconds.
    pub span: i64,
    /// Condition bounds (for temporal types without one: all rules).
    pub bounds: Vec<(CmpOp, f64)>,
    /// Whether every bound is a lower bound, so the alert can fire as soon as it holds.
    pub early: bool,
    /// Number of referenced rules.
    pub rules: usize,
    /// Whether its alerts are emitted (not only fed to an enclosing correlation).
    pub emit: bool,
    /// Per position in `rules:`.
    pub inputs: Vec<Input>,
}

impl Spec {
    /// Whether `value` satisfies every bound.
    pub(super) fn holds(&self, value: u64) -> bool {
        let v = value as f64;
        self.bounds.iter().all(|(op, bound)| op.holds(v, *bound))
    }
}

/// The runnable correlations and their wiring.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Operators, each after the ones it reads from.
    pub specs: Vec<Spec>,
    /// Per detection rule: where its matches go.
    pub base_routes: Vec<Vec<Route>>,
    /// Per operator: where its alerts go.
    pub op_routes: Vec<Vec<Route>>,
    /// Per detection rule: whether its own alerts should be emitted.
    pub base_standalone: Vec<bool>,
    /// Correlations left out, with the reason.
    pub rejections: Vec<CorrelateError>,
}

/// A correlation whose references resolved.
struct Resolved {
    index: usize,
    targets: Vec<Target>,
    inputs: Vec<Input>,
    bounds: Vec<(CmpOp, f64)>,
    early: bool,
}

/// Plans every correlation of `set`.
pub(super) fn plan(set: &RuleSet, budget: &Budget) -> Plan {
    let mut out = Plan::default();
    let mut resolved = Vec::new();
    for (index, c) in set.correlations().iter().enumerate() {
        match resolve(set, index, c, budget) {
            Ok(r) => resolved.push(r),
            Err(e) => out.rejections.push(e),
        }
    }
    let ordered = order(set, resolved, &mut out.rejections);
    wire(set, &ordered, &mut out);
    out
}

fn resolve(
    set: &RuleSet,
    index: usize,
    c: &Correlation,
    budget: &Budget,
) -> Result<Resolved, CorrelateError> {
    let name = || display_name(c).to_owned();
    if matches!(
        c.kind,
        CorrelationType::ValueSum
            | CorrelationType::ValueAvg
            | CorrelationType::ValuePercentile
            | CorrelationType::ValueMedian
    ) {
        return Err(CorrelateError::UnsupportedType { correlation: name(), kind: kind_name(c.kind) });
    }
    let mut targets: Vec<Target> = Vec::with_capacity(c.rules.len());
    for reference in &c.rules {
        let target = lookup(set, reference).ok_or_else(|| CorrelateError::UnknownRule {
            correlation: name(),
            reference: reference.clone(),
        })?;
        if targets.contains(&target) {
            return Err(CorrelateError::DuplicateRule { correlation: name(), reference: reference.clone() });
        }
        targets.push(target);
    }
    let inputs = targets.iter().map(|t| inputs_for(set, c, *t)).collect::<Result<_, _>>()?;
    let bounds = bounds(c);
    let early = !bounds.is_empty() && bounds.iter().all(|(op, _)| matches!(op, CmpOp::Gt | CmpOp::Gte));
    if c.kind == CorrelationType::TemporalOrdered && !early {
        return Err(CorrelateError::UnsupportedCondition { correlation: name() });
    }
    let needed = if early { needed(&bounds) } else { largest(&bounds) };
    if c.kind != CorrelationType::TemporalOrdered && needed > budget.max_events_per_group as u64 {
        return Err(CorrelateError::BudgetTooSmall {
            correlation: name(),
            needed,
            budget: budget.max_events_per_group,
        });
    }
    Ok(Resolved { index, targets, inputs, bounds, early })
}

/// A reference by id, then by name; rules before correlations.
fn lookup(set: &RuleSet, reference: &str) -> Option<Target> {
    let by_id = |m: &RuleMeta| m.id.as_deref() == Some(reference);
    let by_name = |m: &RuleMeta| m.name.as_deref() == Some(reference);
    let rule = |f: &dyn Fn(&RuleMeta) -> bool| set.rules().iter().position(|x| f(&x.meta)).map(Target::Rule);
    let corr = |f: &dyn Fn(&RuleMeta) -> bool| {
        set.correlations().iter().position(|x| f(&x.meta)).map(Target::Correlation)
    };
    rule(&by_id).or_else(|| rule(&by_name)).or_else(|| corr(&by_id)).or_else(|| corr(&by_name))
}

/// The group-by and value fields of `target`'s matches, through the aliases naming it.
fn inputs_for(set: &RuleSet, c: &Correlation, target: Target) -> Result<Input, CorrelateError> {
    let field = |name: &String| -> Result<String, CorrelateError> {
        let Some(alias) = c.aliases.iter().find(|a| &a.name == name) else { return Ok(name.clone()) };
        for (reference, field) in &alias.fields {
            let resolved = lookup(set, reference).ok_or_else(|| CorrelateError::UnknownRule {
                correlation: display_name(c).to_owned(),
                reference: reference.clone(),
            })?;
            if resolved == target {
                return Ok(field.clone());
            }
        }
        Ok(name.clone())
    };
    let group = c.group_by.iter().map(field).collect::<Result<_, _>>()?;
    let value = match (&c.condition, c.kind) {
        (Some(cond), CorrelationType::ValueCount) => {
            cond.field.iter().map(field).collect::<Result<_, _>>()?
        }
        _ => Vec::new(),
    };
    Ok(Input { group, value })
}

/// The condition's bounds; temporal types without a condition need all their rules.
fn bounds(c: &Correlation) -> Vec<(CmpOp, f64)> {
    match &c.condition {
        Some(cond) => cond.bounds.clone(),
        None => vec![(CmpOp::Gte, c.rules.len() as f64)],
    }
}

/// The fewest matches a window needs before the bounds can hold.
fn needed(bounds: &[(CmpOp, f64)]) -> u64 {
    let need = |(op, b): &(CmpOp, f64)| match op {
        CmpOp::Gte | CmpOp::Eq => b.ceil(),
        CmpOp::Gt => b.floor() + 1.0,
        _ => 0.0,
    };
    bounds.iter().map(need).fold(0.0, f64::max).max(0.0) as u64
}

/// The largest bound, rounded up: a fixed window counts exactly up to the budget.
fn largest(bounds: &[(CmpOp, f64)]) -> u64 {
    bounds.iter().map(|(_, b)| b.ceil()).fold(0.0, f64::max).max(0.0) as u64
}

/// Orders correlations so each follows those it references; rejects correlations depending on
/// rejected ones, then those caught in (or behind) a cycle.
fn order(set: &RuleSet, mut todo: Vec<Resolved>, rejections: &mut Vec<CorrelateError>) -> Vec<Resolved> {
    let mut done: Vec<Resolved> = Vec::with_capacity(todo.len());
    let has = |list: &[Resolved], j: usize| list.iter().any(|d| d.index == j);
    loop {
        let ready =
            |r: &Resolved| r.targets.iter().all(|t| !matches!(t, Target::Correlation(j) if !has(&done, *j)));
        let Some(pos) = todo.iter().position(ready) else { break };
        done.push(todo.remove(pos));
    }
    let name = |i: usize| display_name(&set.correlations()[i]).to_owned();
    loop {
        let missing = |r: &Resolved| {
            r.targets.iter().find_map(|t| match *t {
                Target::Correlation(j) if !has(&done, j) && !has(&todo, j) => Some(j),
                _ => None,
            })
        };
        let Some((pos, j)) = todo.iter().enumerate().find_map(|(p, r)| missing(r).map(|j| (p, j))) else {
            break;
        };
        let r = todo.remove(pos);
        rejections
            .push(CorrelateError::RejectedDependency { correlation: name(r.index), reference: name(j) });
    }
    rejections.extend(todo.into_iter().map(|r| CorrelateError::Cycle { correlation: name(r.index) }));
    done
}

/// Builds the specs and routes of the ordered correlations.
fn wire(set: &RuleSet, ordered: &[Resolved], out: &mut Plan) {
    let op_of = |ci: usize| ordered.iter().position(|r| r.index == ci);
    let mut referencing: Vec<Vec<usize>> = vec![Vec::new(); set.correlations().len()];
    out.base_routes = vec![Vec::new(); set.rules().len()];
    out.op_routes = vec![Vec::new(); ordered.len()];
    let mut base_refs: Vec<Vec<usize>> = vec![Vec::new(); set.rules().len()];
    for (op, r) in ordered.iter().enumerate() {
        for (pos, target) in r.targets.iter().enumerate() {
            let route = Route { op, pos: u32::try_from(pos).unwrap_or(u32::MAX) };
            match *target {
                Target::Rule(i) => {
                    out.base_routes[i].push(route);
                    base_refs[i].push(r.index);
                }
                Target::Correlation(j) => {
                    if let Some(up) = op_of(j) {
                        out.op_routes[up].push(route);
                    }
                    referencing[j].push(r.index);
                }
            }
        }
    }
    let generates = |by: &[usize]| by.is_empty() || by.iter().any(|&ci| set.correlations()[ci].generate);
    out.base_standalone = base_refs.iter().map(|by| generates(by)).collect();
    out.specs = ordered
        .iter()
        .map(|r| spec(&set.correlations()[r.index], r, generates(&referencing[r.index])))
        .collect();
}

fn spec(c: &Correlation, r: &Resolved, emit: bool) -> Spec {
    Spec {
        summary: Arc::new(summary(c)),
        kind: c.kind,
        group_by: c.group_by.clone(),
        span: i64::try_from(c.timespan.as_micros()).unwrap_or(i64::MAX),
        bounds: r.bounds.clone(),
        early: r.early,
        rules: r.targets.len(),
        emit,
        inputs: r.inputs.clone(),
    }
}
