//! NetFlow v5, v9 (RFC 3954) and IPFIX (RFC 7011) export packets to [`FlowRecord`]s.
//!
//! A [`Session`] holds the templates learnt per (exporter, version, observation domain) and a
//! bounded buffer of data sets that arrived before their template: when the template comes,
//! they are decoded and emitted with the location they arrived at; when the buffer is full or
//! the input ends, they are rejected with the reason. Templates are refreshed by a newer
//! definition with the same id and withdrawn by IPFIX withdrawal records. Options templates
//! produce [`RecordKind::Options`](crate::record::RecordKind) records. Enterprise-specific and
//! unknown elements are skipped by their length (variable-length ones by their length prefix).
//!
//! The parser is written here rather than taken from `netflow_parser`: it borrows the packet
//! (no copy of field bytes), compiles each template once into a plan, keys templates by
//! exporter *and* domain, keeps early data, and reports every malformation as a typed
//! [`PacketError`] naming exporter and place.

pub mod ie;
mod record;
pub mod template;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::error::{PacketError, PacketReason};
use crate::record::{FlowRecord, Origin};
use record::{Header, decode_record, uptime_to_unix};
use template::{FieldSpec, Scope, Template, TemplateKind, VARIABLE};

/// Where a packet came from in its input, carried through to its records and errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tag {
    /// 1-based packet ordinal in the input.
    pub packet: u64,
    /// Byte offset of the packet (or its capture block) in the input.
    pub offset: u64,
}

/// Limits of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Templates kept over all exporters; new ones beyond this are rejected.
    pub max_templates: usize,
    /// Data sets kept while waiting for their template; the oldest is rejected beyond this.
    pub max_pending_sets: usize,
    /// Bytes of data sets kept while waiting for their template.
    pub max_pending_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { max_templates: 65_536, max_pending_sets: 4_096, max_pending_bytes: 16 << 20 }
    }
}

/// What a session has seen, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Packets decoded (fully or partly).
    pub packets: u64,
    /// Records emitted.
    pub records: u64,
    /// Data sets rejected after buffering (no template, buffer full).
    pub pending_dropped: u64,
    /// Templates learnt or refreshed.
    pub templates_learnt: u64,
    /// Templates withdrawn.
    pub templates_withdrawn: u64,
}

/// A data set waiting for its template.
struct Pending {
    scope: Scope,
    template: u16,
    set_index: u16,
    header: Header,
    tag: Tag,
    data: Vec<u8>,
    /// Offset of the set's first record in its packet.
    offset: usize,
}

/// Receives each record, or the error of a packet, with the tag of the packet it came in.
pub type Emit<'a> = dyn FnMut(Tag, Result<FlowRecord, PacketError>) + 'a;

/// Decoding state for any number of exporters.
#[derive(Default)]
pub struct Session {
    config: SessionConfig,
    templates: HashMap<(Scope, u16), Arc<Template>>,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    stats: SessionStats,
}

const V5_HEADER: usize = 24;
const V5_RECORD: usize = 48;
const V9_HEADER: usize = 20;
const IPFIX_HEADER: usize = 16;

impl Session {
    /// A session with the given limits.
    pub fn new(config: SessionConfig) -> Self {
        Self { config, ..Self::default() }
    }

    /// Counters so far.
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// Templates currently cached.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// Data sets currently waiting for a template.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Decodes one export datagram from `exporter`, emitting each record (and records of
    /// buffered sets its templates unlock) and at most one error for this packet.
    pub fn decode(&mut self, exporter: SocketAddr, data: &[u8], tag: Tag, emit: &mut Emit<'_>) {
        self.stats.packets += 1;
        let err = |reason| PacketError { exporter, reason };
        if data.len() < 4 {
            emit(tag, Err(err(PacketReason::ShortHeader { len: data.len(), need: 4 })));
            return;
        }
        let version = u16::from_be_bytes([data[0], data[1]]);
        let result = match version {
            5 => self.v5(exporter, data, tag, emit),
            9 | 10 => self.templated(exporter, version, data, tag, emit),
            v => Err(PacketReason::Version(v)),
        };
        if let Err(reason) = result {
            emit(tag, Err(err(reason)));
        }
    }

    /// Rejects every buffered data set (their template never came) and empties the buffer.
    pub fn flush_pending(&mut self, emit: &mut Emit<'_>) {
        while let Some(p) = self.pending.pop_front() {
            self.give_up(p, "the template never arrived", emit);
        }
        self.pending_bytes = 0;
    }

    /// Rejects the oldest buffered data sets until at most `keep` remain (the collector calls
    /// this on a timer so data for a template that never comes does not wait forever).
    pub fn expire_pending(&mut self, keep: usize, emit: &mut Emit<'_>) {
        while self.pending.len() > keep {
            if let Some(p) = self.pending.pop_front() {
                self.pending_bytes -= p.data.len();
                self.give_up(p, "waited too long for the template", emit);
            }
        }
    }

    fn give_up(&mut self, p: Pending, why: &'static str, emit: &mut Emit<'_>) {
        self.stats.pending_dropped += 1;
        let reason = PacketReason::NoTemplate { template: p.template, domain: p.scope.domain, why };
        emit(p.tag, Err(PacketError { exporter: p.scope.exporter, reason }));
    }

    fn v5(
        &mut self,
        exporter: SocketAddr,
        data: &[u8],
        tag: Tag,
        emit: &mut Emit<'_>,
    ) -> Result<(), PacketReason> {
        if data.len() < V5_HEADER {
            return Err(PacketReason::ShortHeader { len: data.len(), need: V5_HEADER });
        }
        let count = be16(data, 2);
        let need = V5_HEADER + V5_RECORD * usize::from(count);
        // The records that fit are decoded (as tshark does); a count beyond the packet is
        // still reported.
        let fits = usize::from(count).min((data.len() - V5_HEADER) / V5_RECORD);
        let uptime = be32(data, 4);
        let export_ms = i64::from(be32(data, 8)) * 1000 + i64::from(be32(data, 12)) / 1_000_000;
        let header = Header {
            origin: Origin::Netflow5,
            export_ms,
            uptime_ms: Some(uptime),
            sequence: be32(data, 16),
            domain: u32::from(data[21]),
        };
        let sampling = be16(data, 22);
        for i in 0..fits {
            let r = &data[V5_HEADER + i * V5_RECORD..V5_HEADER + (i + 1) * V5_RECORD];
            let rec = v5_record(r, &header, data[20], data[21], sampling, exporter, i);
            self.stats.records += 1;
            emit(tag, Ok(rec));
        }
        if data.len() < need {
            return Err(PacketReason::V5Length { count, need, len: data.len() });
        }
        Ok(())
    }

    fn templated(
        &mut self,
        exporter: SocketAddr,
        version: u16,
        data: &[u8],
        tag: Tag,
        emit: &mut Emit<'_>,
    ) -> Result<(), PacketReason> {
        let (header, start, end) = if version == 9 {
            if data.len() < V9_HEADER {
                return Err(PacketReason::ShortHeader { len: data.len(), need: V9_HEADER });
            }
            let uptime = be32(data, 4);
            let export_ms = i64::from(be32(data, 8)) * 1000;
            let h = Header {
                origin: Origin::Netflow9,
                export_ms,
                uptime_ms: Some(uptime),
                sequence: be32(data, 12),
                domain: be32(data, 16),
            };
            (h, V9_HEADER, data.len())
        } else {
            if data.len() < IPFIX_HEADER {
                return Err(PacketReason::ShortHeader { len: data.len(), need: IPFIX_HEADER });
            }
            let declared = usize::from(be16(data, 2));
            if declared < IPFIX_HEADER || declared > data.len() {
                return Err(PacketReason::MessageLength { declared, len: data.len() });
            }
            let h = Header {
                origin: Origin::Ipfix,
                export_ms: i64::from(be32(data, 4)) * 1000,
                uptime_ms: None,
                sequence: be32(data, 8),
                domain: be32(data, 12),
            };
            (h, IPFIX_HEADER, declared)
        };
        let scope = Scope { exporter, version, domain: header.domain };
        let mut at = start;
        let mut index = 0usize;
        while end - at >= 4 {
            index += 1;
            let id = be16(data, at);
            let length = usize::from(be16(data, at + 2));
            if length < 4 || at + length > end {
                if version == 9 && data[at..end].iter().all(|&b| b == 0) {
                    return Ok(()); // zero padding up to the end of the datagram
                }
                let why = if length < 4 { "is shorter than a set header" } else { "runs past the packet" };
                return Err(PacketReason::SetLength { index, id, offset: at, length, why });
            }
            let body = &data[at + 4..at + length];
            let set_index = u16::try_from(index).unwrap_or(u16::MAX);
            match (version, id) {
                (9, 0) | (10, 2) => self.template_set(scope, body, index, false, emit)?,
                (9, 1) | (10, 3) => self.template_set(scope, body, index, true, emit)?,
                (_, 256..) => self.data_set(scope, id, set_index, &header, body, at + 4, tag, emit)?,
                _ => {} // reserved set ids carry nothing Ward reads
            }
            at += length;
        }
        Ok(())
    }

    /// Parses a (options) template set, learning or withdrawing templates; unlocks buffered
    /// data for each template learnt.
    fn template_set(
        &mut self,
        scope: Scope,
        body: &[u8],
        index: usize,
        options: bool,
        emit: &mut Emit<'_>,
    ) -> Result<(), PacketReason> {
        let ipfix = scope.version == 10;
        let mut at = 0usize;
        let fixed_head = if options { 6 } else { 4 };
        while body.len() - at >= fixed_head {
            let id = be16(body, at);
            let bad = |why: String| PacketReason::Template { index, template: id, why };
            let (fields, v9_scopes, kind) = if options && !ipfix {
                let scope_len = usize::from(be16(body, at + 2));
                let opt_len = usize::from(be16(body, at + 4));
                if id == 0 && scope_len == 0 && opt_len == 0 {
                    break; // padding
                }
                if !scope_len.is_multiple_of(4) || !opt_len.is_multiple_of(4) {
                    return Err(bad(format!(
                        "scope length {scope_len} / option length {opt_len} not multiples of 4"
                    )));
                }
                at += 6;
                let n = (scope_len + opt_len) / 4;
                let fields = read_fields(body, &mut at, n, false).map_err(bad)?;
                let scopes = scope_len / 4;
                let scope_fields = u16::try_from(scopes).unwrap_or(u16::MAX);
                (fields, scopes, TemplateKind::Options { scope_fields })
            } else {
                let count = usize::from(be16(body, at + 2));
                let scopes = if options { usize::from(be16(body, at + 4)) } else { 0 };
                at += fixed_head;
                if count == 0 {
                    if id == 0 && !ipfix {
                        break; // padding
                    }
                    self.withdraw(scope, id, options);
                    continue;
                }
                if options && (scopes == 0 || scopes > count) {
                    return Err(bad(format!("scope field count {scopes} of {count} fields")));
                }
                let fields = read_fields(body, &mut at, count, ipfix).map_err(bad)?;
                let kind = if options {
                    TemplateKind::Options { scope_fields: u16::try_from(scopes).unwrap_or(u16::MAX) }
                } else {
                    TemplateKind::Data
                };
                (fields, 0, kind)
            };
            if id < 256 {
                return Err(bad("template ids below 256 are reserved".into()));
            }
            if fields.iter().any(|f| f.len == VARIABLE) && scope.version == 9 && options {
                return Err(bad("variable-length field in a v9 options template".into()));
            }
            let key = (scope, id);
            if !self.templates.contains_key(&key) && self.templates.len() >= self.config.max_templates {
                return Err(bad(format!("template cache full ({} templates)", self.config.max_templates)));
            }
            self.templates.insert(key, Arc::new(Template::new(id, kind, fields, v9_scopes, !ipfix)));
            self.stats.templates_learnt += 1;
            self.unlock(scope, id, emit);
        }
        Ok(())
    }

    /// IPFIX template withdrawal: one id, or all (data or options) templates of the scope when
    /// the id is the set id itself (2 or 3).
    fn withdraw(&mut self, scope: Scope, id: u16, options: bool) {
        if id == 2 || id == 3 {
            let want_options = id == 3 || options;
            self.templates.retain(|(s, _), t| {
                *s != scope || matches!(t.kind, TemplateKind::Options { .. }) != want_options
            });
        } else {
            self.templates.remove(&(scope, id));
        }
        self.stats.templates_withdrawn += 1;
    }

    /// Decodes buffered data sets that were waiting for `(scope, id)`.
    fn unlock(&mut self, scope: Scope, id: u16, emit: &mut Emit<'_>) {
        if self.pending.is_empty() {
            return;
        }
        let (ready, rest): (VecDeque<_>, VecDeque<_>) =
            self.pending.drain(..).partition(|p| p.scope == scope && p.template == id);
        self.pending = rest;
        for p in ready {
            self.pending_bytes -= p.data.len();
            let base = p.offset;
            let result = self.data_set(p.scope, id, p.set_index, &p.header, &p.data, base, p.tag, emit);
            if let Err(reason) = result {
                emit(p.tag, Err(PacketError { exporter: scope.exporter, reason }));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn data_set(
        &mut self,
        scope: Scope,
        id: u16,
        set_index: u16,
        header: &Header,
        body: &[u8],
        base: usize,
        tag: Tag,
        emit: &mut Emit<'_>,
    ) -> Result<(), PacketReason> {
        let Some(t) = self.templates.get(&(scope, id)).cloned() else {
            self.buffer(
                Pending {
                    scope,
                    template: id,
                    set_index,
                    header: *header,
                    tag,
                    data: body.to_vec(),
                    offset: base,
                },
                emit,
            );
            return Ok(());
        };
        let mut at = 0usize;
        let mut n = 0u32;
        while body.len() - at >= t.min_len.max(1) {
            n += 1;
            let mut rec = FlowRecord {
                exporter: Some(scope.exporter.ip()),
                position: Some((set_index, n)),
                ..FlowRecord::default()
            };
            match decode_record(&t, &body[at..], header, &mut rec) {
                Ok(used) if used > 0 => at += used,
                Ok(_) => break,
                Err(why) => {
                    if body[at..].iter().all(|&b| b == 0) {
                        break; // padding
                    }
                    return Err(PacketReason::Record {
                        index: usize::from(set_index),
                        template: id,
                        offset: base + at,
                        why,
                    });
                }
            }
            self.stats.records += 1;
            emit(tag, Ok(rec));
        }
        Ok(())
    }

    fn buffer(&mut self, p: Pending, emit: &mut Emit<'_>) {
        self.pending_bytes += p.data.len();
        self.pending.push_back(p);
        while self.pending.len() > self.config.max_pending_sets
            || self.pending_bytes > self.config.max_pending_bytes
        {
            let Some(old) = self.pending.pop_front() else { break };
            self.pending_bytes -= old.data.len();
            self.give_up(old, "the buffer of data awaiting templates is full", emit);
        }
    }
}

fn read_fields(body: &[u8], at: &mut usize, n: usize, ipfix: bool) -> Result<Vec<FieldSpec>, String> {
    let mut fields = Vec::with_capacity(n.min(512));
    for i in 0..n {
        let b = body.get(*at..*at + 4).ok_or_else(|| format!("field {} of {n} runs past the set", i + 1))?;
        let raw = u16::from_be_bytes([b[0], b[1]]);
        let len = u16::from_be_bytes([b[2], b[3]]);
        *at += 4;
        let (id, pen) = if ipfix && raw & 0x8000 != 0 {
            let p = body
                .get(*at..*at + 4)
                .ok_or_else(|| format!("enterprise number of field {} runs past the set", i + 1))?;
            *at += 4;
            (raw & 0x7FFF, u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
        } else {
            (raw, 0)
        };
        fields.push(FieldSpec { id, len, pen });
    }
    Ok(fields)
}

fn v5_record(
    r: &[u8],
    h: &Header,
    engine_type: u8,
    engine_id: u8,
    sampling: u16,
    exporter: SocketAddr,
    i: usize,
) -> FlowRecord {
    use std::borrow::Cow::Borrowed;
    use std::net::{IpAddr, Ipv4Addr};
    let v4 = |o: usize| IpAddr::V4(Ipv4Addr::new(r[o], r[o + 1], r[o + 2], r[o + 3]));
    let mut rec = FlowRecord {
        origin: Origin::Netflow5,
        exporter: Some(exporter.ip()),
        domain: Some(h.domain),
        sequence: Some(h.sequence),
        export_ms: Some(h.export_ms),
        position: Some((1, u32::try_from(i + 1).unwrap_or(u32::MAX))),
        src_ip: Some(v4(0)),
        dst_ip: Some(v4(4)),
        in_if: Some(u32::from(be16(r, 12))),
        out_if: Some(u32::from(be16(r, 14))),
        packets: Some(u64::from(be32(r, 16))),
        bytes: Some(u64::from(be32(r, 20))),
        start_ms: uptime_to_unix(h, be32(r, 24)),
        end_ms: uptime_to_unix(h, be32(r, 28)),
        src_port: Some(be16(r, 32)),
        dst_port: Some(be16(r, 34)),
        tcp_flags: Some(u16::from(r[37])),
        protocol: Some(r[38]),
        src_as: Some(u32::from(be16(r, 40))),
        dst_as: Some(u32::from(be16(r, 42))),
        ..FlowRecord::default()
    };
    let f = &mut rec.fields;
    f.insert(Borrowed("ip_next_hop_ipv4_address"), v4(8).to_string().into());
    f.insert(Borrowed("ip_class_of_service"), r[39].into());
    f.insert(Borrowed("source_ipv4_prefix_length"), r[44].into());
    f.insert(Borrowed("destination_ipv4_prefix_length"), r[45].into());
    f.insert(Borrowed("engine_type"), engine_type.into());
    f.insert(Borrowed("engine_id"), engine_id.into());
    f.insert(Borrowed("sampling_interval"), (sampling & 0x3FFF).into());
    rec
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
