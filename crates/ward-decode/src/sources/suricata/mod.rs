//! Suricata EVE JSON (one JSON object per line) to ECS.
//!
//! Every record carries `timestamp` and `event_type`; the rest depends on the event type, and
//! one record often carries several app-layer objects (an alert has `alert`, `flow`, and the
//! `http` or `tls` of its transaction). Each top-level member is therefore mapped on its own,
//! whatever the event type: ECS where ECS has a home for it, `suricata.<member>.*` otherwise.
//! Unknown event types and members decode the same way, so a newer Suricata never causes
//! rejections. `docs/sources/suricata.md` lists the mapping.
//!
//! Path invariant: every `suricata.*` path written for top-level member `m` starts with
//! `suricata.m`, so members never clash with each other.

mod alert;
mod app;
mod dns;
mod file;
mod flow;
mod http;
mod tls;
mod value;

use serde_json::Value;
use ward_model::{Event, FieldValue};

use crate::util::{self, Object, categorize, set_ip};
use crate::{DecodeContext, DecodeError, Decoder, Framing};
use value::{expected, parse_time, port, put_str, text, vendor};

/// Decodes Suricata EVE JSON records.
#[derive(Debug, Default, Clone, Copy)]
pub struct SuricataDecoder;

impl Decoder for SuricataDecoder {
    fn name(&self) -> &'static str {
        "suricata"
    }

    fn framing(&self) -> Framing {
        Framing::Lines
    }

    fn decode(&self, record: &str, ctx: &DecodeContext, out: &mut Vec<Event>) -> Result<(), DecodeError> {
        out.push(decode_record(record, ctx)?);
        Ok(())
    }
}

/// What member mappers need to know about the whole record.
struct Record<'a> {
    /// `event_type`: the member named like it is the record's subject.
    event_type: &'a str,
    /// `direction` is `to_client`: the packet source is the flow's server.
    to_client: bool,
}

impl Record<'_> {
    /// Whether member `name` is the subject of the record (its outcome is the event's).
    fn is_subject(&self, name: &str) -> bool {
        self.event_type == name
    }
}

fn decode_record(record: &str, ctx: &DecodeContext) -> Result<Event, DecodeError> {
    let mut map = util::parse_object(record)?;
    let event_type = take_text(&mut map, "event_type")?;
    let ts_text = take_text(&mut map, "timestamp")?;
    let ts = parse_time(&ts_text)
        .ok_or_else(|| DecodeError::invalid("timestamp", format!("unparseable time {ts_text:?}")))?;
    if event_type.is_empty() {
        return Err(DecodeError::invalid("event_type", "empty"));
    }
    if event_type == "alert" && !map.contains_key("alert") {
        return Err(DecodeError::missing("alert"));
    }
    let mut ev = Event::new(&ctx.tenant, "suricata", record, 0, ts);
    ev.set("event.dataset", format!("suricata.{event_type}"));
    ev.set("event.module", "suricata");
    for (path, value) in
        [("observer.type", "ids"), ("observer.vendor", "OISF"), ("observer.product", "suricata")]
    {
        ev.set(path, value);
    }
    categorize_type(&mut ev, &event_type);
    let rec = Record {
        event_type: &event_type,
        to_client: map.get("direction").and_then(Value::as_str) == Some("to_client"),
    };
    for (key, value) in map {
        member(&mut ev, &rec, &key, value)?;
    }
    Ok(ev)
}

/// Removes a required string member.
fn take_text(map: &mut Object, key: &str) -> Result<String, DecodeError> {
    match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(expected(key, "a string", &other)),
        None => Err(DecodeError::missing(key)),
    }
}

/// ECS categorization from the event type; mappers refine `event.type` and `event.outcome`.
fn categorize_type(ev: &mut Event, event_type: &str) {
    let (kind, category, types): (&str, &[&str], &[&str]) = match event_type {
        "alert" => ("alert", &["network", "intrusion_detection"], &["info"]),
        "anomaly" => ("event", &["network"], &["info"]),
        "drop" => ("event", &["network", "intrusion_detection"], &["connection", "denied"]),
        "flow" | "netflow" => ("event", &["network"], &["connection", "end"]),
        "fileinfo" => ("event", &["network", "file"], &["info"]),
        "http" | "http2" => ("event", &["network", "web"], &["access", "protocol"]),
        "krb5" => ("event", &["network", "authentication"], &["protocol"]),
        "stats" => ("metric", &[], &["info"]),
        _ => ("event", &["network"], &["protocol"]),
    };
    categorize(ev, kind, category, types);
}

/// Maps one top-level member.
fn member(ev: &mut Event, rec: &Record<'_>, key: &str, value: Value) -> Result<(), DecodeError> {
    match key {
        "src_ip" => address(ev, "source.ip", &value, "src_ip")?,
        "dest_ip" => address(ev, "destination.ip", &value, "dest_ip")?,
        "src_port" => ev.set("source.port", port(&value, "src_port")?),
        "dest_port" => ev.set("destination.port", port(&value, "dest_port")?),
        "proto" => transport(ev, &value)?,
        "app_proto" if app_proto(ev, &value) => {}
        "community_id" if put_str(ev, "network.community_id", &value) => {}
        "in_iface" if put_str(ev, "observer.ingress.interface.name", &value) => {}
        "host" if put_str(ev, "observer.hostname", &value) => {}
        "vlan" => vlan(ev, &value)?,
        "stats" => ev.set("suricata.stats", FieldValue::Json(Box::new(value))),
        "alert" => alert::alert(ev, rec, &value)?,
        "drop" => alert::drop(ev, rec, &value)?,
        "flow" => flow::flow(ev, rec, &value)?,
        "netflow" => flow::netflow(ev, &value)?,
        "dns" | "mdns" | "llmnr" => dns::dns(ev, rec, key, &value)?,
        "http" => http::http(ev, rec, &value)?,
        "tls" => tls::tls(ev, &value)?,
        "quic" => tls::quic(ev, &value)?,
        "fileinfo" => file::fileinfo(ev, &value)?,
        "files" => file::files(ev, &value)?,
        "ether" => app::ether(ev, &value)?,
        "email" => app::email(ev, &value)?,
        "krb5" => app::krb5(ev, rec, &value)?,
        "smb" => app::smb(ev, &value)?,
        "ftp" => app::ftp(ev, &value)?,
        _ => vendor(ev, "", key, &value)?,
    }
    Ok(())
}

/// `src_ip`/`dest_ip`: a typed address (text kept when it is not one); the source address
/// also gives `network.type`.
fn address(ev: &mut Event, path: &str, value: &Value, field: &str) -> Result<(), DecodeError> {
    set_ip(ev, path, text(value, field)?);
    if path == "source.ip"
        && let Some(ip) = ev.get(path).and_then(FieldValue::as_ip)
    {
        ev.set("network.type", if ip.is_ipv4() { "ipv4" } else { "ipv6" });
    }
    Ok(())
}

/// IP protocols by the names Suricata writes, with their ECS spelling and IANA number.
const TRANSPORTS: &[(&str, &str, &str)] = &[
    ("TCP", "tcp", "6"),
    ("UDP", "udp", "17"),
    ("ICMP", "icmp", "1"),
    ("IPV6-ICMP", "ipv6-icmp", "58"),
    ("SCTP", "sctp", "132"),
    ("GRE", "gre", "47"),
    ("ESP", "esp", "50"),
    ("AH", "ah", "51"),
    ("IGMP", "igmp", "2"),
    ("IPV6", "ipv6", "41"),
    ("IPV6-FRAG", "ipv6-frag", "44"),
];

/// `proto` → `network.transport` (lowercase) and `network.iana_number` where known; a numeric
/// protocol (Suricata writes unnamed ones as digits) is an IANA number.
fn transport(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    if let Value::Number(n) = value {
        ev.set("network.iana_number", n.to_string());
        return Ok(());
    }
    let proto = text(value, "proto")?;
    if !proto.is_empty() && proto.bytes().all(|b| b.is_ascii_digit()) {
        let n = proto.trim_start_matches('0');
        ev.set("network.iana_number", if n.is_empty() { "0" } else { n });
        return Ok(());
    }
    match TRANSPORTS.iter().find(|(name, _, _)| name.eq_ignore_ascii_case(proto)) {
        Some((_, lower, number)) => {
            ev.set("network.transport", *lower);
            ev.set("network.iana_number", *number);
        }
        None if !proto.is_empty() => ev.set("network.transport", proto.to_ascii_lowercase()),
        None => {}
    }
    Ok(())
}

/// `app_proto` → `network.protocol`; `failed` (detection failed) is not a protocol and stays
/// under `suricata.app_proto`.
fn app_proto(ev: &mut Event, value: &Value) -> bool {
    match value.as_str() {
        Some("failed" | "unknown" | "") | None => false,
        Some(p) => {
            ev.set("network.protocol", p.to_ascii_lowercase());
            true
        }
    }
}

/// `vlan` (outer first) → `network.vlan.id` and `network.inner.vlan.id`; a third tag keeps the
/// whole list under `suricata.vlan`.
fn vlan(ev: &mut Event, value: &Value) -> Result<(), DecodeError> {
    let Some(ids) = value.as_array().filter(|ids| ids.len() <= 2 && ids.iter().all(Value::is_u64)) else {
        return vendor(ev, "", "vlan", value);
    };
    for (path, id) in ["network.vlan.id", "network.inner.vlan.id"].iter().zip(ids) {
        ev.set(path, id.to_string());
    }
    Ok(())
}
