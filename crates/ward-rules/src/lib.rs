//! Sigma for Ward: parse → check → bind → compile → evaluate.
//!
//! ```text
//! rule files ──RuleSet::load──▶ checked AST (ast::Rule, Filter, Correlation) + rejections
//!                                   │  filters applied, ids unique, conditions resolved
//! pipeline YAML ──Pipeline──────────┤
//!                                   ▼
//!                     bind: logsource → pipeline entries, Sigma fields → event paths,
//!                           `expand` placeholders → values
//!                      ┌────────────┴─────────────┐
//!             ReferenceEngine (oracle)       Engine (compiled: router, per-field
//!                                            Aho–Corasick prefilter, ordered trees)
//!                                                   │
//!                                         Alert (rule, events, matched fields, stable id)
//! ```
//!
//! Every rule file is either loaded or rejected with a [`Rejection`] naming file, line, rule id
//! and reason; nothing is skipped silently. The only I/O is reading the rule files and folders
//! given to [`RuleSet::load`] (and the regression metadata given to [`regression::run`]).
//! `docs/sigma-support.md` lists what is supported and the choices made.

pub mod alert;
pub mod ast;
pub mod bind;
pub mod compile;
pub mod correlate;
pub mod error;
pub mod eval_ref;
pub mod lint;
pub mod parse;
pub mod pipeline;
pub mod regression;
pub mod ruleset;
pub mod semantics;
pub mod yaml;

pub use alert::{Alert, AlertId, MatchedField, RuleSummary};
pub use compile::{Engine, EngineStats, Scratch};
pub use error::{ErrorKind, PipelineError, Problem, Rejection};
pub use eval_ref::ReferenceEngine;
pub use parse::{Document, parse_source};
pub use pipeline::{Entry, Pipeline, Unmapped};
pub use ruleset::RuleSet;
