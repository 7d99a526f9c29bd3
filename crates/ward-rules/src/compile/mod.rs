//! The compiled evaluator.
//!
//! Matching one event: the [`router`](router::Router) finds the pipeline entries the event
//! belongs to (one hash lookup per key path); for each entry, one Aho–Corasick automaton per field
//! runs over the lowercased field value and marks the literals present; the rules whose
//! requirement was hit (and the few without one) are evaluated on their compiled trees, cheapest
//! tests first; each rule fires at most once per event. Buffers live in a reusable [`Scratch`],
//! so steady-state matching does not allocate (alerts aside).

mod build;
mod ctx;
pub mod matcher;
mod plan;
mod prefilter;
mod router;

pub use ctx::Scratch;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::AhoCorasick;
use ward_model::Event;

use self::build::{Registry, compile_rule};
use self::ctx::{Ctx, SlotId, recycle};
use self::plan::Node;
use self::prefilter::requirement;
use self::router::Router;
use crate::alert::{Alert, MatchedField, RuleSummary};
use crate::bind::{BoundRule, bind};
use crate::error::Rejection;
use crate::eval_ref::explain;
use crate::pipeline::Pipeline;
use crate::ruleset::RuleSet;
use crate::semantics::{element_text, fold_into, for_each_element};

static ENGINE_IDS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Rules compiled for fast matching.
#[derive(Debug)]
pub struct Engine {
    id: u64,
    summaries: Vec<Arc<RuleSummary>>,
    bound: Vec<BoundRule>,
    paths: Vec<String>,
    needle_count: usize,
    entries: Vec<CompiledEntry>,
    router: Router,
}

/// Sizes of a compiled engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Rules that compiled.
    pub rules: usize,
    /// Rule × logsource-entry variants.
    pub variants: usize,
    /// Pipeline entries with at least one rule.
    pub entries: usize,
    /// Distinct substring needles across all automata.
    pub needles: usize,
    /// Automata (one per entry and field).
    pub automata: usize,
    /// Variants evaluated on every event of their entry (no usable literal).
    pub unfiltered: usize,
}

#[derive(Debug)]
struct Variant {
    rule: u32,
    bound: u32,
    root: Node,
}

#[derive(Debug)]
struct Automaton {
    slot: SlotId,
    ac: AhoCorasick,
    needles: Vec<u32>,
}

#[derive(Debug)]
struct CompiledEntry {
    automata: Vec<Automaton>,
    variants: Vec<Variant>,
    always: Vec<u32>,
    needle_base: u32,
    by_needle: Vec<Vec<u32>>,
}

impl Engine {
    /// Compiles `set` for `pipeline`; rules that cannot be routed or bound are rejected.
    pub fn compile(set: &RuleSet, pipeline: &Pipeline) -> (Self, Vec<Rejection>) {
        let (bound, rejections) = bind(set, pipeline);
        let mut used: Vec<usize> = bound.iter().map(|b| b.entry).collect();
        used.sort_unstable();
        used.dedup();
        let mut reg = Registry::default();
        let entry_refs: Vec<_> = used.iter().map(|&e| &pipeline.entries()[e]).collect();
        let router = Router::new(&entry_refs, &mut reg);
        let entries =
            used.iter().enumerate().map(|(ci, &e)| compile_entry(ci, e, &bound, &mut reg)).collect();
        let engine = Self {
            id: ENGINE_IDS.fetch_add(1, Ordering::Relaxed),
            summaries: set.rules().iter().map(|r| Arc::new(RuleSummary::of(r))).collect(),
            needle_count: reg.needles.len(),
            paths: reg.paths,
            bound,
            entries,
            router,
        };
        (engine, rejections)
    }

    /// Matches one event, appending one alert per matching rule (in rule order); returns how
    /// many were appended. Uses a per-thread [`Scratch`].
    pub fn matches(&self, event: &Event, out: &mut Vec<Alert>) -> usize {
        SCRATCH.with(|s| self.matches_with(event, &mut s.borrow_mut(), out))
    }

    /// As [`Engine::matches`], with caller-owned buffers.
    pub fn matches_with(&self, event: &Event, scratch: &mut Scratch, out: &mut Vec<Alert>) -> usize {
        self.fire(event, scratch);
        for &(rule, bound) in &scratch.fired {
            let matched = explain(&self.bound[bound as usize], event)
                .into_iter()
                .map(|(field, path, value)| MatchedField { field, path, value })
                .collect();
            out.push(Alert::new(
                self.summaries[rule as usize].clone(),
                event.id(),
                event.timestamp(),
                matched,
            ));
        }
        scratch.fired.len()
    }

    /// Indices (into [`RuleSet::rules`]) of the rules matching `event`, ascending.
    pub fn matching_rules(&self, event: &Event, scratch: &mut Scratch) -> Vec<usize> {
        self.fire(event, scratch);
        scratch.fired.iter().map(|&(r, _)| r as usize).collect()
    }

    /// Sizes of the compiled form.
    pub fn stats(&self) -> EngineStats {
        let mut rules: Vec<usize> = self.bound.iter().map(|b| b.rule).collect();
        rules.dedup();
        EngineStats {
            rules: rules.len(),
            variants: self.bound.len(),
            entries: self.entries.len(),
            needles: self.needle_count,
            automata: self.entries.iter().map(|e| e.automata.len()).sum(),
            unfiltered: self.entries.iter().map(|e| e.always.len()).sum(),
        }
    }

    /// Fills `scratch.fired` with `(rule, bound)` pairs, sorted by rule.
    fn fire(&self, event: &Event, scratch: &mut Scratch) {
        scratch.begin(self.id, self.paths.len(), self.needle_count, self.bound.len(), self.summaries.len());
        let mut slots = recycle(std::mem::take(&mut scratch.slots));
        slots.resize(self.paths.len(), None);
        let mut ctx = Ctx { event, paths: &self.paths, s: scratch, slots };
        self.router.route(&mut ctx);
        let entries = std::mem::take(&mut ctx.s.entries);
        for &e in &entries {
            self.entries[e as usize].run(&mut ctx);
        }
        ctx.s.entries = entries;
        let Ctx { s, slots, .. } = ctx;
        s.slots = recycle(slots);
        s.fired.sort_unstable();
    }
}

fn compile_entry(ci: usize, entry: usize, bound: &[BoundRule], reg: &mut Registry) -> CompiledEntry {
    let needle_base = u32::try_from(reg.needles.len()).unwrap_or(u32::MAX);
    let mut variants = Vec::new();
    let mut always = Vec::new();
    let mut wanted: Vec<(u32, u32)> = Vec::new();
    for (bi, b) in bound.iter().enumerate().filter(|(_, b)| b.entry == entry) {
        let local = u32::try_from(variants.len()).unwrap_or(u32::MAX);
        let root = compile_rule(b, ci, reg);
        match requirement(b) {
            Some(needles) => {
                for (path, literal) in needles {
                    let slot = reg.slot(&path);
                    wanted.push((reg.needle(ci, slot, &literal), local));
                }
            }
            None => always.push(local),
        }
        let to_u32 = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        variants.push(Variant { rule: to_u32(b.rule), bound: to_u32(bi), root });
    }
    let count = reg.needles.len() - needle_base as usize;
    let mut by_needle = vec![Vec::new(); count];
    for (needle, local) in wanted {
        by_needle[(needle - needle_base) as usize].push(local);
    }
    let automata = automata(reg, needle_base as usize);
    CompiledEntry { automata, variants, always, needle_base, by_needle }
}

/// One automaton per slot over the needles registered since `base`.
fn automata(reg: &Registry, base: usize) -> Vec<Automaton> {
    let mut by_slot: Vec<(SlotId, Vec<&str>, Vec<u32>)> = Vec::new();
    for (i, (slot, literal, _)) in reg.needles.iter().enumerate().skip(base) {
        let pos = match by_slot.iter().position(|(s, _, _)| s == slot) {
            Some(p) => p,
            None => {
                by_slot.push((*slot, Vec::new(), Vec::new()));
                by_slot.len() - 1
            }
        };
        by_slot[pos].1.push(literal);
        by_slot[pos].2.push(u32::try_from(i).unwrap_or(u32::MAX));
    }
    by_slot
        .into_iter()
        .filter_map(|(slot, patterns, needles)| {
            let ac = AhoCorasick::builder().build(&patterns).ok()?;
            Some(Automaton { slot, ac, needles })
        })
        .collect()
}

impl CompiledEntry {
    fn run(&self, ctx: &mut Ctx<'_, '_>) {
        let mut candidates = std::mem::take(&mut ctx.s.candidates);
        candidates.clear();
        for automaton in &self.automata {
            self.scan(automaton, ctx, &mut candidates);
        }
        candidates.extend_from_slice(&self.always);
        candidates.sort_unstable();
        for &local in &candidates {
            let variant = &self.variants[local as usize];
            let rule = variant.rule as usize;
            if ctx.s.fired_at[rule] == ctx.s.epoch {
                continue;
            }
            ctx.s.evaluated += 1;
            if variant.root.eval(ctx) {
                ctx.s.fired_at[rule] = ctx.s.epoch;
                ctx.s.fired.push((variant.rule, variant.bound));
            }
        }
        ctx.s.candidates = candidates;
    }

    /// Runs one automaton over its field and marks hit needles and the rules they select.
    fn scan(&self, a: &Automaton, ctx: &mut Ctx<'_, '_>, candidates: &mut Vec<u32>) {
        if ctx.prepare(a.slot) {
            let s = &mut *ctx.s;
            self.mark(a, &s.folded[a.slot as usize], s.epoch, &mut s.hits, &mut s.candidate_at, candidates);
            return;
        }
        let Some(value) = ctx.value(a.slot) else { return };
        let s = &mut *ctx.s;
        for_each_element(value, &mut |e| {
            if element_text(e, &mut s.tmp) {
                s.tmp_folded.clear();
                fold_into(&s.tmp, &mut s.tmp_folded);
                self.mark(a, &s.tmp_folded, s.epoch, &mut s.hits, &mut s.candidate_at, candidates);
            }
            false
        });
    }

    fn mark(
        &self,
        a: &Automaton,
        text: &str,
        epoch: u32,
        hits: &mut [u32],
        cand_at: &mut [u32],
        out: &mut Vec<u32>,
    ) {
        for m in a.ac.find_overlapping_iter(text) {
            let needle = a.needles[m.pattern().as_usize()];
            if hits[needle as usize] == epoch {
                continue;
            }
            hits[needle as usize] = epoch;
            for &local in &self.by_needle[(needle - self.needle_base) as usize] {
                let global = self.variants[local as usize].bound as usize;
                if cand_at[global] != epoch {
                    cand_at[global] = epoch;
                    out.push(local);
                }
            }
        }
    }
}
