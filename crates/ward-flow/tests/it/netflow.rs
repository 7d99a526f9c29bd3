//! Template handling on crafted IPFIX packets: data before its template is kept and decoded
//! when the template comes, withdrawal forgets, refresh redefines, enterprise and
//! variable-length fields are skipped by length, templates are scoped by exporter and domain,
//! and malformed packets are typed errors naming the exporter.

use std::net::SocketAddr;

use ward_flow::netflow::{Session, SessionConfig, Tag};
use ward_flow::{FlowRecord, PacketError};

fn exporter(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 4739))
}

/// An IPFIX message with the given sets (each `(set id, body)`).
fn ipfix(domain: u32, sets: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let body: Vec<u8> = sets
        .iter()
        .flat_map(|(id, b)| {
            let mut s = id.to_be_bytes().to_vec();
            s.extend(u16::try_from(b.len() + 4).expect("small").to_be_bytes());
            s.extend(b);
            s
        })
        .collect();
    let mut m = vec![0, 10];
    m.extend(u16::try_from(body.len() + 16).expect("small").to_be_bytes());
    m.extend(1_700_000_000u32.to_be_bytes());
    m.extend(7u32.to_be_bytes());
    m.extend(domain.to_be_bytes());
    m.extend(body);
    m
}

/// Template 300: srcIPv4, dstIPv4, srcPort, dstPort, protocol, an enterprise field of 3 bytes
/// (PEN 9), octetDeltaCount (4 bytes), applicationName (variable length).
fn template_300() -> (u16, Vec<u8>) {
    let mut t = vec![];
    t.extend(300u16.to_be_bytes());
    t.extend(8u16.to_be_bytes());
    for (id, len) in [(8u16, 4u16), (12, 4), (7, 2), (11, 2), (4, 1)] {
        t.extend(id.to_be_bytes());
        t.extend(len.to_be_bytes());
    }
    t.extend((0x8000u16 | 42).to_be_bytes());
    t.extend(3u16.to_be_bytes());
    t.extend(9u32.to_be_bytes());
    t.extend(1u16.to_be_bytes());
    t.extend(4u16.to_be_bytes());
    t.extend(96u16.to_be_bytes());
    t.extend(0xFFFFu16.to_be_bytes());
    (2, t)
}

fn data_300(last: u8, bytes: u32, app: &str) -> Vec<u8> {
    let mut d = vec![10, 0, 0, last, 10, 0, 0, 1];
    d.extend(40000u16.to_be_bytes());
    d.extend(443u16.to_be_bytes());
    d.push(6);
    d.extend([0xAA, 0xBB, 0xCC]);
    d.extend(bytes.to_be_bytes());
    d.push(u8::try_from(app.len()).expect("short"));
    d.extend(app.as_bytes());
    d
}

fn run(
    session: &mut Session,
    from: SocketAddr,
    packet: &[u8],
    n: u64,
) -> (Vec<FlowRecord>, Vec<PacketError>) {
    let (mut recs, mut errs) = (Vec::new(), Vec::new());
    session.decode(from, packet, Tag { packet: n, offset: 0 }, &mut |_, r| match r {
        Ok(r) => recs.push(r),
        Err(e) => errs.push(e),
    });
    (recs, errs)
}

#[test]
fn data_before_its_template_is_decoded_when_the_template_arrives() {
    let mut s = Session::new(SessionConfig::default());
    let data = ipfix(1, &[(300, [data_300(2, 1500, "https"), data_300(3, 60, "ssh")].concat())]);
    let (recs, errs) = run(&mut s, exporter(1), &data, 1);
    assert!(recs.is_empty() && errs.is_empty());
    assert_eq!(s.pending_count(), 1);
    let (recs, errs) = run(&mut s, exporter(1), &ipfix(1, &[template_300()]), 2);
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].src_ip, Some("10.0.0.2".parse().expect("ip")));
    assert_eq!((recs[0].src_port, recs[0].dst_port, recs[0].protocol), (Some(40000), Some(443), Some(6)));
    assert_eq!(recs[0].bytes, Some(1500));
    assert_eq!(recs[1].bytes, Some(60));
    assert_eq!(recs[1].fields.get("application_name").and_then(|v| v.as_str()), Some("ssh"));
    assert_eq!(s.pending_count(), 0);
}

#[test]
fn templates_are_scoped_by_exporter_and_domain() {
    let mut s = Session::new(SessionConfig::default());
    run(&mut s, exporter(1), &ipfix(1, &[template_300()]), 1);
    let data = ipfix(1, &[(300, data_300(2, 1, "a"))]);
    assert_eq!(run(&mut s, exporter(1), &data, 2).0.len(), 1);
    assert!(run(&mut s, exporter(9), &data, 3).0.is_empty(), "another exporter has no template 300");
    assert!(
        run(&mut s, exporter(1), &ipfix(2, &[(300, data_300(2, 1, "a"))]), 4).0.is_empty(),
        "another domain"
    );
    assert_eq!(s.pending_count(), 2);
    let mut given_up = Vec::new();
    s.flush_pending(&mut |_, r| given_up.push(r));
    assert_eq!(given_up.len(), 2);
    assert!(given_up.iter().all(|r| r.as_ref().is_err_and(|e| e.reason.label() == "no_template")));
}

#[test]
fn withdrawal_forgets_and_refresh_redefines() {
    let mut s = Session::new(SessionConfig::default());
    run(&mut s, exporter(1), &ipfix(1, &[template_300()]), 1);
    assert_eq!(s.template_count(), 1);
    let withdraw = (2, [300u16.to_be_bytes(), 0u16.to_be_bytes()].concat());
    run(&mut s, exporter(1), &ipfix(1, &[withdraw]), 2);
    assert_eq!(s.template_count(), 0);
    // Refresh with a different layout: 300 is now just a 2-byte destination port.
    let refreshed = (2, [300u16, 1, 11, 2].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>());
    run(&mut s, exporter(1), &ipfix(1, &[template_300()]), 3);
    run(&mut s, exporter(1), &ipfix(1, &[refreshed]), 4);
    let (recs, _) = run(&mut s, exporter(1), &ipfix(1, &[(300, vec![0, 22, 0, 80])]), 5);
    assert_eq!(recs.iter().map(|r| r.dst_port).collect::<Vec<_>>(), vec![Some(22), Some(80)]);
}

#[test]
fn malformed_packets_are_typed_errors_naming_the_exporter() {
    let mut s = Session::new(SessionConfig::default());
    let mut short = ipfix(1, &[template_300()]);
    short.truncate(30);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![0, 10, 0], "short_header"),
        (vec![0, 7, 0, 0, 0, 0], "version"),
        (short, "message_length"),
        (ipfix(1, &[(2, vec![1, 0, 0, 1, 0, 8])]), "template"),
        (
            ipfix(1, &[(2, [300u16.to_be_bytes(), 1u16.to_be_bytes(), 8u16.to_be_bytes()].concat())]),
            "template",
        ),
    ];
    for (packet, label) in cases {
        let (_, errs) = run(&mut s, exporter(5), &packet, 1);
        assert_eq!(errs.len(), 1, "{label}: {errs:?}");
        assert_eq!(errs[0].reason.label(), label, "{}", errs[0]);
        assert!(errs[0].to_string().starts_with("exporter 192.0.2.5:4739: "), "{}", errs[0]);
    }
}

#[test]
fn the_early_data_buffer_is_bounded() {
    let mut s = Session::new(SessionConfig { max_pending_sets: 2, ..SessionConfig::default() });
    let mut dropped = 0;
    for n in 0..5 {
        s.decode(exporter(1), &ipfix(1, &[(400 + n, vec![1, 2, 3, 4])]), Tag::default(), &mut |_, r| {
            if r.is_err() {
                dropped += 1;
            }
        });
    }
    assert_eq!(s.pending_count(), 2);
    assert_eq!(dropped, 3, "the oldest sets are rejected, not silently dropped");
}
