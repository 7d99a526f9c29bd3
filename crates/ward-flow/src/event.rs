//! Flow records and protocol metadata as normalized [`ward_model::Event`]s (ECS names).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use ward_model::{Event, FieldValue, TenantId};

use crate::community::community_id;
use crate::meta::{AppProto, MetaRecord};
use crate::record::{FlowRecord, Origin, RecordKind, tcp_flag_names, transport_name};

fn ms_time(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The event of one flow record. `original` is the record's JSON form (kept verbatim as
/// `event.original`); `source` is the decoder name (`netflow`, `pcap`); `fallback` is the time
/// used when the record carries none.
pub fn flow_event(
    rec: &FlowRecord,
    original: &str,
    tenant: &TenantId,
    source: &str,
    fallback: DateTime<Utc>,
) -> Event {
    let ts = rec.end_ms.or(rec.start_ms).or(rec.export_ms).and_then(ms_time).unwrap_or(fallback);
    let mut ev = Event::new(tenant, source, original, 0, ts);
    let options = rec.kind == RecordKind::Options;
    ev.set("event.kind", if options { "state" } else { "event" });
    ev.set("event.category", FieldValue::List(vec!["network".into()]));
    ev.set("event.type", FieldValue::List(vec![if options { "info" } else { "connection" }.into()]));
    let (action, dataset) = match (rec.origin, options) {
        (Origin::Pcap, _) => ("network_flow", "pcap.flow"),
        (_, true) => ("netflow_options", "netflow.options"),
        (_, false) => ("netflow_flow", "netflow.flow"),
    };
    ev.set("event.action", action);
    ev.set("event.dataset", dataset);
    ev.set_opt("observer.ip", rec.exporter);
    if rec.origin != Origin::Pcap {
        ev.set("netflow.version", rec.origin.version());
        ev.set_opt("netflow.observation_domain_id", rec.domain);
        ev.set_opt("netflow.template_id", rec.template);
        ev.set_opt("netflow.sequence", rec.sequence);
        ev.set_opt("netflow.exporter.timestamp", rec.export_ms.and_then(ms_time).map(rfc3339));
    }
    endpoints(&mut ev, rec);
    volumes(&mut ev, rec);
    times(&mut ev, rec);
    if let Some(bits) = rec.tcp_flags.or(rec.reverse_tcp_flags) {
        let all = bits | rec.reverse_tcp_flags.unwrap_or(0);
        ev.set("network.tcp_flags", names(all));
        ev.set("netflow.tcp_control_bits", all);
    }
    ev.set_opt("observer.ingress.interface.id", rec.in_if.map(|i| i.to_string()));
    ev.set_opt("observer.egress.interface.id", rec.out_if.map(|i| i.to_string()));
    ev.set_opt("flow.end_reason", rec.end_reason.as_deref());
    let prefix = if rec.origin == Origin::Pcap { "pcap." } else { "netflow." };
    for (k, v) in &rec.fields {
        if let Some(value) = FieldValue::from_json(v.clone()) {
            let _ = ev.try_set(&format!("{prefix}{k}"), value);
        }
    }
    ev
}

fn names(bits: u16) -> FieldValue {
    FieldValue::List(tcp_flag_names(bits).into_iter().map(FieldValue::from).collect())
}

fn endpoints(ev: &mut Event, rec: &FlowRecord) {
    ev.set_opt("source.ip", rec.src_ip);
    ev.set_opt("destination.ip", rec.dst_ip);
    ev.set_opt("source.port", rec.src_port);
    ev.set_opt("destination.port", rec.dst_port);
    ev.set_opt("source.as.number", rec.src_as.filter(|a| *a != 0));
    ev.set_opt("destination.as.number", rec.dst_as.filter(|a| *a != 0));
    let related: Vec<FieldValue> =
        [rec.src_ip, rec.dst_ip].into_iter().flatten().map(FieldValue::Ip).collect();
    if !related.is_empty() {
        ev.set("related.ip", FieldValue::List(related));
    }
    if let Some(p) = rec.protocol {
        ev.set("network.iana_number", p.to_string());
        ev.set_opt("network.transport", transport_name(p));
        if let (Some(s), Some(d)) = (rec.src_ip, rec.dst_ip) {
            ev.set("network.type", if s.is_ipv4() { "ipv4" } else { "ipv6" });
            let (sp, dp) = (rec.src_port.unwrap_or(0), rec.dst_port.unwrap_or(0));
            ev.set("network.community_id", community_id(s, d, p, sp, dp));
        }
    }
}

fn volumes(ev: &mut Event, rec: &FlowRecord) {
    ev.set_opt("network.bytes", rec.total_bytes().and_then(|v| i64::try_from(v).ok()));
    ev.set_opt("network.packets", rec.total_packets().and_then(|v| i64::try_from(v).ok()));
    if rec.reverse_bytes.is_some() || rec.reverse_packets.is_some() || rec.origin == Origin::Pcap {
        ev.set_opt("source.bytes", rec.bytes.and_then(|v| i64::try_from(v).ok()));
        ev.set_opt("source.packets", rec.packets.and_then(|v| i64::try_from(v).ok()));
        ev.set_opt("destination.bytes", rec.reverse_bytes.and_then(|v| i64::try_from(v).ok()));
        ev.set_opt("destination.packets", rec.reverse_packets.and_then(|v| i64::try_from(v).ok()));
    }
}

fn times(ev: &mut Event, rec: &FlowRecord) {
    let start = rec.start_ms.and_then(ms_time);
    let end = rec.end_ms.and_then(ms_time);
    ev.set_opt("event.start", start.map(rfc3339));
    ev.set_opt("event.end", end.map(rfc3339));
    if let (Some(s), Some(e)) = (rec.start_ms, rec.end_ms)
        && e >= s
    {
        ev.set("event.duration", (e - s).saturating_mul(1_000_000));
    }
}

/// The event of one protocol metadata record (`original`: its JSON form).
pub fn meta_event(m: &MetaRecord, original: &str, tenant: &TenantId, source: &str) -> Event {
    let ts = ms_time(m.ts_ms).unwrap_or_default();
    let mut ev = Event::new(tenant, source, original, 0, ts);
    let proto = m.protocol.as_str();
    ev.set("event.kind", "event");
    ev.set("event.category", FieldValue::List(vec!["network".into()]));
    ev.set("event.type", FieldValue::List(vec!["protocol".into()]));
    ev.set("event.dataset", format!("pcap.{proto}"));
    ev.set("event.action", format!("{proto}_{}", meta_action(m)));
    ev.set("network.protocol", proto);
    ev.set("source.ip", m.src_ip);
    ev.set("destination.ip", m.dst_ip);
    ev.set("source.port", m.src_port);
    ev.set("destination.port", m.dst_port);
    ev.set("network.iana_number", m.transport.to_string());
    ev.set_opt("network.transport", transport_name(m.transport));
    ev.set("network.type", if m.src_ip.is_ipv4() { "ipv4" } else { "ipv6" });
    ev.set("network.community_id", community_id(m.src_ip, m.dst_ip, m.transport, m.src_port, m.dst_port));
    ev.set("related.ip", FieldValue::List(vec![FieldValue::Ip(m.src_ip), FieldValue::Ip(m.dst_ip)]));
    for (k, v) in &m.fields {
        if let Some(value) = FieldValue::from_json(v.clone()) {
            let _ = ev.try_set(k, value);
        }
    }
    ev
}

fn meta_action(m: &MetaRecord) -> &'static str {
    match m.protocol {
        AppProto::Dns => {
            if m.fields.get("dns.type").and_then(|v| v.as_str()) == Some("answer") {
                "answer"
            } else {
                "query"
            }
        }
        AppProto::Http => "request",
        AppProto::Tls => "client_hello",
        AppProto::Ssh => "banner",
    }
}
