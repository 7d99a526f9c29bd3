//! Offline threat intel: events are matched against the indicator sets of `ward-ioc` and
//! every hit becomes one `threat.enrichments[]` item (`feed`, `confidence`, `indicator.*`,
//! `matched.*`; see `ward_ioc::Match::enrichment`). MISP warning-lists among the feed files
//! suppress their indicators at load, so known-benign values never match.

use std::path::PathBuf;
use std::sync::Arc;

use ward_ioc::{FeedSource, LoadErrors, LoadReport, MatchFields, SharedIndicators};
use ward_model::Event;

use crate::config::IocConfig;
use crate::error::EnrichError;

/// Indicator matching over a shared, reloadable set.
#[derive(Debug, Clone)]
pub struct IocEnricher {
    shared: Arc<SharedIndicators>,
    sources: Vec<FeedSource>,
}

impl IocEnricher {
    /// Loads the configured files; rejected entries are in the report (and counted).
    pub fn load(cfg: &IocConfig) -> Result<(Self, LoadReport), EnrichError> {
        let sources: Vec<FeedSource> =
            cfg.files.iter().map(|p: &PathBuf| FeedSource::from(p.clone())).collect();
        let (shared, report) = SharedIndicators::load(&sources, MatchFields::default())?;
        metrics::counter!("ward_enrich_ioc_rejected_total").increment(report.rejected() as u64);
        Ok((Self { shared: Arc::new(shared), sources }, report))
    }

    /// Uses a set loaded and reloaded elsewhere (shared with the IOC detector).
    pub fn from_shared(shared: Arc<SharedIndicators>) -> Self {
        Self { shared, sources: Vec::new() }
    }

    /// The shared set, for reloads and for the detector.
    pub fn shared(&self) -> &Arc<SharedIndicators> {
        &self.shared
    }

    /// Reloads the configured files; on error the current set stays in service.
    pub fn reload(&self) -> Result<LoadReport, LoadErrors> {
        self.shared.reload(&self.sources)
    }

    /// Adds one `threat.enrichments[]` item per indicator found; returns how many.
    pub fn enrich(&self, ev: &mut Event) -> usize {
        let set = self.shared.current();
        if set.is_empty() {
            return 0;
        }
        let items: Vec<serde_json::Value> =
            set.matches_event(ev).iter().map(ward_ioc::Match::enrichment).collect();
        let n = items.len();
        crate::push_enrichments(ev, items);
        n
    }
}
