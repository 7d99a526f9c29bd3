//! Duplicate detection within an event-time window.
//!
//! A key is either the event id (exact: tenant, source and original record hashed, so an
//! at-least-once redelivery or a sensor that sends a line twice is caught) or a hash of
//! configured fields together with tenant and source. The first event with a key is kept as
//! is; a later one within `window` of the last sighting is marked `ward.duplicate_of = <id of
//! the first>` and counted in `ward_enrich_duplicates_total{source}`. Nothing is dropped here:
//! the caller decides what to do with marked events. An event lacking every key field is
//! never a duplicate (no key, no claim).

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use rustc_hash::FxHashMap;
use ward_model::{Event, EventId};
use xxhash_rust::xxh3::Xxh3;

use crate::config::DedupeConfig;

/// Field set on a duplicate: the id of the first event with the same key.
pub const DUPLICATE_OF: &str = "ward.duplicate_of";

/// Remembers recent keys and marks repeats.
#[derive(Debug)]
pub struct Dedupe {
    window: TimeDelta,
    key: Vec<String>,
    max: usize,
    seen: FxHashMap<u128, Seen>,
    order: VecDeque<(DateTime<Utc>, u128)>,
    watermark: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    first: EventId,
    at: DateTime<Utc>,
}

impl Dedupe {
    /// A detector for `cfg` (window, key fields, capacity).
    pub fn new(cfg: &DedupeConfig) -> Self {
        let secs = i64::try_from(cfg.window_secs).unwrap_or(i64::MAX / 1000);
        Self {
            window: TimeDelta::try_seconds(secs).unwrap_or(TimeDelta::MAX),
            key: cfg.key.clone(),
            max: cfg.max_entries.max(1),
            seen: FxHashMap::default(),
            order: VecDeque::new(),
            watermark: None,
        }
    }

    /// Checks one event; a duplicate is marked and the id of the first returned.
    pub fn check(&mut self, ev: &mut Event) -> Option<EventId> {
        let key = self.key_of(ev)?;
        let ts = ev.timestamp();
        self.advance(ts);
        if let Some(seen) = self.seen.get_mut(&key)
            && (ts - seen.at).abs() <= self.window
        {
            seen.at = seen.at.max(ts);
            let first = seen.first;
            ev.set(DUPLICATE_OF, first.to_string());
            return Some(first);
        }
        self.seen.insert(key, Seen { first: ev.id(), at: ts });
        self.order.push_back((ts, key));
        while self.order.len() > self.max {
            self.forget_front();
        }
        None
    }

    /// Keys currently remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    fn key_of(&self, ev: &Event) -> Option<u128> {
        if self.key.is_empty() {
            return Some(ev.id().as_u128());
        }
        let mut h = Xxh3::new();
        h.update(ev.tenant().as_bytes());
        h.update(&[0x1f]);
        h.update(ev.source().as_bytes());
        let mut any = false;
        for field in &self.key {
            h.update(&[0x1e]);
            if let Some(v) = ev.get(field) {
                any = true;
                h.update(v.to_string().as_bytes());
            } else {
                h.update(&[0x00]);
            }
        }
        any.then(|| h.digest128())
    }

    /// Moves the watermark and forgets keys last seen more than a window before it.
    fn advance(&mut self, ts: DateTime<Utc>) {
        let mark = self.watermark.map_or(ts, |w| w.max(ts));
        self.watermark = Some(mark);
        let Some(horizon) = mark.checked_sub_signed(self.window) else { return };
        while self.order.front().is_some_and(|(at, _)| *at < horizon) {
            self.forget_front();
        }
    }

    fn forget_front(&mut self) {
        let Some((at, key)) = self.order.pop_front() else { return };
        // A key re-seen later keeps its entry; only an entry last touched at `at` or before goes.
        if let Some(seen) = self.seen.get(&key)
            && seen.at <= at
        {
            self.seen.remove(&key);
        } else if let Some(seen) = self.seen.get(&key) {
            let latest = seen.at;
            if self.order.len() < self.max {
                self.order.push_back((latest, key));
            } else {
                self.seen.remove(&key);
            }
        }
    }
}
