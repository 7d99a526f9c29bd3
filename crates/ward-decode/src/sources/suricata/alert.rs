//! `alert` (rule matches) and `drop` (packets dropped in IPS mode).

use serde_json::Value;
use ward_model::{Event, FieldValue};

use super::Record;
use super::value::{count, object, port, put_str, text, vendor};
use crate::DecodeError;
use crate::util::set_ip;

/// `alert`: the rule (`rule.*`), severity, and what Suricata did (`event.action`/`event.type`).
///
/// # Errors
/// A missing `signature_id`, or a rule id, revision, gid or severity that is not an integer.
pub(super) fn alert(ev: &mut Event, rec: &Record<'_>, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "alert")?;
    if !obj.contains_key("signature_id") {
        return Err(DecodeError::missing("alert.signature_id"));
    }
    for (k, v) in obj {
        match k.as_str() {
            "signature_id" => ev.set("rule.id", count(v, "alert.signature_id")?.to_string()),
            "rev" => ev.set("rule.version", count(v, "alert.rev")?.to_string()),
            "gid" => ev.set("suricata.alert.gid", count(v, "alert.gid")?),
            "severity" => ev.set("event.severity", count(v, "alert.severity")?),
            "signature" if put_str(ev, "rule.name", v) => {}
            "category" if put_str(ev, "rule.category", v) => {}
            "action" if action(ev, rec, v) => {}
            "source" | "target" => endpoint(ev, k, v)?,
            _ => vendor(ev, "alert", k, v)?,
        }
    }
    Ok(())
}

/// `alert.action` → `event.action`; on an alert record also `event.type` (`allowed` or
/// `denied` for `blocked`).
fn action(ev: &mut Event, rec: &Record<'_>, value: &Value) -> bool {
    let Some(action) = value.as_str().filter(|a| !a.is_empty()) else {
        return false;
    };
    ev.set("event.action", action);
    if rec.is_subject("alert") {
        let kind = match action {
            "allowed" => "allowed",
            "blocked" | "drop" | "rejected" => "denied",
            _ => "info",
        };
        ev.set("event.type", vec![FieldValue::from(kind)]);
    }
    true
}

/// `alert.source`/`alert.target` (rules with the `target` keyword): typed address and port.
fn endpoint(ev: &mut Event, side: &str, value: &Value) -> Result<(), DecodeError> {
    let field = format!("alert.{side}");
    let obj = object(value, &field)?;
    for (k, v) in obj {
        match k.as_str() {
            "ip" => set_ip(ev, &format!("suricata.{field}.ip"), text(v, &format!("{field}.ip"))?),
            "port" => ev.set(&format!("suricata.{field}.port"), port(v, &format!("{field}.port"))?),
            _ => vendor(ev, &field, k, v)?,
        }
    }
    Ok(())
}

/// `drop`: the dropped packet's header fields under `suricata.drop.*`, `drop.reason` also as
/// `event.reason`.
///
/// # Errors
/// When `drop` is not an object.
pub(super) fn drop(ev: &mut Event, rec: &Record<'_>, value: &Value) -> Result<(), DecodeError> {
    let obj = object(value, "drop")?;
    if rec.is_subject("drop")
        && let Some(reason) = obj.get("reason").and_then(Value::as_str)
    {
        ev.set("event.reason", reason);
    }
    for (k, v) in obj {
        vendor(ev, "drop", k, v)?;
    }
    Ok(())
}
