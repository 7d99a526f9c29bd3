//! Streaming evaluation of Sigma correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`; chains, `group-by`, `aliases`, `generate`) on event time.
//!
//! ```text
//! base rule match ──observe──▶ late? (time < watermark) ──yes──▶ Observed::Late (counted)
//!   (rule, Event)                    │ no
//!                                    ▼
//!           per referenced correlation: group key = tenant + group-by values (aliases applied)
//!                                    ▼
//!           operator buffer, ordered by (event time, rule position, match id)
//!                                    ▼ watermark = newest time − allowed lateness
//!           apply matches and window closes before the watermark, in event-time order
//!                                    ▼
//!           CorrelationAlert ──▶ emitted (unless an enclosing correlation has generate: false)
//!                            └──▶ fed to enclosing correlations at its detection time
//! ```
//!
//! Semantics (see `docs/sigma-correlation.md`):
//! - A match is late when its event time is before the watermark; it is refused, counted and
//!   reported to the caller. Otherwise it waits until the watermark passes it, then is applied
//!   in (time, position in `rules:`, id) order. So the same matches in any arrival order within
//!   the allowed lateness give the same alerts in the same order.
//! - Windows slide and are inclusive: matches fit one window when `last − first ≤ timespan`.
//! - Conditions with only `gt`/`gte` bounds fire as soon as they hold, on the sliding window of
//!   length `timespan` ending at the match that made them hold. Other conditions (`lt`, `lte`,
//!   `eq`, `neq`, ranges) are judged once, when the window opened by a group's first match
//!   closes (first + timespan passed).
//! - After an alert, or a judged window, the group resets: its next window starts with its next
//!   match.
//! - `temporal` fires when the distinct rules matched in a window satisfy the condition (all
//!   rules without one); `temporal_ordered` when rules `0..k` matched in order (equal times
//!   count as in order), `k` being all rules without a condition.
//! - Memory is bounded by [`Budget`]; evictions and forced watermark advances are counted in
//!   [`CorrelatorStats`].

mod alert;
mod config;
mod error;
mod group;
mod lru;
mod operator;
mod plan;
mod source;
mod stats;

pub use alert::{CorrelationAlert, kind_name};
pub use config::{Budget, CorrelatorConfig};
pub use error::CorrelateError;
pub use stats::{CorrelatorStats, OperatorStats};

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ward_model::Event;

use self::alert::{Fired, micros, time};
use self::group::Ids;
use self::operator::{Offer, Operator};
use self::plan::{Route, plan};
use self::source::Source;
use crate::alert::{Alert, RuleSummary};
use crate::ruleset::RuleSet;

/// What became of an observed base rule match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observed {
    /// Accepted: queued for `queued` correlations; `skipped` could not take it (a field was
    /// missing, or the same match was already waiting).
    Accepted {
        /// Correlations it was queued for.
        queued: usize,
        /// Correlations that skipped it (counted per operator).
        skipped: usize,
    },
    /// Older than the watermark: not evaluated, counted in [`CorrelatorStats::late`].
    Late {
        /// The watermark it fell behind.
        watermark: DateTime<Utc>,
    },
    /// No correlation references the rule.
    Unreferenced,
}

/// Correlation rules evaluated as streaming operators over base rule matches.
pub struct Correlator {
    ops: Vec<Operator>,
    op_routes: Vec<Vec<Route>>,
    rules: HashMap<Box<str>, usize>,
    base_routes: Vec<Vec<Route>>,
    standalone: Vec<bool>,
    lateness: i64,
    max_pending: usize,
    newest: Option<i64>,
    floor: i64,
    applied: i64,
    stats: CorrelatorStats,
}

impl Correlator {
    /// Builds operators for the correlations of `set`; correlations that cannot run are left
    /// out and listed.
    ///
    /// # Errors
    /// [`CorrelateError::ZeroBudget`] when a budget limit is 0.
    pub fn new(
        set: &RuleSet,
        config: &CorrelatorConfig,
    ) -> Result<(Self, Vec<CorrelateError>), CorrelateError> {
        config.budget.validate()?;
        let plan = plan(set, &config.budget);
        let mut rules = HashMap::new();
        for (i, r) in set.rules().iter().enumerate() {
            rules.entry(RuleSummary::of(r).id.into_boxed_str()).or_insert(i);
            if let Some(name) = &r.meta.name {
                rules.entry(name.clone().into_boxed_str()).or_insert(i);
            }
        }
        let correlator = Self {
            ops: plan.specs.into_iter().map(|s| Operator::new(s, config.budget)).collect(),
            op_routes: plan.op_routes,
            rules,
            base_routes: plan.base_routes,
            standalone: plan.base_standalone,
            lateness: config.lateness_micros(),
            max_pending: config.budget.max_pending,
            newest: None,
            floor: i64::MIN,
            applied: i64::MIN,
            stats: CorrelatorStats::default(),
        };
        Ok((correlator, plan.rejections))
    }

    /// Number of correlation operators that run.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no correlation runs.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Whether the detection rule `rule` (id, else title, or name) should emit its own alerts:
    /// true unless every correlation referencing it has `generate: false`.
    pub fn standalone(&self, rule: &str) -> bool {
        self.rules.get(rule).is_none_or(|&i| self.standalone[i])
    }

    /// Whether some correlation references the detection rule `rule`.
    pub fn wants(&self, rule: &str) -> bool {
        self.rules.get(rule).is_some_and(|&i| !self.base_routes[i].is_empty())
    }

    /// Observes a base rule alert on `event`; see [`Correlator::observe`].
    pub fn observe_alert(
        &mut self,
        alert: &Alert,
        event: &Event,
        out: &mut Vec<CorrelationAlert>,
    ) -> Observed {
        self.observe(&alert.rule.id, event, out)
    }

    /// Observes that detection rule `rule` (id, else title, or name) matched `event`, appending
    /// the correlation alerts that became certain to `out`.
    pub fn observe(&mut self, rule: &str, event: &Event, out: &mut Vec<CorrelationAlert>) -> Observed {
        let Some(&base) = self.rules.get(rule).filter(|&&i| !self.base_routes[i].is_empty()) else {
            self.stats.unreferenced += 1;
            return Observed::Unreferenced;
        };
        let t = micros(event.timestamp());
        let w = self.watermark_micros();
        if t < w {
            self.stats.late += 1;
            return Observed::Late { watermark: time(w) };
        }
        self.stats.observed += 1;
        let (src, id) = (Source::Event(event), event.id());
        let mut queued = 0;
        for route in &self.base_routes[base] {
            queued += usize::from(
                self.ops[route.op].offer(route.pos, t, id.as_u128(), &src, Ids::One(id)) == Offer::Queued,
            );
        }
        self.newest = Some(self.newest.map_or(t, |n| n.max(t)));
        self.run(out);
        self.enforce_pending(out);
        Observed::Accepted { queued, skipped: self.base_routes[base].len() - queued }
    }

    /// Moves the watermark to at least `watermark` (e.g. from a processing-time heartbeat when
    /// no events arrive), appending alerts that became certain.
    pub fn advance_watermark(&mut self, watermark: DateTime<Utc>, out: &mut Vec<CorrelationAlert>) {
        self.floor = self.floor.max(micros(watermark));
        self.run(out);
    }

    /// Ends the input: applies every waiting match, judges every open window and appends the
    /// resulting alerts. Matches observed afterwards are late.
    pub fn flush(&mut self, out: &mut Vec<CorrelationAlert>) {
        self.floor = i64::MAX;
        self.run(out);
    }

    /// The current watermark (`None` before the first match).
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        let w = self.watermark_micros();
        (w != i64::MIN).then(|| time(w))
    }

    /// The counters.
    pub fn stats(&self) -> CorrelatorStats {
        let operators = self.ops.iter().map(Operator::stats).collect();
        CorrelatorStats { watermark: self.watermark(), operators, ..self.stats.clone() }
    }

    fn watermark_micros(&self) -> i64 {
        let from_events = self.newest.map_or(i64::MIN, |n| n.saturating_sub(self.lateness));
        from_events.max(self.floor)
    }

    /// Applies everything before the watermark, operator by operator (inner correlations
    /// first), and appends the emitted alerts ordered by (detection time, operator, sequence):
    /// each falls between the previous and the current watermark, so the order does not depend
    /// on how often the watermark moved.
    fn run(&mut self, out: &mut Vec<CorrelationAlert>) {
        let w = self.watermark_micros();
        if w <= self.applied {
            return;
        }
        self.applied = w;
        let mut staged: Vec<(i64, usize, usize, CorrelationAlert)> = Vec::new();
        let mut fired: Vec<Fired> = Vec::new();
        for i in 0..self.ops.len() {
            self.ops[i].advance(w, &mut fired);
            for f in fired.drain(..) {
                let at = micros(f.alert.timestamp);
                let ids: std::sync::Arc<[_]> = f.alert.event_ids.clone().into();
                for route in &self.op_routes[i] {
                    let src = Source::Alert(&f.alert);
                    self.ops[route.op].offer(route.pos, at, f.hash, &src, Ids::Many(ids.clone()));
                }
                if self.ops[i].emits() {
                    staged.push((at, i, staged.len(), f.alert));
                }
            }
        }
        staged.sort_unstable_by_key(|s| (s.0, s.1, s.2));
        self.stats.alerts += staged.len() as u64;
        out.extend(staged.into_iter().map(|s| s.3));
    }

    /// Forces the watermark past the oldest waiting matches while more than `max_pending` wait.
    fn enforce_pending(&mut self, out: &mut Vec<CorrelationAlert>) {
        while self.ops.iter().map(Operator::pending).sum::<usize>() > self.max_pending {
            let Some(oldest) = self.ops.iter().filter_map(Operator::oldest_pending).min() else { return };
            self.floor = self.floor.max(oldest.saturating_add(1));
            self.stats.forced_advances += 1;
            self.run(out);
        }
    }
}
