//! Tests of the Suricata EVE decoder: the committed samples (snapshots), rejections and
//! properties here; the whole suricata-verify corpus checked record by record against its raw
//! JSON in `corpus`; the records generated with drop, netflow and ethernet logging, and the DNS
//! v1 layout, in `generated`.

mod corpus;
mod generated;

use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::{Value, json};
use ward_decode::SourceKind;
use ward_model::{Event, FieldValue};

use crate::common::{as_json, decode, fixture};

const KIND: SourceKind = SourceKind::Suricata;

fn ip(text: &str) -> FieldValue {
    FieldValue::Ip(text.parse::<IpAddr>().expect("an address"))
}

fn int(v: &Value) -> FieldValue {
    FieldValue::Int(v.as_i64().expect("an integer"))
}

fn text(v: &Value) -> FieldValue {
    FieldValue::from(v.as_str().expect("a string"))
}

/// A text member as ECS keeps it: empty text is no value.
fn non_empty(v: Option<&Value>) -> Option<FieldValue> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(FieldValue::from)
}

/// Decodes one record that must decode.
fn one(line: &str) -> Event {
    let mut c = decode(KIND, line.as_bytes());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 1);
    c.events.remove(0)
}

/// The single rejection reason for a record.
fn rejection(line: &str) -> String {
    let c = decode(KIND, line.as_bytes());
    assert!(c.events.is_empty(), "decoded: {line}");
    assert_eq!(c.rejections.len(), 1);
    c.rejections[0].reason.clone()
}

/// Answers of a raw DNS object (detailed list, or a v1-style top-level answer).
fn raw_resolved(dns: &Value) -> Vec<FieldValue> {
    let mut out: Vec<FieldValue> = Vec::new();
    let answers = dns.get("answers").and_then(Value::as_array).cloned().unwrap_or_default();
    let detailed =
        answers.iter().filter(|a| a["rrtype"] == "A" || a["rrtype"] == "AAAA").map(|a| &a["rdata"]);
    let grouped = ["A", "AAAA"].into_iter().filter_map(|t| dns.get("grouped")?.get(t)?.as_array()).flatten();
    for v in detailed.chain(grouped) {
        let addr = ip(v.as_str().expect("an address"));
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    out
}

#[test]
fn sample_decodes_to_reviewed_ecs() {
    let c = decode(KIND, &std::fs::read(fixture("suricata/eve-sample.json")).unwrap());
    assert!(c.rejections.is_empty(), "{:?}", c.rejections);
    assert_eq!(c.events.len(), 20);
    insta::assert_json_snapshot!("sample", as_json(&c));
}

#[test]
fn generated_sample_decodes_to_reviewed_ecs() {
    let text = std::fs::read(fixture("suricata/eve-generated.json")).unwrap();
    let c = decode(KIND, &text);
    assert_eq!((c.events.len(), c.rejections.len()), (15, 0));
    insta::assert_json_snapshot!("generated", as_json(&c));
}

#[test]
fn unknown_event_types_decode_as_network_events() {
    let line = r#"{"timestamp":"2021-01-26T00:51:18.556477+0000","flow_id":1827100937928435,"event_type":"some_future_proto","src_ip":"190.0.0.1","src_port":40000,"dest_ip":"190.0.0.2","dest_port":50000,"proto":"UDP","some_future_proto":{"transaction_id":"6161","request":{"id":"6162"}}}"#;
    let ev = one(line);
    assert_eq!(ev.str("event.dataset"), Some("suricata.some_future_proto"));
    assert_eq!(ev.str("event.kind"), Some("event"));
    assert_eq!(ev.get("event.category").unwrap().to_string(), "network");
    assert_eq!(ev.get("source.ip"), Some(&ip("190.0.0.1")));
    assert_eq!(ev.get("destination.port"), Some(&FieldValue::Int(50000)));
    assert_eq!(ev.str("suricata.some_future_proto.request.id"), Some("6162"));
}

#[test]
fn interface_vlan_tags_and_numeric_protocols_map_to_ecs() {
    let base = r#""timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"flow""#;
    let ev = one(&format!(r#"{{{base},"in_iface":"eth1","vlan":[100,200],"proto":"047"}}"#));
    assert_eq!(ev.str("observer.ingress.interface.name"), Some("eth1"));
    assert_eq!((ev.str("network.vlan.id"), ev.str("network.inner.vlan.id")), (Some("100"), Some("200")));
    assert_eq!((ev.str("network.iana_number"), ev.get("network.transport")), (Some("47"), None));
    let ev = one(&format!(r#"{{{base},"vlan":[1,2,3],"proto":132}}"#));
    assert!(ev.get("network.vlan.id").is_none());
    assert_eq!(ev.get("suricata.vlan").map(ToString::to_string).as_deref(), Some("1,2,3"));
    assert_eq!(ev.str("network.iana_number"), Some("132"));
}

#[test]
fn flow_ids_beyond_i64_stay_exact_as_text() {
    let ev = one(
        r#"{"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"flow","flow_id":18446744073709551615}"#,
    );
    assert_eq!(ev.str("suricata.flow_id"), Some("18446744073709551615"));
}

#[test]
fn bad_records_are_rejected_with_the_field_and_the_problem() {
    let ts = r#""timestamp":"2024-01-01T00:00:00.000000+0000""#;
    let cases = [
        (r#"[1,2]"#.to_owned(), "unexpected shape: expected a JSON object, found an array"),
        (r#"{"event_type":"flow"}"#.to_owned(), "missing field `timestamp`"),
        (format!("{{{ts}}}"), "missing field `event_type`"),
        (
            format!(r#"{{{ts},"event_type":7}}"#),
            "invalid field `event_type`: expected a string, found a number",
        ),
        (
            r#"{"timestamp":"yesterday","event_type":"flow"}"#.to_owned(),
            r#"invalid field `timestamp`: unparseable time "yesterday""#,
        ),
        (format!(r#"{{{ts},"event_type":"alert"}}"#), "missing field `alert`"),
        (
            format!(r#"{{{ts},"event_type":"alert","alert":{{"rev":1}}}}"#),
            "missing field `alert.signature_id`",
        ),
        (
            format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":"x"}}}}"#),
            "invalid field `alert.signature_id`: expected a non-negative integer, found a string",
        ),
        (
            format!(r#"{{{ts},"event_type":"flow","src_port":70000}}"#),
            "invalid field `src_port`: expected a port number (0-65535), found a number",
        ),
        (
            format!(r#"{{{ts},"event_type":"flow","src_ip":null}}"#),
            "invalid field `src_ip`: expected a string, found null",
        ),
        (
            format!(r#"{{{ts},"event_type":"flow","flow":{{"start":"soon"}}}}"#),
            r#"invalid field `flow.start`: unparseable time "soon""#,
        ),
        (
            format!(r#"{{{ts},"event_type":"flow","flow":{{"bytes_toserver":-1}}}}"#),
            "invalid field `flow.bytes_toserver`: expected a non-negative integer, found a number",
        ),
        (
            format!(r#"{{{ts},"event_type":"http","http":"GET /"}}"#),
            "invalid field `http`: expected an object, found a string",
        ),
        (
            format!(r#"{{{ts},"event_type":"x","a.b":1}}"#),
            r#"unexpected shape: member name "a.b" in the record is empty or contains '.'"#,
        ),
    ];
    for (line, want) in cases {
        assert_eq!(rejection(&line), want, "{line}");
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(line in "\\PC{0,300}") {
        let c = decode(KIND, line.as_bytes());
        prop_assert!(c.events.len() + c.rejections.len() <= 1);
    }

    #[test]
    fn any_well_formed_record_decodes_with_its_tuple(
        event_type in "[a-z][a-z0-9_]{0,15}",
        src in any::<[u8; 4]>(),
        dst in any::<std::net::Ipv6Addr>(),
        sport in any::<u16>(),
        dport in any::<u16>(),
        proto in prop_oneof![Just("TCP"), Just("UDP"), Just("ICMP"), Just("SCTP")],
        secs in 0i64..4_000_000_000,
        micros in 0u32..1_000_000,
    ) {
        let src = std::net::Ipv4Addr::from(src);
        let ts = chrono::DateTime::from_timestamp(secs, micros * 1000).unwrap();
        let mut raw = json!({
            "timestamp": ts.format("%Y-%m-%dT%H:%M:%S%.6f+0000").to_string(),
            "event_type": event_type,
            "src_ip": src.to_string(), "src_port": sport,
            "dest_ip": dst.to_string(), "dest_port": dport,
            "proto": proto,
        });
        if event_type == "alert" {
            raw["alert"] = json!({"signature_id": sport, "rev": 1, "severity": 2});
        }
        let ev = one(&raw.to_string());
        prop_assert_eq!(ev.timestamp(), ts);
        prop_assert_eq!(ev.get("source.ip"), Some(&FieldValue::Ip(src.into())));
        prop_assert_eq!(ev.get("destination.ip"), Some(&FieldValue::Ip(dst.into())));
        prop_assert_eq!(ev.get("source.port"), Some(&FieldValue::Int(sport.into())));
        prop_assert_eq!(ev.get("destination.port"), Some(&FieldValue::Int(dport.into())));
        let (transport, dataset) = (proto.to_ascii_lowercase(), format!("suricata.{event_type}"));
        prop_assert_eq!(ev.str("network.transport"), Some(transport.as_str()));
        prop_assert_eq!(ev.str("event.dataset"), Some(dataset.as_str()));
    }

    #[test]
    fn mutated_real_records_decode_or_reject_and_never_panic(
        which in 0usize..20,
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>().prop_filter("stays one line", |b| *b != b'\n' && *b != b'\r'),
    ) {
        let sample = std::fs::read_to_string(fixture("suricata/eve-sample.json")).unwrap();
        let mut line = sample.lines().nth(which).unwrap().as_bytes().to_vec();
        let i = pos.index(line.len());
        line[i] = byte;
        let c = decode(KIND, &line);
        prop_assert_eq!(c.events.len() + c.rejections.len(), 1);
    }
}
