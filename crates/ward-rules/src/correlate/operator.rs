//! One correlation rule as a streaming operator. Matches wait in a buffer ordered by (event
//! time, rule position, match id) until the watermark passes them; then they are applied in
//! that order, interleaved with the window closes that fall due, so the operator sees the same
//! sequence whatever the arrival order within the allowed lateness.

use std::cmp::Reverse;
use std::collections::btree_map::Entry as Slot;
use std::collections::{BTreeMap, BinaryHeap};

use super::alert::{Evidence, Fire, Fired, build};
use super::config::Budget;
use super::group::{Entry, Group, Ids, Ordered, State, Val, Window};
use super::lru::{self, Lru};
use super::plan::Spec;
use super::source::Source;
use super::stats::OperatorStats;
use crate::ast::CorrelationType;

/// A match waiting for the watermark.
struct Item {
    key: String,
    val: Val,
    ids: Ids,
}

/// What became of an offered match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Offer {
    /// Waiting for the watermark.
    Queued,
    /// The same match is already waiting.
    Duplicate,
    /// A `group-by` or counted field is missing.
    MissingField,
}

/// A correlation operator: waiting matches, live groups, scheduled window closes.
pub(super) struct Operator {
    spec: Spec,
    budget: Budget,
    pending: BTreeMap<(i64, u32, u128), Item>,
    groups: Lru<Group>,
    closes: BinaryHeap<Reverse<(i64, u64, lru::Slot)>>,
    seq: u64,
    stats: OperatorStats,
}

impl Operator {
    /// An operator for `spec` within `budget`.
    pub(super) fn new(spec: Spec, budget: Budget) -> Self {
        let stats = OperatorStats { correlation: spec.summary.id.clone(), ..OperatorStats::default() };
        Self {
            spec,
            budget,
            pending: BTreeMap::new(),
            groups: Lru::new(),
            closes: BinaryHeap::new(),
            seq: 0,
            stats,
        }
    }

    /// Whether its alerts are emitted.
    pub(super) fn emits(&self) -> bool {
        self.spec.emit
    }

    /// Its counters.
    pub(super) fn stats(&self) -> OperatorStats {
        OperatorStats { live_groups: self.groups.len(), pending: self.pending.len(), ..self.stats.clone() }
    }

    /// Matches waiting.
    pub(super) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Event time of the oldest waiting match.
    pub(super) fn oldest_pending(&self) -> Option<i64> {
        self.pending.first_key_value().map(|(k, _)| k.0)
    }

    /// Queues a match of the rule at `pos`, at `time`, identified by `id`.
    pub(super) fn offer(&mut self, pos: u32, time: i64, id: u128, src: &Source<'_>, ids: Ids) -> Offer {
        let Some(input) = self.spec.inputs.get(pos as usize) else { return Offer::MissingField };
        let val = match self.spec.kind {
            CorrelationType::ValueCount => src.value(&input.value).map(|v| Val::Text(v.into())),
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => Some(Val::Rule(pos)),
            _ => Some(Val::None),
        };
        let (Some(key), Some(val)) = (src.group_key(&input.group), val) else {
            self.stats.missing_fields += 1;
            return Offer::MissingField;
        };
        match self.pending.entry((time, pos, id)) {
            Slot::Occupied(_) => {
                self.stats.duplicates += 1;
                Offer::Duplicate
            }
            Slot::Vacant(v) => {
                v.insert(Item { key, val, ids });
                Offer::Queued
            }
        }
    }

    /// Applies every waiting match and window close before `w`, in event-time order (a match at
    /// a window's end belongs to it), appending fired alerts to `fired`.
    pub(super) fn advance(&mut self, w: i64, fired: &mut Vec<Fired>) {
        loop {
            let item = self.pending.first_key_value().map(|(k, _)| k.0).filter(|&t| t < w);
            let close = self.closes.peek().map(|Reverse(c)| c.0).filter(|&end| end < w);
            match (item, close) {
                (Some(t), Some(end)) if end < t => self.close_next(fired),
                (Some(_), _) => self.apply_next(fired),
                (None, Some(_)) => self.close_next(fired),
                (None, None) => break,
            }
        }
        self.expire(w);
    }

    fn apply_next(&mut self, fired: &mut Vec<Fired>) {
        let Some(((time, pos, _), item)) = self.pending.pop_first() else { return };
        let slot = self.slot_for(item.key, time);
        self.groups.touch(slot);
        let entry = Entry { time, val: item.val, ids: item.ids };
        if self.spec.kind == CorrelationType::TemporalOrdered {
            self.apply_ordered(slot, pos, entry, fired);
        } else if self.spec.early {
            self.apply_early(slot, entry, fired);
        } else {
            self.apply_at_close(slot, entry);
        }
    }

    /// The group of `key`, created if needed (evicting the oldest group when full).
    fn slot_for(&mut self, key: String, t: i64) -> lru::Slot {
        if let Some(slot) = self.groups.find(&key) {
            return slot;
        }
        self.make_room(t);
        let state = match self.spec.kind {
            CorrelationType::TemporalOrdered => State::Ordered(Ordered::new(self.spec.rules)),
            _ => State::Window(Window::new(self.spec.early)),
        };
        let slot = self.groups.insert(key.into(), Group { last: t, close_seq: 0, state });
        self.stats.peak_groups = self.stats.peak_groups.max(self.groups.len());
        slot
    }

    fn make_room(&mut self, t: i64) {
        while self.groups.len() >= self.budget.max_groups {
            let Some(oldest) = self.groups.oldest() else { return };
            let dead = self.groups.get(oldest).is_some_and(|(_, g)| self.expired(g, t));
            self.groups.remove(oldest);
            if dead {
                self.stats.expired_groups += 1;
            } else {
                self.stats.evicted_groups += 1;
            }
        }
        self.compact_closes();
    }

    /// Whether no match at or after `t` can see the group's state any more.
    fn expired(&self, g: &Group, t: i64) -> bool {
        (self.spec.early || self.spec.kind == CorrelationType::TemporalOrdered)
            && g.last.saturating_add(self.spec.span) < t
    }

    /// Monotone conditions: slide the window to end at this match and fire once it holds.
    fn apply_early(&mut self, slot: lru::Slot, entry: Entry, fired: &mut Vec<Fired>) {
        let t = entry.time;
        let Some(Group { last, state: State::Window(win), .. }) = self.groups.get_mut(slot) else { return };
        *last = t;
        win.drop_before(t.saturating_sub(self.spec.span));
        self.stats.evicted_events += u64::from(win.push(entry, self.budget.max_events_per_group));
        let value = win.measure(self.spec.kind != CorrelationType::EventCount);
        if !self.spec.holds(value) {
            return;
        }
        let (first, last) = win.bounds().unwrap_or((t, t));
        let ev = win.evidence(self.budget.max_alert_events);
        let fire = Fire { window: (first, t), span: (first, last), at: t, value };
        self.fire_and_reset(slot, fire, ev, fired);
    }

    /// Other conditions: keep the match; its group's window is judged when it closes.
    fn apply_at_close(&mut self, slot: lru::Slot, entry: Entry) {
        let t = entry.time;
        let Some(Group { last, close_seq, state: State::Window(win) }) = self.groups.get_mut(slot) else {
            return;
        };
        *last = t;
        self.stats.evicted_events += u64::from(win.push(entry, self.budget.max_events_per_group));
        if *close_seq == 0 {
            self.seq += 1;
            *close_seq = self.seq;
            self.closes.push(Reverse((t.saturating_add(self.spec.span), self.seq, slot)));
        }
    }

    /// Judges the window that closes next, firing if the condition holds; either way the group
    /// resets, so its next window opens at its next match.
    fn close_next(&mut self, fired: &mut Vec<Fired>) {
        let Some(Reverse((end, seq, slot))) = self.closes.pop() else { return };
        let Some(Group { close_seq, state: State::Window(win), .. }) = self.groups.get(slot).map(|(_, g)| g)
        else {
            return;
        };
        if *close_seq != seq {
            return;
        }
        let anchor = end.saturating_sub(self.spec.span);
        let value = win.measure(self.spec.kind != CorrelationType::EventCount);
        if self.spec.holds(value) {
            let last = win.bounds().map_or(anchor, |(_, last)| last);
            let ev = win.evidence(self.budget.max_alert_events);
            let fire = Fire { window: (anchor, end), span: (anchor, last), at: end, value };
            return self.fire_and_reset(slot, fire, ev, fired);
        }
        self.groups.remove(slot);
        self.compact_closes();
    }

    /// `temporal_ordered`: extend the best chains and fire once the condition holds.
    fn apply_ordered(&mut self, slot: lru::Slot, pos: u32, entry: Entry, fired: &mut Vec<Fired>) {
        let t = entry.time;
        let Some(Group { last, state: State::Ordered(ord), .. }) = self.groups.get_mut(slot) else { return };
        *last = t;
        let cap = self.budget.max_alert_events;
        let Some(chain) = ord.step(pos as usize, t, &entry.ids, self.spec.span, cap) else { return };
        let value = u64::from(pos) + 1;
        if !self.spec.holds(value) {
            return;
        }
        let (start, ev) = (chain.start, chain.evidence.clone());
        let fire = Fire { window: (start, t), span: (start, t), at: t, value };
        self.fire_and_reset(slot, fire, ev, fired);
    }

    /// Emits the alert of the group at `slot` and forgets the group, so its next window starts
    /// with the next match.
    fn fire_and_reset(&mut self, slot: lru::Slot, fire: Fire, ev: Evidence, fired: &mut Vec<Fired>) {
        let Some((key, _)) = self.groups.remove(slot) else { return };
        self.stats.alerts += 1;
        fired.push(build(&self.spec.summary, self.spec.kind, &self.spec.group_by, &key, &fire, ev));
    }

    /// Drops groups whose window can no longer change (all matches before `w` are applied).
    fn expire(&mut self, w: i64) {
        while let Some(oldest) = self.groups.oldest() {
            if !self.groups.get(oldest).is_some_and(|(_, g)| self.expired(g, w)) {
                break;
            }
            self.groups.remove(oldest);
            self.stats.expired_groups += 1;
        }
    }

    /// Rebuilds the close queue when stale entries (of evicted groups) outnumber live ones.
    fn compact_closes(&mut self) {
        if self.closes.len() <= 2 * self.groups.len() + 1_024 {
            return;
        }
        let groups = &self.groups;
        self.closes
            .retain(|Reverse((_, seq, slot))| groups.get(*slot).is_some_and(|(_, g)| g.close_seq == *seq));
    }
}
