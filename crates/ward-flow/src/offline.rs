//! Whole inputs: a capture (or raw export payloads) to NetFlow/IPFIX records, and a capture to
//! flows and protocol metadata. Used by `ward decode --source netflow|pcap`.

use std::io::{BufRead, Read};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::capture::{self, Packet};
use crate::error::CaptureError;
use crate::flows::{FlowConfig, FlowTable};
use crate::meta::{self, MetaRecord};
use crate::netflow::{Emit, Session, Tag};
use crate::packet;
use crate::record::FlowRecord;

/// Largest raw payload file read (raw `.dat` exports are single datagrams).
pub const MAX_RAW_BYTES: u64 = 64 << 20;

/// The exporter address given to records from raw payload files, which carry none.
pub const UNKNOWN_EXPORTER: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));

/// Decodes export packets from `reader`: the UDP payloads of a pcap/pcapng capture, or raw
/// export payloads (one or more datagrams back to back). Buffered data still waiting for a
/// template at the end is rejected through `emit`.
///
/// # Errors
/// When the capture is corrupt; records before the damage have been emitted.
pub fn netflow_stream(
    reader: &mut dyn BufRead,
    session: &mut Session,
    emit: &mut Emit<'_>,
) -> Result<(), CaptureError> {
    let head = reader.fill_buf().map_err(|source| CaptureError::Io { offset: 0, source })?;
    let result = if capture::is_capture(head) {
        capture::for_each_packet(reader, &mut |p: Packet<'_>| {
            if let Some(parsed) = packet::parse(p.linktype, p.data, p.wire_len)
                && parsed.proto == 17
            {
                let from = SocketAddr::new(parsed.src, parsed.sport);
                session.decode(from, parsed.payload, Tag { packet: p.ordinal, offset: p.offset }, emit);
            }
        })
    } else {
        let mut data = Vec::new();
        reader
            .take(MAX_RAW_BYTES)
            .read_to_end(&mut data)
            .map_err(|source| CaptureError::Io { offset: 0, source })?;
        let mut at = 0usize;
        let mut n = 0u64;
        while at < data.len() {
            n += 1;
            let len = datagram_len(&data[at..]);
            let tag = Tag { packet: n, offset: at as u64 };
            session.decode(UNKNOWN_EXPORTER, &data[at..at + len], tag, emit);
            at += len;
        }
        Ok(())
    };
    session.flush_pending(emit);
    result
}

/// Length of the export datagram at the start of `b` when the format says (v5 count, IPFIX
/// length); the rest of the input otherwise.
fn datagram_len(b: &[u8]) -> usize {
    if b.len() < 4 {
        return b.len();
    }
    let version = u16::from_be_bytes([b[0], b[1]]);
    let field = usize::from(u16::from_be_bytes([b[2], b[3]]));
    let len = match version {
        5 => 24 + 48 * field,
        10 if field >= 16 => field,
        _ => b.len(),
    };
    len.min(b.len())
}

/// UDP port of VXLAN tunnels (RFC 7348).
const VXLAN_PORT: u16 = 4789;

/// What a capture contained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets in the capture.
    pub packets: u64,
    /// Their bytes on the wire.
    pub bytes: u64,
    /// Packets that carried IP (and are counted in flows).
    pub ip_packets: u64,
    /// Their IP lengths (what flow records count as bytes).
    pub ip_bytes: u64,
    /// Flow records emitted.
    pub flows: u64,
    /// Metadata records emitted.
    pub metadata: u64,
}

/// One output of [`capture_flows`].
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureItem {
    /// A closed flow.
    Flow(FlowRecord),
    /// Protocol metadata seen in the packet with this tag.
    Meta(Tag, MetaRecord),
}

/// Turns a capture into flows and protocol metadata. Returns what was read and, for a corrupt
/// or truncated capture, why reading stopped (what came before is emitted, open flows closed).
pub fn capture_flows(
    reader: &mut dyn BufRead,
    config: FlowConfig,
    emit: &mut dyn FnMut(CaptureItem),
) -> (CaptureStats, Result<(), CaptureError>) {
    let mut table = FlowTable::new(config);
    let mut stats = CaptureStats::default();
    let mut closed = Vec::new();
    let result = capture::for_each_packet(reader, &mut |p: Packet<'_>| {
        stats.packets += 1;
        stats.bytes += u64::from(p.wire_len);
        let Some(parsed) = packet::parse(p.linktype, p.data, p.wire_len) else { return };
        stats.ip_packets += 1;
        stats.ip_bytes += u64::from(parsed.ip_len);
        // VXLAN (UDP 4789): metadata comes from the encapsulated frame; the flow is the tunnel's.
        let inner = (parsed.proto == 17 && parsed.dport == VXLAN_PORT && parsed.payload.len() > 8)
            .then(|| {
                packet::parse(1, &parsed.payload[8..], u32::try_from(parsed.payload.len() - 8).unwrap_or(0))
            })
            .flatten();
        if let Some(m) = meta::extract(inner.as_ref().unwrap_or(&parsed), p.ordinal, p.ts_us.div_euclid(1000))
        {
            stats.metadata += 1;
            emit(CaptureItem::Meta(Tag { packet: p.ordinal, offset: p.offset }, m));
        }
        table.add(&parsed, p.ordinal, p.ts_us, &mut closed);
        for f in closed.drain(..) {
            stats.flows += 1;
            emit(CaptureItem::Flow(f));
        }
    });
    table.finish(&mut closed);
    for f in closed.drain(..) {
        stats.flows += 1;
        emit(CaptureItem::Flow(f));
    }
    (stats, result)
}
