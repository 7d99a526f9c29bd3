//! The EventData (and UserData) fields of one event under their raw Windows names, and the
//! JSON value helpers every form reader shares.

use serde_json::Value;
use ward_model::{Event, FieldValue};

use crate::util::Object;

/// Where raw EventData fields go, so Sigma rules can name them as Windows does.
const EVENT_DATA: &str = "winlog.event_data.";

/// The EventData and UserData fields of one event, in document order, with raw names.
#[derive(Debug, Default)]
pub(crate) struct EventData {
    fields: Vec<(String, FieldValue)>,
    unnamed: u32,
    /// The element under `UserData` that held the fields (`LogFileCleared`, …).
    pub(crate) user_data_name: Option<String>,
}

impl EventData {
    /// Adds a named field; `null` values carry nothing and are skipped, a nameless field becomes
    /// `paramN` (as Winlogbeat names them).
    pub(crate) fn push(&mut self, name: String, value: Value) {
        if name.is_empty() {
            return self.push_unnamed(value);
        }
        if let Some(v) = value_of(value) {
            self.fields.push((name, v));
        }
    }

    /// Adds a field that has no name (`<Data>x</Data>`) as `param1`, `param2`, …
    pub(crate) fn push_unnamed(&mut self, value: Value) {
        if let Value::Array(items) = value {
            return items.into_iter().for_each(|item| self.push_unnamed(item));
        }
        if let Some(v) = value_of(value) {
            self.unnamed += 1;
            self.fields.push((format!("param{}", self.unnamed), v));
        }
    }

    /// Adds a field unless one of that name is already present (columns that repeat an
    /// EventData field).
    pub(crate) fn push_if_absent(&mut self, name: String, value: Value) {
        if self.get(&name).is_none() {
            self.push(name, value);
        }
    }

    /// Adds every member of a JSON object (Winlogbeat `event_data`, Log Analytics `EventData`).
    pub(crate) fn extend(&mut self, map: Object) {
        for (k, v) in map {
            self.push(k, v);
        }
    }

    /// The value of a field.
    pub(crate) fn get(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A field's text, as logged, when it carries some: not blank and not Windows' `-`
    /// placeholder.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        let text = self.get(name)?.as_str()?;
        let trimmed = text.trim();
        (!trimmed.is_empty() && trimmed != "-").then_some(text)
    }

    /// A field as an integer: a JSON number, or decimal or `0x` hexadecimal text.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            FieldValue::Int(i) => Some(*i),
            FieldValue::Str(s) => parse_int(s),
            _ => None,
        }
    }

    /// Number of fields.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }

    /// Moves the fields into `winlog.event_data.<RawName>`.
    pub(crate) fn move_into(self, ev: &mut Event) {
        let mut path = String::with_capacity(64);
        for (name, value) in self.fields {
            path.clear();
            path.push_str(EVENT_DATA);
            // A dot would split the raw name into path segments (and could turn a leaf into a
            // parent); such names are kept with `_` instead.
            path.extend(name.chars().map(|c| if c == '.' { '_' } else { c }));
            ev.set(&path, value);
        }
        if let Some(name) = self.user_data_name {
            ev.set("winlog.user_data.xml_name", name);
        }
    }
}

/// Converts a raw field value, keeping its type: text stays text, numbers stay numbers, an
/// element with attributes (`{"#text":…,"#attributes":…}`) gives its text, `null` gives nothing.
pub(crate) fn value_of(v: Value) -> Option<FieldValue> {
    match v {
        Value::Object(mut map) if map.contains_key("#text") => value_of(map.remove("#text")?),
        other => FieldValue::from_json(other),
    }
}

/// Parses decimal or `0x`-prefixed hexadecimal integer text (Security event pids are hex).
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().and_then(|u| i64::try_from(u).ok()),
        None => t.parse().ok(),
    }
}

/// A JSON value as an integer: a number, or decimal or hexadecimal text.
pub(crate) fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_int(s),
        _ => None,
    }
}

/// Takes a text member out of an object (numbers are rendered as text).
pub(crate) fn take_str(obj: &mut Object, key: &str) -> Option<String> {
    match obj.remove(key)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Takes a text value out of a JSON value (numbers are rendered as text).
pub(crate) fn into_string(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A number, or numeric text, as an integer field value; other text is kept as text (a
/// Winlogbeat task or opcode is a name).
pub(crate) fn int_or_text(v: Value) -> Option<FieldValue> {
    match int_of(&v) {
        Some(i) => Some(FieldValue::Int(i)),
        None => match v {
            Value::String(s) if !s.is_empty() => Some(FieldValue::from(s)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unnamed_and_empty_names_become_params_and_nulls_vanish() {
        let mut d = EventData::default();
        d.push("Image".into(), json!("C:\\a.exe"));
        d.push(String::new(), json!("first"));
        d.push_unnamed(json!(["second", null, 3]));
        d.push("Gone".into(), Value::Null);
        assert_eq!(d.len(), 4);
        assert_eq!(d.get("param1").and_then(FieldValue::as_str), Some("first"));
        assert_eq!(d.get("param2").and_then(FieldValue::as_str), Some("second"));
        assert_eq!(d.get("param3").and_then(FieldValue::as_i64), Some(3));
        assert!(d.get("Gone").is_none());
    }

    #[test]
    fn text_skips_placeholders_and_int_reads_hex() {
        let mut d = EventData::default();
        d.push("IpAddress".into(), json!("-"));
        d.push("NewProcessId".into(), json!("0x1a74"));
        d.push("ProcessId".into(), json!(4460));
        d.push("Attr".into(), json!({"#text": "v ", "#attributes": {"x": 1}}));
        d.push("Blank".into(), json!("  "));
        assert_eq!(d.text("IpAddress"), None);
        assert_eq!(d.text("Blank"), None);
        assert_eq!(d.int("NewProcessId"), Some(0x1a74));
        assert_eq!(d.int("ProcessId"), Some(4460));
        assert_eq!(d.text("Attr"), Some("v "), "values are kept as logged");
        assert_eq!(parse_int("0xffffffffffffffff"), None);
    }
}
