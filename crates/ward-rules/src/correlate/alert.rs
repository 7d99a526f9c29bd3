//! Correlation alerts: the correlation rule, the group, the window and its evidence, with an id
//! that depends only on (correlation id, group key, window start) so replays reproduce it.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use ward_model::EventId;

use crate::alert::{AlertId, RuleSummary};
use crate::ast::{Correlation, CorrelationType, Level};

/// One correlation match: a group whose window satisfied the correlation's condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrelationAlert {
    /// Deterministic id: correlation id + group key + window start.
    pub id: AlertId,
    /// The correlation rule (id, title, level, tags).
    pub rule: Arc<RuleSummary>,
    /// The correlation type.
    pub kind: CorrelationType,
    /// The tenant of the correlated events.
    pub tenant: String,
    /// The `group-by` names and the group's values, in `group-by` order.
    pub group: Vec<(String, String)>,
    /// What satisfied the condition: matches, distinct values, or rules matched in the window.
    pub value: u64,
    /// Contributing matches (base events or inner correlation alerts).
    pub matches: u64,
    /// Contributing event ids, oldest first, at most `max_alert_events`.
    pub event_ids: Vec<EventId>,
    /// Time of the first contributing match.
    pub first: DateTime<Utc>,
    /// Time of the last contributing match.
    pub last: DateTime<Utc>,
    /// Start of the window that fired.
    pub window_start: DateTime<Utc>,
    /// End of the window that fired (the firing match for early alerts, start + timespan otherwise).
    pub window_end: DateTime<Utc>,
    /// Event time at which the alert became certain; chained correlations see it at this time.
    pub timestamp: DateTime<Utc>,
}

/// The contributing matches of a window.
#[derive(Clone, Debug, Default)]
pub(super) struct Evidence {
    /// How many matches contributed.
    pub matches: u64,
    /// Their event ids, bounded.
    pub ids: Vec<EventId>,
}

impl Evidence {
    /// Adds one match's event ids, keeping at most `cap`.
    pub(super) fn add(&mut self, ids: &[EventId], cap: usize) {
        self.matches += 1;
        let room = cap.saturating_sub(self.ids.len());
        self.ids.extend(ids.iter().take(room));
    }
}

/// When a window fired, and on what.
pub(super) struct Fire {
    /// Window start and end, microseconds.
    pub window: (i64, i64),
    /// First and last contributing match, microseconds.
    pub span: (i64, i64),
    /// Detection time, microseconds.
    pub at: i64,
    /// What satisfied the condition.
    pub value: u64,
}

/// A fired alert with the 128-bit hash that identifies it to chained correlations.
pub(super) struct Fired {
    /// The alert.
    pub alert: CorrelationAlert,
    /// Hash of correlation id, group key and window start.
    pub hash: u128,
}

/// The summary shared by a correlation's alerts (`medium` when it sets no level).
pub(super) fn summary(c: &Correlation) -> RuleSummary {
    RuleSummary {
        id: display_name(c).to_owned(),
        title: c.meta.title.clone(),
        level: c.meta.level.unwrap_or(Level::Medium),
        tags: c.meta.tags.clone(),
        techniques: c.meta.attack_techniques(),
        file: c.source.file.clone(),
    }
}

/// How a correlation is named in errors and alerts: its id, else its name, else its title.
pub(super) fn display_name(c: &Correlation) -> &str {
    c.meta.id.as_deref().or(c.meta.name.as_deref()).unwrap_or(&c.meta.title)
}

/// Builds the alert for `fire`.
/// `key` is the encoded group key (tenant first); `names` the `group-by` entries.
pub(super) fn build(
    rule: &Arc<RuleSummary>,
    kind: CorrelationType,
    names: &[String],
    key: &str,
    fire: &Fire,
    ev: Evidence,
) -> Fired {
    let identity = format!("{}\0{}\0{}", rule.id, key, fire.window.0);
    let hash = xxhash_rust::xxh3::xxh3_128(identity.as_bytes());
    let mut parts = decode_key(key).into_iter();
    let tenant = parts.next().unwrap_or_default();
    let group = names.iter().cloned().zip(parts).collect();
    let alert = CorrelationAlert {
        id: AlertId::of(&identity, &[]),
        rule: rule.clone(),
        kind,
        tenant,
        group,
        value: fire.value,
        matches: ev.matches,
        event_ids: ev.ids,
        first: time(fire.span.0),
        last: time(fire.span.1),
        window_start: time(fire.window.0),
        window_end: time(fire.window.1),
        timestamp: time(fire.at),
    };
    Fired { alert, hash }
}

/// Microseconds since the epoch.
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The time at `micros` (clamped to chrono's range).
pub(super) fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(if micros < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Appends one `len:value` pair: keys built this way are injective.
pub(super) fn push_part(key: &mut String, part: &str) {
    let _ = write!(key, "{}:", part.len());
    key.push_str(part);
}

/// The values of a key built with [`push_part`].
pub(super) fn decode_key(mut key: &str) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((len, rest)) = key.split_once(':') {
        let Ok(len) = len.parse::<usize>() else { break };
        let Some(value) = rest.get(..len) else { break };
        out.push(value.to_owned());
        key = &rest[len..];
    }
    out
}

impl Serialize for CorrelationAlert {
    /// The `ward hunt --format jsonl` shape of a correlation alert.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let stamp = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let mut map = s.serialize_map(Some(13))?;
        map.serialize_entry("id", &self.id.to_string())?;
        map.serialize_entry("rule_id", &self.rule.id)?;
        map.serialize_entry("rule_title", &self.rule.title)?;
        map.serialize_entry("level", self.rule.level.as_str())?;
        map.serialize_entry("correlation", kind_name(self.kind))?;
        map.serialize_entry("tenant", &self.tenant)?;
        map.serialize_entry("group", &GroupMap(&self.group))?;
        map.serialize_entry("value", &self.value)?;
        map.serialize_entry("matches", &self.matches)?;
        let ids: Vec<String> = self.event_ids.iter().map(ToString::to_string).collect();
        map.serialize_entry("event_ids", &ids)?;
        map.serialize_entry("first", &stamp(&self.first))?;
        map.serialize_entry("last", &stamp(&self.last))?;
        map.serialize_entry("timestamp", &stamp(&self.timestamp))?;
        map.end()
    }
}

/// The group as a JSON object in `group-by` order.
struct GroupMap<'a>(&'a [(String, String)]);

impl Serialize for GroupMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The Sigma spelling of a correlation type.
pub fn kind_name(kind: CorrelationType) -> &'static str {
    match kind {
        CorrelationType::EventCount => "event_count",
        CorrelationType::ValueCount => "value_count",
        CorrelationType::Temporal => "temporal",
        CorrelationType::TemporalOrdered => "temporal_ordered",
        CorrelationType::ValueSum => "value_sum",
        CorrelationType::ValueAvg => "value_avg",
        CorrelationType::ValuePercentile => "value_percentile",
        CorrelationType::ValueMedian => "value_median",
    }
}
