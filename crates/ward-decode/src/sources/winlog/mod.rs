//! Windows events as JSON, in the four forms they are shipped in:
//!
//! - evtx_dump JSON (`{"Event":{"System":…,"EventData":…}}`), also what the `evtx` decoder
//!   renders from `.evtx` files;
//! - Winlogbeat / Elastic Agent documents (`{"@timestamp":…,"winlog":{…}}`);
//! - Azure Monitor Log Analytics rows (`SecurityEvent`, `WindowsEvent`, `Event` tables);
//! - flat lines with EventData at the top level (OTRF/Mordor exports via NXLog/Logstash).
//!
//! Each form is read into one `Record` (the System fields, the EventData fields under their
//! raw names, and form-specific extras) from which one event is built the same way, so a
//! field means the same whatever form it came in. `docs/sources/winlog.md` has the tables.

mod analytics;
mod beat;
mod data;
mod ecs;
mod evtx_json;
mod flat;
mod system;
mod xml;

use chrono::{DateTime, Utc};
use serde_json::Value;
use ward_model::{Event, FieldValue};

use self::data::EventData;
use self::system::System;
use crate::util::{Object, kind_of, parse_object};
use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// Decodes Windows events shipped as JSON.
#[derive(Debug, Default, Clone, Copy)]
pub struct WinlogDecoder;

impl Decoder for WinlogDecoder {
    fn name(&self) -> &'static str {
        "winlog"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let record_value = read_any(parse_object(record)?)?;
        out.push(record_value.build(record, self.name(), ctx));
        Ok(())
    }
}

/// Decodes one record in evtx_dump form (as [`super::evtx::for_each_record`] renders them),
/// stamping `ward.source` with `source`.
///
/// # Errors
/// As [`WinlogDecoder::decode`], for the evtx_dump form only.
pub(crate) fn decode_evtx_json(
    record: &str,
    source: &str,
    ctx: &DecodeContext,
    out: &mut Vec<Event>,
) -> Result<(), DecodeError> {
    out.push(evtx_json::read(parse_object(record)?)?.build(record, source, ctx));
    Ok(())
}

/// Recognises the form of a record and reads it.
fn read_any(doc: Object) -> Result<Record, DecodeError> {
    if doc.contains_key("Event") {
        evtx_json::read(doc)
    } else if doc.contains_key("winlog") {
        beat::read(doc)
    } else if analytics::is_row(&doc) {
        analytics::read(doc)
    } else if doc.contains_key("EventID") {
        flat::read(doc)
    } else {
        Err(DecodeError::Shape(
            "not a Windows event: no `Event` (evtx_dump), `winlog` (Winlogbeat), Log Analytics \
             `Type`/`TimeGenerated` or top-level `EventID` member"
                .into(),
        ))
    }
}

/// One Windows event read from any form.
#[derive(Debug)]
pub(crate) struct Record {
    /// When the event was logged.
    timestamp: DateTime<Utc>,
    /// Who logged what, where.
    system: System,
    /// EventData and UserData fields.
    data: EventData,
    /// Fields at fixed paths that only some forms carry (`winlog.collector.*`, `host.*`, …).
    extra: Vec<(String, FieldValue)>,
}

impl Record {
    /// An empty record for `system` at `timestamp`.
    fn new(timestamp: DateTime<Utc>, system: System) -> Self {
        Self { timestamp, system, data: EventData::default(), extra: Vec::new() }
    }

    /// Adds a field at a fixed path (`null`s vanish).
    fn push_extra(&mut self, path: String, value: Value) {
        if let Some(v) = FieldValue::from_json(value) {
            self.extra.push((path, v));
        }
    }

    /// Builds the event. Extras come from the document itself, so they go last and only where
    /// they neither replace a System, ECS or EventData field nor turn a leaf into a parent; one
    /// that would stays in `event.original` only.
    fn build(self, original: &str, source: &str, ctx: &DecodeContext) -> Event {
        let mut ev = Event::new(&ctx.tenant, source, original, 0, self.timestamp);
        ecs::map(&mut ev, &self.system, &self.data);
        self.system.apply(&mut ev);
        self.data.move_into(&mut ev);
        for (path, value) in self.extra {
            if ev.get(&path).is_none() {
                // A conflicting path is the document's oddity, not an error of the event.
                let _conflict = ev.try_set(&path, value);
            }
        }
        ev
    }
}

/// A member that must be a JSON object.
fn object(v: Option<Value>, field: &str) -> Result<Object, DecodeError> {
    match v {
        Some(Value::Object(map)) => Ok(map),
        None | Some(Value::Null) => Err(DecodeError::missing(field)),
        Some(other) => {
            Err(DecodeError::invalid(field, format!("expected an object, found {}", kind_of(&other))))
        }
    }
}
