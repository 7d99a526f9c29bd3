//! One Cowrie record, parsed once into its members, and typed access to them.
//!
//! Parsing keeps member names and text values borrowed from the line wherever JSON escapes allow
//! (no map, no hashing): a record has a dozen members and each is looked up once. Each accessor
//! takes its member out of the record, so what is left at the end are the members no mapping
//! knew (kept under `cowrie.extra.*`). `null` counts as absent. A member present with a JSON type
//! Cowrie never writes for it is an error naming the member. With duplicate names the last
//! member is mapped and earlier ones stay in the rest.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use ward_model::{Event, FieldValue};

use crate::DecodeError;
use crate::util;

/// The longest slice of a bad value quoted in an error message.
const QUOTE_CHARS: usize = 64;

/// Text borrowed from the record where possible.
pub(super) struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<Text<'_>> for FieldValue {
    fn from(t: Text<'_>) -> Self {
        match t.0 {
            Cow::Borrowed(s) => s.into(),
            Cow::Owned(s) => s.into(),
        }
    }
}

/// A member's value as parsed.
enum Member<'a> {
    Text(Cow<'a, str>),
    List(Vec<Member<'a>>),
    /// Numbers, booleans, `null` and objects.
    Json(Value),
    /// Already mapped.
    Taken,
}

/// A parsed Cowrie record whose members are consumed as they are mapped.
pub(super) struct Record<'a> {
    members: Vec<(Cow<'a, str>, Member<'a>)>,
}

impl<'a> Record<'a> {
    /// Parses one line; it must be a JSON object.
    pub(super) fn parse(line: &'a str) -> Result<Self, DecodeError> {
        if !line.trim_start().starts_with('{') {
            // Not an object: let the generic parser say precisely what it is.
            return Err(match util::parse_object(line) {
                Err(e) => e,
                Ok(_) => DecodeError::Shape("expected a JSON object".into()),
            });
        }
        Ok(serde_json::from_str(line)?)
    }

    /// Takes the last member called `key`; `null` counts as absent.
    fn take(&mut self, key: &str) -> Option<Member<'a>> {
        let slot =
            self.members.iter_mut().rev().find(|(k, m)| k.as_ref() == key && !matches!(m, Member::Taken))?;
        match std::mem::replace(&mut slot.1, Member::Taken) {
            Member::Json(Value::Null) => None,
            m => Some(m),
        }
    }

    /// The `eventid`: required, a non-empty string.
    pub(super) fn eventid(&mut self) -> Result<Text<'a>, DecodeError> {
        let id = self.required_text("eventid")?;
        if id.is_empty() {
            return Err(DecodeError::invalid("eventid", "empty string"));
        }
        Ok(id)
    }

    /// The `timestamp`: required, a string Cowrie writes (RFC 3339 with `Z` or `+0000`).
    pub(super) fn timestamp(&mut self) -> Result<DateTime<Utc>, DecodeError> {
        let text = self.required_text("timestamp")?;
        util::parse_timestamp(&text)
            .ok_or_else(|| DecodeError::invalid("timestamp", format!("unparseable time {}", quote(&text))))
    }

    /// A string member that must be present (`null` is the wrong type here, not absence).
    fn required_text(&mut self, key: &str) -> Result<Text<'a>, DecodeError> {
        let found =
            self.members.iter_mut().rev().find(|(k, m)| k.as_ref() == key && !matches!(m, Member::Taken));
        match found.map(|slot| std::mem::replace(&mut slot.1, Member::Taken)) {
            None => Err(DecodeError::missing(key)),
            Some(Member::Text(s)) => Ok(Text(s)),
            Some(other) => Err(wrong_type(key, "a string", &other)),
        }
    }

    /// A string member.
    pub(super) fn text(&mut self, key: &str) -> Result<Option<Text<'a>>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Member::Text(s)) => Ok(Some(Text(s))),
            Some(other) => Err(wrong_type(key, "a string", &other)),
        }
    }

    /// A string member, absent when empty (Cowrie writes `""` for "unknown").
    pub(super) fn non_empty(&mut self, key: &str) -> Result<Option<Text<'a>>, DecodeError> {
        Ok(self.text(key)?.filter(|s| !s.is_empty()))
    }

    /// An integer member; numeric strings are accepted (log shippers stringify numbers).
    pub(super) fn int(&mut self, key: &str) -> Result<Option<i64>, DecodeError> {
        let Some(m) = self.take(key) else { return Ok(None) };
        let parsed = match &m {
            Member::Json(Value::Number(n)) => n.as_i64(),
            Member::Text(s) => s.trim().parse().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| wrong_type(key, "an integer", &m))
    }

    /// A TCP port member (0–65535).
    pub(super) fn port(&mut self, key: &str) -> Result<Option<i64>, DecodeError> {
        match self.int(key)? {
            Some(p) if !(0..=65_535).contains(&p) => {
                Err(DecodeError::invalid(key, format!("port {p} is outside 0-65535")))
            }
            other => Ok(other),
        }
    }

    /// A non-negative number member (durations); numeric strings are accepted.
    pub(super) fn seconds(&mut self, key: &str) -> Result<Option<f64>, DecodeError> {
        let Some(m) = self.take(key) else { return Ok(None) };
        let parsed = match &m {
            Member::Json(Value::Number(n)) => n.as_f64(),
            Member::Text(s) => s.trim().parse().ok(),
            _ => None,
        };
        match parsed {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err(wrong_type(key, "a non-negative number", &m)),
        }
    }

    /// A boolean member; Cowrie's VirusTotal plugin writes `"true"`/`"false"` strings.
    pub(super) fn flag(&mut self, key: &str) -> Result<Option<bool>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Member::Json(Value::Bool(b))) => Ok(Some(b)),
            Some(Member::Text(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(wrong_type(key, "a boolean", &other)),
        }
    }

    /// A list of strings (or one string, as older versions write some SSH algorithm lists).
    pub(super) fn strings(&mut self, key: &str) -> Result<Option<FieldValue>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Member::Text(s)) => Ok(Some(Text(s).into())),
            Some(Member::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Member::Text(s) => out.push(Text(s).into()),
                        other => return Err(wrong_type(key, "a list of strings", &other)),
                    }
                }
                Ok(Some(FieldValue::List(out)))
            }
            Some(other) => Err(wrong_type(key, "a list of strings", &other)),
        }
    }

    /// Any scalar member, kept with its JSON type (plugin values whose type varies).
    pub(super) fn scalar(&mut self, key: &str) -> Result<Option<FieldValue>, DecodeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Member::Text(s)) => Ok(Some(Text(s).into())),
            Some(Member::Json(v)) if !v.is_object() => Ok(FieldValue::from_json(v)),
            Some(other) => Err(wrong_type(key, "a single value", &other)),
        }
    }

    /// Any member, kept as JSON (nested plugin results).
    pub(super) fn json(&mut self, key: &str) -> Option<FieldValue> {
        self.take(key).map(|m| FieldValue::Json(Box::new(m.into_json())))
    }

    /// Copies the members no mapping consumed to `cowrie.extra.*`, flattened when every key at
    /// every depth can be a path segment, as one JSON object otherwise.
    pub(super) fn keep_rest(self, ev: &mut Event) {
        let rest: Map<String, Value> = self
            .members
            .into_iter()
            .filter(|(_, m)| !matches!(m, Member::Taken))
            .map(|(k, m)| (k.into_owned(), m.into_json()))
            .collect();
        if rest.is_empty() {
            return;
        }
        let rest = Value::Object(rest);
        if addressable(&rest) {
            util::flatten_into(ev, "cowrie.extra", &rest);
        } else {
            ev.set("cowrie.extra", FieldValue::Json(Box::new(rest)));
        }
    }
}

impl Member<'_> {
    fn into_json(self) -> Value {
        match self {
            Self::Text(s) => Value::String(s.into_owned()),
            Self::List(items) => Value::Array(items.into_iter().map(Member::into_json).collect()),
            Self::Json(v) => v,
            Self::Taken => Value::Null,
        }
    }

    /// The JSON type, for error messages.
    fn describe(&self) -> String {
        match self {
            Self::Text(s) => format!("the string {}", quote(s)),
            Self::List(_) => "an array".to_owned(),
            Self::Json(v) => util::kind_of(v).to_owned(),
            Self::Taken => "nothing".to_owned(),
        }
    }
}

/// Whether all object keys in `v` are usable as path segments (non-empty, no dots).
fn addressable(v: &Value) -> bool {
    match v {
        Value::Object(map) => map.iter().all(|(k, v)| !k.is_empty() && !k.contains('.') && addressable(v)),
        Value::Array(items) => items.iter().all(addressable),
        _ => true,
    }
}

fn wrong_type(key: &str, want: &str, got: &Member<'_>) -> DecodeError {
    DecodeError::invalid(key, format!("expected {want}, found {}", got.describe()))
}

/// A value quoted for an error message, cut to a readable length.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(16);
        while let Some(Key(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(Record { members })
    }
}

/// A member name, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(MemberVisitor).and_then(|m| match m {
            Member::Text(s) => Ok(Key(s)),
            _ => Err(serde::de::Error::custom("object key is not a string")),
        })
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Member::Text(Cow::Owned(s)))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Member::Json(Value::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Member::Json(Value::Number(n.into())))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Member::Json(Value::Number(n.into())))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        Ok(Member::Json(Number::from_f64(x).map_or(Value::Null, Value::Number)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Member::Json(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Member::Json(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(8).min(256));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Member::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Member::Json)
    }
}
