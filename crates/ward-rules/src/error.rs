//! Typed errors. Parsing reports a [`Problem`] (line + [`ErrorKind`]); the loader turns it into a
//! [`Rejection`] that also names the file and, when known, the rule id and title.

use std::fmt;
use std::path::PathBuf;

/// What is wrong with a rule, a pipeline or a rule reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The file is not readable text.
    #[error("cannot read: {0}")]
    Io(String),
    /// The YAML itself is malformed.
    #[error("invalid yaml: {0}")]
    Yaml(String),
    /// A YAML construct Sigma has no use for (complex keys, nesting too deep).
    #[error("unsupported yaml: {0}")]
    YamlShape(String),
    /// A mapping repeats a key.
    #[error("duplicate key `{key}` (first at line {first_line})")]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Where it first appeared.
        first_line: u32,
    },
    /// A mandatory attribute is absent.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// An attribute has the wrong type or an invalid value.
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// The attribute (dotted for nested ones: `correlation.timespan`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value modifier that Sigma does not define.
    #[error("unknown modifier `{0}`")]
    UnknownModifier(String),
    /// Modifiers that cannot be combined, or a modifier applied to a value it cannot take.
    #[error("modifier `{modifier}`: {reason}")]
    Modifier {
        /// The modifier at fault.
        modifier: String,
        /// Why it cannot apply.
        reason: String,
    },
    /// A regular expression that does not compile.
    #[error("invalid regular expression `{pattern}`: {reason}")]
    Regex {
        /// The expression as written.
        pattern: String,
        /// The compiler's message, first line.
        reason: String,
    },
    /// The condition does not parse.
    #[error("condition: {0}")]
    Condition(String),
    /// A deprecated Sigma 1 aggregation (`| count() by x > 5`, `near`).
    #[error("condition: aggregation `{0}` is deprecated Sigma 1 syntax; write a correlation rule instead")]
    Aggregation(String),
    /// The condition names a search identifier that the detection does not define.
    #[error("condition: unknown search identifier `{0}`")]
    UnknownIdentifier(String),
    /// A `1 of x*` / `all of x*` pattern that matches no search identifier.
    #[error("condition: `{0}` matches no search identifier")]
    EmptySelector(String),
    /// A multi-document `action` that Sigma does not define, or one out of place.
    #[error("collection: {0}")]
    Collection(String),
    /// Two rules share an id.
    #[error("duplicate rule id `{id}` (first in {first})")]
    DuplicateId {
        /// The id.
        id: String,
        /// `file:line` of the first rule with it.
        first: String,
    },
    /// A filter or correlation names a rule that is not loaded.
    #[error("references unknown rule `{0}`")]
    UnknownRule(String),
    /// The pipeline routes no event to the rule's logsource.
    #[error("no pipeline logsource for {0}")]
    NoRoute(String),
    /// An `expand` placeholder that the pipeline gives no values for.
    #[error("placeholder `%{0}%` has no values in the pipeline")]
    MissingPlaceholder(String),
    /// A field the pipeline does not map, under a pipeline that rejects unmapped fields.
    #[error("field `{field}` is not mapped by pipeline logsource `{logsource}`")]
    UnmappedField {
        /// The Sigma field name.
        field: String,
        /// The pipeline logsource entry.
        logsource: String,
    },
    /// A best-practice or compatibility issue that `--strict` turns into a rejection.
    #[error("{0}")]
    Lint(String),
}

/// A problem found while parsing one document: the line (1-based, 0 when unknown) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file, 0 when unknown.
    pub line: u32,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl Problem {
    /// A problem at `line`.
    pub fn new(line: u32, kind: ErrorKind) -> Self {
        Self { line, kind }
    }

    /// An invalid attribute at `line`.
    pub fn invalid(line: u32, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(line, ErrorKind::Invalid { field: field.into(), reason: reason.into() })
    }

    /// A modifier problem at `line`.
    pub fn modifier(line: u32, modifier: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::new(line, ErrorKind::Modifier { modifier: modifier.into(), reason: reason.into() })
    }
}

/// A rule (or filter, correlation, pipeline entry) that was not loaded, and exactly why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Rejection {
    /// The file it came from.
    pub file: PathBuf,
    /// 1-based line of the offending node (0 when unknown).
    pub line: u32,
    /// The rule id, when the document got far enough to have one.
    pub rule_id: Option<String>,
    /// The rule title, when known.
    pub title: Option<String>,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl Rejection {
    /// A rejection of the document in `file` for `problem`.
    pub fn new(file: impl Into<PathBuf>, problem: Problem) -> Self {
        Self { file: file.into(), line: problem.line, rule_id: None, title: None, kind: problem.kind }
    }

    /// The same rejection naming a rule.
    pub fn with_rule(mut self, id: Option<&str>, title: Option<&str>) -> Self {
        self.rule_id = id.map(str::to_owned);
        self.title = title.map(str::to_owned);
        self
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if let Some(id) = &self.rule_id {
            write!(f, "rule {id}: ")?;
        }
        write!(f, "{}", self.kind)
    }
}

/// A pipeline file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pipeline {name}:{line}: {kind}")]
pub struct PipelineError {
    /// The pipeline's file name or built-in name.
    pub name: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// What is wrong.
    pub kind: ErrorKind,
}
