//! Drift monitoring: the population stability index (PSI) of a recent window against the
//! training-time reference, and a Page–Hinkley test on the stream of scores. Either firing
//! raises a monitoring [`AlertRecord`] (kind `model`, level medium).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ward_model::{AlertRecord, Severity, SignalKind, TenantId};

/// PSI of `actual` against `expected`, over `bins` quantile bins of `expected`
/// (< 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift).
pub fn psi(expected: &[f64], actual: &[f64], bins: usize) -> f64 {
    if expected.is_empty() || actual.is_empty() || bins < 2 {
        return 0.0;
    }
    let mut sorted = expected.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..bins).map(|q| sorted[q * sorted.len() / bins]).collect();
    edges.dedup();
    let hist = |xs: &[f64]| {
        let mut h = vec![0.0; edges.len() + 1];
        for &x in xs {
            h[edges.partition_point(|&e| e < x)] += 1.0;
        }
        let n = xs.len() as f64;
        h.into_iter().map(|c| (c / n).max(1e-4)).collect::<Vec<f64>>()
    };
    let (e, a) = (hist(expected), hist(actual));
    e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// Page–Hinkley test for an increase of a stream's mean.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageHinkley {
    /// Tolerated change (magnitude below which shifts are ignored).
    pub delta: f64,
    /// Alarm threshold on the cumulative deviation.
    pub lambda: f64,
    n: u64,
    mean: f64,
    cum: f64,
    min: f64,
}

impl PageHinkley {
    /// A detector with tolerance `delta` and threshold `lambda`.
    pub fn new(delta: f64, lambda: f64) -> Self {
        Self { delta, lambda, n: 0, mean: 0.0, cum: 0.0, min: 0.0 }
    }

    /// Feeds one value; true when the mean has drifted up (the detector then resets).
    pub fn update(&mut self, x: f64) -> bool {
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        self.cum += x - self.mean - self.delta;
        self.min = self.min.min(self.cum);
        if self.cum - self.min > self.lambda {
            *self = Self::new(self.delta, self.lambda);
            return true;
        }
        false
    }
}

/// Which test fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftTest {
    /// Population stability index over the recent window.
    Psi,
    /// Page–Hinkley on the score stream.
    PageHinkley,
}

/// A detected drift.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Which test fired.
    pub test: DriftTest,
    /// PSI of the window at that moment.
    pub psi: f64,
    /// Values seen so far.
    pub observed: u64,
}

/// Watches one model's scores (or one feature) against its training reference.
#[derive(Clone, Debug)]
pub struct DriftMonitor {
    reference: Vec<f64>,
    window: VecDeque<f64>,
    capacity: usize,
    /// PSI above which drift is declared.
    pub psi_threshold: f64,
    ph: PageHinkley,
    observed: u64,
    since_alert: u64,
}

impl DriftMonitor {
    /// A monitor comparing windows of `window` values against `reference`.
    pub fn new(reference: Vec<f64>, window: usize) -> Self {
        let spread = {
            let n = reference.len().max(1) as f64;
            let mean = reference.iter().sum::<f64>() / n;
            (reference.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt().max(1e-6)
        };
        Self {
            reference,
            window: VecDeque::with_capacity(window),
            capacity: window.max(10),
            psi_threshold: 0.25,
            ph: PageHinkley::new(spread * 0.5, spread * 50.0),
            observed: 0,
            since_alert: 0,
        }
    }

    /// Feeds one value; returns a drift at most once per full window.
    pub fn observe(&mut self, x: f64) -> Option<Drift> {
        self.observed += 1;
        self.since_alert += 1;
        if self.window.len() == self.capacity {
            self.window.pop_front();
        }
        self.window.push_back(x);
        let ph = self.ph.update(x);
        if self.since_alert < self.capacity as u64 || self.window.len() < self.capacity {
            return None;
        }
        let window: Vec<f64> = self.window.iter().copied().collect();
        let p = psi(&self.reference, &window, 10);
        let test = if p > self.psi_threshold {
            DriftTest::Psi
        } else if ph {
            DriftTest::PageHinkley
        } else {
            return None;
        };
        self.since_alert = 0;
        Some(Drift { test, psi: p, observed: self.observed })
    }
}

/// The monitoring alert for a drift of model `model` (deterministic id per model, test and
/// observation count).
pub fn drift_alert(tenant: &TenantId, model: &str, drift: &Drift, at: DateTime<Utc>) -> AlertRecord {
    let test = match drift.test {
        DriftTest::Psi => "psi",
        DriftTest::PageHinkley => "page_hinkley",
    };
    let id = format!(
        "{:032x}",
        xxhash_rust::xxh3::xxh3_128(
            format!("drift\0{tenant}\0{model}\0{test}\0{}", drift.observed).as_bytes()
        )
    );
    AlertRecord {
        id,
        tenant: tenant.clone(),
        kind: SignalKind::Model,
        rule_id: format!("model-drift:{model}"),
        rule_title: format!("Input or score drift on model {model}"),
        level: Severity::Medium,
        score: Severity::Medium.base_score(),
        timestamp: at,
        event_ids: Vec::new(),
        tags: vec!["ward.monitoring".into(), "ward.drift".into()],
        techniques: Vec::new(),
        entities: Default::default(),
        source: "ward-ml".into(),
        details: json!({ "test": test, "psi": drift.psi, "observed": drift.observed }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_for_same_and_large_for_shifted() {
        let a: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.5).collect();
        assert!(psi(&a, &a, 10) < 1e-9);
        assert!(psi(&a, &b, 10) > 1.0);
    }
}
