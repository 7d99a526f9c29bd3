//! Decoding one data record with its template's plan into a [`FlowRecord`].

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use super::ie::Kind;
use super::template::{Core, Template, TemplateKind, VARIABLE};
use crate::record::{FlowRecord, Origin, RecordKind};

/// Facts from the packet header that records need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub origin: Origin,
    pub export_ms: i64,
    /// System uptime at export, ms (v5/v9), to resolve 32-bit wrap-around.
    pub uptime_ms: Option<u32>,
    pub sequence: u32,
    pub domain: u32,
}

/// Values gathered from one record before they are resolved into the record struct.
#[derive(Default)]
struct Scratch {
    delta_bytes: Option<u64>,
    delta_packets: Option<u64>,
    total_bytes: Option<u64>,
    total_packets: Option<u64>,
    init_bytes: Option<u64>,
    resp_bytes: Option<u64>,
    init_packets: Option<u64>,
    resp_packets: Option<u64>,
    start_uptime: Option<u32>,
    end_uptime: Option<u32>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    start_delta_us: Option<u64>,
    end_delta_us: Option<u64>,
    sys_init_ms: Option<i64>,
}

/// Reads one record starting at `data[0]`; returns it and the bytes it took, or why not.
pub(crate) fn decode_record(
    t: &Template,
    data: &[u8],
    h: &Header,
    out: &mut FlowRecord,
) -> Result<usize, String> {
    let mut s = Scratch::default();
    let mut at = 0usize;
    for step in &t.plan {
        let (len, start) = if step.len == VARIABLE {
            let first = *data.get(at).ok_or("variable-length field runs past the set")?;
            if first == 255 {
                let b = data.get(at + 1..at + 3).ok_or("variable-length field runs past the set")?;
                (usize::from(u16::from_be_bytes([b[0], b[1]])), at + 3)
            } else {
                (usize::from(first), at + 1)
            }
        } else {
            (usize::from(step.len), at)
        };
        let bytes =
            data.get(start..start + len).ok_or_else(|| format!("field of {len} bytes runs past the set"))?;
        at = start + len;
        if let Some(core) = step.core {
            apply_core(core, bytes, out, &mut s);
        }
        if let Some((name, kind)) = step.named
            && let Some(v) = render(kind, bytes)
        {
            out.fields.insert(Cow::Borrowed(name), v);
        }
    }
    finish(t, h, s, out);
    Ok(at)
}

/// Big-endian unsigned integer of 1–8 bytes (reduced-size encoding); `None` otherwise.
pub(crate) fn uint(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 8 {
        return None;
    }
    Some(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
}

fn ip(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// Templates that carry both IPv4 and IPv6 addresses fill the unused family with zeros: a
/// zero address never replaces a real one.
fn prefer_specified(old: Option<IpAddr>, new: Option<IpAddr>) -> Option<IpAddr> {
    match (old, new) {
        (Some(o), Some(n)) if n.is_unspecified() && !o.is_unspecified() => Some(o),
        (o, None) => o,
        (_, n) => n,
    }
}

fn narrow<T: TryFrom<u64>>(b: &[u8]) -> Option<T> {
    uint(b).and_then(|v| T::try_from(v).ok())
}

/// NTP timestamp (seconds since 1900 and a binary fraction) to Unix milliseconds.
fn ntp_ms(b: &[u8]) -> Option<i64> {
    let v = uint(b)?;
    if b.len() != 8 {
        return None;
    }
    let secs = i64::try_from(v >> 32).ok()? - 2_208_988_800;
    let frac_ms = i64::try_from(((v & 0xFFFF_FFFF) * 1000) >> 32).ok()?;
    Some(secs * 1000 + frac_ms)
}

fn apply_core(core: Core, b: &[u8], out: &mut FlowRecord, s: &mut Scratch) {
    match core {
        Core::SrcIp => out.src_ip = prefer_specified(out.src_ip, ip(b)),
        Core::DstIp => out.dst_ip = prefer_specified(out.dst_ip, ip(b)),
        Core::SrcPort => out.src_port = narrow(b),
        Core::DstPort => out.dst_port = narrow(b),
        Core::Proto => out.protocol = narrow(b),
        Core::DeltaBytes => s.delta_bytes = uint(b),
        Core::DeltaPackets => s.delta_packets = uint(b),
        Core::TotalBytes => s.total_bytes = uint(b),
        Core::TotalPackets => s.total_packets = uint(b),
        Core::InitBytes => s.init_bytes = uint(b),
        Core::RespBytes => s.resp_bytes = uint(b),
        Core::InitPackets => s.init_packets = uint(b),
        Core::RespPackets => s.resp_packets = uint(b),
        Core::RevBytes => out.reverse_bytes = uint(b),
        Core::RevPackets => out.reverse_packets = uint(b),
        Core::TcpFlags => out.tcp_flags = narrow(b),
        Core::RevTcpFlags => out.reverse_tcp_flags = narrow(b),
        Core::SrcAs => out.src_as = narrow(b),
        Core::DstAs => out.dst_as = narrow(b),
        Core::InIf => out.in_if = narrow(b),
        Core::OutIf => out.out_if = narrow(b),
        Core::StartUptime => s.start_uptime = narrow(b),
        Core::EndUptime => s.end_uptime = narrow(b),
        Core::StartSec => s.start_ms = narrow::<i64>(b).map(|v| v * 1000),
        Core::EndSec => s.end_ms = narrow::<i64>(b).map(|v| v * 1000),
        Core::StartMs => s.start_ms = narrow(b),
        Core::EndMs => s.end_ms = narrow(b),
        Core::StartNtp => s.start_ms = ntp_ms(b),
        Core::EndNtp => s.end_ms = ntp_ms(b),
        Core::StartDeltaUs => s.start_delta_us = uint(b),
        Core::EndDeltaUs => s.end_delta_us = uint(b),
        Core::SysInitMs => s.sys_init_ms = narrow(b),
    }
}

/// Uptime-relative time (ms) to Unix ms, allowing for the 32-bit counter having wrapped
/// between the flow and the export.
pub(crate) fn uptime_to_unix(h: &Header, uptime: u32) -> Option<i64> {
    let up = h.uptime_ms?;
    Some(h.export_ms - i64::from(up.wrapping_sub(uptime)))
}

fn finish(t: &Template, h: &Header, s: Scratch, out: &mut FlowRecord) {
    out.origin = h.origin;
    out.template = Some(t.id);
    out.sequence = Some(h.sequence);
    out.domain = Some(h.domain);
    out.export_ms = Some(h.export_ms);
    out.kind = match t.kind {
        TemplateKind::Data => RecordKind::Flow,
        TemplateKind::Options { .. } => RecordKind::Options,
    };
    out.bytes = s.delta_bytes.or(s.total_bytes).or(s.init_bytes);
    out.packets = s.delta_packets.or(s.total_packets).or(s.init_packets);
    if out.reverse_bytes.is_none() {
        out.reverse_bytes = s.resp_bytes;
    }
    if out.reverse_packets.is_none() {
        out.reverse_packets = s.resp_packets;
    }
    let rel = |up: Option<u32>| -> Option<i64> {
        let up = up?;
        match s.sys_init_ms {
            Some(init) => Some(init + i64::from(up)),
            None => uptime_to_unix(h, up),
        }
    };
    let delta = |us: Option<u64>| us.and_then(|d| i64::try_from(d / 1000).ok()).map(|d| h.export_ms - d);
    out.start_ms = s.start_ms.or_else(|| rel(s.start_uptime)).or_else(|| delta(s.start_delta_us));
    out.end_ms = s.end_ms.or_else(|| rel(s.end_uptime)).or_else(|| delta(s.end_delta_us));
}

/// Renders a field for `fields`; `None` when the bytes do not fit the kind (the field is then
/// shown as hex).
pub(crate) fn render(kind: Kind, b: &[u8]) -> Option<Value> {
    Some(match kind {
        Kind::Unsigned => match uint(b) {
            Some(v) => Value::from(v),
            None => Value::from(hex(b)),
        },
        Kind::Ipv4 | Kind::Ipv6 => match ip(b) {
            Some(a) => Value::from(a.to_string()),
            None => Value::from(hex(b)),
        },
        Kind::Mac => Value::from(mac(b)),
        Kind::Text => {
            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
            Value::from(String::from_utf8_lossy(&b[..end]).into_owned())
        }
        Kind::Octets => Value::from(hex(b)),
    })
}

/// Lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}
