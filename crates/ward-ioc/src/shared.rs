//! Reloading indicator sets without a restart.
//!
//! [`SharedIndicators`] holds the current set behind an [`ArcSwap`]. Readers take a snapshot
//! (`Arc<IndicatorSet>`) without locking and keep using it for as long as they hold it. A
//! reload builds the complete new set off to the side and swaps the pointer in one atomic
//! store: a reader sees either the old set or the new one, never a mixture, and never waits.
//! If any file of a reload fails, nothing is swapped and the old set stays in service.
//! Concurrent reloads are serialized, so the last one to finish is the one in service.

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::error::LoadErrors;
use crate::load::LoadReport;
use crate::load::sources::{FeedSource, load_sources};
use crate::matching::MatchFields;
use crate::set::IndicatorSet;

/// A hot-swappable indicator set shared between readers.
#[derive(Debug)]
pub struct SharedIndicators {
    current: ArcSwap<IndicatorSet>,
    fields: MatchFields,
    reload_lock: Mutex<()>,
    generation: std::sync::atomic::AtomicU64,
}

impl SharedIndicators {
    /// Serves `set` until the first reload; reloads use `set`'s match fields.
    pub fn new(set: IndicatorSet) -> Self {
        let fields = set.match_fields().clone();
        Self {
            current: ArcSwap::from_pointee(set),
            fields,
            reload_lock: Mutex::new(()),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Loads `sources` (checking `fields` in events) and serves the result.
    pub fn load(sources: &[FeedSource], fields: MatchFields) -> Result<(Self, LoadReport), LoadErrors> {
        let (set, report) = load_sources(sources, fields)?;
        Ok((Self::new(set), report))
    }

    /// The set in service now; lock-free, and unaffected by later reloads while held.
    pub fn current(&self) -> Arc<IndicatorSet> {
        self.current.load_full()
    }

    /// How many reloads have been swapped in.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Builds a new set from `sources` and swaps it in; on error the current set stays.
    pub fn reload(&self, sources: &[FeedSource]) -> Result<LoadReport, LoadErrors> {
        let _serial = self.reload_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, report) = load_sources(sources, self.fields.clone())?;
        self.swap(set);
        Ok(report)
    }

    /// Swaps in a set built elsewhere.
    pub fn replace(&self, set: IndicatorSet) {
        let _serial = self.reload_lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.swap(set);
    }

    fn swap(&self, set: IndicatorSet) {
        self.current.store(Arc::new(set));
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}
