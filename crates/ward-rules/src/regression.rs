//! SigmaHQ regression tests (`regression_data/**/info.yml`): each names a rule and event files on
//! which that rule must fire. Decoding the event files is the caller's business (this crate has
//! no decoders), so [`run`] takes a decode function.

use std::fmt;
use std::path::{Path, PathBuf};

use ward_model::Event;

use crate::compile::{Engine, Scratch};
use crate::error::Rejection;
use crate::eval_ref::entry_applies;
use crate::pipeline::Pipeline;
use crate::ruleset::RuleSet;
use crate::yaml::{self, Node, Value};

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The rule fired on at least one event of every test file.
    Passed,
    /// It did not, or could not be evaluated; the reason says why.
    Failed(String),
    /// The case does not apply (its rule is not in the loaded set, or an unknown test type).
    Skipped(String),
}

/// One regression case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The `info.yml` file.
    pub info: PathBuf,
    /// The rule id under test.
    pub rule_id: String,
    /// The rule title as the case names it.
    pub title: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The result of a regression run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every case, in path order.
    pub cases: Vec<Case>,
    /// Rules rejected while loading or compiling.
    pub rejections: Vec<Rejection>,
}

impl Report {
    /// Number of passed cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.outcome == Outcome::Passed).count()
    }

    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.outcome, Outcome::Failed(_))).count()
    }

    /// Number of skipped cases.
    pub fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.outcome, Outcome::Skipped(_))).count()
    }
}

impl fmt::Display for Report {
    /// The `ward rules test` summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "passed={} failed={} skipped={}", self.passed(), self.failed(), self.skipped())
    }
}

/// A test file named by a case: its type and its path (next to the `info.yml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestFile {
    /// `evtx` for SigmaHQ's Windows cases.
    pub kind: String,
    /// The file.
    pub path: PathBuf,
}

/// Loads the rules under `rule_paths`, compiles them for `pipeline`, and runs every case under
/// `data_dir`; `decode` turns a test file into events.
pub fn run<P: AsRef<Path>>(
    rule_paths: &[P],
    data_dir: &Path,
    pipeline: &Pipeline,
    decode: &mut dyn FnMut(&TestFile) -> Result<Vec<Event>, String>,
) -> Report {
    let (set, mut rejections) = RuleSet::load(rule_paths);
    let (engine, more) = Engine::compile(&set, pipeline);
    rejections.extend(more);
    let mut infos = Vec::new();
    find_infos(data_dir, &mut infos);
    infos.sort();
    let mut scratch = Scratch::default();
    let ctx = RunCtx { set: &set, engine: &engine, pipeline, rejections: &rejections };
    let cases = infos.into_iter().map(|info| ctx.case(info, decode, &mut scratch)).collect();
    Report { cases, rejections }
}

struct RunCtx<'a> {
    set: &'a RuleSet,
    engine: &'a Engine,
    pipeline: &'a Pipeline,
    rejections: &'a [Rejection],
}

impl RunCtx<'_> {
    fn case(
        &self,
        info: PathBuf,
        decode: &mut dyn FnMut(&TestFile) -> Result<Vec<Event>, String>,
        scratch: &mut Scratch,
    ) -> Case {
        let parsed =
            std::fs::read_to_string(&info).map_err(|e| e.to_string()).and_then(|t| parse_info(&info, &t));
        let (rule_id, title, files) = match parsed {
            Ok(p) => p,
            Err(reason) => {
                let outcome = Outcome::Failed(format!("unreadable info.yml: {reason}"));
                return Case { info, rule_id: String::new(), title: String::new(), outcome };
            }
        };
        let outcome = self.outcome(&rule_id, &files, decode, scratch);
        Case { info, rule_id, title, outcome }
    }

    fn outcome(
        &self,
        rule_id: &str,
        files: &[TestFile],
        decode: &mut dyn FnMut(&TestFile) -> Result<Vec<Event>, String>,
        scratch: &mut Scratch,
    ) -> Outcome {
        if let Some(r) = self.rejections.iter().find(|r| r.rule_id.as_deref() == Some(rule_id)) {
            return Outcome::Failed(format!("rule rejected: {}", r.kind));
        }
        let Some(index) = self.set.rules().iter().position(|r| r.meta.id.as_deref() == Some(rule_id)) else {
            return Outcome::Skipped("rule not in the loaded rule set".into());
        };
        if files.is_empty() {
            return Outcome::Skipped("no test file".into());
        }
        for file in files {
            let events = match decode(file) {
                Ok(events) if events.is_empty() => {
                    return Outcome::Failed(format!("{}: no events", file.path.display()));
                }
                Ok(events) => events,
                Err(e) => return Outcome::Failed(format!("{}: {e}", file.path.display())),
            };
            if !events.iter().any(|e| self.engine.matching_rules(e, scratch).contains(&index)) {
                return Outcome::Failed(self.diagnose(index, &events));
            }
        }
        Outcome::Passed
    }

    /// Why a rule did not fire: no event in its logsource, or the detection did not match.
    fn diagnose(&self, index: usize, events: &[Event]) -> String {
        let rule = &self.set.rules()[index];
        let routes = self.pipeline.routes(&rule.logsource);
        let routed =
            events.iter().any(|e| routes.iter().any(|&r| entry_applies(&self.pipeline.entries()[r], e)));
        if routed {
            format!("detection did not match any of {} event(s)", events.len())
        } else {
            let names: Vec<&str> = routes.iter().map(|&r| self.pipeline.entries()[r].name.as_str()).collect();
            format!(
                "no event belongs to the rule's logsource ({}; entries {})",
                rule.logsource,
                names.join(", ")
            )
        }
    }
}

fn find_infos(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => find_infos(&path, out),
            Ok(_) if path.file_name().is_some_and(|n| n == "info.yml") => out.push(path),
            _ => {}
        }
    }
}

/// Reads an `info.yml`: the rule id and title, and the test files (resolved next to it).
///
/// # Errors
/// A message when the document lacks `rule_metadata[0].id`.
pub fn parse_info(info: &Path, text: &str) -> Result<(String, String, Vec<TestFile>), String> {
    let docs = yaml::parse_stream(text).map_err(|p| format!("line {}: {}", p.line, p.kind))?;
    let doc = docs.first().ok_or("empty document")?;
    let meta = seq(doc.get("rule_metadata")).first().copied().ok_or("missing rule_metadata")?;
    let id = meta.get("id").and_then(Node::as_text).ok_or("missing rule_metadata[0].id")?.to_owned();
    let title = meta.get("title").and_then(Node::as_text).unwrap_or_default().to_owned();
    let dir = info.parent().unwrap_or(Path::new("."));
    let files = seq(doc.get("regression_tests_info"))
        .into_iter()
        .filter_map(|t| {
            let kind = t.get("type").and_then(Node::as_text)?.to_owned();
            let name = Path::new(t.get("path").and_then(Node::as_text)?).file_name()?.to_owned();
            Some(TestFile { kind, path: dir.join(name) })
        })
        .collect();
    Ok((id, title, files))
}

fn seq(node: Option<&Node>) -> Vec<&Node> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}
