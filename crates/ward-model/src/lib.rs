//! Ward's domain types. Every stage speaks in these; this crate does no I/O.
//!
//! The central type is [`Event`]: one normalized telemetry record with Elastic Common Schema
//! (ECS) field names, the tenant it belongs to, the decoder that produced it, a stable content
//! hash as its id, and the original record kept verbatim.

pub mod codec;
mod event;
mod field;
mod ids;
mod incident;
mod names;
mod raw;
pub mod response;

pub use event::{Event, ModelError};
pub use field::{FieldValue, Fields, cmp_path};
pub use ids::{EventId, InvalidTenant, TenantId};
pub use incident::{
    AlertRecord, Entities, ExtractedIocs, Factor, Incident, IncidentStatus, InvalidTransition, Severity,
    SignalKind, Triage, UnknownName, Verdict, add_entity, merge_entities,
};
pub use raw::RawEnvelope;
