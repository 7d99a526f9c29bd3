//! Every capture of suricata-verify: flows carry every IP packet and byte of the capture
//! (packet count checked against pcap-parser's whole-file parse), and the protocol metadata
//! agrees with what Suricata 7.0.10 logged in `eve.json` (DNS queries, HTTP hosts and user
//! agents, TLS SNI and JA3, SSH software versions).

use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::Path;

use pcap_parser::PcapNGCapture;
use serde_json::Value;
use ward_flow::community_id;
use ward_flow::flows::FlowConfig;
use ward_flow::offline::{CaptureItem, capture_flows};

use crate::common::{files, read};

/// Packets in a capture by an independent parse: record headers walked by hand for pcap (either
/// byte order), pcap-parser's whole-file parse for pcapng.
fn packet_count(data: &[u8]) -> u64 {
    let rd = |at: usize, be: bool| {
        let b = [data[at], data[at + 1], data[at + 2], data[at + 3]];
        if be { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
    };
    let magic = &data[..4];
    if magic != [0x0a, 0x0d, 0x0d, 0x0a] {
        let be = magic == [0xa1, 0xb2, 0xc3, 0xd4] || magic == [0xa1, 0xb2, 0x3c, 0x4d];
        let (mut at, mut n) = (24usize, 0u64);
        while at + 16 <= data.len() && at + 16 + rd(at + 8, be) as usize <= data.len() {
            at += 16 + rd(at + 8, be) as usize;
            n += 1;
        }
        return n;
    }
    let ng = PcapNGCapture::from_file(data).expect("pcapng");
    ng.sections.iter().flat_map(|s| s.blocks.iter()).filter(|b| b.is_data_block()).count() as u64
}

/// What both sides saw, per protocol: Suricata's values and Ward's.
#[derive(Default)]
struct Seen {
    eve: BTreeSet<(String, String)>,
    ward: BTreeSet<(String, String)>,
}

fn eve_values(eve: &Path, test: &str, into: &mut BTreeSet<(String, String)>) {
    let Ok(text) = std::fs::read_to_string(eve) else { return };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let mut add = |k: &str, val: Option<String>| {
            if let Some(val) = val.filter(|x| !x.is_empty()) {
                into.insert((format!("{test} {k}"), val));
            }
        };
        match v["event_type"].as_str() {
            Some("dns")
                if s("/proto").as_deref() == Some("UDP") && s("/dns/type").as_deref() == Some("query") =>
            {
                add("dns", s("/dns/rrname"));
            }
            // HTTP/2 headers are HPACK-compressed inside frames; Ward reads HTTP/1.x only.
            Some("http")
                if v.pointer("/http/http2").is_some() || s("/http/version").as_deref() == Some("2") => {}
            Some("http") => {
                add("host", s("/http/hostname"));
                add("ua", s("/http/http_user_agent"));
            }
            Some("tls") => {
                add("sni", s("/tls/sni"));
            }
            Some("flow") if s("/proto").is_some_and(|p| p == "TCP" || p == "UDP") => {
                add("cid", s("/community_id"))
            }
            Some("ssh") => {
                add("ssh", s("/ssh/client/software_version"));
                add("ssh", s("/ssh/server/software_version"));
            }
            _ => {}
        }
    }
}

#[test]
fn suricata_verify_captures_flows_add_up_and_metadata_agrees_with_eve() {
    let Some(root) = ward_testkit::shared("network/suricata_verify_eve") else { return };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let (mut captures, mut packets, mut truncated) = (0, 0u64, 0);
    let mut seen = Seen::default();
    for dir in dirs {
        let test = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        for pcap in files(&dir, ".pcap") {
            let data = read(&pcap);
            let (mut fp, mut fb) = (0u64, 0u64);
            let (stats, read_result) = capture_flows(
                &mut BufReader::new(&data[..]),
                FlowConfig::default(),
                &mut |item| match item {
                    CaptureItem::Flow(f) => {
                        if let (Some(a), Some(b), Some(p)) = (f.src_ip, f.dst_ip, f.protocol) {
                            let cid = community_id(a, b, p, f.src_port.unwrap_or(0), f.dst_port.unwrap_or(0));
                            seen.ward.insert((format!("{test} cid"), cid));
                        }
                        fp += f.total_packets().unwrap_or(0);
                        fb += f.total_bytes().unwrap_or(0);
                    }
                    CaptureItem::Meta(_, m) => {
                        let mut add = |k: &str, f: &str| {
                            if let Some(v) = m.fields.get(f).and_then(Value::as_str) {
                                seen.ward.insert((format!("{test} {k}"), v.to_owned()));
                            }
                        };
                        add("dns", "dns.question.name");
                        add("host", "url.domain");
                        add("ua", "user_agent.original");
                        add("sni", "tls.client.server_name");
                        add("ssh", "ssh.software");
                    }
                },
            );
            let name = pcap.display();
            if let Err(e) = read_result {
                eprintln!("{name}: {e} (packets before it counted)");
                truncated += 1;
            }
            assert_eq!(stats.packets, packet_count(&data), "{name}: packets read");
            assert_eq!(
                (fp, fb),
                (stats.ip_packets, stats.ip_bytes),
                "{name}: flows carry every IP packet and byte"
            );
            captures += 1;
            packets += stats.packets;
        }
        eve_values(&dir.join("eve.json"), &test, &mut seen.eve);
    }
    assert_eq!(captures, 395, "every capture is read");
    assert!(truncated <= 3, "{truncated} captures end inside a block");
    eprintln!("suricata-verify: {captures} captures, {packets} packets");
    for kind in ["cid", "dns", "host", "ua", "sni", "ssh"] {
        let eve: Vec<_> = seen.eve.iter().filter(|(k, _)| k.ends_with(&format!(" {kind}"))).collect();
        let missing: Vec<_> = eve.iter().filter(|x| !seen.ward.contains(x)).collect();
        eprintln!(
            "{kind}: Suricata {} values, Ward misses {}: {:?}",
            eve.len(),
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        assert!(!eve.is_empty(), "{kind}: the oracle has values");
        let recall = 1.0 - missing.len() as f64 / eve.len() as f64;
        assert!(recall >= MIN_RECALL, "{kind}: Ward found {:.1}% of Suricata's values", recall * 100.0);
    }
}

/// Suricata reassembles TCP streams and Ward looks at single packets, so a request split over
/// segments is Suricata's alone; everything else must agree.
const MIN_RECALL: f64 = 0.9;

/// Suricata logged this JA3 for a QUIC ClientHello in `quic-ietf-ja3` (string
/// `771,4865-4866-4867,16-0-45-27-10-51-43-57-17513-13,29-23-24,`); the same hello fields give
/// the same fingerprint here.
#[test]
fn ja3_matches_suricata_for_the_same_hello() {
    let hello = ward_flow::meta::tls::ClientHello {
        version: 771,
        ciphers: vec![0x0a0a, 4865, 4866, 4867],
        extensions: vec![16, 0, 45, 27, 10, 51, 43, 57, 17513, 13],
        groups: vec![29, 23, 24],
        ..Default::default()
    };
    assert_eq!(hello.ja3_string(), "771,4865-4866-4867,16-0-45-27-10-51-43-57-17513-13,29-23-24,");
    assert_eq!(hello.ja3(), "3cbc33c648fe331404456f48a5a27170");
    // TLS 1.2 legacy version, no SNI, 3 ciphers (GREASE left out), 10 extensions, no ALPN.
    assert!(hello.ja4().starts_with("t12i031000_"), "{}", hello.ja4());
}
