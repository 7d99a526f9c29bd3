//! Per-group window state: a time-ordered window of matches with distinct-value counts (for
//! `event_count`, `value_count` and `temporal`), or the best partial chains of
//! `temporal_ordered`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ward_model::EventId;

use super::alert::Evidence;

/// What a match contributes to a distinct count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Val {
    /// Nothing (`event_count`).
    None,
    /// A field value (`value_count`).
    Text(Arc<str>),
    /// The position of the matched rule in `rules:` (`temporal`, `temporal_ordered`).
    Rule(u32),
}

/// The event ids behind one match.
#[derive(Clone, Debug)]
pub(super) enum Ids {
    /// A base rule match on one event.
    One(EventId),
    /// An inner correlation alert.
    Many(Arc<[EventId]>),
}

impl Ids {
    /// The ids as a slice.
    pub(super) fn as_slice(&self) -> &[EventId] {
        match self {
            Self::One(id) => std::slice::from_ref(id),
            Self::Many(ids) => ids,
        }
    }
}

/// One match kept in a window.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    /// Event time, microseconds.
    pub time: i64,
    /// Its contribution to distinct counts.
    pub val: Val,
    /// Its event ids.
    pub ids: Ids,
}

/// The state of one group key.
#[derive(Debug)]
pub(super) struct Group {
    /// Time of the latest match, microseconds.
    pub last: i64,
    /// Sequence number of the group's scheduled window close (0: none).
    pub close_seq: u64,
    /// The window or chains.
    pub state: State,
}

/// Window or chains, by correlation type.
#[derive(Debug)]
pub(super) enum State {
    /// `event_count`, `value_count`, `temporal`.
    Window(Window),
    /// `temporal_ordered`.
    Ordered(Ordered),
}

/// Matches in event-time order, with how many carry each distinct value.
///
/// A sliding window (early-firing conditions) forgets what slides out or is evicted. A fixed
/// window (judged at its close) never slides: matches evicted by the budget still count, and at
/// most `cap + 1` distinct values are kept, which is exact for bounds up to `cap` (checked when
/// the correlator is built).
#[derive(Debug)]
pub(super) struct Window {
    entries: VecDeque<Entry>,
    distinct: HashMap<Val, u32>,
    sliding: bool,
    evicted: u64,
    saturated: bool,
}

impl Window {
    /// An empty window, sliding or fixed.
    pub(super) fn new(sliding: bool) -> Self {
        Self { entries: VecDeque::new(), distinct: HashMap::new(), sliding, evicted: 0, saturated: false }
    }

    /// Appends a match; returns whether the oldest one was evicted to stay within `cap`.
    pub(super) fn push(&mut self, entry: Entry, cap: usize) -> bool {
        let evicted = self.entries.len() >= cap;
        if evicted && self.sliding {
            self.pop_front();
        } else if evicted {
            self.entries.pop_front();
            self.evicted += 1;
        }
        if entry.val != Val::None {
            let known = self.distinct.contains_key(&entry.val);
            if self.sliding || known || self.distinct.len() <= cap {
                *self.distinct.entry(entry.val.clone()).or_insert(0) += 1;
            } else {
                self.saturated = true;
            }
        }
        self.entries.push_back(entry);
        evicted
    }

    /// Drops matches older than `t0` (sliding windows).
    pub(super) fn drop_before(&mut self, t0: i64) {
        while self.entries.front().is_some_and(|e| e.time < t0) {
            self.pop_front();
        }
    }

    fn pop_front(&mut self) {
        let Some(e) = self.entries.pop_front() else { return };
        if let Some(n) = self.distinct.get_mut(&e.val) {
            *n -= 1;
            if *n == 0 {
                self.distinct.remove(&e.val);
            }
        }
    }

    /// Number of matches (`distinct == false`) or of distinct values.
    pub(super) fn measure(&self, distinct: bool) -> u64 {
        let n = if distinct { self.distinct.len() + usize::from(self.saturated) } else { self.entries.len() };
        u64::try_from(n).unwrap_or(u64::MAX).saturating_add(if distinct { 0 } else { self.evicted })
    }

    /// Times of the first and last match kept.
    pub(super) fn bounds(&self) -> Option<(i64, i64)> {
        Some((self.entries.front()?.time, self.entries.back()?.time))
    }

    /// The matches as evidence, listing at most `cap` event ids.
    pub(super) fn evidence(&self, cap: usize) -> Evidence {
        let mut ev = Evidence::default();
        for e in &self.entries {
            ev.add(e.ids.as_slice(), cap);
        }
        ev.matches += self.evicted;
        ev
    }
}

/// A partial `temporal_ordered` chain: rules `0..=k` matched in order.
#[derive(Clone, Debug)]
pub(super) struct Chain {
    /// Time of the chain's first match.
    pub start: i64,
    /// Its matches.
    pub evidence: Evidence,
}

/// For each prefix length, the matching chain with the latest start (it dominates the others:
/// it leaves the most time for the rest of the sequence).
#[derive(Debug)]
pub(super) struct Ordered {
    chains: Vec<Option<Chain>>,
}

impl Ordered {
    /// No chain yet, for `rules` rules.
    pub(super) fn new(rules: usize) -> Self {
        Self { chains: vec![None; rules] }
    }

    /// Feeds a match of rule `pos` at `t`; returns the chain it extended (rules `0..=pos`).
    pub(super) fn step(&mut self, pos: usize, t: i64, ids: &Ids, span: i64, cap: usize) -> Option<&Chain> {
        let mut candidate = match pos {
            0 => Chain { start: t, evidence: Evidence::default() },
            _ => self.chains.get(pos - 1)?.as_ref().filter(|c| t.saturating_sub(c.start) <= span)?.clone(),
        };
        let slot = self.chains.get_mut(pos)?;
        if slot.as_ref().is_some_and(|old| old.start > candidate.start) {
            return None;
        }
        candidate.evidence.add(ids.as_slice(), cap);
        *slot = Some(candidate);
        slot.as_ref()
    }
}
