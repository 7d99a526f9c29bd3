//! Alerts: one per rule match, lean (the rule's shared summary, event ids, matched fields) and
//! with a deterministic id so that replaying the same events yields the same alert ids.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use ward_model::EventId;

use crate::ast::{Level, Rule};

/// What an alert says about the rule that fired, shared by all its alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSummary {
    /// The rule id (its title when it has none).
    pub id: String,
    /// The rule title.
    pub title: String,
    /// Severity (`medium` when the rule sets none).
    pub level: Level,
    /// All tags.
    pub tags: Vec<String>,
    /// ATT&CK technique ids derived from the tags (`T1059.001`).
    pub techniques: Vec<String>,
    /// The rule file.
    pub file: Arc<str>,
}

impl RuleSummary {
    /// The summary of a rule.
    pub fn of(rule: &Rule) -> Self {
        Self {
            id: rule.meta.id.clone().unwrap_or_else(|| rule.meta.title.clone()),
            title: rule.meta.title.clone(),
            level: rule.meta.level.unwrap_or(Level::Medium),
            tags: rule.meta.tags.clone(),
            techniques: rule.meta.attack_techniques(),
            file: rule.source.file.clone(),
        }
    }
}

/// A deterministic alert id: 32 hex digits of XXH3-128 over the rule id and the event ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertId(u128);

impl AlertId {
    /// The id of an alert of `rule_id` over `events`.
    pub fn of(rule_id: &str, events: &[EventId]) -> Self {
        let mut bytes = Vec::with_capacity(rule_id.len() + 1 + 16 * events.len());
        bytes.extend_from_slice(rule_id.as_bytes());
        bytes.push(0);
        for e in events {
            bytes.extend_from_slice(&e.as_u128().to_be_bytes());
        }
        Self(xxhash_rust::xxh3::xxh3_128(&bytes))
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlertId({self})")
    }
}

/// A field that took part in a match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchedField {
    /// The Sigma field name.
    pub field: String,
    /// The event path it was read from.
    pub path: String,
    /// The value, as text.
    pub value: String,
}

/// One rule match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Deterministic id (rule + events).
    pub id: AlertId,
    /// The rule that fired.
    pub rule: Arc<RuleSummary>,
    /// Time of the (last) matched event.
    pub timestamp: DateTime<Utc>,
    /// The matched event(s).
    pub event_ids: Vec<EventId>,
    /// The fields that matched.
    pub matched: Vec<MatchedField>,
}

impl Alert {
    /// An alert of `rule` on one event.
    pub fn new(
        rule: Arc<RuleSummary>,
        event: EventId,
        timestamp: DateTime<Utc>,
        matched: Vec<MatchedField>,
    ) -> Self {
        let id = AlertId::of(&rule.id, &[event]);
        Self { id, rule, timestamp, event_ids: vec![event], matched }
    }
}

impl Serialize for Alert {
    /// The `ward hunt --format jsonl` shape: `id`, `rule_id`, `rule_title`, `level`, `timestamp`,
    /// `event_ids`, `tags`, `techniques`, `matched`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(9))?;
        map.serialize_entry("id", &self.id.to_string())?;
        map.serialize_entry("rule_id", &self.rule.id)?;
        map.serialize_entry("rule_title", &self.rule.title)?;
        map.serialize_entry("level", self.rule.level.as_str())?;
        map.serialize_entry("timestamp", &self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true))?;
        let ids: Vec<String> = self.event_ids.iter().map(ToString::to_string).collect();
        map.serialize_entry("event_ids", &ids)?;
        map.serialize_entry("tags", &self.rule.tags)?;
        map.serialize_entry("techniques", &self.rule.techniques)?;
        map.serialize_entry("matched", &self.matched)?;
        map.end()
    }
}
