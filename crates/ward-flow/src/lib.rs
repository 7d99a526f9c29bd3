//! Network telemetry for Ward.
//!
//! - [`netflow`]: NetFlow v5, v9 and IPFIX export packets to [`FlowRecord`]s, with template
//!   management per exporter and observation domain and bounded buffering of early data.
//! - [`capture`]: pcap and pcapng files, packet by packet; [`flows`] turns packets into
//!   bidirectional flows with idle/active timeouts; [`meta`] extracts DNS, HTTP, TLS
//!   (SNI, JA3, JA4) and SSH metadata.
//! - [`collector`]: a UDP collector that decodes export packets and hands batches of events
//!   to a caller's sink, dead-lettering malformed packets and counting everything.
//! - [`event`]: records as normalized [`ward_model::Event`]s; [`beacon`]: a detector for
//!   regular inter-arrival (beaconing), which Sigma correlation cannot express.

pub mod beacon;
pub mod capture;
pub mod collector;
pub mod community;
pub mod error;
pub mod event;
pub mod flows;
pub mod meta;
pub mod netflow;
pub mod offline;
pub mod packet;
pub mod record;

pub use community::community_id;
pub use error::{CaptureError, PacketError, PacketReason};
pub use record::{FlowRecord, Origin, RecordKind};
