//! Fuzzes the packet parser and the protocol metadata extractors (DNS, HTTP, TLS, SSH) on one
//! frame of each link type.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for linktype in [0, 1, 101, 113, 276] {
        if let Some(p) = ward_flow::packet::parse(linktype, data, 65_535) {
            let _ = ward_flow::meta::extract(&p, 1, 0);
        }
    }
    let _ = ward_flow::meta::tls::parse_client_hello(data).map(|h| (h.ja3(), h.ja4()));
});
