//! What a decoder may know about the world: the tenant and a fixed "now".

use chrono::{DateTime, Datelike, Utc};
use ward_model::TenantId;

/// Per-run facts every decoder receives; decoders read no clock or environment of their own,
/// so the same input always decodes to the same events.
#[derive(Clone, Debug)]
pub struct DecodeContext {
    /// Tenant stamped on every event.
    pub tenant: TenantId,
    /// Time used when a record lacks one (events then carry `event.ingested`-style fallbacks)
    /// and year used for syslog timestamps that have none.
    pub now: DateTime<Utc>,
}

impl DecodeContext {
    /// A context for `tenant` at time `now`.
    pub fn new(tenant: TenantId, now: DateTime<Utc>) -> Self {
        Self { tenant, now }
    }

    /// The year assumed for timestamps that omit it (RFC 3164 syslog).
    pub fn year(&self) -> i32 {
        self.now.year()
    }
}
