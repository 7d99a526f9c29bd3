//! softflowd's exports of two APT29 captures decode to exactly the flows nfdump 1.7.1 decoded
//! (counts, 5-tuples, packets, bytes) for NetFlow v5, v9 and IPFIX alike; and Ward's own flows
//! from the same captures carry exactly the packets and bytes softflowd counted.

use std::io::BufReader;

use serde_json::Value;
use ward_flow::flows::FlowConfig;
use ward_flow::offline::{CaptureItem, capture_flows};
use ward_flow::{FlowRecord, RecordKind};

use crate::common::{decode_netflow, read};

type Tuple = (String, String, u64, u64, u64, u64, u64);

fn ours(r: &FlowRecord) -> Tuple {
    let ip = |a: Option<std::net::IpAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    (
        ip(r.src_ip),
        ip(r.dst_ip),
        u64::from(r.src_port.unwrap_or(0)),
        u64::from(r.dst_port.unwrap_or(0)),
        u64::from(r.protocol.unwrap_or(0)),
        r.packets.unwrap_or(0),
        r.bytes.unwrap_or(0),
    )
}

fn nfdump(v: &Value) -> Tuple {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let src = if v.get("src4_addr").is_some() { s("src4_addr") } else { s("src6_addr") };
    let dst = if v.get("dst4_addr").is_some() { s("dst4_addr") } else { s("dst6_addr") };
    (src, dst, n("src_port"), n("dst_port"), n("proto"), n("in_packets"), n("in_bytes"))
}

#[test]
fn softflowd_exports_match_nfdump_for_v5_v9_and_ipfix() {
    let Some(root) = ward_testkit::shared("network/netflow_generated") else { return };
    let mut compared = 0;
    for host in ["SCRANTON", "UTICA-C"] {
        for v in ["v5", "v9", "v10"] {
            let dir = root.join(host).join(v);
            let decoded = decode_netflow(&read(&dir.join(format!("export_{v}.pcapng"))));
            assert!(decoded.errors.is_empty(), "{host} {v}: {:?}", decoded.errors);
            let mut mine: Vec<Tuple> = decoded
                .records
                .iter()
                .filter(|(_, r)| r.kind == RecordKind::Flow)
                .map(|(_, r)| ours(r))
                .collect();
            let oracle: Value = serde_json::from_slice(&read(&dir.join("nfdump.json"))).expect("nfdump json");
            let mut theirs: Vec<Tuple> = oracle
                .as_array()
                .expect("array")
                .iter()
                .filter(|f| f["type"] == "FLOW")
                .map(nfdump)
                .collect();
            mine.sort();
            theirs.sort();
            assert_eq!(mine.len(), theirs.len(), "{host} {v}: flow count");
            assert_eq!(mine, theirs, "{host} {v}: flows");
            compared += mine.len();
        }
    }
    assert_eq!(compared, 3 * (106 + 62), "all flows of both hosts in three versions");
}

#[test]
fn flows_from_the_source_captures_carry_what_softflowd_counted() {
    let Some(root) = ward_testkit::shared("network/netflow_generated") else { return };
    for host in ["SCRANTON", "UTICA-C"] {
        let oracle: Value =
            serde_json::from_slice(&read(&root.join(host).join("v5/nfdump.json"))).expect("nfdump json");
        let flows = oracle.as_array().expect("array");
        let packets: u64 = flows.iter().map(|f| f["in_packets"].as_u64().unwrap_or(0)).sum();
        let bytes: u64 = flows.iter().map(|f| f["in_bytes"].as_u64().unwrap_or(0)).sum();
        let capture = read(&root.join(format!("source_pcaps/{host}.pcap.gz")));
        let (mut fp, mut fb, mut n) = (0u64, 0u64, 0usize);
        let (stats, read_result) =
            capture_flows(&mut BufReader::new(&capture[..]), FlowConfig::default(), &mut |item| {
                if let CaptureItem::Flow(f) = item {
                    fp += f.total_packets().unwrap_or(0);
                    fb += f.total_bytes().unwrap_or(0);
                    n += 1;
                }
            });
        read_result.expect("capture readable");
        assert_eq!(fp, packets, "{host}: packets in flows vs softflowd/nfdump");
        assert_eq!(fb, bytes, "{host}: bytes in flows vs softflowd/nfdump");
        assert_eq!((stats.ip_packets, stats.ip_bytes), (fp, fb), "{host}");
        // softflowd exports one record per direction; Ward one bidirectional record.
        assert!(
            n * 2 >= flows.len() && n <= flows.len(),
            "{host}: {n} bidirectional flows for {} records",
            flows.len()
        );
    }
}
