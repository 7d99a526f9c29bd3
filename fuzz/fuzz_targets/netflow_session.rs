//! Fuzzes the NetFlow v9/IPFIX session directly: the input is split into datagrams (first
//! byte of each chunk gives its length) from two exporters, so templates learnt from one
//! datagram are used, refreshed and withdrawn by the next; every error must name the exporter.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use ward_flow::netflow::{Session, SessionConfig, Tag};

fuzz_target!(|data: &[u8]| {
    let exporters: [SocketAddr; 2] =
        [SocketAddr::from(([192, 0, 2, 1], 2055)), SocketAddr::from(([192, 0, 2, 2], 4739))];
    let mut s = Session::new(SessionConfig { max_pending_sets: 8, ..SessionConfig::default() });
    let mut rest = data;
    let mut n = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let take = (usize::from(len) * 4).min(tail.len());
        let (datagram, next) = tail.split_at(take);
        let from = exporters[usize::from(len & 1)];
        n += 1;
        s.decode(from, datagram, Tag { packet: n, offset: 0 }, &mut |_, r| {
            if let Err(e) = r {
                assert!(exporters.contains(&e.exporter));
            }
        });
        rest = next;
    }
    s.flush_pending(&mut |_, _| {});
    assert_eq!(s.pending_count(), 0);
});
