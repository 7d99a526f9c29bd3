//! Packets to bidirectional flows: one record per 5-tuple and direction pair, closed by an idle
//! timeout, an active timeout (long flows are cut into several records), memory pressure or
//! the end of the capture. Bytes are IP packet lengths (as NetFlow exporters count them), so
//! the packets and bytes of all records add up to the IP traffic of the capture.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use crate::packet::Parsed;
use crate::record::{FlowRecord, Origin};

/// Timeouts and limits of a flow table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// A flow with no packet for this long is closed (µs).
    pub idle_timeout_us: i64,
    /// A flow older than this is closed and continues as a new record (µs).
    pub active_timeout_us: i64,
    /// Flows kept open at most; the least recently seen is closed beyond this.
    pub max_flows: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self { idle_timeout_us: 120_000_000, active_timeout_us: 1_800_000_000, max_flows: 1 << 20 }
    }
}

/// Both endpoints in a canonical order, plus the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    a: (IpAddr, u16),
    b: (IpAddr, u16),
    proto: u8,
}

struct Open {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    proto: u8,
    first_packet: u64,
    start_us: i64,
    last_us: i64,
    fwd: (u64, u64, u16),
    rev: (u64, u64, u16),
}

/// Open flows.
pub struct FlowTable {
    config: FlowConfig,
    open: HashMap<Key, Open>,
    last_sweep_us: i64,
}

impl FlowTable {
    /// An empty table.
    pub fn new(config: FlowConfig) -> Self {
        Self { config, open: HashMap::new(), last_sweep_us: i64::MIN }
    }

    /// Flows currently open.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no flow is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Accounts one packet (`ordinal` in the capture, `ts_us`); closed flows go to `out`.
    pub fn add(&mut self, p: &Parsed<'_>, ordinal: u64, ts_us: i64, out: &mut Vec<FlowRecord>) {
        if ts_us.saturating_sub(self.last_sweep_us) >= 1_000_000 {
            self.sweep(ts_us, out);
            self.last_sweep_us = ts_us;
        }
        let (sport, dport) = if matches!(p.proto, 6 | 17 | 132) { (p.sport, p.dport) } else { (0, 0) };
        let (x, y) = ((p.src, sport), (p.dst, dport));
        let key =
            if x <= y { Key { a: x, b: y, proto: p.proto } } else { Key { a: y, b: x, proto: p.proto } };
        if let Some(f) = self.open.get(&key)
            && ts_us - f.start_us >= self.config.active_timeout_us
            && let Some(f) = self.open.remove(&key)
        {
            out.push(close(f, "active"));
        }
        if !self.open.contains_key(&key) && self.open.len() >= self.config.max_flows {
            self.evict_oldest(out);
        }
        let f = self.open.entry(key).or_insert_with(|| Open {
            src: x,
            dst: y,
            proto: p.proto,
            first_packet: ordinal,
            start_us: ts_us,
            last_us: ts_us,
            fwd: (0, 0, 0),
            rev: (0, 0, 0),
        });
        let dir = if f.src == x { &mut f.fwd } else { &mut f.rev };
        dir.0 += 1;
        dir.1 += u64::from(p.ip_len);
        dir.2 |= u16::from(p.tcp_flags);
        f.last_us = f.last_us.max(ts_us);
        f.start_us = f.start_us.min(ts_us);
    }

    fn sweep(&mut self, now_us: i64, out: &mut Vec<FlowRecord>) {
        let idle = self.config.idle_timeout_us;
        let expired: Vec<Key> =
            self.open.iter().filter(|(_, f)| now_us - f.last_us >= idle).map(|(k, _)| *k).collect();
        let mut closed: Vec<Open> = expired.into_iter().filter_map(|k| self.open.remove(&k)).collect();
        closed.sort_by_key(|f| (f.start_us, f.first_packet));
        out.extend(closed.into_iter().map(|f| close(f, "idle")));
    }

    fn evict_oldest(&mut self, out: &mut Vec<FlowRecord>) {
        if let Some(k) = self.open.iter().min_by_key(|(_, f)| (f.last_us, f.first_packet)).map(|(k, _)| *k)
            && let Some(f) = self.open.remove(&k)
        {
            out.push(close(f, "evicted"));
        }
    }

    /// Closes every open flow (end of capture), in order of first packet.
    pub fn finish(&mut self, out: &mut Vec<FlowRecord>) {
        let mut closed: Vec<Open> = self.open.drain().map(|(_, f)| f).collect();
        closed.sort_by_key(|f| (f.start_us, f.first_packet));
        out.extend(closed.into_iter().map(|f| close(f, "end")));
    }
}

fn close(f: Open, reason: &'static str) -> FlowRecord {
    let mut rec = FlowRecord {
        origin: Origin::Pcap,
        src_ip: Some(f.src.0),
        dst_ip: Some(f.dst.0),
        protocol: Some(f.proto),
        packets: Some(f.fwd.0),
        bytes: Some(f.fwd.1),
        reverse_packets: Some(f.rev.0),
        reverse_bytes: Some(f.rev.1),
        start_ms: Some(f.start_us.div_euclid(1000)),
        end_ms: Some(f.last_us.div_euclid(1000)),
        end_reason: Some(Cow::Borrowed(reason)),
        ..FlowRecord::default()
    };
    if matches!(f.proto, 6 | 17 | 132) {
        rec.src_port = Some(f.src.1);
        rec.dst_port = Some(f.dst.1);
    }
    if f.proto == 6 {
        rec.tcp_flags = Some(f.fwd.2);
        rec.reverse_tcp_flags = Some(f.rev.2);
    }
    rec.fields.insert(Cow::Borrowed("first_packet"), f.first_packet.into());
    rec
}
