//! Typed errors: why an export packet or a capture could not be (fully) decoded, naming the
//! exporter and the place in the packet.

use std::net::SocketAddr;

/// Why one NetFlow/IPFIX export packet (or part of it) was rejected. The exporter is named so a
/// dead letter can be traced to the device that sent it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("exporter {exporter}: {reason}")]
pub struct PacketError {
    /// The address the packet came from (`0.0.0.0:0` for raw payload files).
    pub exporter: SocketAddr,
    /// What is wrong.
    pub reason: PacketReason,
}

/// What is wrong with an export packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PacketReason {
    /// Fewer bytes than the header needs.
    #[error("packet of {len} bytes is shorter than the {need}-byte header")]
    ShortHeader {
        /// Bytes in the packet.
        len: usize,
        /// Bytes the header needs.
        need: usize,
    },
    /// A version that is not NetFlow 5, 9 or IPFIX (10).
    #[error("unsupported export version {0}")]
    Version(u16),
    /// The NetFlow v5 record count does not fit the packet.
    #[error("v5 header counts {count} records ({need} bytes) but the packet has {len} bytes")]
    V5Length {
        /// Records announced.
        count: u16,
        /// Bytes they need.
        need: usize,
        /// Bytes present.
        len: usize,
    },
    /// The IPFIX message length disagrees with the datagram.
    #[error("IPFIX message length {declared} but {len} bytes received")]
    MessageLength {
        /// Length in the header.
        declared: usize,
        /// Bytes received.
        len: usize,
    },
    /// A set (flowset) header is inconsistent.
    #[error("set {index} (id {id}) at offset {offset}: length {length} {why}")]
    SetLength {
        /// 1-based ordinal of the set in the packet.
        index: usize,
        /// Set id.
        id: u16,
        /// Byte offset of the set header in the packet.
        offset: usize,
        /// Declared length.
        length: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A template or options template record is malformed.
    #[error("template {template} in set {index}: {why}")]
    Template {
        /// Ordinal of the set in the packet.
        index: usize,
        /// Template id (0 when unreadable).
        template: u16,
        /// What is wrong.
        why: String,
    },
    /// A data record does not match its template.
    #[error("data set {index} (template {template}) at offset {offset}: {why}")]
    Record {
        /// Ordinal of the set in the packet.
        index: usize,
        /// Template id.
        template: u16,
        /// Byte offset of the record in the packet.
        offset: usize,
        /// What is wrong.
        why: String,
    },
    /// Data arrived for a template that never came (after buffering) or was evicted.
    #[error("no template {template} for observation domain {domain}: {why}")]
    NoTemplate {
        /// Template id the data set references.
        template: u16,
        /// Observation domain / source id.
        domain: u32,
        /// Why the buffered data was given up.
        why: &'static str,
    },
}

impl PacketReason {
    /// A short stable label for metrics (`ward_flow_dropped_total{reason=…}`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::ShortHeader { .. } => "short_header",
            Self::Version(_) => "version",
            Self::V5Length { .. } => "v5_length",
            Self::MessageLength { .. } => "message_length",
            Self::SetLength { .. } => "set_length",
            Self::Template { .. } => "template",
            Self::Record { .. } => "record",
            Self::NoTemplate { .. } => "no_template",
        }
    }
}

/// Why a packet capture could not be read further.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Not a pcap or pcapng file, or a corrupt block.
    #[error("capture block at offset {offset}: {reason}")]
    Format {
        /// Byte offset of the block in the input.
        offset: u64,
        /// The parser's reason.
        reason: String,
    },
    /// A single packet larger than the limit.
    #[error("capture block at offset {offset} is larger than {limit} bytes")]
    TooLarge {
        /// Byte offset of the block.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// The input could not be read.
    #[error("read error at offset {offset}: {source}")]
    Io {
        /// Bytes consumed so far.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl CaptureError {
    /// Byte offset the error refers to.
    pub fn offset(&self) -> u64 {
        match self {
            Self::Format { offset, .. } | Self::TooLarge { offset, .. } | Self::Io { offset, .. } => *offset,
        }
    }
}
