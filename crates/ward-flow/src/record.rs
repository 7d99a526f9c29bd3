//! The decoded flow record, independent of where it came from (NetFlow v5/v9, IPFIX, a packet
//! capture). Its compact JSON form is the `event.original` of the flow event, so a flow
//! appended to the durable log decodes again into the same event.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Where a flow record was measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Cisco NetFlow version 5.
    #[default]
    Netflow5,
    /// Cisco NetFlow version 9 (RFC 3954).
    Netflow9,
    /// IPFIX (RFC 7011).
    Ipfix,
    /// Built by Ward from a packet capture.
    Pcap,
}

impl Origin {
    /// The export protocol version number (pcap: 0).
    pub fn version(self) -> u16 {
        match self {
            Self::Netflow5 => 5,
            Self::Netflow9 => 9,
            Self::Ipfix => 10,
            Self::Pcap => 0,
        }
    }
}

/// Whether a record describes traffic or the exporter itself (options data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A flow.
    #[default]
    Flow,
    /// Options data: sampler settings, interface names, exporter statistics.
    Options,
}

/// One flow (or options) record. Absent values are omitted from the JSON form.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowRecord {
    /// Export protocol.
    pub origin: Origin,
    /// Flow or options data.
    #[serde(default, skip_serializing_if = "is_flow")]
    pub kind: RecordKind,
    /// The exporter (NetFlow/IPFIX) as seen by the collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<IpAddr>,
    /// Observation domain (IPFIX) or source id (v9); engine id for v5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<u32>,
    /// Template that described the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<u16>,
    /// Export packet sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u32>,
    /// Export time of the packet, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_ms: Option<i64>,
    /// 1-based set (flowset) ordinal in the packet and record ordinal in the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<(u16, u32)>,
    /// Source address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    /// Destination address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<IpAddr>,
    /// Source port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// IANA protocol number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// Bytes from source to destination (or in total when the exporter does not split them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Packets from source to destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    /// Bytes from destination to source (bidirectional records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_bytes: Option<u64>,
    /// Packets from destination to source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_packets: Option<u64>,
    /// First packet, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    /// Last packet, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<i64>,
    /// Union of TCP flags seen (source to destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_flags: Option<u16>,
    /// Union of TCP flags seen from destination to source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_tcp_flags: Option<u16>,
    /// Source autonomous system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_as: Option<u32>,
    /// Destination autonomous system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_as: Option<u32>,
    /// Input interface index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_if: Option<u32>,
    /// Output interface index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_if: Option<u32>,
    /// Why the flow record was closed (pcap: `idle`, `active`, `fin`, `rst`, `end`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<Cow<'static, str>>,
    /// Every other decoded information element, by IANA name in snake case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<Cow<'static, str>, serde_json::Value>,
}

fn is_flow(k: &RecordKind) -> bool {
    *k == RecordKind::Flow
}

impl FlowRecord {
    /// The compact JSON form (the event's `event.original`).
    pub fn to_json(&self) -> String {
        // Serializing plain data (maps with string keys, numbers, strings) cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Total bytes in both directions.
    pub fn total_bytes(&self) -> Option<u64> {
        sum(self.bytes, self.reverse_bytes)
    }

    /// Total packets in both directions.
    pub fn total_packets(&self) -> Option<u64> {
        sum(self.packets, self.reverse_packets)
    }
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// Name of an IANA protocol number as ECS `network.transport` writes it.
pub fn transport_name(proto: u8) -> Option<&'static str> {
    Some(match proto {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// TCP flag names, in bit order from FIN upward.
const TCP_FLAGS: [&str; 9] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"];

/// The names of the TCP flags set in `bits`.
pub fn tcp_flag_names(bits: u16) -> Vec<&'static str> {
    TCP_FLAGS.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| *n).collect()
}
