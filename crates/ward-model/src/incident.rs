//! Detection outputs and incidents: the records every stage after `detect` speaks (pipeline,
//! store, triage, fusion, response and the API), so that they share one vocabulary.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TenantId;

/// Entities named by an alert or incident: ECS field → distinct values, sorted
/// (`{"source.ip": ["203.0.113.7"], "user.name": ["root"]}`).
pub type Entities = BTreeMap<String, Vec<String>>;

/// Adds `value` to `entities[field]`, keeping each list sorted and free of duplicates.
pub fn add_entity(entities: &mut Entities, field: &str, value: &str) {
    let list = entities.entry(field.to_owned()).or_default();
    if let Err(at) = list.binary_search_by(|v| v.as_str().cmp(value)) {
        list.insert(at, value.to_owned());
    }
}

/// Merges every entity of `from` into `into`.
pub fn merge_entities(into: &mut Entities, from: &Entities) {
    for (field, values) in from {
        for v in values {
            add_entity(into, field, v);
        }
    }
}

/// How bad something is. Ordered: `Informational < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth recording, not worth a look.
    Informational,
    /// Low.
    Low,
    /// Medium (the default for rules that set no level).
    #[default]
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [Self::Informational, Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The lowercase name used in JSON, SQL and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// The default score of one signal of this severity, in [0, 1].
    pub fn base_score(self) -> f64 {
        match self {
            Self::Informational => 0.1,
            Self::Low => 0.3,
            Self::Medium => 0.5,
            Self::High => 0.75,
            Self::Critical => 0.95,
        }
    }

    /// The severity a score in [0, 1] corresponds to (inverse of [`Severity::base_score`]).
    pub fn from_score(score: f64) -> Self {
        match score {
            s if s >= 0.9 => Self::Critical,
            s if s >= 0.7 => Self::High,
            s if s >= 0.45 => Self::Medium,
            s if s >= 0.25 => Self::Low,
            _ => Self::Informational,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the known values of an enum field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected one of: {expected})")]
pub struct UnknownName {
    /// What kind of value it should have been.
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// The accepted values, comma separated.
    pub expected: &'static str,
}

impl FromStr for Severity {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "informational" | "info" => Self::Informational,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => {
                return Err(UnknownName {
                    what: "severity",
                    value: s.to_owned(),
                    expected: "informational, low, medium, high, critical",
                });
            }
        })
    }
}

/// Which detector produced a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A Sigma detection rule.
    Sigma,
    /// A Sigma correlation rule (several events).
    Correlation,
    /// A threat-intelligence indicator hit.
    Ioc,
    /// A learned or statistical model.
    Model,
    /// A rule over network flows.
    Flow,
}

impl SignalKind {
    /// The lowercase name used in JSON, SQL and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sigma => "sigma",
            Self::Correlation => "correlation",
            Self::Ioc => "ioc",
            Self::Model => "model",
            Self::Flow => "flow",
        }
    }
}

impl FromStr for SignalKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "sigma" => Self::Sigma,
            "correlation" => Self::Correlation,
            "ioc" => Self::Ioc,
            "model" => Self::Model,
            "flow" => Self::Flow,
            _ => {
                return Err(UnknownName {
                    what: "signal kind",
                    value: s.to_owned(),
                    expected: "sigma, correlation, ioc, model, flow",
                });
            }
        })
    }
}

/// One detection output as it travels on the `alerts` topic and is kept in the store.
/// Its `id` is deterministic (detector + rule + events), so a replay rewrites the same row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Deterministic id, 32 lowercase hex digits.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Which detector fired.
    pub kind: SignalKind,
    /// Rule, indicator feed or model id.
    pub rule_id: String,
    /// Human title.
    pub rule_title: String,
    /// Severity of this signal.
    pub level: Severity,
    /// Strength in [0, 1] (rule level, indicator confidence or model score).
    pub score: f64,
    /// Event time of the (last) matched event.
    pub timestamp: DateTime<Utc>,
    /// The matched events' ids.
    pub event_ids: Vec<String>,
    /// Rule tags (`attack.t1110`, …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// ATT&CK technique ids (`T1110.001`).
    #[serde(default)]
    pub techniques: Vec<String>,
    /// Entities the matched events name (`source.ip`, `host.name`, `user.name`, …).
    #[serde(default)]
    pub entities: Entities,
    /// Decoder of the matched events (`cowrie`, `suricata`, …).
    #[serde(default)]
    pub source: String,
    /// Detector-specific detail: matched fields, indicator enrichment, model explanation.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// Where an incident is in its life. Allowed moves are given by [`IncidentStatus::can_move_to`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Just opened.
    #[default]
    New,
    /// Being triaged (automatically or by an analyst).
    Triaging,
    /// Triage is done; waiting for someone to act.
    Triaged,
    /// Someone is working on it.
    InProgress,
    /// Handled.
    Resolved,
    /// Not an attack.
    FalsePositive,
    /// The same as another incident.
    Duplicate,
}

/// A status change that the lifecycle does not allow.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an incident cannot go from `{from}` to `{to}`; allowed from `{from}`: {allowed}")]
pub struct InvalidTransition {
    /// Current status.
    pub from: IncidentStatus,
    /// Requested status.
    pub to: IncidentStatus,
    /// What is allowed instead, comma separated.
    pub allowed: String,
}

impl IncidentStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [IncidentStatus; 7] = [
        Self::New,
        Self::Triaging,
        Self::Triaged,
        Self::InProgress,
        Self::Resolved,
        Self::FalsePositive,
        Self::Duplicate,
    ];

    /// The snake_case name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Triaging => "triaging",
            Self::Triaged => "triaged",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::FalsePositive => "false_positive",
            Self::Duplicate => "duplicate",
        }
    }

    /// Whether the incident is closed (resolved, false positive or duplicate).
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Resolved | Self::FalsePositive | Self::Duplicate)
    }

    /// The statuses this one may move to. The main line is
    /// `new → triaging → triaged → in_progress → resolved`; an analyst may pick an incident up
    /// (`in_progress`) or close it as `false_positive`/`duplicate` from any open status, and
    /// reopen a resolved or false-positive incident. `duplicate` is final.
    pub fn successors(self) -> &'static [IncidentStatus] {
        use IncidentStatus::*;
        match self {
            New => &[Triaging, Triaged, InProgress, Resolved, FalsePositive, Duplicate],
            Triaging => &[Triaged, InProgress, Resolved, FalsePositive, Duplicate],
            Triaged => &[Triaging, InProgress, Resolved, FalsePositive, Duplicate],
            InProgress => &[Triaged, Resolved, FalsePositive, Duplicate],
            Resolved => &[InProgress],
            FalsePositive => &[Triaging, InProgress],
            Duplicate => &[],
        }
    }

    /// Checks the move `self → to` (staying put is allowed).
    pub fn can_move_to(self, to: IncidentStatus) -> Result<(), InvalidTransition> {
        if self == to || self.successors().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.successors().iter().map(|s| s.as_str()).collect();
        Err(InvalidTransition {
            from: self,
            to,
            allowed: if allowed.is_empty() { "none (final)".to_owned() } else { allowed.join(", ") },
        })
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IncidentStatus {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownName {
            what: "incident status",
            value: s.to_owned(),
            expected: "new, triaging, triaged, in_progress, resolved, false_positive, duplicate",
        })
    }
}

/// A triager's conclusion about an incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Certainly an attack.
    TruePositive,
    /// Probably an attack.
    LikelyTruePositive,
    /// Needs a human look.
    Suspicious,
    /// Probably benign.
    LikelyFalsePositive,
    /// Certainly benign.
    FalsePositive,
}

impl Verdict {
    /// Every verdict, most alarming first.
    pub const ALL: [Verdict; 5] = [
        Self::TruePositive,
        Self::LikelyTruePositive,
        Self::Suspicious,
        Self::LikelyFalsePositive,
        Self::FalsePositive,
    ];

    /// The snake_case name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TruePositive => "true_positive",
            Self::LikelyTruePositive => "likely_true_positive",
            Self::Suspicious => "suspicious",
            Self::LikelyFalsePositive => "likely_false_positive",
            Self::FalsePositive => "false_positive",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| UnknownName {
            what: "verdict",
            value: s.to_owned(),
            expected: "true_positive, likely_true_positive, suspicious, likely_false_positive, false_positive",
        })
    }
}

/// One weighted reason behind a verdict or a score ("3 critical rule alerts: +0.4").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Short stable name (`rule_level`, `ioc_hit`, `repeat_offender`, `asset_criticality`, …).
    pub name: String,
    /// Signed contribution (positive = more likely an attack).
    pub weight: f64,
    /// Human explanation with the evidence.
    pub detail: String,
}

/// Indicators pulled out of an incident's alerts and events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedIocs {
    /// IP addresses.
    #[serde(default)]
    pub ips: Vec<String>,
    /// Domain names.
    #[serde(default)]
    pub domains: Vec<String>,
    /// File hashes (MD5/SHA-1/SHA-256).
    #[serde(default)]
    pub hashes: Vec<String>,
    /// User names.
    #[serde(default)]
    pub users: Vec<String>,
}

/// The outcome of triaging an incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    /// The verdict.
    pub verdict: Verdict,
    /// Confidence in [0, 1].
    pub confidence: f64,
    /// The weighted reasons.
    pub reasoning: Vec<Factor>,
    /// Indicators found.
    pub iocs: ExtractedIocs,
    /// Suggested response actions (`block_ip 203.0.113.7`, `rotate_ssh_key`, …).
    pub recommended_actions: Vec<String>,
    /// Which triager produced it (`builtin`, `llm:<model>`).
    pub triager: String,
}

/// A group of related alerts about the same entity in the same time window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Deterministic id (tenant + grouping key + window start), 32 lowercase hex digits.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Lifecycle status.
    pub status: IncidentStatus,
    /// Severity (the highest of its alerts unless an analyst changed it).
    pub severity: Severity,
    /// Consolidated score in [0, 1].
    pub score: f64,
    /// Human title.
    pub title: String,
    /// The grouping key that opened it (`source.ip=203.0.113.7`).
    pub group_key: String,
    /// Entities of all its alerts.
    pub entities: Entities,
    /// Number of linked alerts.
    pub alert_count: u64,
    /// Triage verdict, once triaged.
    pub verdict: Option<Verdict>,
    /// Triage confidence in [0, 1].
    pub confidence: Option<f64>,
    /// Triage (and fusion) reasons.
    pub reasoning: Vec<Factor>,
    /// Indicators found by triage.
    #[serde(default)]
    pub iocs: ExtractedIocs,
    /// Suggested actions from triage.
    #[serde(default)]
    pub recommended_actions: Vec<String>,
    /// The analyst it is assigned to.
    pub assignee: Option<String>,
    /// Event time of the first alert.
    pub first_seen: DateTime<Utc>,
    /// Event time of the last alert.
    pub last_seen: DateTime<Utc>,
    /// When Ward opened it.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_main_line_is_allowed_and_duplicate_is_final() {
        use IncidentStatus::*;
        for w in [New, Triaging, Triaged, InProgress, Resolved].windows(2) {
            assert!(w[0].can_move_to(w[1]).is_ok(), "{} -> {}", w[0], w[1]);
        }
        let err = Duplicate.can_move_to(New).unwrap_err();
        assert!(err.to_string().contains("none (final)"));
        assert!(Resolved.can_move_to(Triaged).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse::<IncidentStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(v));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
            assert_eq!(Severity::from_score(s.base_score()), s);
        }
    }

    #[test]
    fn entities_stay_sorted_and_distinct() {
        let mut e = Entities::new();
        add_entity(&mut e, "source.ip", "b");
        add_entity(&mut e, "source.ip", "a");
        add_entity(&mut e, "source.ip", "b");
        assert_eq!(e["source.ip"], vec!["a", "b"]);
    }
}
