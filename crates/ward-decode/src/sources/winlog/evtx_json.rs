//! The evtx_dump JSON form, `{"Event":{"System":…,"EventData":…|"UserData":…}}`: what the
//! `evtx` crate renders for every record of an `.evtx` file.

use serde_json::Value;

use super::data::{EventData, int_of, int_or_text, into_string, value_of};
use super::system::{self, System};
use super::{Record, object};
use crate::DecodeError;
use crate::util::Object;

/// Reads one evtx_dump record.
///
/// # Errors
/// When `Event` or `Event.System` is not an object, or the event identifier or creation time
/// is missing or unusable.
pub(crate) fn read(mut doc: Object) -> Result<Record, DecodeError> {
    let mut event = object(doc.remove("Event"), "Event")?;
    let mut sys = object(event.remove("System"), "Event.System")?;
    let id = sys.remove("EventID").ok_or_else(|| DecodeError::missing("Event.System.EventID"))?;
    let event_id = system::event_id(id, "Event.System.EventID")?;
    let time = attr(&mut sys, "TimeCreated", "SystemTime");
    let timestamp = system::timestamp(time.as_ref(), "Event.System.TimeCreated.#attributes.SystemTime")?;
    let mut system = read_system(sys);
    system.event_id = event_id;
    let mut data = EventData::default();
    for (key, value) in event {
        match key.as_str() {
            "EventData" => read_event_data(value, &mut data),
            "UserData" => read_user_data(value, &mut data),
            "RenderingInfo" => system.message = message(value),
            _ => {}
        }
    }
    Ok(Record { timestamp, system, data, extra: Vec::new() })
}

/// The fields of `System` other than the event identifier and time.
fn read_system(mut sys: Object) -> System {
    System {
        event_id: 0,
        channel: sys.remove("Channel").and_then(into_string),
        provider: attr(&mut sys, "Provider", "Name").and_then(into_string),
        provider_guid: attr(&mut sys, "Provider", "Guid").and_then(into_string),
        computer: sys.remove("Computer").and_then(into_string),
        record_id: sys.get("EventRecordID").and_then(int_of),
        pid: attr(&mut sys, "Execution", "ProcessID").as_ref().and_then(int_of),
        tid: attr(&mut sys, "Execution", "ThreadID").as_ref().and_then(int_of),
        user_sid: attr(&mut sys, "Security", "UserID").and_then(into_string),
        version: sys.get("Version").and_then(int_of),
        level: sys.get("Level").and_then(int_of),
        task: sys.remove("Task").and_then(int_or_text),
        opcode: sys.remove("Opcode").and_then(int_or_text),
        keywords: sys.remove("Keywords").and_then(value_of),
        activity_id: attr(&mut sys, "Correlation", "ActivityID").and_then(into_string),
        related_activity_id: attr(&mut sys, "Correlation", "RelatedActivityID").and_then(into_string),
        message: None,
    }
}

/// Takes the attribute `name` of the child element `elem` (`{"#attributes":{name:…}}`).
fn attr(sys: &mut Object, elem: &str, name: &str) -> Option<Value> {
    sys.get_mut(elem)?.get_mut("#attributes")?.get_mut(name).map(Value::take)
}

/// EventData: named fields as members (evtx_dump flattens `<Data Name="X">`), or `Data`
/// elements (`[{"#attributes":{"Name":…},"#text":…}]`, or nameless text), plus `Binary`.
fn read_event_data(value: Value, data: &mut EventData) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match key.as_str() {
                    "#attributes" => {}
                    "Data" => read_data_elements(v, data),
                    _ => data.push(key, v),
                }
            }
        }
        other => data.push_unnamed(other),
    }
}

fn read_data_elements(value: Value, data: &mut EventData) {
    match value {
        Value::Array(items) => items.into_iter().for_each(|item| read_data_element(item, data)),
        other => read_data_element(other, data),
    }
}

fn read_data_element(value: Value, data: &mut EventData) {
    let Value::Object(mut elem) = value else {
        return data.push_unnamed(value);
    };
    let name =
        elem.get_mut("#attributes").and_then(|a| a.get_mut("Name")).map(Value::take).and_then(into_string);
    let text = elem.remove("#text").unwrap_or(Value::Null);
    match name {
        Some(name) => data.push(name, text),
        None => data.push_unnamed(text),
    }
}

/// UserData holds one provider-defined element whose children are the fields
/// (`{"LogFileCleared":{"SubjectUserName":…}}`); they are addressed like EventData fields.
fn read_user_data(value: Value, data: &mut EventData) {
    let Value::Object(map) = value else {
        return data.push_unnamed(value);
    };
    for (element, v) in map {
        if element == "#attributes" {
            continue;
        }
        match v {
            Value::Object(fields) => {
                for (key, field) in fields {
                    if key != "#attributes" {
                        data.push(key, field);
                    }
                }
            }
            other => data.push(element.clone(), other),
        }
        data.user_data_name.get_or_insert(element);
    }
}

/// The rendered message of a forwarded event (`RenderingInfo.Message`).
fn message(info: Value) -> Option<String> {
    match info {
        Value::Object(mut info) => info.remove("Message").and_then(into_string),
        _ => None,
    }
}
