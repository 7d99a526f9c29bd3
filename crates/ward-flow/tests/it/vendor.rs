//! Every vendor export sample decodes like tshark 4.0.17 decodes it, field by field where both
//! have the field (`netflow_vendor_samples/tshark_decoded/`).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::Value;
use ward_flow::FlowRecord;

use crate::common::{decode_netflow, files, read};

/// tshark's flows: (frame, set ordinal, record ordinal) → fields.
fn tshark_flows(doc: &Value) -> BTreeMap<(u64, u16, u32), serde_json::Map<String, Value>> {
    let mut out = BTreeMap::new();
    for (i, frame) in doc.as_array().expect("array of frames").iter().enumerate() {
        let frame_no = i as u64 + 1;
        let Some(cflow) = frame.pointer("/_source/layers/cflow").and_then(Value::as_object) else { continue };
        for (k, v) in cflow {
            if let Some(rest) = k.strip_prefix("pdu ") {
                let n: u32 = rest.split('/').next().and_then(|n| n.parse().ok()).expect("pdu n/m");
                out.insert((frame_no, 1, n), v.as_object().cloned().expect("pdu object"));
                continue;
            }
            let Some(rest) = k.strip_prefix("FlowSet ").or_else(|| k.strip_prefix("Set ")) else { continue };
            let set: u16 = rest.split(' ').next().and_then(|n| n.parse().ok()).expect("set ordinal");
            for (fk, fv) in v.as_object().into_iter().flatten() {
                if let Some(n) = fk.strip_prefix("Flow ").and_then(|n| n.parse::<u32>().ok()) {
                    out.insert((frame_no, set, n), fv.as_object().cloned().expect("flow object"));
                }
            }
        }
    }
    out
}

/// tshark's absolute times; `None` where tshark places a time in 1970 (uptime-relative IPFIX
/// times without a system init time, which nobody can place).
fn tshark_time(text: &str) -> Option<i64> {
    let norm = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = NaiveDateTime::parse_from_str(norm.trim_end_matches(" UTC"), "%b %d, %Y %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("tshark time {text}: {e}"));
    Some(t.and_utc().timestamp_millis()).filter(|ms| *ms > 946_684_800_000)
}

fn num(v: &Value) -> u64 {
    let s = v.as_str().expect("tshark values are strings");
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).expect("hex"),
        None => s.parse().unwrap_or_else(|e| panic!("number {s}: {e}")),
    }
}

/// Compares the fields both sides have; returns how many were compared.
fn compare(what: &str, ts: &serde_json::Map<String, Value>, rec: &FlowRecord) -> usize {
    let mut n = 0;
    let mut check = |name: &str, ours: Option<String>, theirs: String| {
        let ours = ours.unwrap_or_else(|| panic!("{what}: tshark has {name}={theirs}, Ward has nothing"));
        assert_eq!(ours, theirs, "{what}: {name}");
        n += 1;
    };
    let field = |k: &str| rec.fields.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
    for (k, v) in ts {
        let tv = || v.as_str().unwrap_or_default().to_owned();
        match k.as_str() {
            "cflow.srcaddr" => {
                check(k, field("source_ipv4_address").or(rec.src_ip.map(|a| a.to_string())), tv())
            }
            "cflow.dstaddr" => {
                check(k, field("destination_ipv4_address").or(rec.dst_ip.map(|a| a.to_string())), tv())
            }
            "cflow.srcaddrv6" => check(k, field("source_ipv6_address"), tv()),
            "cflow.dstaddrv6" => check(k, field("destination_ipv6_address"), tv()),
            // tshark also names TCP_/UDP_ ports srcport/dstport; with duplicate JSON keys the
            // last one wins, so the value may be any of them.
            "cflow.srcport" => {
                let alt = ["tcp_source_port", "udp_source_port"]
                    .into_iter()
                    .filter_map(&field)
                    .find(|x| *x == tv());
                check(k, alt.or(rec.src_port.map(|p| p.to_string())), tv())
            }
            "cflow.dstport" => {
                let alt = ["tcp_destination_port", "udp_destination_port"]
                    .into_iter()
                    .filter_map(&field)
                    .find(|x| *x == tv());
                check(k, alt.or(rec.dst_port.map(|p| p.to_string())), tv())
            }
            "cflow.protocol" => check(k, rec.protocol.map(|p| p.to_string()), tv()),
            "cflow.octets" => check(k, rec.bytes.map(|p| p.to_string()), tv()),
            "cflow.packets" => check(k, rec.packets.map(|p| p.to_string()), tv()),
            // tshark names forward and RFC 5103 reverse totals alike, and its JSON keeps the
            // last of duplicate keys: the value is one or the other.
            "cflow.permanent_octets" if rec.reverse_bytes.map(|b| b.to_string()) == Some(tv()) => {
                check(k, rec.reverse_bytes.map(|b| b.to_string()), tv())
            }
            "cflow.permanent_packets" if rec.reverse_packets.map(|b| b.to_string()) == Some(tv()) => {
                check(k, rec.reverse_packets.map(|b| b.to_string()), tv())
            }
            "cflow.permanent_octets" => check(k, field("octet_total_count"), tv()),
            "cflow.permanent_packets" => check(k, field("packet_total_count"), tv()),
            "cflow.inputint" => check(k, rec.in_if.map(|p| p.to_string()), tv()),
            "cflow.outputint" => check(k, rec.out_if.map(|p| p.to_string()), tv()),
            "cflow.tcpflags" => check(k, rec.tcp_flags.map(|p| p.to_string()), num(v).to_string()),
            "cflow.srcas" => check(k, rec.src_as.map(|p| p.to_string()), tv()),
            "cflow.dstas" => check(k, rec.dst_as.map(|p| p.to_string()), tv()),
            "cflow.nexthop" => check(k, field("ip_next_hop_ipv4_address"), tv()),
            "cflow.post_natsource_ipv4_address" => check(k, field("post_nat_source_ipv4_address"), tv()),
            "cflow.post_natdestination_ipv4_address" => {
                check(k, field("post_nat_destination_ipv4_address"), tv())
            }
            "cflow.timedelta_tree" => {
                if let Some(s) = v.get("cflow.abstimestart").and_then(Value::as_str).and_then(tshark_time) {
                    check("abstimestart", rec.start_ms.map(|t| t.to_string()), s.to_string());
                }
                if let Some(e) = v.get("cflow.abstimeend").and_then(Value::as_str).and_then(tshark_time) {
                    check("abstimeend", rec.end_ms.map(|t| t.to_string()), e.to_string());
                }
            }
            _ => {}
        }
    }
    n
}

#[test]
fn every_vendor_sample_matches_tshark_field_by_field() {
    let Some(root) = ward_testkit::shared("network/netflow_vendor_samples") else { return };
    let (mut flows, mut fields, mut files_seen) = (0usize, 0usize, 0usize);
    for pcap in files(&root.join("pcap"), ".pcap") {
        let stem = pcap.file_stem().and_then(|s| s.to_str()).expect("name").to_owned();
        let oracle: Value =
            serde_json::from_slice(&read(&root.join("tshark_decoded").join(format!("{stem}.json"))))
                .expect("json");
        let theirs = tshark_flows(&oracle);
        let ours = decode_netflow(&read(&pcap));
        let by_pos: BTreeMap<(u64, u16, u32), &FlowRecord> = ours
            .records
            .iter()
            .filter_map(|(tag, r)| r.position.map(|(s, i)| ((tag.packet, s, i), r)))
            .collect();
        for (pos, ts) in &theirs {
            let rec = by_pos.get(pos).unwrap_or_else(|| {
                panic!("{stem}: tshark flow {pos:?} missing; Ward errors: {:?}", ours.errors)
            });
            fields += compare(&format!("{stem} {pos:?}"), ts, rec);
            flows += 1;
        }
        files_seen += 1;
    }
    eprintln!("vendor samples: {files_seen} captures, {flows} flows, {fields} fields equal to tshark");
    assert_eq!(files_seen, 45, "every vendor capture is compared");
    assert!(flows > 400 && fields > 3000, "{flows} flows / {fields} fields compared");
}

#[test]
fn raw_payload_files_decode_when_template_and_data_come_together() {
    let Some(root) = ward_testkit::shared("network/netflow_vendor_samples/dat") else { return };
    // A template file followed by its data file, as one stream.
    let mut bytes = read(&root.join("ipfix_test_mikrotik_tpl.dat"));
    bytes.extend(read(&root.join("ipfix_test_mikrotik_data258.dat")));
    let out = decode_netflow(&bytes);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(!out.records.is_empty());
    assert!(out.records.iter().all(|(_, r)| r.src_ip.is_some() && r.dst_ip.is_some()));
    // The data alone cannot be decoded: rejected with the reason, never dropped silently.
    let alone = decode_netflow(&read(&root.join("ipfix_test_mikrotik_data258.dat")));
    assert!(alone.records.is_empty());
    assert!(alone.errors.iter().any(|(_, e)| e.reason.label() == "no_template"), "{:?}", alone.errors);
}

#[test]
fn invalid_vendor_payloads_are_typed_errors() {
    let Some(root) = ward_testkit::shared("network/netflow_vendor_samples/dat") else { return };
    for name in ["netflow5_test_invalid01.dat", "netflow5_test_invalid02.dat"] {
        let out = decode_netflow(&read(&root.join(name)));
        assert!(!out.errors.is_empty(), "{name}: no error reported ({} records)", out.records.len());
        for (_, e) in &out.errors {
            assert!(e.to_string().starts_with("exporter 0.0.0.0:0: "), "{e}");
        }
    }
}
