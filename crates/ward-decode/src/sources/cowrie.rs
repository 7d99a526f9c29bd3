//! Cowrie SSH/Telnet honeypot logs: the JSON lines of Cowrie's `output_jsonlog` (`cowrie.json`),
//! one record per line, one event per record.
//!
//! Every record carries `eventid` and `timestamp`; Cowrie 3 adds the connection identity
//! (`session`, `src_ip`/`src_port`, `dst_ip`/`dst_port`, `protocol`) and the sensor (`sensor`,
//! `uuid`) to all of them, Cowrie 2 to some. [`common`] maps those, [`events`] maps what each
//! eventid adds, and members no mapping knows are kept under `cowrie.extra.*`. Eventids Cowrie
//! does not (yet) emit still decode, as generic honeypot events. `docs/sources/cowrie.md` lists
//! every mapping and every rejection.

mod events;
mod fields;
mod plugins;

use ward_model::Event;

use self::fields::Record;
use crate::util;
use crate::{DecodeContext, DecodeError, Decoder, Framing};

/// The prefix of every eventid Cowrie emits; `event.action` is the eventid without it.
const PREFIX: &str = "cowrie.";

/// Decodes Cowrie JSON log lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct CowrieDecoder;

impl Decoder for CowrieDecoder {
    fn name(&self) -> &'static str {
        "cowrie"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        let mut rec = Record::parse(record)?;
        let eventid = rec.eventid()?;
        let eventid: &str = &eventid;
        let timestamp = rec.timestamp()?;
        let mut ev = Event::new(&ctx.tenant, self.name(), record, 0, timestamp);
        common(&mut ev, &mut rec, eventid)?;
        events::map(&mut ev, &mut rec, eventid)?;
        rec.keep_rest(&mut ev);
        out.push(ev);
        Ok(())
    }
}

/// Maps what every Cowrie record may carry: eventid, sensor, session and connection.
///
/// `session.id` is the session scoped by sensor (Cowrie's 12 hex digits are unique per sensor
/// only): `<sensor>/<session>`, or the bare id without a sensor.
fn common(ev: &mut Event, rec: &mut Record, eventid: &str) -> Result<(), DecodeError> {
    let action = eventid.strip_prefix(PREFIX).unwrap_or(eventid);
    if !action.is_empty() {
        ev.set("event.action", action);
    }
    ev.set("event.dataset", dataset(action));
    ev.set("cowrie.eventid", eventid);
    ev.set("observer.type", "honeypot");
    ev.set("observer.product", "cowrie");
    ev.set_opt("message", rec.non_empty("message")?);
    ev.set_opt("cowrie.uuid", rec.non_empty("uuid")?);
    ev.set_opt("cowrie.late", rec.flag("late")?);
    ev.set_opt("cowrie.epoch", rec.int("epoch")?);
    ev.set_opt("network.protocol", rec.non_empty("protocol")?.map(|p| p.to_ascii_lowercase()));
    let sensor = rec.non_empty("sensor")?;
    if let Some(session) = rec.non_empty("session")? {
        match sensor.as_deref() {
            Some(sensor) => ev.set("session.id", format!("{sensor}/{}", &*session)),
            None => ev.set("session.id", &*session),
        }
        ev.set("cowrie.session", session);
    }
    ev.set_opt("observer.hostname", sensor);
    endpoints(ev, rec)
}

/// Source and destination of the connection. Connections to Cowrie are TCP.
fn endpoints(ev: &mut Event, rec: &mut Record) -> Result<(), DecodeError> {
    if let Some(ip) = rec.non_empty("src_ip")? {
        util::set_ip(ev, "source.ip", &ip);
        ev.set("network.transport", "tcp");
    }
    ev.set_opt("source.port", rec.port("src_port")?);
    if let Some(dst) = rec.non_empty("dst_ip")? {
        set_destination(ev, &dst);
    }
    ev.set_opt("destination.port", rec.port("dst_port")?);
    Ok(())
}

/// `event.dataset`: `cowrie.<group>`, the group being the action's first segment (`login`).
fn dataset(action: &str) -> String {
    match action.split('.').next() {
        Some(group) if !group.is_empty() => format!("{PREFIX}{group}"),
        _ => "cowrie".to_owned(),
    }
}

/// `destination.ip` for an address; for a host name (the target of an SSH port forward)
/// `destination.domain` and `destination.address`.
fn set_destination(ev: &mut Event, dst: &str) {
    if dst.trim().parse::<std::net::IpAddr>().is_ok() {
        util::set_ip(ev, "destination.ip", dst);
    } else {
        ev.set("destination.address", dst);
        ev.set("destination.domain", dst);
    }
}
