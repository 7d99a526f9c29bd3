//! The record kept in the `raw_events` topic: what a sensor sent, exactly, and who sent it.

use serde::{Deserialize, Serialize};

use crate::TenantId;

/// One accepted raw record as stored in the durable log. Everything downstream is derived from
/// these, so they hold the original text verbatim plus the facts needed to decode it again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawEnvelope {
    /// Tenant that owns the record (decided by the authenticated device or API key).
    pub tenant: TenantId,
    /// Decoder name (`cowrie`, `suricata`, …).
    pub source: String,
    /// When Ward accepted it, Unix milliseconds.
    pub received_ms: i64,
    /// The device that sent it, when it came through signed ingest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The record exactly as received (one JSON document or one text line).
    pub original: String,
}
