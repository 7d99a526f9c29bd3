//! The normalized event: what every decoder produces and every later stage consumes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::field::{FieldValue, Fields};
use crate::ids::{EventId, TenantId};

/// Prefix under which Windows `EventData` fields live, so Sigma rules can name them raw.
const WINLOG_EVENT_DATA: &str = "winlog.event_data.";

/// One normalized telemetry record.
///
/// Fields use ECS dotted paths (`source.ip`, `event.category`, `process.command_line`). Besides
/// the decoded fields every event carries `ward.tenant`, `ward.source`, `ward.event_id` and
/// `event.original` (the record exactly as received).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    timestamp: DateTime<Utc>,
    id: EventId,
    fields: Fields,
}

/// A document that cannot be read back as an event.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type or an unparseable value.
    #[error("invalid field `{field}`: {reason}")]
    Invalid {
        /// Dotted path of the field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Event {
    /// Starts an event for `original` decoded by `source`; `part` tells apart several events
    /// decoded from one record (0 otherwise).
    pub fn new(tenant: &TenantId, source: &str, original: &str, part: u32, timestamp: DateTime<Utc>) -> Self {
        let id = EventId::of(tenant, source, original, part);
        let mut fields = Fields::with_capacity(32);
        fields.insert("event.original", original);
        fields.insert("ward.event_id", id.to_string());
        fields.insert("ward.source", source);
        fields.insert("ward.tenant", tenant.as_str());
        Self { timestamp, id, fields }
    }

    /// The event time (`@timestamp`), in UTC.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// Changes the event time.
    pub fn set_timestamp(&mut self, ts: DateTime<Utc>) {
        self.timestamp = ts;
    }

    /// The stable content-hash id.
    pub fn id(&self) -> EventId {
        self.id
    }

    /// The tenant the event belongs to.
    pub fn tenant(&self) -> &str {
        self.str("ward.tenant").unwrap_or_default()
    }

    /// The decoder that produced the event (`cowrie`, `suricata`, …).
    pub fn source(&self) -> &str {
        self.str("ward.source").unwrap_or_default()
    }

    /// The record exactly as received.
    pub fn original(&self) -> &str {
        self.str("event.original").unwrap_or_default()
    }

    /// All fields, in path order.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The value at a dotted ECS path.
    pub fn get(&self, path: &str) -> Option<&FieldValue> {
        self.fields.get(path)
    }

    /// The text value at a dotted path.
    pub fn str(&self, path: &str) -> Option<&str> {
        self.fields.get(path).and_then(FieldValue::as_str)
    }

    /// Looks a field up by ECS path, then by raw Windows `EventData` name (`CommandLine`), the
    /// way Sigma rules for Windows address fields.
    pub fn lookup(&self, name: &str) -> Option<&FieldValue> {
        self.fields.get(name).or_else(|| self.fields.get_joined(WINLOG_EVENT_DATA, name))
    }

    /// Sets a field. The identifying fields (`ward.*`, `event.original`) are fixed at creation.
    pub fn set(&mut self, path: &str, value: impl Into<FieldValue>) {
        debug_assert!(!is_identity(path), "{path} is fixed at creation");
        if !is_identity(path) {
            self.fields.insert(path, value);
        }
    }

    /// Sets a field when a value is present.
    pub fn set_opt(&mut self, path: &str, value: Option<impl Into<FieldValue>>) {
        if let Some(v) = value {
            self.set(path, v);
        }
    }

    /// Sets a field only if it keeps paths consistent (no leaf becomes a parent); returns the
    /// conflicting existing path otherwise.
    pub fn try_set(&mut self, path: &str, value: FieldValue) -> Result<(), String> {
        if is_identity(path) {
            return Err(path.to_owned());
        }
        self.fields.try_insert(path, value)
    }

    /// Appends to a list field (`related.ip`, `event.category`), skipping duplicates.
    pub fn push(&mut self, path: &str, value: impl Into<FieldValue>) {
        let value = value.into();
        match self.fields.remove(path) {
            Some(FieldValue::List(mut items)) => {
                if !items.contains(&value) {
                    items.push(value);
                }
                self.fields.insert(path, FieldValue::List(items));
            }
            Some(single) if single == value => self.fields.insert(path, single),
            Some(single) => self.fields.insert(path, FieldValue::List(vec![single, value])),
            None => self.fields.insert(path, FieldValue::List(vec![value])),
        }
    }

    /// Removes a decoded field.
    pub fn remove(&mut self, path: &str) -> Option<FieldValue> {
        if is_identity(path) { None } else { self.fields.remove(path) }
    }

    /// Reads an event back from its nested JSON form (as printed by `ward decode`).
    pub fn from_json(doc: serde_json::Value) -> Result<Self, ModelError> {
        let serde_json::Value::Object(map) = doc else {
            return Err(ModelError::Invalid { field: "$".into(), reason: "not an object".into() });
        };
        let mut flat = Vec::new();
        flatten(String::new(), serde_json::Value::Object(map), &mut flat);
        let mut fields = Fields::with_capacity(flat.len());
        let mut timestamp = None;
        for (path, value) in flat {
            if path == "@timestamp" {
                let text = value.as_str().ok_or(ModelError::Missing("@timestamp"))?;
                timestamp = Some(parse_ts(text)?);
            } else if let Some(v) = typed(&path, value) {
                fields.insert(path, v);
            }
        }
        let timestamp = timestamp.ok_or(ModelError::Missing("@timestamp"))?;
        Self::from_parts(timestamp, fields)
    }

    /// An event from its time and fields, checking the identity fields every event carries.
    pub(crate) fn from_parts(timestamp: DateTime<Utc>, fields: Fields) -> Result<Self, ModelError> {
        let id = fields
            .get("ward.event_id")
            .and_then(FieldValue::as_str)
            .ok_or(ModelError::Missing("ward.event_id"))?
            .parse()
            .map_err(|e| ModelError::Invalid { field: "ward.event_id".into(), reason: format!("{e}") })?;
        for required in ["ward.tenant", "ward.source", "event.original"] {
            if fields.get(required).and_then(FieldValue::as_str).is_none() {
                return Err(ModelError::Missing(required));
            }
        }
        Ok(Self { timestamp, id, fields })
    }
}

fn is_identity(path: &str) -> bool {
    path == "event.original"
        || path.starts_with("ward.event_id")
        || path == "ward.source"
        || path == "ward.tenant"
}

fn parse_ts(text: &str) -> Result<DateTime<Utc>, ModelError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ModelError::Invalid { field: "@timestamp".into(), reason: e.to_string() })
}

fn flatten(prefix: String, value: serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        // Keys that are empty or contain dots cannot be told apart from nesting: such an object
        // stays one JSON value, as decoders store it.
        serde_json::Value::Object(map)
            if !map.is_empty() && !map.keys().any(|k| k.is_empty() || k.contains('.')) =>
        {
            for (k, v) in map {
                let path = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(path, v, out);
            }
        }
        other => out.push((prefix, other)),
    }
}

/// Restores typed values that JSON carries as text (IP addresses).
fn typed(path: &str, value: serde_json::Value) -> Option<FieldValue> {
    let is_ip = path.ends_with(".ip") || path == "related.ip" || path.ends_with(".ips");
    match FieldValue::from_json(value)? {
        FieldValue::Str(s) if is_ip => Some(s.parse().map_or(FieldValue::Str(s), FieldValue::Ip)),
        FieldValue::List(items) if is_ip => Some(FieldValue::List(
            items
                .into_iter()
                .map(|i| match i {
                    FieldValue::Str(s) => s.parse().map_or(FieldValue::Str(s), FieldValue::Ip),
                    other => other,
                })
                .collect(),
        )),
        v => Some(v),
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("@timestamp", &self.timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, true))?;
        self.fields.serialize_into(&mut map)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let doc = serde_json::Value::deserialize(d)?;
        Self::from_json(doc).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sample() -> Event {
        let ts = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        let mut e = Event::new(&TenantId::default(), "cowrie", r#"{"eventid":"x"}"#, 0, ts);
        e.set("source.ip", "203.0.113.7".parse::<std::net::IpAddr>().unwrap());
        e.set("source.port", 2222i64);
        e.set("event.category", vec![FieldValue::from("authentication")]);
        e.push("related.ip", "203.0.113.7".parse::<std::net::IpAddr>().unwrap());
        e.set("winlog.event_data.CommandLine", "whoami");
        e
    }

    #[test]
    fn prints_nested_ecs_with_identity_fields() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["@timestamp"], "2024-05-01T12:00:00Z");
        assert_eq!(json["source"]["ip"], "203.0.113.7");
        assert_eq!(json["event"]["original"], r#"{"eventid":"x"}"#);
        assert_eq!(json["ward"]["source"], "cowrie");
        assert_eq!(json["ward"]["tenant"], "default");
        assert_eq!(json["ward"]["event_id"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn json_round_trip_preserves_everything() {
        let e = sample();
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn objects_with_dotted_keys_read_back_whole() {
        let mut e = sample();
        let odd = serde_json::json!({"a.b": 1, "": 2});
        e.set("vendor.extra", FieldValue::Json(Box::new(odd.clone())));
        let back: Event = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back.get("vendor.extra"), Some(&FieldValue::Json(Box::new(odd))));
    }

    #[test]
    fn raw_windows_names_resolve() {
        let e = sample();
        assert_eq!(e.lookup("CommandLine").and_then(FieldValue::as_str), Some("whoami"));
        assert_eq!(e.lookup("source.port").and_then(FieldValue::as_i64), Some(2222));
    }

    #[test]
    fn identity_fields_cannot_be_overwritten() {
        let mut e = sample();
        assert!(e.try_set("ward.tenant", "other".into()).is_err());
        assert_eq!(e.tenant(), "default");
    }
}
