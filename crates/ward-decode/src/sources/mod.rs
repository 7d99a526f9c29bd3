//! One module per input format. Each maps its raw fields to ECS; `docs/event-model.md` lists
//! the mappings.

pub mod cef;
pub mod cowrie;
pub mod evtx;
pub mod json;
pub mod osquery;
pub mod suricata;
pub mod syslog;
pub mod winlog;
