//! The chain the `normalize` stage calls on each batch: dedupe → sessionize → GeoIP/ASN →
//! threat intel (offline, then cached online answers) → assets → privacy.
//!
//! Duplicates are marked and skip the rest (the caller drops and counts them). Session
//! summaries closed by the batch are enriched like any event and appended after it. Privacy
//! runs last so every enricher sees real values and only tokens are stored.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ward_ioc::{LoadReport, SharedIndicators};
use ward_model::{AlertRecord, Event};

use crate::assets::{AssetInventory, load_csv};
use crate::attack::Attack;
use crate::config::EnrichConfig;
use crate::dedupe::Dedupe;
use crate::error::EnrichError;
use crate::geoip::GeoIp;
use crate::ioc::IocEnricher;
use crate::online::{Online, OnlineWorker};
use crate::privacy::Privacy;
use crate::session::Sessionizer;

/// What a batch got; the same numbers go to Prometheus (`ward_enrich_*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnrichStats {
    /// Events in (session summaries not included).
    pub events: u64,
    /// Events marked `ward.duplicate_of`.
    pub duplicates: u64,
    /// Duplicates per `ward.source`.
    pub duplicates_by_source: BTreeMap<String, u64>,
    /// Sessions opened.
    pub sessions_opened: u64,
    /// Session summaries emitted (appended to the batch).
    pub sessions_closed: u64,
    /// Event sides given geography.
    pub geo: u64,
    /// Event sides given an AS.
    pub asn: u64,
    /// Event sides given anonymizer flags.
    pub anonymous: u64,
    /// Indicator matches added.
    pub ioc_matches: u64,
    /// Online answers added.
    pub online_enriched: u64,
    /// Online lookups queued.
    pub online_queued: u64,
    /// Online lookups dropped (queue full).
    pub online_dropped: u64,
    /// Events tagged with an asset.
    pub assets: u64,
    /// Fields pseudonymized.
    pub pseudonymized: u64,
    /// Fields masked.
    pub masked: u64,
}

impl EnrichStats {
    /// Adds another batch's numbers.
    pub fn merge(&mut self, o: &EnrichStats) {
        self.events += o.events;
        self.duplicates += o.duplicates;
        for (k, v) in &o.duplicates_by_source {
            *self.duplicates_by_source.entry(k.clone()).or_default() += v;
        }
        self.sessions_opened += o.sessions_opened;
        self.sessions_closed += o.sessions_closed;
        self.geo += o.geo;
        self.asn += o.asn;
        self.anonymous += o.anonymous;
        self.ioc_matches += o.ioc_matches;
        self.online_enriched += o.online_enriched;
        self.online_queued += o.online_queued;
        self.online_dropped += o.online_dropped;
        self.assets += o.assets;
        self.pseudonymized += o.pseudonymized;
        self.masked += o.masked;
    }

    fn publish(&self) {
        use metrics::counter;
        counter!("ward_enrich_events_total").increment(self.events);
        for (source, n) in &self.duplicates_by_source {
            counter!("ward_enrich_duplicates_total", "source" => source.clone()).increment(*n);
        }
        counter!("ward_enrich_sessions_closed_total").increment(self.sessions_closed);
        counter!("ward_enrich_geoip_hits_total", "kind" => "geo").increment(self.geo);
        counter!("ward_enrich_geoip_hits_total", "kind" => "asn").increment(self.asn);
        counter!("ward_enrich_geoip_hits_total", "kind" => "anonymous").increment(self.anonymous);
        counter!("ward_enrich_ioc_matches_total").increment(self.ioc_matches);
        counter!("ward_enrich_online_enriched_total").increment(self.online_enriched);
        counter!("ward_enrich_asset_matches_total").increment(self.assets);
        counter!("ward_enrich_privacy_fields_total", "action" => "pseudonymize")
            .increment(self.pseudonymized);
        counter!("ward_enrich_privacy_fields_total", "action" => "mask").increment(self.masked);
    }
}

/// Parts built elsewhere and shared with other stages.
#[derive(Clone, Debug, Default)]
pub struct Shared {
    /// The indicator set of the IOC detector (instead of loading `[enrich.ioc] files`).
    pub indicators: Option<Arc<SharedIndicators>>,
    /// The inventory the API edits (its content is replaced by `[enrich.assets] csv` if set).
    pub assets: Option<Arc<AssetInventory>>,
}

/// The configured enrichers.
#[derive(Debug)]
pub struct EnrichChain {
    dedupe: Option<Mutex<Dedupe>>,
    sessions: Option<Mutex<Sessionizer>>,
    geoip: Option<GeoIp>,
    geo_reload: Option<(Duration, Mutex<Instant>)>,
    ioc: Option<IocEnricher>,
    ioc_report: Option<LoadReport>,
    assets: Arc<AssetInventory>,
    attack: Arc<Attack>,
    online: Option<Online>,
    online_worker: Mutex<Option<OnlineWorker>>,
    privacy: Option<Privacy>,
}

/// The value of `r`, or `None` with its error recorded.
fn keep<T>(errors: &mut Vec<EnrichError>, r: Result<T, EnrichError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

impl EnrichChain {
    /// Builds every configured enricher, reporting all failures at once.
    pub fn from_config(cfg: &EnrichConfig) -> Result<Self, EnrichError> {
        Self::from_config_with(cfg, Shared::default())
    }

    /// Like [`EnrichChain::from_config`], reusing parts owned by other stages.
    pub fn from_config_with(cfg: &EnrichConfig, shared: Shared) -> Result<Self, EnrichError> {
        let mut errors = Vec::new();
        let geoip = cfg.geoip.as_ref().and_then(|g| keep(&mut errors, GeoIp::open(g)));
        let geo_reload = cfg
            .geoip
            .as_ref()
            .filter(|g| g.reload_interval_secs > 0)
            .map(|g| (Duration::from_secs(g.reload_interval_secs), Mutex::new(Instant::now())));
        let (ioc, ioc_report) = match (&shared.indicators, &cfg.ioc) {
            (Some(set), _) => (Some(IocEnricher::from_shared(set.clone())), None),
            (None, Some(c)) if !c.files.is_empty() => match keep(&mut errors, IocEnricher::load(c)) {
                Some((e, r)) => (Some(e), Some(r)),
                None => (None, None),
            },
            _ => (None, None),
        };
        let assets = shared.assets.clone().unwrap_or_default();
        if let Some(path) = cfg.assets.as_ref().and_then(|a| a.csv.as_ref())
            && let Some(list) = keep(&mut errors, load_csv(path).map_err(EnrichError::from))
        {
            keep(&mut errors, assets.replace(list).map_err(EnrichError::from));
        }
        let attack = match cfg.attack.as_ref().and_then(|a| a.bundle.as_ref()) {
            Some(path) => keep(&mut errors, Attack::load(path)),
            None => keep(&mut errors, Attack::bundled()),
        };
        let online = cfg.online.as_ref().and_then(|o| keep(&mut errors, Online::new(o)));
        let privacy =
            cfg.privacy.as_ref().and_then(|p| keep(&mut errors, Privacy::new(p).map_err(EnrichError::from)));
        if cfg.dedupe.enabled && cfg.dedupe.window_secs == 0 {
            errors
                .push(EnrichError::Config { key: "dedupe.window_secs", reason: "must be at least 1".into() });
        }
        if cfg.sessionize.enabled && (cfg.sessionize.timeout_secs == 0 || cfg.sessionize.keys.is_empty()) {
            errors.push(EnrichError::Config {
                key: "sessionize",
                reason: "timeout_secs must be at least 1 and keys must name at least one key".into(),
            });
        }
        if !errors.is_empty() || attack.is_none() {
            return Err(if errors.len() == 1 { errors.remove(0) } else { EnrichError::Many(errors) });
        }
        let (online, worker) = online.map_or((None, None), |(o, w)| (Some(o), Some(w)));
        Ok(Self {
            dedupe: cfg.dedupe.enabled.then(|| Mutex::new(Dedupe::new(&cfg.dedupe))),
            sessions: cfg.sessionize.enabled.then(|| Mutex::new(Sessionizer::new(&cfg.sessionize))),
            geoip,
            geo_reload,
            ioc,
            ioc_report,
            assets,
            attack: Arc::new(attack.ok_or(EnrichError::Many(Vec::new()))?),
            online,
            online_worker: Mutex::new(worker),
            privacy,
        })
    }

    /// Enriches a batch in place and appends the session summaries it closed.
    pub fn enrich(&self, events: &mut Vec<Event>) -> EnrichStats {
        let mut stats = EnrichStats::default();
        self.reload_geoip_if_due();
        let mut summaries = Vec::new();
        {
            let mut dedupe = self.dedupe.as_ref().map(|d| d.lock().unwrap_or_else(PoisonError::into_inner));
            let mut sessions =
                self.sessions.as_ref().map(|s| s.lock().unwrap_or_else(PoisonError::into_inner));
            for ev in events.iter_mut() {
                stats.events += 1;
                if let Some(d) = dedupe.as_mut()
                    && d.check(ev).is_some()
                {
                    stats.duplicates += 1;
                    *stats.duplicates_by_source.entry(ev.source().to_owned()).or_default() += 1;
                    continue;
                }
                if let Some(s) = sessions.as_mut()
                    && s.observe(ev, &mut summaries)
                {
                    stats.sessions_opened += 1;
                }
                self.enrich_one(ev, &mut stats);
            }
            if let Some(s) = sessions.as_mut() {
                s.sweep(&mut summaries);
            }
        }
        self.finish_summaries(summaries, events, &mut stats);
        stats.publish();
        stats
    }

    /// Closes every open session (shutdown, end of replay) and appends the summaries.
    pub fn flush(&self, out: &mut Vec<Event>) -> EnrichStats {
        let mut stats = EnrichStats::default();
        let mut summaries = Vec::new();
        if let Some(s) = &self.sessions {
            s.lock().unwrap_or_else(PoisonError::into_inner).flush(&mut summaries);
        }
        self.finish_summaries(summaries, out, &mut stats);
        stats.publish();
        stats
    }

    fn finish_summaries(&self, mut summaries: Vec<Event>, out: &mut Vec<Event>, stats: &mut EnrichStats) {
        stats.sessions_closed += summaries.len() as u64;
        for s in &mut summaries {
            self.enrich_one(s, stats);
        }
        out.append(&mut summaries);
    }

    /// Every per-event enricher after dedupe and sessionize, on one event.
    pub fn enrich_one(&self, ev: &mut Event, stats: &mut EnrichStats) {
        if let Some(g) = &self.geoip {
            let hits = g.enrich(ev);
            stats.geo += u64::from(hits.geo);
            stats.asn += u64::from(hits.asn);
            stats.anonymous += u64::from(hits.anonymous);
        }
        if let Some(i) = &self.ioc {
            stats.ioc_matches += i.enrich(ev) as u64;
        }
        if let Some(o) = &self.online {
            let hits = o.enrich(ev);
            stats.online_enriched += u64::from(hits.enriched);
            stats.online_queued += u64::from(hits.queued);
            stats.online_dropped += u64::from(hits.dropped);
        }
        if self.assets.enrich(ev).is_some() {
            stats.assets += 1;
        }
        if let Some(p) = &self.privacy {
            let hits = p.apply(ev);
            stats.pseudonymized += u64::from(hits.pseudonymized);
            stats.masked += u64::from(hits.masked);
        }
    }

    /// Adds ATT&CK names, the asset and cached online answers to an alert's details; returns
    /// the asset criticality found (for triage and decisions).
    pub fn enrich_alert(&self, alert: &mut AlertRecord) -> Option<crate::Criticality> {
        self.attack.attach(alert);
        if let Some(o) = &self.online {
            o.attach(alert);
        }
        self.assets.attach(alert)
    }

    fn reload_geoip_if_due(&self) {
        let (Some(geo), Some((every, last))) = (&self.geoip, &self.geo_reload) else { return };
        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
        if last.elapsed() < *every {
            return;
        }
        *last = Instant::now();
        drop(last);
        if let Err(e) = geo.reload_if_changed() {
            tracing::warn!(error = %e, "geoip reload failed; previous database stays in service");
        }
    }

    /// The GeoIP databases (for an explicit reload).
    pub fn geoip(&self) -> Option<&GeoIp> {
        self.geoip.as_ref()
    }

    /// The indicator set in use (to reload it or share it with the detector).
    pub fn indicators(&self) -> Option<&Arc<SharedIndicators>> {
        self.ioc.as_ref().map(IocEnricher::shared)
    }

    /// The threat-intel matcher (reload of the configured files).
    pub fn ioc(&self) -> Option<&IocEnricher> {
        self.ioc.as_ref()
    }

    /// What loading the configured feed files reported (rejections, suppressions).
    pub fn ioc_report(&self) -> Option<&LoadReport> {
        self.ioc_report.as_ref()
    }

    /// The asset inventory (the API replaces its content).
    pub fn assets(&self) -> &Arc<AssetInventory> {
        &self.assets
    }

    /// The ATT&CK matrix (coverage for `GET /api/attack/coverage`).
    pub fn attack(&self) -> &Arc<Attack> {
        &self.attack
    }

    /// The online lookup worker, once: spawn `worker.run()` on the runtime. Without it lookups
    /// queue up to the bound and are then dropped (counted).
    pub fn take_online_worker(&self) -> Option<OnlineWorker> {
        self.online_worker.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Sessions open now.
    pub fn open_sessions(&self) -> usize {
        self.sessions.as_ref().map_or(0, |s| s.lock().unwrap_or_else(PoisonError::into_inner).open_sessions())
    }
}
