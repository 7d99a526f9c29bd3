//! `ward rules check` and `ward rules test`, and the rule loading `ward hunt` shares with them.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use ward_decode::run::decode_paths_collect;
use ward_decode::{DecodeContext, SourceKind};
use ward_model::{Event, TenantId};
use ward_rules::correlate::{CorrelateError, Correlator, CorrelatorConfig};
use ward_rules::regression::{self, Outcome as Case, TestFile};
use ward_rules::{Engine, Pipeline, Rejection, RuleSet};

use crate::Outcome;
use crate::cli::{RulesCheckArgs, RulesTestArgs};

/// A rule document that was not loaded: where, which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    /// The rule file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// The rule id, when known.
    pub rule_id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
}

impl Problem {
    fn of(r: &Rejection) -> Self {
        let file = r.file.display().to_string();
        Self { file, line: r.line, rule_id: r.rule_id.clone(), reason: r.kind.to_string() }
    }

    /// The problem as one JSON line for stderr.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "rule_file": self.file, "line": self.line, "rule_id": self.rule_id, "reason": self.reason,
        })
    }
}

/// Rules compiled and ready to run, with every rejection on the way.
pub(super) struct Detection {
    /// The loaded rule set.
    pub set: RuleSet,
    /// The compiled detection rules.
    pub engine: Engine,
    /// The correlation rules that run.
    pub correlator: Correlator,
    /// Every rejected document (parse, compile and correlation problems), in that order.
    pub problems: Vec<Problem>,
    /// How many of `problems` come from compiling detection rules (after the parse ones).
    compile_rejected: usize,
    parse_rejected: usize,
}

impl Detection {
    /// Loads, compiles and plans the rules under `paths` for `pipelines`.
    ///
    /// # Errors
    /// An unusable pipeline, or a correlator that cannot be built.
    pub fn load(paths: &[PathBuf], pipelines: &[String]) -> Result<Self> {
        let pipeline = pipeline(pipelines)?;
        let (set, parse) = RuleSet::load(paths);
        let (engine, compile) = Engine::compile(&set, &pipeline);
        let (correlator, correlate) = Correlator::new(&set, &CorrelatorConfig::default())?;
        let mut problems: Vec<Problem> = parse.iter().chain(&compile).map(Problem::of).collect();
        problems.extend(correlate.iter().map(|e| correlation_problem(&set, e)));
        let (parse_rejected, compile_rejected) = (parse.len(), compile.len());
        Ok(Self { set, engine, correlator, problems, compile_rejected, parse_rejected })
    }

    /// Detection rules that compiled plus correlation rules that run.
    pub fn loaded(&self) -> usize {
        self.engine.stats().rules + self.correlator.len()
    }

    fn compile_problems(&self) -> &[Problem] {
        &self.problems[self.parse_rejected..self.parse_rejected + self.compile_rejected]
    }
}

/// The pipeline for `names`: every shipped pipeline when empty; else each name is a shipped
/// pipeline (`windows`, `sysmon`, …) or a pipeline file, merged in order.
///
/// # Errors
/// An unreadable or invalid pipeline file.
pub(super) fn pipeline(names: &[String]) -> Result<Pipeline> {
    if names.is_empty() {
        return Ok(Pipeline::builtin()?);
    }
    let mut all = Pipeline::default();
    for name in names {
        let one = match Pipeline::builtin_named(name) {
            Some(builtin) => builtin?,
            None => {
                let text = std::fs::read_to_string(name).with_context(|| format!("pipeline {name}"))?;
                Pipeline::from_yaml(name, &text)?
            }
        };
        all = all.merge(one);
    }
    Ok(all)
}

/// A correlation the correlator left out, located by its id, name or title.
fn correlation_problem(set: &RuleSet, e: &CorrelateError) -> Problem {
    let named = correlation_name(e);
    let found = set.correlations().iter().find(|c| {
        let m = &c.meta;
        named.is_some_and(|n| m.id.as_deref() == Some(n) || m.name.as_deref() == Some(n) || m.title == n)
    });
    let (file, line, rule_id) = match found {
        Some(c) => (c.source.file.to_string(), c.source.line, c.meta.id.clone()),
        None => (String::new(), 0, named.map(str::to_owned)),
    };
    Problem { file, line, rule_id, reason: e.to_string() }
}

fn correlation_name(e: &CorrelateError) -> Option<&str> {
    match e {
        CorrelateError::ZeroBudget(_) => None,
        CorrelateError::UnknownRule { correlation, .. }
        | CorrelateError::DuplicateRule { correlation, .. }
        | CorrelateError::Cycle { correlation }
        | CorrelateError::RejectedDependency { correlation, .. }
        | CorrelateError::UnsupportedType { correlation, .. }
        | CorrelateError::UnsupportedCondition { correlation }
        | CorrelateError::BudgetTooSmall { correlation, .. } => Some(correlation),
    }
}

/// One line of the `ward rules check` listing.
struct Listed {
    file: String,
    line: u32,
    status: &'static str,
    rule_id: String,
    text: String,
}

/// Runs `ward rules check`: every rule loaded or rejected, then
/// `rules_loaded=R rules_rejected=X warnings=W`.
///
/// # Errors
/// An unusable pipeline, or stdout closed.
pub fn check(args: &RulesCheckArgs) -> Result<Outcome> {
    let detection = Detection::load(&args.paths, &args.pipelines)?;
    let lint: Vec<Problem> = ward_rules::lint::lint_set(&detection.set).iter().map(Problem::of).collect();
    let mut listed = loaded_rules(&detection);
    let lint_status = if args.strict { "rejected" } else { "warning" };
    listed.extend(detection.problems.iter().map(|p| listing(p, "rejected")));
    listed.extend(lint.iter().map(|p| listing(p, lint_status)));
    listed.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut out = BufWriter::new(io::stdout().lock());
    for l in &listed {
        writeln!(out, "{:<8} {}:{}  {}  {}", l.status, l.file, l.line, l.rule_id, l.text)?;
    }
    let rejected = detection.problems.len() + if args.strict { lint.len() } else { 0 };
    let warnings = if args.strict { 0 } else { lint.len() };
    let loaded = detection.loaded();
    writeln!(out, "rules_loaded={loaded} rules_rejected={rejected} warnings={warnings}")?;
    out.flush()?;
    Ok(if args.strict && rejected > 0 { Outcome::Partial } else { Outcome::Success })
}

fn listing(p: &Problem, status: &'static str) -> Listed {
    let rule_id = p.rule_id.clone().unwrap_or_else(|| "-".into());
    Listed { file: p.file.clone(), line: p.line, status, rule_id, text: p.reason.clone() }
}

/// The detection rules that compiled and the correlations that run, as `loaded` lines.
fn loaded_rules(detection: &Detection) -> Vec<Listed> {
    let mut compile = detection.compile_problems().iter().peekable();
    let mut listed = Vec::new();
    for rule in detection.set.rules() {
        let file = rule.source.file.to_string();
        let rejected = compile.peek().is_some_and(|p| p.file == file && p.rule_id == rule.meta.id);
        if rejected {
            compile.next();
            continue;
        }
        let rule_id = rule.meta.id.clone().unwrap_or_else(|| "-".into());
        listed.push(Listed {
            file,
            line: rule.source.line,
            status: "loaded",
            rule_id,
            text: rule.meta.title.clone(),
        });
    }
    let failed: Vec<(&str, u32)> = detection.problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
    for c in detection.set.correlations() {
        if failed.contains(&(c.source.file.as_ref(), c.source.line)) {
            continue;
        }
        let rule_id = c.meta.id.clone().unwrap_or_else(|| "-".into());
        let text = format!("{} (correlation)", c.meta.title);
        listed.push(Listed {
            file: c.source.file.to_string(),
            line: c.source.line,
            status: "loaded",
            rule_id,
            text,
        });
    }
    listed
}

/// Runs `ward rules test`: each failure and skip, then `passed=N failed=M skipped=K`.
///
/// # Errors
/// An unusable pipeline, or stdout closed.
pub fn test(args: &RulesTestArgs) -> Result<Outcome> {
    let pipeline = pipeline(&args.pipelines)?;
    let report = regression::run(&args.rules, &args.data, &pipeline, &mut decode_case);
    let (set, _) = RuleSet::load(&args.rules);
    let (engine, _) = Engine::compile(&set, &pipeline);
    let examples = super::rules_examples::run(&set, &engine);
    let mut out = BufWriter::new(io::stdout().lock());
    for case in &report.cases {
        let (word, why) = match &case.outcome {
            Case::Passed => continue,
            Case::Failed(why) => ("FAIL", why),
            Case::Skipped(why) => ("SKIP", why),
        };
        writeln!(out, "{word} {} {} ({}): {why}", case.rule_id, case.title, case.info.display())?;
    }
    for case in &examples {
        if let Err(why) = &case.outcome {
            writeln!(out, "FAIL {} ({}): {why}", case.rule, case.file.display())?;
        }
    }
    let example_failed = examples.iter().filter(|c| c.outcome.is_err()).count();
    let passed = report.passed() + examples.len() - example_failed;
    let failed = report.failed() + example_failed;
    writeln!(out, "passed={passed} failed={failed} skipped={}", report.skipped())?;
    out.flush()?;
    Ok(if failed == 0 { Outcome::Success } else { Outcome::Partial })
}

/// Decodes a regression test file: the `.evtx` itself, else the `evtx_dump` JSON next to it.
fn decode_case(file: &TestFile) -> Result<Vec<Event>, String> {
    if file.kind != "evtx" {
        return Err(format!("unsupported test type `{}`", file.kind));
    }
    let json = file.path.with_extension("json");
    let (kind, path) =
        if file.path.is_file() { (SourceKind::Evtx, file.path.clone()) } else { (SourceKind::Winlog, json) };
    let ctx = DecodeContext::new(TenantId::default(), chrono::Utc::now());
    let (collected, _) = decode_paths_collect(kind, &[path.as_path()], ctx).map_err(|e| e.to_string())?;
    match collected.rejections.first() {
        Some(r) if collected.events.is_empty() => Err(format!("line {}: {}", r.line, r.reason)),
        _ => Ok(collected.events),
    }
}
