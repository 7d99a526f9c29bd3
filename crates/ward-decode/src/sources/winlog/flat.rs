//! Flat JSON lines, one object per event with the EventData fields at the top level next to
//! the System fields and whatever the collector added: the OTRF Security-Datasets (Mordor)
//! exports, written by NXLog `im_msvistalog` through Logstash or by PowerShell/Azure exports.

use super::Record;
use super::data::{int_of, int_or_text, into_string};
use super::system::{self, System};
use crate::DecodeError;
use crate::util::Object;
use serde_json::Value;

/// Keys the collector adds that are not event fields; kept under `winlog.collector.<Key>`.
const COLLECTOR: &[&str] = &[
    "@version",
    "Category",
    "ERROR_EVT_UNRESOLVED",
    "EventReceivedTime",
    "EventTypeOrignal",
    "Opcode",
    "Severity",
    "SeverityValue",
    "SourceModuleName",
    "SourceModuleType",
    "host",
    "port",
];

/// NXLog's `EventType` values; a Sysmon registry event's own `EventType` (`SetValue`, …) is an
/// EventData field.
const NXLOG_EVENT_TYPES: &[&str] =
    &["AUDIT_FAILURE", "AUDIT_SUCCESS", "CRITICAL", "ERROR", "INFO", "VERBOSE", "WARNING"];

/// Time keys in order of preference: Logstash's `@timestamp` (UTC), the exported
/// `TimeCreated`, NXLog's `EventTime` (local time without offset).
const TIME_KEYS: [&str; 3] = ["@timestamp", "TimeCreated", "EventTime"];

/// Reads one flat record.
///
/// # Errors
/// When `EventID` or every time key is missing or unusable, or neither `Channel` nor a
/// provider name says which log the event is from.
pub(crate) fn read(mut doc: Object) -> Result<Record, DecodeError> {
    let id = doc.remove("EventID").ok_or_else(|| DecodeError::missing("EventID"))?;
    let event_id = system::event_id(id, "EventID")?;
    let time_key = TIME_KEYS.into_iter().find(|k| doc.get(*k).is_some_and(|v| !v.is_null()));
    let Some(time_key) = time_key else {
        return Err(DecodeError::missing("@timestamp/TimeCreated/EventTime"));
    };
    let timestamp = system::timestamp(doc.get(time_key), time_key)?;
    doc.remove(time_key);
    let mut record = Record::new(timestamp, System { event_id, ..System::default() });
    for (key, value) in doc {
        read_member(key, value, &mut record);
    }
    if record.system.channel.is_none() && record.system.provider.is_none() {
        return Err(DecodeError::missing("Channel"));
    }
    Ok(record)
}

/// Sorts one member into System, collector metadata or EventData.
fn read_member(key: String, value: Value, r: &mut Record) {
    let sys = &mut r.system;
    match key.as_str() {
        "Channel" => sys.channel = into_string(value),
        "SourceName" | "Provider_Name" => sys.provider = sys.provider.take().or_else(|| into_string(value)),
        "Hostname" => sys.computer = into_string(value),
        "RecordNumber" => sys.record_id = int_of(&value),
        "ExecutionProcessID" => sys.pid = int_of(&value),
        "ThreadID" => sys.tid = int_of(&value),
        "ProviderGuid" => sys.provider_guid = into_string(value),
        "Version" => sys.version = int_of(&value),
        "Level" => sys.level = int_of(&value),
        "Task" => sys.task = int_or_text(value),
        "OpcodeValue" => sys.opcode = int_or_text(value),
        "Keywords" => sys.keywords = system::keywords(value),
        "ActivityID" => sys.activity_id = into_string(value),
        "RelatedActivityID" => sys.related_activity_id = into_string(value),
        "UserID" => sys.user_sid = into_string(value),
        "Message" => sys.message = into_string(value),
        "AccountName" => r.push_extra("winlog.user.name".into(), value),
        "Domain" => r.push_extra("winlog.user.domain".into(), value),
        "AccountType" => r.push_extra("winlog.user.type".into(), value),
        "tags" => r.push_extra("tags".into(), value),
        "EventType" if value.as_str().is_some_and(|t| NXLOG_EVENT_TYPES.contains(&t)) => {
            r.push_extra("winlog.collector.EventType".into(), value);
        }
        k if COLLECTOR.contains(&k) || TIME_KEYS.contains(&k) => {
            r.push_extra(format!("winlog.collector.{key}"), value);
        }
        _ => r.data.push(key, value),
    }
}
