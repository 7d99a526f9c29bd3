//! Candidate selection. For every bound rule we derive a *requirement*: a set of
//! `(field, literal)` alternatives at least one of which must occur (case-insensitively) in the
//! event for the rule to possibly match. All literals of a logsource entry, per field, go into one
//! Aho–Corasick automaton run once over the lowercased field; only rules with a hit (plus the few
//! with no usable literal) are evaluated.

use crate::ast::{Cond, Piece};
use crate::bind::{BoundExpr, BoundItem, BoundRule, BoundValue, Target};
use crate::semantics::fold;

/// Shortest literal (in characters) worth using as a requirement.
const MIN_NEEDLE_CHARS: usize = 3;

/// Substrings so common in Windows telemetry that requiring them selects nearly everything.
const COMMON: [&str; 16] = [
    ".exe",
    ".dll",
    "c:\\",
    "\\windows\\",
    "\\system32\\",
    "system32",
    "\\windows",
    "windows\\",
    "\\users\\",
    "\\program files",
    "\\appdata\\",
    "microsoft",
    ".ps1",
    "hklm\\",
    "\\software\\",
    "\\currentversion\\",
];

/// A needed literal: `(path, folded literal)`.
pub type Needle = (String, String);

/// Alternatives at least one of which must be present; `None` when the rule needs no literal.
pub type Requirement = Option<Vec<Needle>>;

/// The requirement of a bound rule.
pub fn requirement(rule: &BoundRule) -> Requirement {
    cond(&rule.condition, rule)
}

fn cond(c: &Cond, rule: &BoundRule) -> Requirement {
    match c {
        Cond::And(children) => best(children.iter().map(|x| cond(x, rule))),
        Cond::Or(children) => union(children.iter().map(|x| cond(x, rule))),
        Cond::Not(_) => None,
        Cond::Search(i) => expr(&rule.searches[*i]),
        Cond::AtLeast(_, v) => union(v.iter().map(|&i| expr(&rule.searches[i]))),
    }
}

fn expr(e: &BoundExpr) -> Requirement {
    match e {
        BoundExpr::Map(items) => best(items.iter().map(item)),
        BoundExpr::List(alts) => union(alts.iter().map(expr)),
        BoundExpr::Item(i) => item(i),
    }
}

fn item(i: &BoundItem) -> Requirement {
    let Target::Paths(paths) = &i.target else { return None };
    let [path] = paths.as_slice() else { return None };
    if i.negate {
        return None;
    }
    let needles = i.values.iter().map(|v| needle(v).map(|n| vec![(path.clone(), n)]));
    if i.all { best(needles) } else { union(needles) }
}

/// The longest literal of a string value, folded, when it is long enough.
pub fn needle(v: &BoundValue) -> Option<String> {
    let BoundValue::Str { pattern, .. } = v else { return None };
    let longest = pattern
        .pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Lit(s) => Some(fold(s)),
            _ => None,
        })
        .max_by_key(|s| s.chars().count())?;
    (longest.chars().count() >= MIN_NEEDLE_CHARS).then_some(longest)
}

/// The cheapest requirement among alternatives that are all required (an `and`).
fn best(reqs: impl Iterator<Item = Requirement>) -> Requirement {
    reqs.flatten().min_by(|a, b| cost(a).total_cmp(&cost(b)))
}

/// All requirements together (an `or`): `None` as soon as one branch needs nothing.
fn union(reqs: impl Iterator<Item = Requirement>) -> Requirement {
    let mut out = Vec::new();
    for r in reqs {
        out.extend(r?);
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Expected cost of a requirement: short and common literals select many events.
fn cost(req: &[Needle]) -> f64 {
    req.iter()
        .map(|(_, n)| {
            let len = n.chars().count() as f64;
            let common =
                if COMMON.iter().any(|c| n.contains(c) && n.len() <= c.len() + 2) { 20.0 } else { 1.0 };
            common * 100.0 / (len * len)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::value::parse_pattern;

    fn s(p: &str) -> BoundValue {
        BoundValue::Str { pattern: parse_pattern(p), cased: false }
    }

    fn it(path: &str, values: Vec<BoundValue>, all: bool) -> BoundItem {
        BoundItem {
            field: Some(path.into()),
            target: Target::Paths(vec![path.into()]),
            all,
            negate: false,
            values,
        }
    }

    #[test]
    fn and_picks_the_most_selective_or_needs_every_branch() {
        let rule = BoundRule {
            rule: 0,
            entry: 0,
            searches: vec![
                BoundExpr::Map(vec![
                    it("Image", vec![s("*\\certutil.exe")], false),
                    it("CommandLine", vec![s("*-urlcache*"), s("*verifyctl*")], false),
                ]),
                BoundExpr::Map(vec![it("CommandLine", vec![s("*.exe*")], false)]),
            ],
            condition: Cond::Or(vec![Cond::Search(0), Cond::Search(1)]),
        };
        let req = requirement(&rule).unwrap();
        assert_eq!(
            req,
            vec![("CommandLine".into(), ".exe".into()), ("Image".into(), "\\certutil.exe".into())]
        );
        let negated = BoundRule { condition: Cond::Not(Box::new(Cond::Search(0))), ..rule };
        assert_eq!(requirement(&negated), None);
    }

    #[test]
    fn short_literals_and_non_strings_give_no_needle() {
        assert_eq!(needle(&s("*ab*")), None);
        assert_eq!(needle(&s("*a*bcd?e")), Some("bcd".into()));
        assert_eq!(needle(&BoundValue::Null), None);
    }
}
