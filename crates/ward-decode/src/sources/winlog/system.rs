//! The System part of a Windows event (who logged what, where, when), whichever JSON form it
//! came in, and how it maps to `winlog.*`, `event.*` and `host.name`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use ward_model::{Event, FieldValue};

use super::data::{int_of, value_of};
use crate::DecodeError;
use crate::util::{kind_of, parse_timestamp};

/// The System fields of one event.
#[derive(Debug, Default)]
pub(crate) struct System {
    /// The event identifier (without qualifiers).
    pub(crate) event_id: i64,
    /// The log (`Security`, `Microsoft-Windows-Sysmon/Operational`, …).
    pub(crate) channel: Option<String>,
    /// The provider (event source) name.
    pub(crate) provider: Option<String>,
    /// The provider GUID.
    pub(crate) provider_guid: Option<String>,
    /// The computer that logged the event.
    pub(crate) computer: Option<String>,
    /// The record number in its log.
    pub(crate) record_id: Option<i64>,
    /// The process that logged the event.
    pub(crate) pid: Option<i64>,
    /// The thread that logged the event.
    pub(crate) tid: Option<i64>,
    /// The SID of the account the provider ran as (`Security/@UserID`).
    pub(crate) user_sid: Option<String>,
    /// The event definition version.
    pub(crate) version: Option<i64>,
    /// The level: 0 LogAlways, 1 Critical, 2 Error, 3 Warning, 4 Information, 5 Verbose.
    pub(crate) level: Option<i64>,
    /// The task: a number, or its name where only that is known (Winlogbeat).
    pub(crate) task: Option<FieldValue>,
    /// The opcode: a number, or its name where only that is known (Winlogbeat).
    pub(crate) opcode: Option<FieldValue>,
    /// The keywords: a hexadecimal mask, or their names (Winlogbeat).
    pub(crate) keywords: Option<FieldValue>,
    /// The activity GUID (`Correlation/@ActivityID`).
    pub(crate) activity_id: Option<String>,
    /// The related activity GUID.
    pub(crate) related_activity_id: Option<String>,
    /// The rendered message, where the form carries one.
    pub(crate) message: Option<String>,
}

/// Reads an event identifier: a number, numeric text, or an element with qualifiers
/// (`{"#text":7045,"#attributes":{"Qualifiers":16384}}`). A classic identifier that still
/// carries its qualifiers in the high 16 bits is reduced to the event code.
pub(crate) fn event_id(v: Value, field: &str) -> Result<i64, DecodeError> {
    let v = match v {
        Value::Object(mut map) => {
            map.remove("#text").ok_or_else(|| DecodeError::missing(format!("{field}.#text")))?
        }
        other => other,
    };
    let id = int_of(&v).ok_or_else(|| match &v {
        Value::String(s) => DecodeError::invalid(field, format!("`{s}` is not a number")),
        other => DecodeError::invalid(field, format!("expected a number, found {}", kind_of(other))),
    })?;
    match u32::try_from(id) {
        Ok(id) => Ok(i64::from(id & 0xffff)),
        Err(_) => Err(DecodeError::invalid(field, format!("{id} is not a Windows event identifier"))),
    }
}

/// Reads an event time from its text.
pub(crate) fn timestamp(v: Option<&Value>, field: &str) -> Result<DateTime<Utc>, DecodeError> {
    match v {
        None | Some(Value::Null) => Err(DecodeError::missing(field)),
        Some(Value::String(s)) => {
            parse_timestamp(s).ok_or_else(|| DecodeError::invalid(field, format!("`{s}` is not a timestamp")))
        }
        Some(other) => Err(DecodeError::invalid(field, format!("expected text, found {}", kind_of(other)))),
    }
}

/// A keywords mask as the usual `0x`-prefixed hexadecimal text (NXLog writes it as a signed
/// 64-bit number).
pub(crate) fn keywords(v: Value) -> Option<FieldValue> {
    match v {
        Value::Number(n) => {
            let bits = n.as_i64().map(|i| i as u64).or_else(|| n.as_u64())?;
            Some(FieldValue::from(format!("0x{bits:016x}")))
        }
        other => value_of(other),
    }
}

/// The ECS `log.level` name of a Windows level.
fn level_name(level: i64) -> Option<&'static str> {
    Some(match level {
        0 | 4 => "information",
        1 => "critical",
        2 => "error",
        3 => "warning",
        5 => "verbose",
        _ => return None,
    })
}

/// The `event.dataset` of a channel: `winlog.` and the channel in lower case with every
/// character other than a letter or digit as `_` (`winlog.microsoft_windows_sysmon_operational`).
fn dataset(channel: &str) -> String {
    let mut out = String::with_capacity(7 + channel.len());
    out.push_str("winlog.");
    out.extend(channel.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }));
    out
}

impl System {
    /// Writes the System fields to the event.
    pub(crate) fn apply(self, ev: &mut Event) {
        ev.set("event.code", self.event_id.to_string());
        ev.set("winlog.event_id", self.event_id);
        match self.channel {
            Some(channel) => {
                ev.set("event.dataset", dataset(&channel));
                ev.set("winlog.channel", channel);
            }
            None => ev.set("event.dataset", "winlog"),
        }
        if let Some(provider) = self.provider {
            ev.set("event.provider", provider.as_str());
            ev.set("winlog.provider_name", provider);
        }
        if let Some(computer) = self.computer {
            ev.set("host.name", computer.as_str());
            ev.set("winlog.computer_name", computer);
        }
        if let Some(level) = self.level {
            ev.set_opt("log.level", level_name(level));
            ev.set("winlog.level", level);
        }
        ev.set_opt("winlog.provider_guid", self.provider_guid);
        ev.set_opt("winlog.record_id", self.record_id);
        ev.set_opt("winlog.process.pid", self.pid);
        ev.set_opt("winlog.process.thread.id", self.tid);
        ev.set_opt("winlog.user.identifier", self.user_sid);
        ev.set_opt("winlog.version", self.version);
        ev.set_opt("winlog.task", self.task);
        ev.set_opt("winlog.opcode", self.opcode);
        ev.set_opt("winlog.keywords", self.keywords);
        ev.set_opt("winlog.activity_id", self.activity_id);
        ev.set_opt("winlog.related_activity_id", self.related_activity_id);
        ev.set_opt("message", self.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_ids_accept_numbers_text_and_qualified_elements() {
        assert_eq!(event_id(json!(4688), "EventID"), Ok(4688));
        assert_eq!(event_id(json!("4624"), "EventID"), Ok(4624));
        assert_eq!(
            event_id(json!({"#text": 7045, "#attributes": {"Qualifiers": 16384}}), "EventID"),
            Ok(7045)
        );
        assert_eq!(event_id(json!(0x4000_1b85_i64), "EventID"), Ok(7045));
        assert!(event_id(json!(-1), "EventID").is_err());
        assert_eq!(
            event_id(json!("abc"), "EventID"),
            Err(DecodeError::invalid("EventID", "`abc` is not a number"))
        );
    }

    #[test]
    fn keywords_become_hex_masks_and_datasets_are_tidy() {
        assert_eq!(keywords(json!(-9214364837600034816_i64)), Some(FieldValue::from("0x8020000000000000")));
        assert_eq!(keywords(json!("0x8000000000000000")), Some(FieldValue::from("0x8000000000000000")));
        assert_eq!(
            dataset("Microsoft-Windows-Sysmon/Operational"),
            "winlog.microsoft_windows_sysmon_operational"
        );
        assert_eq!(dataset("Windows PowerShell"), "winlog.windows_powershell");
    }
}
