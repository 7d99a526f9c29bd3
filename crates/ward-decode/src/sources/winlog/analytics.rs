//! Azure Monitor Log Analytics (Microsoft Sentinel) rows of the Windows tables, as exported
//! with `Type` naming the table: `SecurityEvent` (EventData as XML text, plus columns that
//! repeat its fields), `WindowsEvent` (EventData as a JSON object or its text) and `Event`
//! (EventData as XML text).

use serde_json::Value;

use super::Record;
use super::data::{int_of, int_or_text, into_string};
use super::system::{self, System};
use super::xml;
use crate::DecodeError;
use crate::util::{Object, kind_of};

/// The Log Analytics tables that hold Windows events.
const TABLES: &[&str] = &["Event", "SecurityEvent", "WindowsEvent"];

/// Columns Log Analytics adds or derives (`Account` is `Domain\User`); kept under
/// `winlog.collector.<Column>`, never as EventData.
const COLLECTOR: &[&str] = &[
    "Account",
    "AccountType",
    "Activity",
    "AzureDeploymentID",
    "EventCategory",
    "EventLevelName",
    "EventOriginId",
    "MG",
    "ManagementGroupName",
    "ParameterXml",
    "Process",
    "Role",
    "SourceComputerId",
    "SourceSystem",
    "SubjectAccount",
    "TargetAccount",
    "TenantId",
    "TimeCollected",
    "TimeGenerated",
    "Type",
    "_ItemId",
    "_ResourceId",
];

/// Whether a JSON object is a Log Analytics row of a Windows events table.
pub(crate) fn is_row(doc: &Object) -> bool {
    doc.contains_key("TimeGenerated")
        && doc.get("Type").and_then(Value::as_str).is_some_and(|t| TABLES.contains(&t))
}

/// Reads one row.
///
/// # Errors
/// When `EventID` or the time is missing or unusable, or `EventData` cannot be read.
pub(crate) fn read(mut doc: Object) -> Result<Record, DecodeError> {
    let id = doc.remove("EventID").ok_or_else(|| DecodeError::missing("EventID"))?;
    let event_id = system::event_id(id, "EventID")?;
    let time_key =
        if doc.get("TimeCreated").is_some_and(|v| !v.is_null()) { "TimeCreated" } else { "TimeGenerated" };
    let timestamp = system::timestamp(doc.get(time_key), time_key)?;
    doc.remove(time_key);
    let mut record = Record::new(timestamp, System { event_id, ..System::default() });
    if let Some(event_data) = doc.remove("EventData") {
        read_event_data(event_data, &mut record)?;
    }
    for (key, value) in doc {
        read_column(key, value, &mut record);
    }
    Ok(record)
}

/// EventData: XML text (`SecurityEvent`, `Event`), or a JSON object or its text (`WindowsEvent`).
fn read_event_data(value: Value, r: &mut Record) -> Result<(), DecodeError> {
    let map = match value {
        Value::Null => return Ok(()),
        Value::Object(map) => map,
        Value::String(text) if text.trim_start().starts_with('<') => {
            return xml::read_fields(&text, "EventData", &mut r.data);
        }
        Value::String(text) if text.trim().is_empty() => return Ok(()),
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            Ok(other) => return Err(invalid(format!("expected an object, found {}", kind_of(&other)))),
            Err(e) => return Err(invalid(format!("neither XML nor JSON: {e}"))),
        },
        other => return Err(invalid(format!("expected text or an object, found {}", kind_of(&other)))),
    };
    r.data.extend(map);
    Ok(())
}

fn invalid(reason: String) -> DecodeError {
    DecodeError::invalid("EventData", reason)
}

/// Sorts one column into System, collector metadata or EventData (columns that repeat an
/// EventData field already read from the XML are skipped).
fn read_column(key: String, value: Value, r: &mut Record) {
    let sys = &mut r.system;
    match key.as_str() {
        "Channel" | "EventLog" => sys.channel = into_string(value),
        "Provider" | "EventSourceName" | "Source" => sys.provider = into_string(value),
        "Computer" => sys.computer = into_string(value),
        "EventRecordId" => sys.record_id = int_of(&value),
        "SystemProcessId" => sys.pid = int_of(&value),
        "SystemThreadId" => sys.tid = int_of(&value),
        "SystemUserId" => sys.user_sid = into_string(value),
        "Version" => sys.version = int_of(&value),
        "Level" | "EventLevel" => sys.level = int_of(&value),
        "Task" => sys.task = int_or_text(value),
        "Opcode" => sys.opcode = int_or_text(value),
        "Keywords" => sys.keywords = system::keywords(value),
        "RenderedDescription" => sys.message = into_string(value),
        "UserName" => r.push_extra("winlog.user.name".into(), value),
        k if COLLECTOR.contains(&k) => r.push_extra(format!("winlog.collector.{key}"), value),
        _ => r.data.push_if_absent(key, value),
    }
}
