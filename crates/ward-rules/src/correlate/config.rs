//! Correlator settings: how late an event may arrive, and how much state each operator may keep.

use std::time::Duration;

use super::error::CorrelateError;

/// Memory limits. Every limit that bites is counted in
/// [`CorrelatorStats`](super::CorrelatorStats); none of them is ever exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Live group keys per correlation operator; a new key beyond it evicts the least recently
    /// updated group (which, as input is processed in event-time order, has the oldest window).
    pub max_groups: usize,
    /// Matches kept in one group's window; a match beyond it evicts the group's oldest.
    pub max_events_per_group: usize,
    /// Event ids listed in one correlation alert; the rest are counted, not listed.
    pub max_alert_events: usize,
    /// Matches waiting for the watermark, across operators; beyond it the watermark is forced
    /// past the oldest waiting match (counted as a forced advance; later matches older than the
    /// new watermark are late).
    pub max_pending: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self { max_groups: 100_000, max_events_per_group: 1_024, max_alert_events: 32, max_pending: 100_000 }
    }
}

impl Budget {
    /// Checks that every limit is at least 1.
    ///
    /// # Errors
    /// [`CorrelateError::ZeroBudget`] naming the first limit that is 0.
    pub fn validate(&self) -> Result<(), CorrelateError> {
        let limits = [
            ("max_groups", self.max_groups),
            ("max_events_per_group", self.max_events_per_group),
            ("max_alert_events", self.max_alert_events),
            ("max_pending", self.max_pending),
        ];
        match limits.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(CorrelateError::ZeroBudget(name)),
            None => Ok(()),
        }
    }
}

/// How the correlator treats event time and memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorrelatorConfig {
    /// How far behind the newest event time seen a match may arrive and still be evaluated; the
    /// watermark is the newest event time minus this.
    pub allowed_lateness: Duration,
    /// Memory limits per operator.
    pub budget: Budget,
}

impl Default for CorrelatorConfig {
    fn default() -> Self {
        Self { allowed_lateness: Duration::from_secs(60), budget: Budget::default() }
    }
}

impl CorrelatorConfig {
    /// The allowed lateness in microseconds (saturating).
    pub(super) fn lateness_micros(&self) -> i64 {
        i64::try_from(self.allowed_lateness.as_micros()).unwrap_or(i64::MAX)
    }
}
