//! `fuse`: detector outputs (`model_outputs`) → consolidated alerts (`consolidated_alerts`).
//! The score of an alert becomes the fusion of every signal its event raised (recorded by
//! `detect` in `details.signals`), so the result depends on the alert alone, not on batching.

use async_trait::async_trait;
use serde_json::json;
use ward_log::Topic;
use ward_model::AlertRecord;

use crate::config::Fusion;
use crate::deadletter::DeadLetter;
use crate::detect::alert_record;
use crate::runtime::{Batch, Output, Stage, StageError};

/// The fuse stage (stateless).
pub struct Fuse {
    method: Fusion,
}

impl Fuse {
    /// A fuse stage combining with `method`.
    pub fn new(method: Fusion) -> Self {
        Self { method }
    }
}

/// Combines signal scores in [0, 1].
pub fn fuse_scores(method: Fusion, scores: &[f64]) -> f64 {
    let clamp = |s: f64| if s.is_finite() { s.clamp(0.0, 1.0) } else { 0.0 };
    match method {
        Fusion::Max => scores.iter().copied().map(clamp).fold(0.0, f64::max),
        Fusion::NoisyOr => 1.0 - scores.iter().copied().map(clamp).map(|s| 1.0 - s).product::<f64>(),
    }
}

/// Applies fusion to one alert.
pub fn consolidate(method: Fusion, alert: &mut AlertRecord) {
    let mut scores: Vec<f64> = alert
        .details
        .get("signals")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|s| s.get("score").and_then(serde_json::Value::as_f64)).collect())
        .unwrap_or_default();
    if scores.is_empty() {
        scores.push(alert.score);
    }
    let fused = fuse_scores(method, &scores);
    let raw = alert.score;
    alert.score = fused.max(raw);
    if let serde_json::Value::Object(map) = &mut alert.details {
        let name = match method {
            Fusion::Max => "max",
            Fusion::NoisyOr => "noisy_or",
        };
        map.insert("fusion".into(), json!({"method": name, "signals": scores.len(), "raw_score": raw}));
    }
}

#[async_trait]
impl Stage for Fuse {
    fn name(&self) -> &'static str {
        "fuse"
    }

    fn input(&self) -> Topic {
        Topic::ModelOutputs
    }

    async fn process(&mut self, batch: Batch<'_>, out: &mut Output) -> Result<(), StageError> {
        for record in batch.records {
            match serde_json::from_slice::<AlertRecord>(&record.payload) {
                Ok(mut alert) => {
                    consolidate(self.method, &mut alert);
                    out.emit(Topic::ConsolidatedAlerts, alert_record(&alert));
                }
                Err(e) => out.reject(DeadLetter {
                    stage: "fuse".into(),
                    topic: Topic::ModelOutputs.to_string(),
                    partition: record.partition,
                    offset: record.offset,
                    source: "alert".into(),
                    tenant: None,
                    reason: format!("invalid alert record: {e}"),
                    payload: DeadLetter::payload_text(&record.payload),
                }),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_methods() {
        assert!((fuse_scores(Fusion::Max, &[0.3, 0.5]) - 0.5).abs() < 1e-9);
        assert!((fuse_scores(Fusion::NoisyOr, &[0.5, 0.5]) - 0.75).abs() < 1e-9);
        assert_eq!(fuse_scores(Fusion::NoisyOr, &[f64::NAN]), 0.0);
    }
}
