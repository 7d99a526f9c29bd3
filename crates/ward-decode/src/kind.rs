//! The closed set of decoders, built by one exhaustive match.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::sources;
use crate::{BuildError, Decoder};

/// Every input format Ward decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// Cowrie SSH/Telnet honeypot JSON log lines.
    Cowrie,
    /// Suricata EVE JSON.
    Suricata,
    /// osquery result logs (differential, batch, snapshot).
    Osquery,
    /// Native Windows `.evtx` files.
    Evtx,
    /// Windows events as JSON (evtx_dump, Winlogbeat, OTRF/Mordor flat lines).
    Winlog,
    /// Syslog, RFC 3164 and RFC 5424.
    Syslog,
    /// ArcSight Common Event Format.
    Cef,
    /// Any JSON, mapped by a declarative mapping file.
    Json,
    /// NetFlow v5/v9 and IPFIX export packets (in pcap/pcapng captures or raw payload files).
    Netflow,
    /// Packet captures (pcap/pcapng) turned into flows and protocol metadata.
    Pcap,
}

impl SourceKind {
    /// All kinds, in CLI order.
    pub const ALL: [Self; 10] = [
        Self::Cowrie,
        Self::Suricata,
        Self::Osquery,
        Self::Evtx,
        Self::Winlog,
        Self::Syslog,
        Self::Cef,
        Self::Json,
        Self::Netflow,
        Self::Pcap,
    ];

    /// The CLI and `ward.source` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cowrie => "cowrie",
            Self::Suricata => "suricata",
            Self::Osquery => "osquery",
            Self::Evtx => "evtx",
            Self::Winlog => "winlog",
            Self::Syslog => "syslog",
            Self::Cef => "cef",
            Self::Json => "json",
            Self::Netflow => "netflow",
            Self::Pcap => "pcap",
        }
    }

    /// Builds the decoder; `mapping` is the field-mapping file of the `json` decoder (optional
    /// for it, rejected for the others).
    ///
    /// # Errors
    /// A [`BuildError`] when the mapping file is unreadable or invalid.
    pub fn build(self, mapping: Option<&Path>) -> Result<Box<dyn Decoder>, BuildError> {
        if mapping.is_some() && self != Self::Json {
            return Err(BuildError::Option(format!("--mapping applies to the json source, not {self}")));
        }
        Ok(match self {
            Self::Cowrie => Box::new(sources::cowrie::CowrieDecoder),
            Self::Suricata => Box::new(sources::suricata::SuricataDecoder),
            Self::Osquery => Box::new(sources::osquery::OsqueryDecoder),
            Self::Evtx => Box::new(sources::evtx::EvtxDecoder),
            Self::Winlog => Box::new(sources::winlog::WinlogDecoder),
            Self::Syslog => Box::new(sources::syslog::SyslogDecoder),
            Self::Cef => Box::new(sources::cef::CefDecoder),
            Self::Json => Box::new(sources::json::JsonDecoder::from_mapping_file(mapping)?),
            Self::Netflow => Box::new(sources::netflow::NetflowDecoder::default()),
            Self::Pcap => Box::new(sources::pcap::PcapDecoder::default()),
        })
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A source name that Ward has no decoder for.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown source {0:?} (known: cowrie, suricata, osquery, evtx, winlog, syslog, cef, json, netflow, pcap)"
)]
pub struct UnknownSource(pub String);

impl FromStr for SourceKind {
    type Err = UnknownSource;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownSource(s.to_owned()))
    }
}
