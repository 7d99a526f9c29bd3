//! Winlogbeat and Elastic Agent documents as shipped (before any Elasticsearch ingest
//! pipeline): `{"@timestamp":…,"winlog":{"event_id":…,"event_data":{…},…},"host":{…},…}`.

use std::borrow::Cow;

use serde_json::Value;
use ward_model::FieldValue;

use super::data::{EventData, int_of, int_or_text, into_string, take_str, value_of};
use super::system::{self, System};
use super::{Record, object};
use crate::DecodeError;
use crate::util::Object;

/// Top-level members copied as they are (besides `winlog`); the rest of Winlogbeat's ECS
/// fields are recomputed from `winlog` so every form maps the same way.
const KEPT: &[&str] = &["agent", "ecs", "host", "labels", "tags"];

/// Reads one Winlogbeat document.
///
/// # Errors
/// When `winlog` is not an object, or `winlog.event_id` or `@timestamp` is missing or unusable.
pub(crate) fn read(mut doc: Object) -> Result<Record, DecodeError> {
    let mut w = object(doc.remove("winlog"), "winlog")?;
    let id = w.remove("event_id").ok_or_else(|| DecodeError::missing("winlog.event_id"))?;
    let event_id = system::event_id(id, "winlog.event_id")?;
    let timestamp = system::timestamp(doc.get("@timestamp"), "@timestamp")?;
    let mut data = EventData::default();
    if let Some(Value::Object(map)) = w.remove("event_data") {
        data.extend(map);
    }
    if let Some(Value::Object(map)) = w.remove("user_data") {
        read_user_data(map, &mut data);
    }
    let mut system = read_system(&mut w);
    system.event_id = event_id;
    system.message = take_str(&mut doc, "message");
    let mut extra = Vec::new();
    for (key, value) in w {
        flatten(format!("winlog.{}", segment(&key)), value, &mut extra);
    }
    read_top_level(doc, &mut system, &mut extra);
    Ok(Record { timestamp, system, data, extra })
}

/// The System fields Winlogbeat keeps under `winlog`. What is left of `winlog.process` and
/// `winlog.user` (the resolved account name) is copied with the rest of `winlog`.
fn read_system(w: &mut Object) -> System {
    System {
        event_id: 0,
        pid: take_in(w, &["process", "pid"]).as_ref().and_then(int_of),
        tid: take_in(w, &["process", "thread", "id"]).as_ref().and_then(int_of),
        user_sid: take_in(w, &["user", "identifier"]).and_then(into_string),
        channel: take_str(w, "channel"),
        provider: take_str(w, "provider_name"),
        provider_guid: take_str(w, "provider_guid"),
        computer: take_str(w, "computer_name"),
        record_id: w.remove("record_id").as_ref().and_then(int_of),
        version: w.remove("version").as_ref().and_then(int_of),
        level: None,
        task: w.remove("task").and_then(int_or_text),
        opcode: w.remove("opcode").and_then(int_or_text),
        keywords: w.remove("keywords").and_then(value_of),
        activity_id: take_str(w, "activity_id"),
        related_activity_id: take_str(w, "related_activity_id"),
        message: None,
    }
}

/// Takes the value at a path of nested objects, leaving `null` in its place.
fn take_in(obj: &mut Object, path: &[&str]) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    let mut v = obj.get_mut(*first)?;
    for key in rest {
        v = v.get_mut(*key)?;
    }
    Some(v.take())
}

/// Winlogbeat writes UserData flattened, its element name as `xml_name`.
fn read_user_data(map: Object, data: &mut EventData) {
    for (key, value) in map {
        if key == "xml_name" {
            data.user_data_name = into_string(value);
        } else {
            data.push(key, value);
        }
    }
}

/// The top-level members Ward keeps: host (the computer when `winlog.computer_name` is
/// absent), agent, ECS version, tags, labels, `log.level` and `event.created`.
fn read_top_level(mut doc: Object, system: &mut System, extra: &mut Vec<(String, FieldValue)>) {
    if system.computer.is_none() {
        system.computer =
            doc.get_mut("host").and_then(|h| h.get_mut("name")).map(Value::take).and_then(into_string);
    }
    if let Some(level) = doc.get_mut("log").and_then(|l| l.get_mut("level")).map(Value::take) {
        flatten("log.level".into(), level, extra);
    }
    if let Some(created) = doc.get_mut("event").and_then(|e| e.get_mut("created")).map(Value::take) {
        flatten("event.created".into(), created, extra);
    }
    for key in KEPT {
        if let Some(value) = doc.remove(*key) {
            flatten((*key).to_owned(), value, extra);
        }
    }
}

/// Flattens a JSON value into dotted paths (objects recurse; `null`s vanish; `*.ip` text
/// becomes typed addresses).
fn flatten(path: String, value: Value, out: &mut Vec<(String, FieldValue)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(format!("{path}.{}", segment(&k)), v, out);
            }
        }
        other => {
            let is_ip = path.ends_with(".ip");
            if let Some(v) = FieldValue::from_json(other) {
                out.push((path, if is_ip { typed_ip(v) } else { v }));
            }
        }
    }
}

/// A member name as one path segment: dots become `_`, an empty name `_`.
fn segment(key: &str) -> Cow<'_, str> {
    if key.is_empty() {
        Cow::Borrowed("_")
    } else if key.contains('.') {
        Cow::Owned(key.replace('.', "_"))
    } else {
        Cow::Borrowed(key)
    }
}

/// Address text as typed addresses (`host.ip` is a list of them).
fn typed_ip(v: FieldValue) -> FieldValue {
    match v {
        FieldValue::Str(s) => s.parse().map_or(FieldValue::Str(s), FieldValue::Ip),
        FieldValue::List(items) => FieldValue::List(items.into_iter().map(typed_ip).collect()),
        other => other,
    }
}
