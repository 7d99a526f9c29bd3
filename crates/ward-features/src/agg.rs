//! Bucket aggregates (what an adapter stores per entity, window and time bucket) and their
//! merged read view, [`Summary`], from which [`crate::vector`] computes the features.
//!
//! Both adapters follow the same rules, so they give the same features: per bucket, up to
//! [`FREQ_CAP`] distinct user names and passwords are counted exactly and further ones only as
//! an overflow count (each taken as a value seen once when computing entropy).

use std::collections::HashMap;

use crate::hll::Sketch;
use crate::inputs::{Inputs, LoginOutcome, SKETCHES, SketchKind, shannon};

/// Distinct values counted exactly per bucket for the entropy features.
pub const FREQ_CAP: usize = 256;

/// Plain sums and counts of a bucket or window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tallies {
    /// Events.
    pub events: u64,
    /// Login failures.
    pub failures: u64,
    /// Login successes.
    pub successes: u64,
    /// Inter-arrival gaps recorded.
    pub gap_n: u64,
    /// Sum of gaps, seconds.
    pub gap_sum: f64,
    /// Sum of squared gaps, seconds².
    pub gap_sumsq: f64,
    /// Smallest gap, seconds.
    pub gap_min: Option<f64>,
    /// Events carrying a password.
    pub pw_n: u64,
    /// Sum of those passwords' character entropies, bits per character.
    pub pw_entropy_sum: f64,
}

impl Tallies {
    /// Adds one observation (and its gap to the entity's previous event, if any).
    pub fn add(&mut self, inputs: &Inputs, gap: Option<f64>) {
        self.events += 1;
        match inputs.login {
            Some(LoginOutcome::Failure) => self.failures += 1,
            Some(LoginOutcome::Success) => self.successes += 1,
            None => {}
        }
        if let Some(g) = gap {
            self.gap_n += 1;
            self.gap_sum += g;
            self.gap_sumsq += g * g;
            self.gap_min = Some(self.gap_min.map_or(g, |m| m.min(g)));
        }
        if let Some(h) = inputs.password_char_entropy {
            self.pw_n += 1;
            self.pw_entropy_sum += h;
        }
    }

    /// Adds another bucket's tallies.
    pub fn merge(&mut self, o: &Self) {
        self.events += o.events;
        self.failures += o.failures;
        self.successes += o.successes;
        self.gap_n += o.gap_n;
        self.gap_sum += o.gap_sum;
        self.gap_sumsq += o.gap_sumsq;
        self.gap_min = match (self.gap_min, o.gap_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.pw_n += o.pw_n;
        self.pw_entropy_sum += o.pw_entropy_sum;
    }
}

/// Value frequencies (by fingerprint) for an entropy feature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Freq {
    /// Occurrences per fingerprint.
    pub counts: HashMap<u64, u64>,
    /// Occurrences of values beyond the per-bucket cap.
    pub overflow: u64,
}

impl Freq {
    /// Counts one occurrence, within the per-bucket cap.
    pub fn add(&mut self, item: u64) {
        if let Some(c) = self.counts.get_mut(&item) {
            *c += 1;
        } else if self.counts.len() < FREQ_CAP {
            self.counts.insert(item, 1);
        } else {
            self.overflow += 1;
        }
    }

    /// Adds another bucket's frequencies (no cap: this is the read side).
    pub fn merge(&mut self, o: &Self) {
        o.counts.iter().for_each(|(k, v)| *self.counts.entry(*k).or_default() += v);
        self.overflow += o.overflow;
    }

    /// Shannon entropy of the distribution in bits; overflow occurrences count as distinct
    /// values seen once each.
    pub fn entropy(&self) -> f64 {
        let total = self.counts.values().sum::<u64>() + self.overflow;
        let singles = std::iter::repeat_n(1.0, usize::try_from(self.overflow).unwrap_or(0));
        shannon(self.counts.values().map(|c| *c as f64).chain(singles), total as f64)
    }
}

/// Everything kept for one entity, window and time bucket (the in-process adapter's state).
#[derive(Clone, Debug, Default)]
pub struct Bucket {
    /// Sums and counts.
    pub tallies: Tallies,
    /// Distinct-count sketches by [`SketchKind`] index.
    pub sketches: [Sketch; SKETCHES],
    /// User-name frequencies.
    pub users: Freq,
    /// Password frequencies.
    pub passwords: Freq,
}

impl Bucket {
    /// Adds one observation.
    pub fn add(&mut self, inputs: &Inputs, gap: Option<f64>) {
        self.tallies.add(inputs, gap);
        for (sketch, item) in self.sketches.iter_mut().zip(inputs.items) {
            if let Some(h) = item {
                sketch.insert(h);
            }
        }
        if let Some(u) = inputs.item(SketchKind::Users) {
            self.users.add(u);
        }
        if let Some(p) = inputs.item(SketchKind::Passwords) {
            self.passwords.add(p);
        }
    }
}

/// The merged view of one window at one time: what the features are computed from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Sums and counts over the window's buckets.
    pub tallies: Tallies,
    /// Distinct counts by [`SketchKind`] index.
    pub distinct: [f64; SKETCHES],
    /// User-name frequencies.
    pub users: Freq,
    /// Password frequencies.
    pub passwords: Freq,
}

impl Summary {
    /// Merges the buckets of one window.
    pub fn of<'a>(buckets: impl Iterator<Item = &'a Bucket>) -> Self {
        let mut s = Self::default();
        let mut sketches: [Sketch; SKETCHES] = Default::default();
        for b in buckets {
            s.tallies.merge(&b.tallies);
            sketches.iter_mut().zip(&b.sketches).for_each(|(a, o)| a.merge(o));
            s.users.merge(&b.users);
            s.passwords.merge(&b.passwords);
        }
        s.distinct = sketches.map(|k| k.count());
        s
    }
}

/// What an adapter returns for one entity at one time: its newest event time and one
/// [`Summary`] per window of [`crate::window::WINDOWS`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Newest event time seen for the entity, Unix milliseconds.
    pub last_seen_ms: Option<i64>,
    /// One summary per window, in [`crate::window::WINDOWS`] order.
    pub windows: Vec<Summary>,
}
