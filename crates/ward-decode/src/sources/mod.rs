//! One module per input format. Each maps its raw fields to ECS; `docs/event-model.md` lists
//! the mappings.

pub mod cef;
pub mod cowrie;
pub mod evtx;
pub mod json;
pub mod netflow;
pub mod osquery;
pub mod pcap;
pub mod suricata;
pub mod syslog;
pub mod winlog;
