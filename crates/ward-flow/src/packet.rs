//! One captured frame to its addresses, ports, TCP flags and payload (etherparse, lax mode so
//! frames cut at the snap length still give their headers).

use std::net::IpAddr;

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::Linktype;

/// The parts of a packet flows and metadata need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IANA protocol number.
    pub proto: u8,
    /// Source port (ICMP: type).
    pub sport: u16,
    /// Destination port (ICMP: code).
    pub dport: u16,
    /// TCP flags (FIN = bit 0 … CWR = bit 7).
    pub tcp_flags: u8,
    /// Transport payload (TCP/UDP), empty otherwise.
    pub payload: &'a [u8],
    /// Bytes of the frame on the wire from the IP header on (what softflowd and routers count;
    /// taken from the frame rather than the IP header, which is 0 in captures of TCP
    /// segmentation offload).
    pub ip_len: u32,
}

/// Parses a frame of link type `linktype` that was `wire_len` bytes long on the wire; `None`
/// for frames that carry no IP packet (ARP, unknown link types, garbage).
pub fn parse(linktype: i32, data: &[u8], wire_len: u32) -> Option<Parsed<'_>> {
    let sliced = match Linktype(linktype) {
        Linktype::ETHERNET => LaxSlicedPacket::from_ethernet(data).ok()?,
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => LaxSlicedPacket::from_ip(data).ok()?,
        Linktype::NULL | Linktype::LOOP => LaxSlicedPacket::from_ip(data.get(4..)?).ok()?,
        Linktype::LINUX_SLL => {
            let proto = u16::from_be_bytes([*data.get(14)?, *data.get(15)?]);
            LaxSlicedPacket::from_ether_type(EtherType(proto), data.get(16..)?)
        }
        Linktype::LINUX_SLL2 => {
            let proto = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            LaxSlicedPacket::from_ether_type(EtherType(proto), data.get(20..)?)
        }
        _ => return None,
    };
    let (src, dst, proto, ip_len) = match sliced.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let len = wire_len.saturating_sub(offset_in(data, h.slice()));
            (IpAddr::V4(h.source_addr()), IpAddr::V4(h.destination_addr()), v4.payload().ip_number.0, len)
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            let len = wire_len.saturating_sub(offset_in(data, h.slice()));
            (IpAddr::V6(h.source_addr()), IpAddr::V6(h.destination_addr()), v6.payload().ip_number.0, len)
        }
        LaxNetSlice::Arp(_) => return None,
    };
    let mut p = Parsed { src, dst, proto, sport: 0, dport: 0, tcp_flags: 0, payload: &[], ip_len };
    match sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.sport = t.source_port();
            p.dport = t.destination_port();
            p.tcp_flags = tcp_flags(&t);
            p.payload = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            p.sport = u.source_port();
            p.dport = u.destination_port();
            p.payload = u.payload();
        }
        Some(TransportSlice::Icmpv4(i)) => {
            p.sport = u16::from(i.type_u8());
            p.dport = u16::from(i.code_u8());
        }
        Some(TransportSlice::Icmpv6(i)) => {
            p.sport = u16::from(i.type_u8());
            p.dport = u16::from(i.code_u8());
        }
        _ => {}
    }
    Some(p)
}

fn tcp_flags(t: &etherparse::TcpSlice<'_>) -> u8 {
    let bits = [t.fin(), t.syn(), t.rst(), t.psh(), t.ack(), t.urg(), t.ece(), t.cwr()];
    bits.iter().enumerate().fold(0u8, |acc, (i, &b)| if b { acc | (1 << i) } else { acc })
}

/// Where `part` starts inside `whole` (both from the same frame).
fn offset_in(whole: &[u8], part: &[u8]) -> u32 {
    let off = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    u32::try_from(off).unwrap_or(0)
}
