//! Best-practice checks for `ward rules check --strict`: things the specification recommends or
//! forbids but that do not stop a rule from being evaluated.

use crate::ast::{Item, Modifier, Rule, SearchExpr, Status};
use crate::error::{ErrorKind, Problem, Rejection};
use crate::ruleset::RuleSet;

/// Lint findings for every rule of a set, as rejections (kind [`ErrorKind::Lint`]).
pub fn lint_set(set: &RuleSet) -> Vec<Rejection> {
    set.rules().iter().flat_map(lint).collect()
}

/// Lint findings for one rule.
pub fn lint(rule: &Rule) -> Vec<Rejection> {
    let mut out = Vec::new();
    let mut push = |line: u32, message: String| {
        let rej = Rejection::new(rule.source.file.as_ref(), Problem::new(line, ErrorKind::Lint(message)));
        out.push(rej.with_rule(rule.meta.id.as_deref(), Some(&rule.meta.title)));
    };
    let line = rule.source.line;
    match rule.meta.id.as_deref() {
        None => push(line, "missing `id`".into()),
        Some(id) if !is_uuid(id) => push(line, format!("`id` {id} is not a UUID")),
        Some(_) => {}
    }
    if rule.meta.level.is_none() {
        push(line, "missing `level`".into());
    }
    if let Some(status @ (Status::Deprecated | Status::Unsupported)) = rule.meta.status {
        push(line, format!("status is {}", status.as_str()));
    }
    for tag in &rule.meta.tags {
        if !tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'))
        {
            push(line, format!("tag `{tag}` is not lower-case letters, digits, `_`, `-` and `.`"));
        }
    }
    for search in &rule.detection.searches {
        for item in items(&search.expr) {
            if item.modifiers.contains(&Modifier::All) && single_written_value(item) {
                push(item.line, "`all` on a single value (the specification forbids it)".into());
            }
        }
    }
    out
}

fn items(expr: &SearchExpr) -> Vec<&Item> {
    match expr {
        SearchExpr::Map(items) => items.iter().collect(),
        SearchExpr::Item(item) => vec![item],
        SearchExpr::List(alts) => alts.iter().flat_map(items).collect(),
    }
}

/// Whether an item was written with one value (encodings may have expanded it since).
fn single_written_value(item: &Item) -> bool {
    let per_value = if item.modifiers.contains(&Modifier::Base64Offset) { 3 } else { 1 };
    item.values.len() <= per_value
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_missing_ids_levels_bad_tags_and_single_all() {
        let yaml = "title: t\nid: not-a-uuid\ntags: [attack.T1059]\nlogsource: {product: windows}\ndetection:\n    s:\n        a|contains|all: x\n    condition: s\n";
        let (set, rej) = RuleSet::from_sources([("l.yml", yaml)]);
        assert!(rej.is_empty());
        let found: Vec<String> = lint_set(&set).iter().map(|r| r.kind.to_string()).collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("is not a UUID"));
        assert!(found[1].contains("missing `level`"));
        assert!(found[2].contains("attack.T1059"));
        assert!(found[3].contains("`all` on a single value"));
        let good = "title: t\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlevel: low\nlogsource: {product: windows}\ndetection:\n    s:\n        a: x\n    condition: s\n";
        let (set, _) = RuleSet::from_sources([("g.yml", good)]);
        assert!(lint_set(&set).is_empty());
    }
}
