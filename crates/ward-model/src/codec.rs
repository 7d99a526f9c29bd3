//! How events travel between pipeline stages: a compact binary form (postcard) written by
//! `normalize` and read by `detect`, the event search and the feature backfill. Parsing the
//! nested JSON form back into flat fields cost more than detection itself; the binary form
//! keeps the flat, sorted fields and their types (addresses stay addresses) as they are.
//!
//! Layout: one magic byte ([`MAGIC`]) then the postcard encoding of
//! `(version, seconds, nanoseconds, [(path, value)…])`. [`decode_event`] also reads the JSON
//! form, so logs written before the binary form existed replay unchanged.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::ser::{SerializeSeq, SerializeTuple};
use serde::{Deserialize, Serialize, Serializer};

use crate::event::{Event, ModelError};
use crate::field::{FieldValue, Fields};

/// First byte of a binary event (JSON documents start with `{` or whitespace).
pub const MAGIC: u8 = 0xE7;
/// Version of the binary layout after the magic byte.
const VERSION: u8 = 1;

/// The binary form of `event`.
pub fn encode_event(event: &Event) -> Vec<u8> {
    // Writing plain values into a Vec cannot fail; were it to, `decode_event` would reject the
    // bare magic byte and the record would be dead-lettered, not lost silently.
    postcard::to_extend(&Wire(event), vec![MAGIC]).unwrap_or_else(|_| vec![MAGIC])
}

/// Whether `bytes` hold a binary event (rather than JSON).
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.first() == Some(&MAGIC)
}

/// An event from its binary or JSON form.
///
/// # Errors
/// Malformed bytes, an unknown layout version, or an event without its identity fields.
pub fn decode_event(bytes: &[u8]) -> Result<Event, ModelError> {
    let Some(rest) = bytes.strip_prefix(&[MAGIC]) else {
        let doc: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ModelError::Invalid { field: "$".into(), reason: format!("not an event: {e}") })?;
        return Event::from_json(doc);
    };
    let invalid = |reason: String| ModelError::Invalid { field: "$".into(), reason };
    let (version, secs, nanos, entries): (u8, i64, u32, Vec<(Box<str>, WireValue)>) =
        postcard::from_bytes(rest).map_err(|e| invalid(format!("malformed binary event: {e}")))?;
    if version != VERSION {
        return Err(invalid(format!("binary event version {version} is not {VERSION}")));
    }
    let timestamp = DateTime::<Utc>::from_timestamp(secs, nanos)
        .ok_or_else(|| ModelError::Invalid { field: "@timestamp".into(), reason: "out of range".into() })?;
    let mut fields = Vec::with_capacity(entries.len());
    for (path, value) in entries {
        if path.is_empty() {
            return Err(invalid("empty field path".into()));
        }
        let value =
            value.into_field().map_err(|reason| ModelError::Invalid { field: path.to_string(), reason })?;
        fields.push((path, value));
    }
    Event::from_parts(timestamp, Fields::from_entries(fields))
}

/// Serializes an event as `(version, seconds, nanoseconds, fields)` without copying it.
struct Wire<'a>(&'a Event);

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ts = self.0.timestamp();
        let mut t = s.serialize_tuple(4)?;
        t.serialize_element(&VERSION)?;
        t.serialize_element(&ts.timestamp())?;
        t.serialize_element(&ts.timestamp_subsec_nanos())?;
        t.serialize_element(&WireFields(self.0.fields()))?;
        t.end()
    }
}

struct WireFields<'a>(&'a Fields);

impl Serialize for WireFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let entries = self.0.entries();
        let mut seq = s.serialize_seq(Some(entries.len()))?;
        for (path, value) in entries {
            seq.serialize_element(&(path.as_ref(), WireRef(value)))?;
        }
        seq.end()
    }
}

/// A field value as written: the [`WireValue`] variant of the same index.
struct WireRef<'a>(&'a FieldValue);

impl Serialize for WireRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const NAME: &str = "WireValue";
        match self.0 {
            FieldValue::Str(v) => s.serialize_newtype_variant(NAME, 0, "Str", v.as_ref()),
            FieldValue::Int(v) => s.serialize_newtype_variant(NAME, 1, "Int", v),
            FieldValue::Float(v) => s.serialize_newtype_variant(NAME, 2, "Float", v),
            FieldValue::Bool(v) => s.serialize_newtype_variant(NAME, 3, "Bool", v),
            FieldValue::Ip(v) => s.serialize_newtype_variant(NAME, 4, "Ip", v),
            FieldValue::List(items) => s.serialize_newtype_variant(NAME, 5, "List", &WireList(items)),
            FieldValue::Json(v) => {
                // A JSON value always prints.
                let text = serde_json::to_string(v.as_ref()).unwrap_or_default();
                s.serialize_newtype_variant(NAME, 6, "Json", &text)
            }
        }
    }
}

struct WireList<'a>(&'a [FieldValue]);

impl Serialize for WireList<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&WireRef(v))?;
        }
        seq.end()
    }
}

/// A field value as read back (variant order is the layout: never reorder).
#[derive(Deserialize)]
enum WireValue {
    Str(Box<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ip(IpAddr),
    List(Vec<WireValue>),
    Json(String),
}

impl WireValue {
    fn into_field(self) -> Result<FieldValue, String> {
        Ok(match self {
            Self::Str(v) => FieldValue::Str(v),
            Self::Int(v) => FieldValue::Int(v),
            Self::Float(v) => FieldValue::Float(v),
            Self::Bool(v) => FieldValue::Bool(v),
            Self::Ip(v) => FieldValue::Ip(v),
            Self::List(items) => {
                FieldValue::List(items.into_iter().map(Self::into_field).collect::<Result<_, _>>()?)
            }
            Self::Json(text) => FieldValue::Json(Box::new(
                serde_json::from_str(&text).map_err(|e| format!("nested JSON value: {e}"))?,
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::TenantId;

    fn event(extra: Vec<(String, FieldValue)>, secs: i64, nanos: u32) -> Event {
        let tenant = TenantId::new("acme").unwrap();
        let original = r#"{"src_ip":"203.0.113.7"}"#;
        let ts = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
        let mut e = Event::new(&tenant, "cowrie", original, 0, ts);
        for (path, value) in extra {
            e.set(&path, value);
        }
        e
    }

    #[test]
    fn every_value_kind_round_trips_exactly() {
        let e = event(
            vec![
                ("source.ip".into(), FieldValue::Ip("203.0.113.7".parse().unwrap())),
                ("destination.ip".into(), FieldValue::Ip("2001:db8::1".parse().unwrap())),
                ("source.port".into(), FieldValue::Int(-22)),
                ("event.risk_score".into(), FieldValue::Float(0.75)),
                ("event.outcome_ok".into(), FieldValue::Bool(true)),
                ("user.name".into(), FieldValue::Str("root".into())),
                (
                    "related.ip".into(),
                    FieldValue::List(vec![
                        FieldValue::Ip("198.51.100.1".parse().unwrap()),
                        FieldValue::Str("not an ip".into()),
                    ]),
                ),
                ("suricata.eve.raw".into(), FieldValue::Json(Box::new(serde_json::json!({"a.b": [1, "x"]})))),
            ],
            1_764_072_000,
            123_456_789,
        );
        let bytes = encode_event(&e);
        assert!(is_binary(&bytes));
        assert_eq!(decode_event(&bytes).unwrap(), e);
    }

    #[test]
    fn the_json_form_still_reads() {
        let e = event(vec![("user.name".into(), FieldValue::Str("root".into()))], 1_764_072_000, 0);
        let json = serde_json::to_vec(&e).unwrap();
        assert!(!is_binary(&json));
        assert_eq!(decode_event(&json).unwrap(), e);
    }

    #[test]
    fn damaged_or_foreign_bytes_are_clear_errors() {
        let e = event(vec![], 1_764_072_000, 0);
        let bytes = encode_event(&e);
        for cut in 1..bytes.len() {
            assert!(decode_event(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut newer = bytes.clone();
        newer[1] = VERSION + 1;
        let err = decode_event(&newer).unwrap_err().to_string();
        assert!(err.contains("version"), "{err}");
        assert!(decode_event(b"\x00garbage").is_err());
        assert!(decode_event(b"").is_err());
    }

    fn leaf() -> impl Strategy<Value = FieldValue> {
        prop_oneof![
            ".{0,12}".prop_map(|s: String| FieldValue::Str(s.into())),
            any::<i64>().prop_map(FieldValue::Int),
            (-1e12f64..1e12).prop_map(FieldValue::Float),
            any::<bool>().prop_map(FieldValue::Bool),
            any::<[u8; 4]>().prop_map(|b| FieldValue::Ip(IpAddr::from(b))),
            any::<[u8; 16]>().prop_map(|b| FieldValue::Ip(IpAddr::from(b))),
        ]
    }

    proptest! {
        #[test]
        fn random_events_round_trip(
            fields in proptest::collection::btree_map("[a-z]{1,6}\\.[a-z]{1,6}", leaf(), 0..24),
            lists in proptest::collection::vec(leaf(), 0..5),
            secs in 0i64..4_000_000_000,
            nanos in 0u32..1_000_000_000,
        ) {
            let mut extra: Vec<(String, FieldValue)> =
                fields.into_iter().map(|(k, v)| (format!("x.{k}"), v)).collect();
            extra.push(("y.list".into(), FieldValue::List(lists)));
            let e = event(extra, secs, nanos);
            prop_assert_eq!(decode_event(&encode_event(&e)).unwrap(), e);
        }
    }
}
