//! Triage: a verdict with weighted, explainable reasons for every new or significantly changed
//! incident. [`BuiltinTriager`] is deterministic and always available; [`LlmTriager`] asks an
//! OpenAI-compatible model (with personal data pseudonymized) and falls back to the built-in one.

mod builtin;
mod evidence;
mod llm;
mod redact;

pub use builtin::{BuiltinTriager, extract_iocs};
pub use llm::{LlmError, LlmTriager};
pub use redact::Redactor;

use async_trait::async_trait;
use ward_model::{AlertRecord, Incident, Triage};

pub use crate::features::EntityFeatures;

/// How often an entity of the incident appeared in earlier incidents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorSighting {
    /// Entity field (`source.ip`).
    pub field: String,
    /// Value.
    pub value: String,
    /// Earlier incidents naming it.
    pub incidents: u64,
}

/// Everything a triager may look at.
#[derive(Clone, Copy, Debug)]
pub struct TriageInput<'a> {
    /// The incident as it will be saved (aggregates up to date).
    pub incident: &'a Incident,
    /// Its alerts (the most recent, bounded).
    pub alerts: &'a [AlertRecord],
    /// Entities seen in earlier incidents.
    pub prior: &'a [PriorSighting],
    /// Rolling features of the incident's primary entity at its `last_seen` (empty without a
    /// feature source).
    pub features: &'a [EntityFeatures],
}

/// Produces a triage for an incident.
#[async_trait]
pub trait Triager: Send + Sync {
    /// Triages one incident. Never fails: a triager that cannot decide falls back to a
    /// deterministic answer.
    async fn triage(&self, input: TriageInput<'_>) -> Triage;
}
