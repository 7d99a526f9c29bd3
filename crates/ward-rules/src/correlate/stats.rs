//! Counters of the correlator: what was late, shed, evicted or skipped is counted here, never
//! dropped silently.

use chrono::{DateTime, Utc};

/// Counters of one correlation operator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorStats {
    /// The correlation (id, else name, else title).
    pub correlation: String,
    /// Group keys with live state now.
    pub live_groups: usize,
    /// Most group keys live at once.
    pub peak_groups: usize,
    /// Groups evicted to stay within `max_groups` while their window was still open.
    pub evicted_groups: u64,
    /// Matches evicted from a window to stay within `max_events_per_group`.
    pub evicted_events: u64,
    /// Groups dropped because their window had expired (no effect on results).
    pub expired_groups: u64,
    /// Matches skipped because a `group-by` or counted field was missing.
    pub missing_fields: u64,
    /// Matches ignored because the same match was already waiting.
    pub duplicates: u64,
    /// Alerts fired (emitted or only fed to an enclosing correlation).
    pub alerts: u64,
    /// Matches waiting for the watermark.
    pub pending: usize,
}

/// Counters of a correlator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorrelatorStats {
    /// Base rule matches accepted.
    pub observed: u64,
    /// Base rule matches of rules no correlation references.
    pub unreferenced: u64,
    /// Base rule matches older than the watermark, refused and reported to the caller.
    pub late: u64,
    /// Times the watermark was forced forward to stay within `max_pending`.
    pub forced_advances: u64,
    /// Correlation alerts emitted.
    pub alerts: u64,
    /// The current watermark (`None` before the first match).
    pub watermark: Option<DateTime<Utc>>,
    /// Per operator, in evaluation order.
    pub operators: Vec<OperatorStats>,
}

impl CorrelatorStats {
    /// Groups and matches evicted by the budget, over all operators.
    pub fn evictions(&self) -> u64 {
        self.operators.iter().map(|o| o.evicted_groups + o.evicted_events).sum()
    }

    /// Matches waiting for the watermark, over all operators.
    pub fn pending(&self) -> usize {
        self.operators.iter().map(|o| o.pending).sum()
    }
}
