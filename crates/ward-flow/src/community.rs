//! Community ID flow hashing, version 1 (<https://github.com/corelight/community-id-spec>), so
//! flows from Ward, Zeek and Suricata about the same connection share one `network.community_id`.

use std::net::IpAddr;

use base64::Engine;
use sha1::{Digest, Sha1};

/// The `1:<base64 sha1>` community id of a flow with the default seed 0. Ports are ignored for
/// protocols without them (pass 0); for ICMP pass type and code as the ports.
pub fn community_id(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> String {
    community_id_seeded(0, src, dst, proto, sport, dport)
}

/// As [`community_id`] with an explicit seed.
pub fn community_id_seeded(seed: u16, src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> String {
    let (sport, dport, one_way) = icmp_ports(proto, sport, dport);
    let ordered = one_way || (ip_bytes(src), sport) <= (ip_bytes(dst), dport);
    let (a, b, pa, pb) = if ordered { (src, dst, sport, dport) } else { (dst, src, dport, sport) };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(ip_bytes(a));
    h.update(ip_bytes(b));
    h.update([proto, 0]);
    if has_ports(proto) {
        h.update(pa.to_be_bytes());
        h.update(pb.to_be_bytes());
    }
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(h.finalize()))
}

fn has_ports(proto: u8) -> bool {
    matches!(proto, 1 | 6 | 17 | 58 | 132)
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// ICMP: the "ports" are type and code mapped to their counterpart, so request and reply hash
/// alike; returns whether the message has no counterpart (then the order is kept as is).
fn icmp_ports(proto: u8, t: u16, c: u16) -> (u16, u16, bool) {
    let map: &[(u16, u16)] = match proto {
        1 => &[(8, 0), (0, 8), (13, 14), (14, 13), (15, 16), (16, 15), (17, 18), (18, 17), (10, 9), (9, 10)],
        58 => &[
            (128, 129),
            (129, 128),
            (133, 134),
            (134, 133),
            (135, 136),
            (136, 135),
            (130, 131),
            (131, 130),
            (139, 140),
            (140, 139),
            (144, 145),
            (145, 144),
        ],
        _ => return (t, c, false),
    };
    match map.iter().find(|(a, _)| *a == t) {
        Some((_, counterpart)) => (t, *counterpart, false),
        None => (t, c, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from the community-id-spec baseline (`community-id.py` test vectors).
    #[test]
    fn matches_the_specification_baseline() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            community_id(ip("128.232.110.120"), ip("66.35.250.204"), 6, 34855, 80),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(ip("66.35.250.204"), ip("128.232.110.120"), 6, 80, 34855),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
        );
        assert_eq!(
            community_id(ip("192.168.0.89"), ip("192.168.0.1"), 1, 8, 0),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="
        );
    }
}
