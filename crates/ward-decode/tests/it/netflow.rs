//! `--source netflow`: export captures and raw payload files through the decoding API, the
//! JSON record form read back into the same events, and rejections with packet positions.

use ward_decode::SourceKind;
use ward_model::FieldValue;

use crate::common::{decode, decode_paths};

#[test]
fn vendor_captures_decode_to_flow_events_and_their_originals_decode_back() {
    let Some(dir) = ward_testkit::shared("network/netflow_vendor_samples/pcap") else { return };
    let (out, summary) = decode_paths(SourceKind::Netflow, &[dir.join("netflow9_test_cisco_asa_1.pcap")]);
    assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    assert_eq!(summary.decoded(), out.events.len() as u64);
    assert!(out.events.len() >= 14);
    let e = &out.events[0];
    assert_eq!(e.str("event.dataset"), Some("netflow.flow"));
    assert_eq!(e.get("event.category"), Some(&FieldValue::List(vec!["network".into()])));
    assert_eq!(e.get("source.ip").and_then(FieldValue::as_ip), Some("192.168.14.1".parse().expect("ip")));
    assert_eq!(e.get("netflow.version").and_then(FieldValue::as_i64), Some(9));
    assert!(e.str("network.community_id").is_some_and(|c| c.starts_with("1:")));
    // The JSON original of each event decodes again into the same event (replay from the log).
    let originals: String = out.events.iter().map(|e| format!("{}\n", e.original())).collect();
    let again = decode(SourceKind::Netflow, originals.as_bytes());
    assert!(again.rejections.is_empty(), "{:?}", again.rejections);
    assert_eq!(again.events.len(), out.events.len());
    for (a, b) in again.events.iter().zip(&out.events) {
        assert_eq!(a.id(), b.id());
        assert_eq!(a.fields(), b.fields());
    }
}

#[test]
fn a_directory_walk_takes_captures_and_payload_files() {
    let Some(dir) = ward_testkit::shared("network/netflow_vendor_samples") else { return };
    let (out, summary) = decode_paths(SourceKind::Netflow, &[dir.join("pcap")]);
    assert!(summary.decoded() > 400, "{}", summary.decoded());
    // netflow5.pcap carries two packets whose record count runs past the datagram.
    assert!(out.rejections.iter().any(|r| r.reason.contains("v5 header counts")), "{:?}", out.rejections);
    for r in &out.rejections {
        assert!(r.line > 0 && r.path.ends_with(".pcap"), "{r:?}");
        assert!(r.reason.contains("exporter "), "{r:?}");
    }
}

#[test]
fn garbage_is_rejected_with_its_position() {
    let out = decode(SourceKind::Netflow, b"\x00\x07garbage that is no export packet");
    assert!(out.events.is_empty());
    assert_eq!(out.rejections.len(), 1);
    assert!(out.rejections[0].reason.contains("unsupported export version 7"), "{:?}", out.rejections);
}
