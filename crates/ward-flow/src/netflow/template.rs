//! Templates: what a data record looks like, parsed once per (exporter, version, observation
//! domain, template id) and compiled into a plan so each data record is decoded in one pass.

use std::net::SocketAddr;

use super::ie::{self, Kind};

/// Field length meaning "variable, length prefix in the record" (RFC 7011 §7).
pub const VARIABLE: u16 = 0xFFFF;
/// Private enterprise number of RFC 5103 reverse elements.
pub const REVERSE_PEN: u32 = 29305;

/// One field of a template as announced by the exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// Element id (enterprise bit removed).
    pub id: u16,
    /// Length in bytes, or [`VARIABLE`].
    pub len: u16,
    /// Private enterprise number, 0 for IANA elements.
    pub pen: u32,
}

/// Which scope of the template cache a template belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// The exporter's address and port.
    pub exporter: SocketAddr,
    /// Export version (9 or 10).
    pub version: u16,
    /// Observation domain (IPFIX) or source id (v9).
    pub domain: u32,
}

/// A normalized element the record struct has a place for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Core {
    SrcIp,
    DstIp,
    SrcPort,
    DstPort,
    Proto,
    DeltaBytes,
    DeltaPackets,
    TotalBytes,
    TotalPackets,
    InitBytes,
    RespBytes,
    InitPackets,
    RespPackets,
    RevBytes,
    RevPackets,
    TcpFlags,
    RevTcpFlags,
    SrcAs,
    DstAs,
    InIf,
    OutIf,
    StartUptime,
    EndUptime,
    StartSec,
    EndSec,
    StartMs,
    EndMs,
    StartNtp,
    EndNtp,
    StartDeltaUs,
    EndDeltaUs,
    SysInitMs,
}

/// What to do with one field of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Length, or [`VARIABLE`].
    pub len: u16,
    /// Place in the record struct.
    pub core: Option<Core>,
    /// Name and rendering for `fields`.
    pub named: Option<(&'static str, Kind)>,
}

/// Whether a template describes flows or options data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateKind {
    /// Data template.
    Data,
    /// Options template with this many scope fields first.
    Options {
        /// Number of scope fields.
        scope_fields: u16,
    },
}

/// A parsed template with its decoding plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Template id (≥ 256).
    pub id: u16,
    /// Data or options.
    pub kind: TemplateKind,
    /// The fields as announced.
    pub fields: Vec<FieldSpec>,
    pub(crate) plan: Vec<Step>,
    /// Bytes of a record when every field has a fixed length.
    pub(crate) fixed_len: Option<usize>,
    /// Fewest bytes a record can take (variable fields count one length byte).
    pub(crate) min_len: usize,
}

/// Scope field names of NetFlow v9 options templates (RFC 3954 §6.1).
fn v9_scope_name(id: u16) -> &'static str {
    match id {
        1 => "scope_system",
        2 => "scope_interface",
        3 => "scope_line_card",
        4 => "scope_cache",
        5 => "scope_template",
        _ => "scope_unknown",
    }
}

impl Template {
    /// Compiles the fields into a plan. `v9_scopes` is the number of leading NetFlow v9 scope
    /// fields (whose types are not information elements); `v9` maps Cisco's NetFlow v9 field
    /// numbers for NAT and firewall events to their IANA equivalents.
    pub fn new(id: u16, kind: TemplateKind, fields: Vec<FieldSpec>, v9_scopes: usize, v9: bool) -> Self {
        let plan: Vec<Step> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i < v9_scopes {
                    let kind = if f.len <= 8 { Kind::Unsigned } else { Kind::Octets };
                    return Step { len: f.len, core: None, named: Some((v9_scope_name(f.id), kind)) };
                }
                if v9 { step(&FieldSpec { id: cisco_v9_alias(f.id), ..*f }) } else { step(f) }
            })
            .collect();
        let var = plan.iter().filter(|s| s.len == VARIABLE).count();
        let fixed: usize = plan.iter().filter(|s| s.len != VARIABLE).map(|s| usize::from(s.len)).sum();
        let fixed_len = (var == 0).then_some(fixed);
        Self { id, kind, fields, plan, fixed_len, min_len: fixed + var }
    }
}

/// Cisco ASA/NSEL NetFlow v9 field numbers with an IANA equivalent.
fn cisco_v9_alias(id: u16) -> u16 {
    match id {
        40001 => 225, // NF_F_XLATE_SRC_ADDR_IPV4
        40002 => 226, // NF_F_XLATE_DST_ADDR_IPV4
        40003 => 227, // NF_F_XLATE_SRC_PORT
        40004 => 228, // NF_F_XLATE_DST_PORT
        40005 => 233, // NF_F_FW_EVENT
        other => other,
    }
}

fn step(f: &FieldSpec) -> Step {
    let len = f.len;
    if f.pen == REVERSE_PEN {
        let core = match f.id {
            1 | 85 => Some(Core::RevBytes),
            2 | 86 => Some(Core::RevPackets),
            6 => Some(Core::RevTcpFlags),
            _ => None,
        };
        return Step { len, core, named: None };
    }
    if f.pen != 0 {
        return Step { len, core: None, named: None };
    }
    let core = match f.id {
        8 | 27 => Some(Core::SrcIp),
        12 | 28 => Some(Core::DstIp),
        7 => Some(Core::SrcPort),
        11 => Some(Core::DstPort),
        4 => Some(Core::Proto),
        1 => Some(Core::DeltaBytes),
        2 => Some(Core::DeltaPackets),
        85 => Some(Core::TotalBytes),
        86 => Some(Core::TotalPackets),
        231 => Some(Core::InitBytes),
        232 => Some(Core::RespBytes),
        298 => Some(Core::InitPackets),
        299 => Some(Core::RespPackets),
        6 => Some(Core::TcpFlags),
        16 => Some(Core::SrcAs),
        17 => Some(Core::DstAs),
        10 => Some(Core::InIf),
        14 => Some(Core::OutIf),
        22 => Some(Core::StartUptime),
        21 => Some(Core::EndUptime),
        150 => Some(Core::StartSec),
        151 => Some(Core::EndSec),
        152 => Some(Core::StartMs),
        153 => Some(Core::EndMs),
        154 | 156 => Some(Core::StartNtp),
        155 | 157 => Some(Core::EndNtp),
        158 => Some(Core::StartDeltaUs),
        159 => Some(Core::EndDeltaUs),
        160 => Some(Core::SysInitMs),
        _ => None,
    };
    // Elements whose meaning the record struct carries exactly are not repeated in `fields`.
    let core_only = matches!(f.id, 1 | 2 | 4 | 6 | 7 | 10 | 11 | 14 | 16 | 17);
    let named = if core_only { None } else { ie::lookup(f.id) };
    Step { len, core, named }
}
