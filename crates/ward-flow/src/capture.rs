//! Reading pcap and pcapng captures packet by packet, streaming (memory bounded by the largest
//! block), with each packet's ordinal, byte offset, timestamp and link type.

use std::io::BufRead;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, Linktype, PcapBlockOwned, PcapError, PcapNGReader};

use crate::error::CaptureError;

/// Largest capture block read.
pub const MAX_BLOCK_BYTES: usize = 16 << 20;

/// One captured packet.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// 1-based packet ordinal in the capture.
    pub ordinal: u64,
    /// Byte offset of the packet's block in the capture.
    pub offset: u64,
    /// Capture time, Unix microseconds.
    pub ts_us: i64,
    /// Link-layer type (DLT) of the packet's interface.
    pub linktype: i32,
    /// The captured bytes (possibly cut at the snap length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub wire_len: u32,
}

/// Whether `head` starts a pcap or pcapng file.
pub fn is_capture(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0x0a, 0x0d, 0x0d, 0x0a],
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
    ];
    head.len() >= 4 && MAGICS.iter().any(|m| head[..4] == *m)
}

/// Per-interface facts of a pcapng section.
#[derive(Clone, Copy)]
struct Iface {
    linktype: i32,
    resolution: u64,
    offset: i64,
}

/// Calls `f` with every packet of a pcap or pcapng capture read from `reader`.
///
/// # Errors
/// [`CaptureError`] when the input is not a capture or a block is corrupt or truncated; packets
/// before the error have been passed to `f`.
pub fn for_each_packet(reader: &mut dyn BufRead, f: &mut dyn FnMut(Packet<'_>)) -> Result<(), CaptureError> {
    let head = reader.fill_buf().map_err(|source| CaptureError::Io { offset: 0, source })?;
    let ng = head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]);
    let capacity = 1 << 16;
    let fmt = |offset: u64, reason: String| CaptureError::Format { offset, reason };
    let mut it: Box<dyn PcapReaderIterator + '_> = if ng {
        Box::new(
            PcapNGReader::new(capacity, reader)
                .map_err(|e| fmt(0, format!("not a pcapng file: {}", reason(&e))))?,
        )
    } else {
        Box::new(
            LegacyPcapReader::new(capacity, reader)
                .map_err(|e| fmt(0, format!("not a pcap file: {}", reason(&e))))?,
        )
    };
    let mut offset = 0u64;
    let mut ordinal = 0u64;
    let mut legacy = Iface { linktype: 1, resolution: 1_000_000, offset: 0 };
    let mut ifaces: Vec<Iface> = Vec::new();
    loop {
        match it.next() {
            Ok((len, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy.linktype = h.network.0;
                        legacy.resolution =
                            if h.is_nanosecond_precision() { 1_000_000_000 } else { 1_000_000 };
                    }
                    PcapBlockOwned::Legacy(b) => {
                        ordinal += 1;
                        let data = &b.data[..b.data.len().min(b.caplen as usize)];
                        let frac = i64::from(b.ts_usec) * 1_000_000
                            / i64::try_from(legacy.resolution).unwrap_or(1_000_000);
                        let ts_us = i64::from(b.ts_sec) * 1_000_000 + frac;
                        f(Packet {
                            ordinal,
                            offset,
                            ts_us,
                            linktype: legacy.linktype,
                            data,
                            wire_len: b.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => ifaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => ifaces.push(Iface {
                        linktype: idb.linktype.0,
                        resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                        offset: idb.ts_offset(),
                    }),
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        ordinal += 1;
                        let iface = ifaces.get(epb.if_id as usize).copied().unwrap_or(legacy);
                        let ticks = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                        let us = ticks * 1_000_000 / u128::from(iface.resolution);
                        let ts_us = i64::try_from(us)
                            .unwrap_or(i64::MAX)
                            .saturating_add(iface.offset.saturating_mul(1_000_000));
                        let data = &epb.data[..epb.data.len().min(epb.caplen as usize)];
                        f(Packet {
                            ordinal,
                            offset,
                            ts_us,
                            linktype: iface.linktype,
                            data,
                            wire_len: epb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        ordinal += 1;
                        let iface = ifaces.first().copied().unwrap_or(legacy);
                        let data = &spb.data[..spb.data.len().min(spb.origlen as usize)];
                        f(Packet {
                            ordinal,
                            offset,
                            ts_us: 0,
                            linktype: iface.linktype,
                            data,
                            wire_len: spb.origlen,
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                offset += len as u64;
                it.consume(len);
            }
            Err(PcapError::Eof) => return Ok(()),
            Err(PcapError::UnexpectedEof) => {
                return Err(fmt(offset, "capture ends inside a block (truncated file)".into()));
            }
            Err(PcapError::Incomplete(_)) => {
                if it.reader_exhausted() {
                    if it.data().is_empty() {
                        return Ok(());
                    }
                    return Err(fmt(offset, "capture ends inside a block (truncated file)".into()));
                }
                it.refill().map_err(|e| fmt(offset, format!("read failed: {}", reason(&e))))?;
            }
            Err(PcapError::BufferTooSmall) => {
                let want = it.data().len().saturating_mul(2).max(capacity * 2);
                if want > MAX_BLOCK_BYTES || !it.grow(want) {
                    return Err(CaptureError::TooLarge { offset, limit: MAX_BLOCK_BYTES });
                }
                it.refill().map_err(|e| fmt(offset, format!("read failed: {}", reason(&e))))?;
            }
            Err(e) => return Err(fmt(offset, reason(&e))),
        }
    }
}

/// The link types Ward can parse, as named by pcap.
pub fn linktype_name(lt: i32) -> &'static str {
    match Linktype(lt) {
        Linktype::ETHERNET => "ethernet",
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => "raw",
        Linktype::NULL | Linktype::LOOP => "null",
        Linktype::LINUX_SLL => "linux_sll",
        Linktype::LINUX_SLL2 => "linux_sll2",
        _ => "other",
    }
}

/// The parser's error without the remaining input it carries.
fn reason(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::Eof => "end of input".into(),
        PcapError::BufferTooSmall => "block larger than the read buffer".into(),
        PcapError::UnexpectedEof => "unexpected end of input".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Incomplete(n) => format!("incomplete block ({n} more bytes needed)"),
        PcapError::HeaderNotRecognized => "header not recognized as pcap or pcapng".into(),
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("malformed block ({kind:?})")
        }
    }
}
