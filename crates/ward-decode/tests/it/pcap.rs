//! `--source pcap`: captures to flows and protocol metadata through the decoding API; `auto`
//! recognises captures.

use ward_decode::SourceKind;
use ward_decode::detect::detect;
use ward_model::FieldValue;

use crate::common::{decode, decode_paths};

#[test]
fn a_capture_decodes_to_flows_and_metadata() {
    let Some(dir) = ward_testkit::shared("network/suricata_verify_eve") else { return };
    let (out, _) = decode_paths(SourceKind::Pcap, std::slice::from_ref(&dir));
    assert!(out.events.len() > 1000, "{}", out.events.len());
    let count = |ds: &str| out.events.iter().filter(|e| e.str("event.dataset") == Some(ds)).count();
    for ds in ["pcap.flow", "pcap.dns", "pcap.http", "pcap.tls", "pcap.ssh"] {
        assert!(count(ds) > 0, "no {ds} events");
    }
    let tls = out.events.iter().find(|e| e.str("tls.client.server_name").is_some()).expect("a TLS hello");
    assert!(tls.str("tls.client.ja3").is_some_and(|h| h.len() == 32));
    assert!(tls.str("tls.client.ja4").is_some_and(|h| h.starts_with('t')));
    let flow = out.events.iter().find(|e| e.str("event.dataset") == Some("pcap.flow")).expect("a flow");
    assert!(flow.get("network.packets").and_then(FieldValue::as_i64).is_some_and(|p| p > 0));
    let again = decode(SourceKind::Pcap, format!("{}\n{}\n", flow.original(), tls.original()).as_bytes());
    assert_eq!(again.events.iter().map(|e| e.id()).collect::<Vec<_>>(), vec![flow.id(), tls.id()]);
}

#[test]
fn auto_detection_recognises_captures_and_truncation_is_reported() {
    let Some(dir) = ward_testkit::shared("network/netflow_vendor_samples/pcap") else { return };
    let bytes = std::fs::read(dir.join("ipfix_test_yaf.pcap")).expect("readable");
    assert_eq!(detect(&bytes), Some(SourceKind::Pcap));
    let cut = decode(SourceKind::Pcap, &bytes[..bytes.len() - 7]);
    assert_eq!(cut.rejections.len(), 1, "{:?}", cut.rejections);
    assert!(cut.rejections[0].reason.contains("truncated"), "{:?}", cut.rejections);
    assert!(!cut.events.is_empty(), "packets before the damage still make flows");
}
