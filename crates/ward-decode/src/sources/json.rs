//! Generic JSON: any webhook or custom source, onboarded without code.
//!
//! Without a mapping file every JSON object is taken as an ECS-shaped document: nested objects
//! and dotted keys become dotted paths, `@timestamp` (else `timestamp`) is the event time. With
//! `--mapping FILE` a declarative YAML file says which source field goes where, how the time is
//! written, what is constant, what is required and where unmapped fields go.
//! `docs/sources/json.md` is the reference for both modes and for the mapping format.

mod convert;
mod mapping;
mod plan;
pub(crate) mod tree;

use std::path::Path;

use chrono::SecondsFormat;
use serde_json::Value;
use ward_model::{Event, FieldValue};

use crate::util::{self, Object};
use crate::{BuildError, DecodeContext, DecodeError, Decoder, Framing};
use plan::{Plan, TimeRule};

/// Decodes JSON objects, as ECS documents or through a mapping file.
#[derive(Debug)]
pub struct JsonDecoder {
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    /// Documents already shaped like ECS.
    Ecs(TimeRule),
    /// A compiled mapping file.
    Mapped(Box<Plan>),
}

impl JsonDecoder {
    /// Builds the decoder from an optional mapping file.
    ///
    /// # Errors
    /// [`BuildError::Mapping`] naming the file and the line/key when the file is unreadable or
    /// invalid.
    pub fn from_mapping_file(path: Option<&Path>) -> Result<Self, BuildError> {
        let Some(path) = path else {
            return Ok(Self { mode: Mode::Ecs(TimeRule::ecs()) });
        };
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| BuildError::Mapping { path: name.clone(), reason: format!("cannot read: {e}") })?;
        Self::from_mapping_str(&text, &name)
    }

    /// Builds the decoder from mapping text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`BuildError::Mapping`] naming `origin` and the line/key of the problem.
    pub fn from_mapping_str(text: &str, origin: &str) -> Result<Self, BuildError> {
        let plan =
            plan::load(text).map_err(|reason| BuildError::Mapping { path: origin.to_owned(), reason })?;
        Ok(Self { mode: Mode::Mapped(Box::new(plan)) })
    }
}

impl Decoder for JsonDecoder {
    fn name(&self) -> &'static str {
        "json"
    }

    fn framing(&self) -> Framing {
        Framing::JsonValues
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let obj = util::parse_object(record)?;
        let ev = match &self.mode {
            Mode::Ecs(time) => ecs(&obj, time, record, ctx)?,
            Mode::Mapped(plan) => plan.decode(&obj, record, ctx)?,
        };
        out.push(ev);
        Ok(())
    }
}

/// An ECS-shaped document: every field copied at its dotted path. `ward.*` and
/// `event.original` in the document are Ward's own fields and are not copied (the document
/// stays verbatim in `event.original`).
fn ecs(obj: &Object, time: &TimeRule, record: &str, ctx: &DecodeContext) -> Result<Event, DecodeError> {
    let ts = time.read(obj)?;
    let mut ev = Event::new(&ctx.tenant, "json", record, 0, ts.unwrap_or(ctx.now));
    let from_at = obj.get("@timestamp").is_some_and(|v| !v.is_null());
    let mut ips = Vec::new();
    let mut path = String::new();
    for (key, value) in obj {
        if key == "@timestamp" || (key == "timestamp" && ts.is_some() && !from_at) {
            continue;
        }
        copy_ecs(key, value, &mut path, &mut ev, &mut ips)?;
    }
    for ip in ips {
        ev.push("related.ip", ip);
    }
    if ts.is_none() && ev.get("event.ingested").is_none() {
        ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    Ok(ev)
}

/// Copies `key: value` under `path`, splitting dotted keys; addresses at `*.ip` become typed.
fn copy_ecs(
    key: &str,
    value: &Value,
    path: &mut String,
    ev: &mut Event,
    ips: &mut Vec<FieldValue>,
) -> Result<(), DecodeError> {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(DecodeError::invalid(path.as_str(), "empty path segment in key"));
    }
    if path.starts_with("@timestamp.") {
        return Err(DecodeError::invalid(path.as_str(), "@timestamp cannot have fields under it"));
    }
    if is_reserved(path) {
        path.truncate(len);
        return Ok(());
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                copy_ecs(k, v, path, ev, ips)?;
            }
        }
        other => {
            if let Some(mut v) = FieldValue::from_json(other.clone()) {
                if path.ends_with(".ip") || path == "related.ip" {
                    v = typed_ip(v, ips);
                }
                tree::set_checked(ev, path, v)?;
            }
        }
    }
    path.truncate(len);
    Ok(())
}

fn is_reserved(path: &str) -> bool {
    path == "ward" || path.starts_with("ward.") || path == "event.original"
}

/// Text that is an IP address becomes one (also inside lists) and is noted for `related.ip`.
fn typed_ip(value: FieldValue, ips: &mut Vec<FieldValue>) -> FieldValue {
    match value {
        FieldValue::Str(s) => match s.trim().parse() {
            Ok(ip) => {
                ips.push(FieldValue::Ip(ip));
                FieldValue::Ip(ip)
            }
            Err(_) => FieldValue::Str(s),
        },
        FieldValue::List(items) => FieldValue::List(items.into_iter().map(|i| typed_ip(i, ips)).collect()),
        other => other,
    }
}
