//! A set of loaded rules: read from files and folders, duplicates rejected, filters applied,
//! correlation references checked. The only I/O of the crate is here, in [`RuleSet::load`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ast::{Cond, Correlation, Filter, Rule};
use crate::error::{ErrorKind, Problem, Rejection};
use crate::parse::{Document, parse_source};

/// Loaded, checked rules, filters and correlations, in load order.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    filters: Vec<Filter>,
    correlations: Vec<Correlation>,
}

impl RuleSet {
    /// Loads rule files and folders (recursively, `*.yml` / `*.yaml`, in name order). A file
    /// named explicitly is read whatever its extension. Every document is either loaded or
    /// rejected with file, line and reason.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> (Self, Vec<Rejection>) {
        let mut rejections = Vec::new();
        let mut sources = Vec::new();
        for path in paths {
            for file in rule_files(path.as_ref(), &mut rejections) {
                match std::fs::read(&file) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => sources.push((file.display().to_string(), text)),
                        Err(_) => rejections.push(io_rejection(&file, "not UTF-8 text".into())),
                    },
                    Err(e) => rejections.push(io_rejection(&file, e.to_string())),
                }
            }
        }
        let (set, more) = Self::from_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())));
        rejections.extend(more);
        (set, rejections)
    }

    /// Builds a set from in-memory `(file name, YAML text)` pairs.
    pub fn from_sources<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> (Self, Vec<Rejection>) {
        let mut set = Self::default();
        let mut rejections = Vec::new();
        for (file, text) in sources {
            for doc in parse_source(file, text) {
                match doc {
                    Ok(Document::Rule(r)) => set.rules.push(*r),
                    Ok(Document::Filter(f)) => set.filters.push(*f),
                    Ok(Document::Correlation(c)) => set.correlations.push(*c),
                    Err(rejection) => rejections.push(rejection),
                }
            }
        }
        set.reject_duplicate_ids(&mut rejections);
        set.apply_filters(&mut rejections);
        set.check_correlations(&mut rejections);
        (set, rejections)
    }

    /// The detection rules (filters already applied).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The filters that were applied.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// The correlation rules, for the streaming correlation stage.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// A detection rule by id or name.
    pub fn rule(&self, id_or_name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| names_rule(r, id_or_name))
    }

    /// Number of detection rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there is no detection rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    fn reject_duplicate_ids(&mut self, rejections: &mut Vec<Rejection>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        let mut keep = |id: Option<&String>, file: &str, line: u32, title: &str| -> Option<Rejection> {
            let id = id?;
            let here = format!("{file}:{line}");
            match seen.get(id) {
                Some(first) => {
                    let kind = ErrorKind::DuplicateId { id: id.clone(), first: first.clone() };
                    Some(Rejection::new(file, Problem::new(line, kind)).with_rule(Some(id), Some(title)))
                }
                None => {
                    seen.insert(id.clone(), here);
                    None
                }
            }
        };
        self.rules.retain(|r| {
            let rej = keep(r.meta.id.as_ref(), &r.source.file, r.source.line, &r.meta.title);
            rej.map(|x| rejections.push(x)).is_none()
        });
        self.correlations.retain(|c| {
            let rej = keep(c.meta.id.as_ref(), &c.source.file, c.source.line, &c.meta.title);
            rej.map(|x| rejections.push(x)).is_none()
        });
    }

    /// Adds each filter's exclusion to the rules it names: `rule and not filter`.
    fn apply_filters(&mut self, rejections: &mut Vec<Rejection>) {
        for filter in &self.filters {
            for reference in &filter.rules {
                match self.rules.iter_mut().find(|r| names_rule(r, reference)) {
                    Some(rule) if compatible(&filter.logsource, &rule.logsource) => add_filter(rule, filter),
                    Some(rule) => {
                        let reason = format!(
                            "logsource {} does not match rule `{reference}` ({})",
                            filter.logsource, rule.logsource
                        );
                        rejections.push(filter_rejection(
                            filter,
                            ErrorKind::Invalid { field: "logsource".into(), reason },
                        ));
                    }
                    None => {
                        rejections.push(filter_rejection(filter, ErrorKind::UnknownRule(reference.clone())))
                    }
                }
            }
        }
    }

    fn check_correlations(&mut self, rejections: &mut Vec<Rejection>) {
        let mut known: Vec<&str> = Vec::new();
        for r in &self.rules {
            known.extend(r.meta.id.as_deref().into_iter().chain(r.meta.name.as_deref()));
        }
        for c in &self.correlations {
            known.extend(c.meta.id.as_deref().into_iter().chain(c.meta.name.as_deref()));
        }
        let missing: Vec<Option<String>> = self
            .correlations
            .iter()
            .map(|c| c.rules.iter().find(|r| !known.contains(&r.as_str())).cloned())
            .collect();
        let mut missing = missing.into_iter();
        self.correlations.retain(|c| match missing.next().flatten() {
            Some(reference) => {
                let problem = Problem::new(c.source.line, ErrorKind::UnknownRule(reference));
                let rej = Rejection::new(c.source.file.as_ref(), problem);
                rejections.push(rej.with_rule(c.meta.id.as_deref(), Some(&c.meta.title)));
                false
            }
            None => true,
        });
    }
}

fn names_rule(rule: &Rule, reference: &str) -> bool {
    rule.meta.id.as_deref() == Some(reference) || rule.meta.name.as_deref() == Some(reference)
}

/// Whether a filter's logsource fits a rule's: every attribute the filter sets is the rule's.
fn compatible(filter: &crate::ast::Logsource, rule: &crate::ast::Logsource) -> bool {
    let fits = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    fits(&filter.product, &rule.product)
        && fits(&filter.category, &rule.category)
        && fits(&filter.service, &rule.service)
}

fn add_filter(rule: &mut Rule, filter: &Filter) {
    let offset = rule.detection.searches.len();
    rule.detection.searches.extend(filter.detection.searches.iter().cloned());
    let excluded = shift(&filter.detection.condition, offset);
    let original = std::mem::replace(&mut rule.detection.condition, Cond::Or(Vec::new()));
    rule.detection.condition = Cond::And(vec![original, Cond::Not(Box::new(excluded))]);
    let title = &filter.meta.title;
    for text in &filter.detection.condition_text {
        rule.detection.condition_text.push(format!("and not ({text}) [filter: {title}]"));
    }
}

/// The condition with every search index moved by `offset`.
fn shift(cond: &Cond, offset: usize) -> Cond {
    match cond {
        Cond::And(c) => Cond::And(c.iter().map(|x| shift(x, offset)).collect()),
        Cond::Or(c) => Cond::Or(c.iter().map(|x| shift(x, offset)).collect()),
        Cond::Not(c) => Cond::Not(Box::new(shift(c, offset))),
        Cond::Search(i) => Cond::Search(i + offset),
        Cond::AtLeast(n, v) => Cond::AtLeast(*n, v.iter().map(|i| i + offset).collect()),
    }
}

fn filter_rejection(filter: &Filter, kind: ErrorKind) -> Rejection {
    Rejection::new(filter.source.file.as_ref(), Problem::new(filter.source.line, kind))
        .with_rule(filter.meta.id.as_deref(), Some(&filter.meta.title))
}

fn io_rejection(path: &Path, reason: String) -> Rejection {
    Rejection::new(path, Problem::new(0, ErrorKind::Io(reason)))
}

/// The rule files under `path`: the file itself, or the `*.yml` / `*.yaml` files of a folder
/// tree in name order (symbolic links to folders are not followed, so there are no cycles).
fn rule_files(path: &Path, rejections: &mut Vec<Rejection>) -> Vec<PathBuf> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            walk(path, &mut files, rejections);
            files.sort();
            files
        }
        Ok(_) => vec![path.to_path_buf()],
        Err(e) => {
            rejections.push(io_rejection(path, e.to_string()));
            Vec::new()
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, rejections: &mut Vec<Rejection>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return rejections.push(io_rejection(dir, e.to_string())),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, files, rejections),
            Ok(_) if is_rule_file(&path) && path.is_file() => files.push(path),
            Ok(_) => {}
            Err(e) => rejections.push(io_rejection(&path, e.to_string())),
        }
    }
}

fn is_rule_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}
