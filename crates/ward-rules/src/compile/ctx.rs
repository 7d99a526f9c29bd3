//! Per-event evaluation state, kept in a reusable [`Scratch`] so matching allocates nothing once
//! the buffers have grown: each field a rule reads is looked up once per event, its text
//! rendered once and lowercased once, and "seen in this event" marks are epoch stamps that never
//! need clearing.

use ward_model::{Event, FieldValue};

use crate::semantics::{element_text, fold_into, for_each_element, skipped_by_keywords};

/// Index of an interned event path.
pub type SlotId = u32;

/// Reusable buffers for matching events against one engine.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) engine: u64,
    pub(crate) epoch: u32,
    pub(crate) folded: Vec<String>,
    pub(crate) folded_at: Vec<u32>,
    pub(crate) raw: Vec<String>,
    pub(crate) raw_at: Vec<u32>,
    pub(crate) hits: Vec<u32>,
    pub(crate) candidate_at: Vec<u32>,
    pub(crate) candidates: Vec<u32>,
    pub(crate) fired_at: Vec<u32>,
    pub(crate) fired: Vec<(u32, u32)>,
    pub(crate) entries: Vec<u32>,
    pub(crate) tmp: String,
    pub(crate) tmp_folded: String,
    pub(crate) kw_at: u32,
    pub(crate) kw_folded: String,
    pub(crate) kw_raw: String,
    pub(crate) kw_ranges: Vec<KeywordRange>,
    pub(crate) evaluated: u64,
    pub(crate) slots: Vec<Option<&'static FieldValue>>,
    pub(crate) slot_at: Vec<u32>,
}

/// Where one keyword-searchable value sits in the joined keyword buffers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KeywordRange {
    pub folded: (u32, u32),
    pub raw: (u32, u32),
}

impl Scratch {
    /// How many rule variants were fully evaluated since the scratch was created (candidates
    /// that passed the prefilter), for metrics.
    pub fn evaluated(&self) -> u64 {
        self.evaluated
    }

    /// Prepares the buffers for an engine with the given sizes and starts a new event.
    pub(crate) fn begin(&mut self, engine: u64, slots: usize, needles: usize, variants: usize, rules: usize) {
        if self.engine != engine {
            *self = Self { engine, ..Self::default() };
        }
        grow(&mut self.folded, slots, String::new);
        grow(&mut self.raw, slots, String::new);
        for v in [&mut self.folded_at, &mut self.raw_at, &mut self.slot_at] {
            grow(v, slots, || 0);
        }
        grow(&mut self.hits, needles, || 0);
        grow(&mut self.candidate_at, variants, || 0);
        grow(&mut self.fired_at, rules, || 0);
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            for v in [&mut self.folded_at, &mut self.raw_at, &mut self.slot_at, &mut self.hits] {
                v.iter_mut().for_each(|x| *x = 0);
            }
            self.candidate_at.iter_mut().for_each(|x| *x = 0);
            self.kw_at = 0;
            self.fired_at.iter_mut().for_each(|x| *x = 0);
            self.epoch = 1;
        }
        self.fired.clear();
        self.entries.clear();
    }
}

fn grow<T>(v: &mut Vec<T>, n: usize, make: impl FnMut() -> T) {
    if v.len() < n {
        v.resize_with(n, make);
    }
}

/// Reuses a vector's allocation for references of another lifetime (it is emptied first).
pub(crate) fn recycle<'b>(mut v: Vec<Option<&FieldValue>>) -> Vec<Option<&'b FieldValue>> {
    v.clear();
    v.into_iter().map(|_| None).collect()
}

/// One event being matched.
pub(crate) struct Ctx<'e, 's> {
    pub event: &'e Event,
    pub paths: &'s [String],
    pub s: &'s mut Scratch,
    pub slots: Vec<Option<&'e FieldValue>>,
}

impl<'e> Ctx<'e, '_> {
    /// The value at a slot (looked up once per event).
    pub fn value(&mut self, slot: SlotId) -> Option<&'e FieldValue> {
        let i = slot as usize;
        if self.s.slot_at[i] != self.s.epoch {
            self.s.slot_at[i] = self.s.epoch;
            self.slots[i] = self.event.lookup(&self.paths[i]);
        }
        self.slots[i]
    }

    /// Renders and lowercases a scalar slot once per event; `false` when absent or not a scalar.
    pub fn prepare(&mut self, slot: SlotId) -> bool {
        let i = slot as usize;
        let Some(value) = self.value(slot) else { return false };
        if matches!(value, FieldValue::List(_) | FieldValue::Json(_)) {
            return false;
        }
        if self.s.folded_at[i] != self.s.epoch {
            self.s.folded_at[i] = self.s.epoch;
            let folded = &mut self.s.folded[i];
            folded.clear();
            match value {
                FieldValue::Str(text) => fold_into(text, folded),
                other => {
                    let raw = &mut self.s.raw[i];
                    element_text(other, raw);
                    fold_into(raw, folded);
                    self.s.raw_at[i] = self.s.epoch;
                }
            }
        }
        true
    }

    /// The folded text of a prepared scalar slot.
    pub fn folded(&self, slot: SlotId) -> &str {
        &self.s.folded[slot as usize]
    }

    /// The text as logged of a prepared scalar slot.
    pub fn raw(&self, slot: SlotId) -> &str {
        match self.slots[slot as usize] {
            Some(FieldValue::Str(text)) => text,
            _ => &self.s.raw[slot as usize],
        }
    }

    /// Joins every keyword-searchable value of the event, as logged and lowercased, into the
    /// keyword buffers (once per event); values are separated by NUL, which no literal contains.
    pub fn keywords(&mut self) {
        if self.s.kw_at == self.s.epoch {
            return;
        }
        let s = &mut *self.s;
        s.kw_at = s.epoch;
        s.kw_folded.clear();
        s.kw_raw.clear();
        s.kw_ranges.clear();
        let pos = |b: &String| u32::try_from(b.len()).unwrap_or(u32::MAX);
        for (path, value) in self.event.fields().iter() {
            if skipped_by_keywords(path) {
                continue;
            }
            for_each_element(value, &mut |e| {
                if element_text(e, &mut s.tmp) {
                    let (fs, rs) = (pos(&s.kw_folded), pos(&s.kw_raw));
                    s.kw_raw.push_str(&s.tmp);
                    fold_into(&s.tmp, &mut s.kw_folded);
                    s.kw_ranges
                        .push(KeywordRange { folded: (fs, pos(&s.kw_folded)), raw: (rs, pos(&s.kw_raw)) });
                    s.kw_raw.push('\0');
                    s.kw_folded.push('\0');
                }
                false
            });
        }
    }

    /// Whether a needle was seen in this event.
    pub fn hit(&self, needle: u32) -> bool {
        self.s.hits[needle as usize] == self.s.epoch
    }
}
