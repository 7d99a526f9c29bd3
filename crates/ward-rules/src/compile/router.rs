//! The logsource index: which pipeline entries an event belongs to. Entries are keyed by their
//! first constraint (`winlog.channel`, `event.dataset`, `ward.source`) in a hash map of folded
//! values, so an event finds its entries with one lookup per key path; the remaining constraints
//! are then checked.

use std::collections::HashMap;

use super::build::Registry;
use super::ctx::{Ctx, SlotId};
use crate::pipeline::Entry;
use crate::semantics::{element_text, fold, fold_into, for_each_element};

/// Compiled constraints of one entry.
#[derive(Debug)]
pub struct Constraints {
    checks: Vec<(SlotId, Vec<Box<str>>)>,
}

/// Entries keyed by the folded values of one slot.
type Keyed = (SlotId, HashMap<Box<str>, Vec<u32>>);

/// The index over entries.
#[derive(Debug, Default)]
pub struct Router {
    keyed: Vec<Keyed>,
    unkeyed: Vec<u32>,
    constraints: Vec<Constraints>,
}

impl Router {
    /// Indexes `entries` (compiled entry index → pipeline entry).
    pub fn new(entries: &[&Entry], reg: &mut Registry) -> Self {
        let mut router = Self::default();
        for (index, entry) in entries.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let checks: Vec<(SlotId, Vec<Box<str>>)> = entry
                .conditions
                .iter()
                .map(|c| (reg.slot(&c.path), c.values.iter().map(|v| fold(v).into_boxed_str()).collect()))
                .collect();
            match checks.first() {
                Some((slot, values)) => {
                    let pos = match router.keyed.iter().position(|(s, _)| s == slot) {
                        Some(p) => p,
                        None => {
                            router.keyed.push((*slot, HashMap::new()));
                            router.keyed.len() - 1
                        }
                    };
                    for v in values {
                        router.keyed[pos].1.entry(v.clone()).or_default().push(index);
                    }
                }
                None => router.unkeyed.push(index),
            }
            router.constraints.push(Constraints { checks });
        }
        router
    }

    /// Fills `ctx.s.entries` with the entries the event belongs to, ascending.
    pub fn route(&self, ctx: &mut Ctx<'_, '_>) {
        let mut found = std::mem::take(&mut ctx.s.entries);
        found.clear();
        for (slot, map) in &self.keyed {
            if ctx.prepare(*slot) {
                if let Some(list) = map.get(ctx.folded(*slot)) {
                    found.extend_from_slice(list);
                }
            } else if let Some(value) = ctx.value(*slot) {
                let s = &mut *ctx.s;
                for_each_element(value, &mut |e| {
                    if element_text(e, &mut s.tmp) {
                        s.tmp_folded.clear();
                        fold_into(&s.tmp, &mut s.tmp_folded);
                        if let Some(list) = map.get(s.tmp_folded.as_str()) {
                            found.extend_from_slice(list);
                        }
                    }
                    false
                });
            }
        }
        found.extend_from_slice(&self.unkeyed);
        found.sort_unstable();
        found.dedup();
        found.retain(|&e| self.constraints[e as usize].hold(ctx));
        ctx.s.entries = found;
    }
}

impl Constraints {
    fn hold(&self, ctx: &mut Ctx<'_, '_>) -> bool {
        self.checks.iter().all(|(slot, values)| {
            if ctx.prepare(*slot) {
                let text = ctx.folded(*slot);
                return values.iter().any(|v| **v == *text);
            }
            let Some(value) = ctx.value(*slot) else { return false };
            let s = &mut *ctx.s;
            for_each_element(value, &mut |e| {
                element_text(e, &mut s.tmp) && {
                    s.tmp_folded.clear();
                    fold_into(&s.tmp, &mut s.tmp_folded);
                    values.iter().any(|v| **v == *s.tmp_folded)
                }
            })
        })
    }
}
