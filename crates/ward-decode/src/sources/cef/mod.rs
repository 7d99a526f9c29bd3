//! ArcSight Common Event Format: `[syslog header] CEF:Version|Device Vendor|Device Product|Device
//! Version|Device Event Class ID|Name|Severity|key=value …`.
//!
//! The header goes to `observer.*`, `event.code`, `event.severity`, `message` and the raw
//! `cef.*` fields; standard extension keys to ECS; every extension stays raw under
//! `cef.extensions.<key>`. `docs/sources/cef.md` lists the mapping.

mod ecs;
mod parse;
mod time;

use chrono::SecondsFormat;
use ward_model::Event;

use crate::sources::syslog;
use crate::{DecodeContext, DecodeError, Decoder, Framing};

use parse::Record;
pub use parse::{escape_header, escape_value};

/// Decodes CEF records, with or without a syslog header in front.
#[derive(Debug, Default, Clone, Copy)]
pub struct CefDecoder;

impl Decoder for CefDecoder {
    fn name(&self) -> &'static str {
        "cef"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let rec = parse::parse(record)?;
        let version = version(&rec)?;
        let severity = severity(&rec)?;
        let prefix = match rec.prefix {
            "" => None,
            p => Some(syslog::parse_header(p, ctx.now).map_err(|e| prefix_error(&e))?),
        };
        let syslog_time = prefix.as_ref().and_then(|h| h.timestamp);
        let mut ev = Event::new(&ctx.tenant, self.name(), record, 0, syslog_time.unwrap_or(ctx.now));
        if let Some(h) = &prefix {
            syslog::apply_header(&mut ev, h);
        }
        apply_header(&mut ev, &rec, version, severity);
        ecs::apply(&mut ev, &rec.extensions, ctx.now)?;
        let has_rt = rec.extensions.iter().any(|e| matches!(e.key, "rt" | "deviceReceiptTime"));
        if syslog_time.is_none() && !has_rt {
            ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        out.push(ev);
        Ok(())
    }
}

fn prefix_error(e: &DecodeError) -> DecodeError {
    DecodeError::Malformed(format!("syslog header before `CEF:`: {e}"))
}

/// `Version`: 0 (CEF 0.x) or 1 (CEF 1.x).
fn version(rec: &Record<'_>) -> Result<u8, DecodeError> {
    match rec.header[0].as_ref() {
        "0" => Ok(0),
        "1" => Ok(1),
        v => Err(DecodeError::invalid(
            "Version",
            format!("byte {}: `{v}` is not a CEF version (0 or 1)", rec.header_at[0]),
        )),
    }
}

/// `Severity`: 0-10, or Unknown / Low / Medium / High / Very-High (any case). Words map to the
/// top of their band (Low 3, Medium 6, High 8, Very-High 10); Unknown to no number.
fn severity(rec: &Record<'_>) -> Result<Option<i64>, DecodeError> {
    let raw = rec.header[6].trim();
    let bad = || {
        DecodeError::invalid(
            "Severity",
            format!(
                "byte {}: `{raw}` is not 0-10, Unknown, Low, Medium, High or Very-High",
                rec.header_at[6]
            ),
        )
    };
    if let Ok(n) = raw.parse::<i64>() {
        return (0..=10).contains(&n).then_some(Some(n)).ok_or_else(bad);
    }
    match raw.to_ascii_lowercase().as_str() {
        "unknown" => Ok(None),
        "low" => Ok(Some(3)),
        "medium" => Ok(Some(6)),
        "high" => Ok(Some(8)),
        "very-high" => Ok(Some(10)),
        _ => Err(bad()),
    }
}

/// Header fields → `cef.*` (raw) and ECS. `Name` seeds `message` and `event.action`, which the
/// `msg` and `act` extensions override.
fn apply_header(ev: &mut Event, rec: &Record<'_>, version: u8, severity: Option<i64>) {
    ev.set("event.kind", "event");
    ev.set("cef.version", version);
    let raw = [
        "cef.device.vendor",
        "cef.device.product",
        "cef.device.version",
        "cef.device.event_class_id",
        "cef.name",
        "cef.severity",
    ];
    let ecs = [
        Some("observer.vendor"),
        Some("observer.product"),
        Some("observer.version"),
        Some("event.code"),
        Some("message"),
        None,
    ];
    for (n, value) in rec.header.iter().enumerate().skip(1) {
        if value.is_empty() {
            continue;
        }
        ev.set(raw[n - 1], value.as_ref());
        if let Some(path) = ecs[n - 1] {
            ev.set(path, value.as_ref());
        }
    }
    if !rec.header[5].is_empty() {
        ev.set("event.action", rec.header[5].as_ref());
    }
    ev.set_opt("event.severity", severity);
}
