//! Protocol metadata from single packets: DNS queries and answers, HTTP request lines with
//! host and user agent, TLS ClientHello (SNI, JA3, JA4) and SSH version banners.
//!
//! Each packet is looked at on its own (no TCP reassembly): a request line, a ClientHello or a
//! banner almost always sits in the first segment; what spans segments is not reported.

mod dns;
mod http;
mod ssh;
pub mod tls;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::packet::Parsed;

/// The application protocol a metadata record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppProto {
    /// DNS message.
    Dns,
    /// HTTP request.
    Http,
    /// TLS ClientHello.
    Tls,
    /// SSH identification string.
    Ssh,
}

impl AppProto {
    /// Lowercase name (`network.protocol`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Http => "http",
            Self::Tls => "tls",
            Self::Ssh => "ssh",
        }
    }
}

/// One metadata record; its JSON form is the event's `event.original`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaRecord {
    /// Protocol.
    pub protocol: AppProto,
    /// Packet time, Unix milliseconds.
    pub ts_ms: i64,
    /// 1-based packet ordinal in the capture.
    pub packet: u64,
    /// Source address.
    pub src_ip: IpAddr,
    /// Destination address.
    pub dst_ip: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// IANA protocol number of the transport.
    pub transport: u8,
    /// ECS fields (`dns.question.name`, `tls.client.ja3`, …).
    pub fields: BTreeMap<Cow<'static, str>, Value>,
}

/// Looks for protocol metadata in one packet.
pub fn extract(p: &Parsed<'_>, packet: u64, ts_ms: i64) -> Option<MetaRecord> {
    if p.payload.is_empty() {
        return None;
    }
    let dns_port = p.sport == 53 || p.dport == 53 || p.sport == 5353 || p.dport == 5353;
    let (protocol, fields) = if dns_port && p.proto == 17 {
        (AppProto::Dns, dns::parse(p.payload)?)
    } else if dns_port && p.proto == 6 && p.payload.len() > 2 {
        (AppProto::Dns, dns::parse(&p.payload[2..])?)
    } else if p.proto != 6 {
        return None;
    } else if let Some(f) = tls::client_hello(p.payload) {
        (AppProto::Tls, f)
    } else if let Some(f) = http::request(p.payload) {
        (AppProto::Http, f)
    } else if let Some(f) = ssh::banner(p.payload, p.sport, p.dport) {
        (AppProto::Ssh, f)
    } else {
        return None;
    };
    Some(MetaRecord {
        protocol,
        ts_ms,
        packet,
        src_ip: p.src,
        dst_ip: p.dst,
        src_port: p.sport,
        dst_port: p.dport,
        transport: p.proto,
        fields,
    })
}

/// Fields under construction.
pub(crate) type Fields = BTreeMap<Cow<'static, str>, Value>;

pub(crate) fn put(f: &mut Fields, k: &'static str, v: impl Into<Value>) {
    f.insert(Cow::Borrowed(k), v.into());
}
