//! Processing pipelines: which events a rule's logsource applies to, and which event field each
//! Sigma field name reads.
//!
//! ```yaml
//! name: windows
//! unmapped: raw            # raw: unmapped names are looked up as written (ECS path, then
//!                          # raw EventData name); reject: a rule using one is rejected
//! fieldmappings:           # for every logsource below
//!   EventID: winlog.event_id
//! placeholders:            # values for `expand` placeholders
//!   Administrators: ['adm_*']
//! logsources:
//!   - name: process_creation_security
//!     product: windows
//!     category: process_creation
//!     conditions:          # all must hold; a list means any of the values
//!       winlog.channel: Security
//!       winlog.event_id: 4688
//!     fieldmappings:       # override the pipeline-wide ones; a list means any of the fields
//!       Image: winlog.event_data.NewProcessName
//! ```
//!
//! A logsource entry applies to a rule when every attribute the entry sets equals the rule's, and
//! the entry sets the rule's `category` and `service` when the rule has them (so a generic
//! `product: windows` entry never catches a `process_creation` rule). A rule may route to several
//! entries (Sysmon and Security process creation); it matches an event through any of them.

mod builtin;
mod parse;

pub use builtin::BUILTIN;

use std::collections::HashMap;

use crate::ast::Logsource;
use crate::error::{ErrorKind, PipelineError};

/// What to do with a Sigma field name that the pipeline does not map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmapped {
    /// Look it up as written: as a dotted event path, then as a raw Windows EventData name.
    Raw,
    /// Reject rules that use it (dotted names still pass through as event paths).
    Reject,
}

/// One event constraint: the value at `path` equals (case-insensitively) one of `values`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// Event path (`winlog.channel`).
    pub path: String,
    /// Accepted values, as written.
    pub values: Vec<String>,
}

/// One logsource entry of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Entry name (unique within the pipeline set).
    pub name: String,
    /// The pipeline file it came from.
    pub pipeline: String,
    /// 1-based line of the entry in its file.
    pub line: u32,
    /// Required rule product.
    pub product: Option<String>,
    /// Required rule category.
    pub category: Option<String>,
    /// Required rule service.
    pub service: Option<String>,
    /// Constraints an event must meet (all of them).
    pub conditions: Vec<Constraint>,
    /// Sigma field → event paths (pipeline-wide mappings merged with the entry's own).
    pub fields: HashMap<String, Vec<String>>,
    /// Policy for unmapped names.
    pub unmapped: Unmapped,
}

impl Entry {
    /// Whether this entry applies to a rule with `logsource`.
    pub fn applies_to(&self, logsource: &Logsource) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        let covered = |have: &Option<String>, want: &Option<String>| have.is_none() || want.is_some();
        eq(&self.product, &logsource.product)
            && eq(&self.category, &logsource.category)
            && eq(&self.service, &logsource.service)
            && covered(&logsource.category, &self.category)
            && covered(&logsource.service, &self.service)
            && (self.product.is_some() || self.category.is_some() || self.service.is_some())
    }

    /// The event paths a Sigma field reads under this entry.
    ///
    /// # Errors
    /// [`ErrorKind::UnmappedField`] when the name is not mapped and the entry rejects those.
    pub fn paths(&self, field: &str) -> Result<Vec<String>, ErrorKind> {
        if let Some(paths) = self.fields.get(field) {
            return Ok(paths.clone());
        }
        match self.unmapped {
            Unmapped::Raw => Ok(vec![field.to_owned()]),
            Unmapped::Reject if field.contains('.') => Ok(vec![field.to_owned()]),
            Unmapped::Reject => {
                Err(ErrorKind::UnmappedField { field: field.to_owned(), logsource: self.name.clone() })
            }
        }
    }
}

/// A set of logsource entries with their field mappings and placeholder values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    entries: Vec<Entry>,
    placeholders: HashMap<String, Vec<String>>,
}

impl Pipeline {
    /// Parses one pipeline file; `name` is used in errors and in [`Entry::pipeline`].
    ///
    /// # Errors
    /// A [`PipelineError`] with the line and what is wrong.
    pub fn from_yaml(name: &str, text: &str) -> Result<Self, PipelineError> {
        parse::parse(name, text)
    }

    /// Every pipeline shipped with Ward (Windows, Sysmon, Linux, network, web proxy, honeypot),
    /// merged.
    ///
    /// # Errors
    /// Only if a shipped file is broken, which the test suite rules out.
    pub fn builtin() -> Result<Self, PipelineError> {
        let mut all = Self::default();
        for (name, text) in BUILTIN {
            all = all.merge(Self::from_yaml(name, text)?);
        }
        Ok(all)
    }

    /// One shipped pipeline by name (`windows`, `sysmon`, `linux`, `network`, `proxy`, `honeypot`).
    pub fn builtin_named(name: &str) -> Option<Result<Self, PipelineError>> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, text)| Self::from_yaml(n, text))
    }

    /// This pipeline followed by `other`'s entries; `other`'s placeholder values win.
    pub fn merge(mut self, other: Self) -> Self {
        self.entries.extend(other.entries);
        self.placeholders.extend(other.placeholders);
        self
    }

    /// The logsource entries, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Indices of the entries that apply to a rule's logsource.
    pub fn routes(&self, logsource: &Logsource) -> Vec<usize> {
        (0..self.entries.len()).filter(|&i| self.entries[i].applies_to(logsource)).collect()
    }

    /// The values of an `expand` placeholder.
    pub fn placeholder(&self, name: &str) -> Option<&[String]> {
        self.placeholders.get(name).map(Vec::as_slice)
    }

    /// Sets the values of a placeholder (from configuration).
    pub fn set_placeholder(&mut self, name: &str, values: Vec<String>) {
        self.placeholders.insert(name.to_owned(), values);
    }
}
