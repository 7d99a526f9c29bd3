//! Properties: the parsers never panic on arbitrary or mutated bytes, every error names the
//! exporter, and flow records survive their JSON form unchanged.

use std::io::BufReader;
use std::net::SocketAddr;

use proptest::prelude::*;
use ward_flow::FlowRecord;
use ward_flow::flows::FlowConfig;
use ward_flow::netflow::{Session, SessionConfig, Tag};
use ward_flow::offline::{CaptureItem, capture_flows, netflow_stream};

fn seed_ipfix() -> Vec<u8> {
    // Template 256 (src/dst IPv4, ports, proto, octets) followed by one record, one message.
    let mut t: Vec<u8> = vec![0, 2, 0, 32, 1, 0, 0, 6];
    for (id, len) in [(8u16, 4u16), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4)] {
        t.extend(id.to_be_bytes());
        t.extend(len.to_be_bytes());
    }
    let d: Vec<u8> =
        [vec![1, 0, 0, 21], vec![10, 0, 0, 1, 10, 0, 0, 2, 0, 80, 1, 187, 6, 0, 0, 1, 0]].concat();
    let body = [t, d].concat();
    let mut m = vec![0, 10];
    m.extend(u16::try_from(body.len() + 16).unwrap_or(0).to_be_bytes());
    m.extend([0u8; 12]);
    m.extend(body);
    m
}

fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8)).prop_map(|edits| {
        let mut b = seed_ipfix();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        b
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn netflow_never_panics_and_errors_name_the_exporter(data in prop_oneof![proptest::collection::vec(any::<u8>(), 0..600), mutated()]) {
        let from: SocketAddr = "198.51.100.7:2055".parse().expect("addr");
        let mut s = Session::new(SessionConfig::default());
        let mut errors = Vec::new();
        s.decode(from, &data, Tag::default(), &mut |_, r| if let Err(e) = r { errors.push(e) });
        s.flush_pending(&mut |_, r| if let Err(e) = r { errors.push(e) });
        for e in errors {
            prop_assert_eq!(e.exporter, from);
        }
    }

    #[test]
    fn decoded_records_round_trip_through_json(data in mutated()) {
        let mut s = Session::new(SessionConfig::default());
        let mut records = Vec::new();
        netflow_stream(&mut BufReader::new(&data[..]), &mut s, &mut |_, r| if let Ok(r) = r { records.push(r) }).expect("in memory");
        for r in records {
            let back: FlowRecord = serde_json::from_str(&r.to_json()).expect("own json reads back");
            prop_assert_eq!(back, r);
        }
    }

    #[test]
    fn captures_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), ng in any::<bool>()) {
        let magic: &[u8] = if ng { &[0x0a, 0x0d, 0x0d, 0x0a] } else { &[0xd4, 0xc3, 0xb2, 0xa1] };
        let input = [magic, &data].concat();
        let mut n = 0;
        let (_, _) = capture_flows(&mut BufReader::new(&input[..]), FlowConfig::default(), &mut |i| {
            if let CaptureItem::Flow(_) = i { n += 1 }
        });
    }

    #[test]
    fn packet_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), lt in prop_oneof![Just(0), Just(1), Just(101), Just(113), Just(276)]) {
        if let Some(p) = ward_flow::packet::parse(lt, &data, 1500) {
            let _ = ward_flow::meta::extract(&p, 1, 0);
        }
    }
}
