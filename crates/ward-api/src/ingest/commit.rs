//! Making a validated request durable: valid records to `raw_events` as [`RawEnvelope`]s,
//! invalid ones to the dead-letter store, both before the client hears 202.

use std::time::Instant;

use serde::Serialize;
use ward_log::{Position, Record, Topic};
use ward_model::{RawEnvelope, TenantId};

use super::items::{Checked, Verdict};
use crate::deadletter::DeadLetter;
use crate::error::ApiError;
use crate::state::AppState;
use crate::telemetry;

/// Who sent a request, and to which path.
#[derive(Clone, Debug)]
pub struct Sender {
    /// Tenant of every record.
    pub tenant: TenantId,
    /// Signing device (none for webhooks).
    pub device_id: Option<String>,
    /// Request path, for dead letters.
    pub path: String,
}

/// One rejected record in a 202 answer.
#[derive(Clone, Debug, Serialize)]
pub struct ItemError {
    /// 0-based index of the record in the request.
    pub index: usize,
    /// Why it was rejected.
    pub reason: String,
}

/// The 202 answer. Offsets are those of the first and last accepted record in request order,
/// each in its partition (with one `raw_events` partition they bound a contiguous range).
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestResponse {
    /// Records appended to `raw_events`.
    pub accepted: usize,
    /// Records dead-lettered.
    pub rejected: usize,
    /// Offset of the first accepted record (`null` when none).
    pub first_offset: Option<u64>,
    /// Offset of the last accepted record (`null` when none).
    pub last_offset: Option<u64>,
    /// Partition of the first accepted record.
    pub first_partition: Option<u32>,
    /// Partition of the last accepted record.
    pub last_partition: Option<u32>,
    /// One entry per rejected record.
    pub errors: Vec<ItemError>,
}

/// Appends and dead-letters `items` (concurrently), then builds the answer.
///
/// # Errors
/// 503 when the log refuses the append (the client should retry; nothing was acknowledged),
/// 500 when dead letters cannot be stored.
pub async fn commit(
    state: &AppState,
    sender: &Sender,
    items: Vec<Checked>,
    received_ms: i64,
) -> Result<IngestResponse, ApiError> {
    let mut records = Vec::with_capacity(items.len());
    let (mut dead, mut errors, mut counts) = (Vec::new(), Vec::new(), Counts::default());
    for item in items {
        let Checked { index, line, offset, source, verdict } = item;
        match verdict {
            Verdict::Valid { original, key } => {
                counts.add(source, true);
                records.push(record(sender, source, original, key, received_ms)?);
            }
            Verdict::Invalid { reason, original } => {
                counts.add(source, false);
                errors.push(ItemError { index, reason: reason.clone() });
                let place = Place { index, line, offset, source };
                dead.push(dead_letter(sender, place, reason, original, received_ms));
            }
        }
    }
    let accepted = records.len();
    let (positions, stored) = tokio::join!(append(state, records), state.dead_letters().put(dead));
    let positions = positions?;
    stored.map_err(|e| {
        tracing::error!(error = %e, "dead letters could not be stored");
        ApiError::Internal
    })?;
    counts.publish(sender.tenant.as_str());
    let (first, last) = (positions.first(), positions.last());
    Ok(IngestResponse {
        accepted,
        rejected: errors.len(),
        first_offset: first.map(|p| p.offset),
        last_offset: last.map(|p| p.offset),
        first_partition: first.map(|p| p.partition),
        last_partition: last.map(|p| p.partition),
        errors,
    })
}

async fn append(state: &AppState, records: Vec<Record>) -> Result<Vec<Position>, ApiError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let started = Instant::now();
    let n = records.len();
    let positions = state.log().append(Topic::RawEvents, records).await.map_err(|e| {
        tracing::warn!(error = %e, "append to raw_events failed");
        ApiError::unavailable(
            "log_unavailable",
            "the event log cannot take the batch now",
            state.retry_after(),
        )
    })?;
    telemetry::append(started.elapsed(), n);
    Ok(positions)
}

fn record(
    sender: &Sender,
    source: &str,
    original: String,
    key: Vec<u8>,
    received_ms: i64,
) -> Result<Record, ApiError> {
    let envelope = RawEnvelope {
        tenant: sender.tenant.clone(),
        source: source.to_owned(),
        received_ms,
        device_id: sender.device_id.clone(),
        original,
    };
    let payload = serde_json::to_vec(&envelope).map_err(|e| {
        tracing::error!(error = %e, "raw envelope serialization failed");
        ApiError::Internal
    })?;
    Ok(Record { key: Some(key), timestamp_ms: received_ms, payload })
}

/// Where a rejected record was in its request.
struct Place {
    index: usize,
    line: u64,
    offset: u64,
    source: &'static str,
}

fn dead_letter(
    sender: &Sender,
    place: Place,
    reason: String,
    original: Option<String>,
    received_ms: i64,
) -> DeadLetter {
    DeadLetter {
        path: format!("http:{}", sender.path),
        line: place.line,
        offset: place.offset,
        reason,
        source: place.source.to_owned(),
        index: place.index,
        tenant: sender.tenant.as_str().to_owned(),
        device_id: sender.device_id.clone(),
        received_ms,
        original,
    }
}

/// Accepted and rejected counts per source, published once the request is durable.
#[derive(Default)]
struct Counts(Vec<(&'static str, u64, u64)>);

impl Counts {
    fn add(&mut self, source: &'static str, accepted: bool) {
        let i = match self.0.iter().position(|(s, ..)| *s == source) {
            Some(i) => i,
            None => {
                self.0.push((source, 0, 0));
                self.0.len() - 1
            }
        };
        if accepted {
            self.0[i].1 += 1;
        } else {
            self.0[i].2 += 1;
        }
    }

    fn publish(&self, tenant: &str) {
        for &(source, accepted, rejected) in &self.0 {
            telemetry::events(source, tenant, accepted, rejected);
        }
    }
}
