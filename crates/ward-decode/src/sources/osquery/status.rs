//! osquery status logs: the agent's own `glog` lines (`severity`, `filename`, `line`,
//! `message`) as JSON, as the TLS, Kafka, Kinesis and similar logger plugins send them.

use chrono::SecondsFormat;
use serde_json::Value;
use ward_model::Event;

use super::{expected, host_identifier, integer, log_time, set_decorations, set_host};
use crate::util::{self, Object};
use crate::{DecodeContext, DecodeError};

/// Whether a record is a status log (`glog` line as JSON) rather than a result log.
pub(super) fn is_status(obj: &Object) -> bool {
    util::str_of(obj, "log_type") == Some("status")
        || (!obj.contains_key("name") && obj.contains_key("severity") && obj.contains_key("message"))
}

/// One status log: the agent's own diagnostics.
pub(super) fn decode(obj: &Object, record: &str, ctx: &DecodeContext) -> Result<Event, DecodeError> {
    let time = log_time(obj)?;
    let mut ev = Event::new(&ctx.tenant, "osquery", record, 0, time.unwrap_or(ctx.now));
    if time.is_none() {
        ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    ev.set("event.kind", "event");
    ev.set("event.module", "osquery");
    ev.set("event.dataset", "osquery.status");
    ev.set("agent.type", "osquery");
    set_host(&mut ev, host_identifier(obj)?);
    let message = match obj.get("message") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(expected("message", "a string", other)),
        None => return Err(DecodeError::missing("message")),
    };
    ev.set("message", message);
    if let Some(v) = obj.get("severity").filter(|v| !v.is_null()) {
        let severity = integer(v).ok_or_else(|| expected("severity", "an integer", v))?;
        ev.set("osquery.severity", severity);
        ev.set_opt("log.level", severity_name(severity));
    }
    ev.set_opt("log.origin.file.name", util::str_of(obj, "filename"));
    if let Some(v) = obj.get("line").filter(|v| !v.is_null()) {
        ev.set("log.origin.file.line", integer(v).ok_or_else(|| expected("line", "an integer", v))?);
    }
    ev.set_opt("agent.version", util::str_of(obj, "version"));
    set_decorations(&mut ev, obj.get("decorations"))?;
    Ok(ev)
}

/// glog severities as ECS `log.level`.
fn severity_name(severity: i64) -> Option<&'static str> {
    ["info", "warning", "error", "fatal"].get(usize::try_from(severity).ok()?).copied()
}
