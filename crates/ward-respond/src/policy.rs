//! The decision engine: Rego policies (regorus) loaded from a folder, versioned by their
//! `version` rule and a content hash, evaluated per candidate action, and tested with fixtures.
//!
//! Contract with the policy files: package `ward.response` defines `decision`
//! (`{"outcome": "allow"|"deny"|"require_approval", "reasons": [..]}`), `recommended` (a set of
//! action names for the input's score) and `version` (a string).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::model::Outcome;

const DECISION_RULE: &str = "data.ward.response.decision";
const RECOMMENDED_RULE: &str = "data.ward.response.recommended";
const VERSION_RULE: &str = "data.ward.response.version";

/// A policy problem, naming the file or rule.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The folder or a file could not be read.
    #[error("reading policies at {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file did not compile.
    #[error("policy {path}: {message}")]
    Compile {
        /// Which file.
        path: PathBuf,
        /// The Rego error (with line and column).
        message: String,
    },
    /// No `.rego` file in the folder.
    #[error("no .rego policy files in {0}")]
    Empty(PathBuf),
    /// Evaluation failed or returned something outside the contract.
    #[error("evaluating {rule}: {message}")]
    Eval {
        /// The rule.
        rule: &'static str,
        /// Why.
        message: String,
    },
    /// A fixture file is malformed.
    #[error("fixture {path}: {message}")]
    Fixture {
        /// Which file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// What the policy is asked about one action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyInput {
    /// Action name.
    pub action: String,
    /// The action's risk class.
    pub risk: String,
    /// Its target.
    pub target: String,
    /// Consolidated score in [0, 1].
    pub score: f64,
    /// Asset criticality (`""` when unknown).
    pub criticality: String,
    /// `automated`, `manual` or `playbook`.
    pub origin: String,
    /// Incident severity (`""` when none).
    pub severity: String,
}

/// What the policy answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyDecision {
    /// allow / deny / require_approval.
    pub outcome: Outcome,
    /// Why.
    pub reasons: Vec<String>,
}

/// A compiled policy set.
pub struct PolicySet {
    engine: Mutex<regorus::Engine>,
    version: String,
    files: Vec<PathBuf>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet").field("version", &self.version).field("files", &self.files).finish()
    }
}

impl PolicySet {
    /// Loads every `.rego` file of `dir` (sorted, not recursive).
    ///
    /// # Errors
    /// Unreadable folder or file, a compile error (file, line, column), no files, no `version`.
    pub fn load_dir(dir: &Path) -> Result<Self, PolicyError> {
        let io = |source| PolicyError::Io { path: dir.to_owned(), source };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rego"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(PolicyError::Empty(dir.to_owned()));
        }
        let mut sources = Vec::new();
        for path in &files {
            let text = std::fs::read_to_string(path)
                .map_err(|source| PolicyError::Io { path: path.clone(), source })?;
            sources.push((path.clone(), text));
        }
        Self::from_sources(sources)
    }

    /// The default policies shipped in the repository's `policies/` folder, built in.
    ///
    /// # Errors
    /// Never for the shipped text (a compile error would fail the tests first).
    pub fn builtin() -> Result<Self, PolicyError> {
        let text = include_str!("../../../policies/response.rego");
        Self::from_sources(vec![(PathBuf::from("builtin/response.rego"), text.to_owned())])
    }

    /// Compiles policies given as (name, text) pairs.
    ///
    /// # Errors
    /// As [`PolicySet::load_dir`].
    pub fn from_sources(sources: Vec<(PathBuf, String)>) -> Result<Self, PolicyError> {
        let mut engine = regorus::Engine::new();
        let mut hasher = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let mut files = Vec::new();
        for (path, text) in sources {
            hasher.update(path.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default());
            hasher.update(text.as_bytes());
            engine
                .add_policy(path.display().to_string(), text)
                .map_err(|e| PolicyError::Compile { path: path.clone(), message: e.to_string() })?;
            files.push(path);
        }
        let hash: String = hasher.finish().as_ref().iter().take(6).map(|b| format!("{b:02x}")).collect();
        let named = engine
            .eval_rule(VERSION_RULE.to_owned())
            .map_err(|e| PolicyError::Eval { rule: VERSION_RULE, message: e.to_string() })?;
        let named = named.as_string().map(|s| s.to_string()).map_err(|_| PolicyError::Eval {
            rule: VERSION_RULE,
            message: "the policies must define `version := \"…\"` in package ward.response".into(),
        })?;
        Ok(Self { engine: Mutex::new(engine), version: format!("{named}@{hash}"), files })
    }

    /// `version@sha256-prefix` of the loaded policy set.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The files loaded.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Decides one action.
    ///
    /// # Errors
    /// Evaluation failed or the result is outside the contract.
    pub fn decide(&self, input: &PolicyInput) -> Result<PolicyDecision, PolicyError> {
        let value = self.eval(input, DECISION_RULE)?;
        serde_json::from_value(value).map_err(|e| PolicyError::Eval {
            rule: DECISION_RULE,
            message: format!("unexpected result: {e}"),
        })
    }

    /// The actions the policy proposes for an input's score (sorted).
    ///
    /// # Errors
    /// Evaluation failed or the result is not a set of strings.
    pub fn recommended(&self, input: &PolicyInput) -> Result<Vec<String>, PolicyError> {
        let value = self.eval(input, RECOMMENDED_RULE)?;
        let mut out: Vec<String> = match value {
            serde_json::Value::Array(items) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            serde_json::Value::Null => Vec::new(),
            other => {
                return Err(PolicyError::Eval {
                    rule: RECOMMENDED_RULE,
                    message: format!("expected a set, got {other}"),
                });
            }
        };
        out.sort();
        Ok(out)
    }

    fn eval(&self, input: &PolicyInput, rule: &'static str) -> Result<serde_json::Value, PolicyError> {
        let fail = |message: String| PolicyError::Eval { rule, message };
        let json = serde_json::to_string(input).map_err(|e| fail(e.to_string()))?;
        let mut engine = self.engine.lock().map_err(|_| fail("policy engine lock poisoned".into()))?;
        engine.set_input_json(&json).map_err(|e| fail(e.to_string()))?;
        let value = engine.eval_rule(rule.to_owned()).map_err(|e| fail(e.to_string()))?;
        if value == regorus::Value::Undefined {
            return Ok(serde_json::Value::Null);
        }
        let text = value.to_json_str().map_err(|e| fail(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
    }
}

/// One fixture case: input → expected decision.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureCase {
    /// What the case shows.
    pub name: String,
    /// Policy input.
    pub input: PolicyInput,
    /// Expectations.
    pub expect: FixtureExpect,
}

/// What a fixture expects.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureExpect {
    /// The outcome.
    pub outcome: Outcome,
    /// Some reason must contain this text.
    #[serde(default)]
    pub reasons_contain: Option<String>,
    /// The exact recommended set (sorted), when given.
    #[serde(default)]
    pub recommended: Option<Vec<String>>,
}

/// One fixture result.
#[derive(Clone, Debug, Serialize)]
pub struct FixtureResult {
    /// File.
    pub file: PathBuf,
    /// Case name.
    pub name: String,
    /// `None` = passed; else what differed.
    pub failure: Option<String>,
}

/// Runs every `*.json` fixture file (an array of cases) of `dir` against `policies`.
///
/// # Errors
/// Unreadable folder or malformed fixture file (evaluation errors count as case failures).
pub fn run_fixtures(policies: &PolicySet, dir: &Path) -> Result<Vec<FixtureResult>, PolicyError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| PolicyError::Io { path: dir.to_owned(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut results = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|source| PolicyError::Io { path: file.clone(), source })?;
        let cases: Vec<FixtureCase> = serde_json::from_str(&text)
            .map_err(|e| PolicyError::Fixture { path: file.clone(), message: e.to_string() })?;
        for case in cases {
            let failure = check_case(policies, &case).err();
            results.push(FixtureResult { file: file.clone(), name: case.name, failure });
        }
    }
    Ok(results)
}

fn check_case(policies: &PolicySet, case: &FixtureCase) -> Result<(), String> {
    let got = policies.decide(&case.input).map_err(|e| e.to_string())?;
    if got.outcome != case.expect.outcome {
        return Err(format!(
            "expected {} got {} ({})",
            case.expect.outcome,
            got.outcome,
            got.reasons.join("; ")
        ));
    }
    if let Some(needle) = &case.expect.reasons_contain
        && !got.reasons.iter().any(|r| r.contains(needle.as_str()))
    {
        return Err(format!("no reason contains {needle:?}: {:?}", got.reasons));
    }
    if let Some(expected) = &case.expect.recommended {
        let mut expected = expected.clone();
        expected.sort();
        let rec = policies.recommended(&case.input).map_err(|e| e.to_string())?;
        if rec != expected {
            return Err(format!("recommended {rec:?}, expected {expected:?}"));
        }
    }
    Ok(())
}
