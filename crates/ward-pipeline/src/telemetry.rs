//! Every metric the pipeline publishes, as named functions (one place to find names and labels).

use std::time::Duration;

use ward_model::{Severity, SignalKind};

/// One acknowledged batch: throughput and latency per stage.
pub fn batch(stage: &'static str, records_in: usize, records_out: usize, took: Duration) {
    metrics::counter!("ward_pipeline_records_in_total", "stage" => stage).increment(records_in as u64);
    metrics::counter!("ward_pipeline_records_out_total", "stage" => stage).increment(records_out as u64);
    metrics::counter!("ward_pipeline_batches_total", "stage" => stage).increment(1);
    metrics::histogram!("ward_pipeline_batch_seconds", "stage" => stage).record(took.as_secs_f64());
}

/// A batch that failed and will be retried.
pub fn stage_error(stage: &'static str) {
    metrics::counter!("ward_pipeline_errors_total", "stage" => stage).increment(1);
}

/// One dead-lettered input record.
pub fn rejected(stage: &'static str, source: &str) {
    metrics::counter!("ward_pipeline_rejected_total", "stage" => stage, "source" => source.to_owned())
        .increment(1);
}

/// Records of a partition not yet acknowledged by a stage.
pub fn lag(stage: &'static str, partition: u32, lag: u64) {
    metrics::gauge!("ward_pipeline_lag_records", "stage" => stage, "partition" => partition.to_string())
        .set(lag as f64);
}

/// One alert emitted by `detect`.
pub fn alert(rule: &str, level: Severity) {
    metrics::counter!("ward_alerts_total", "rule" => rule.to_owned(), "level" => level.as_str()).increment(1);
}

/// One incident opened (`type` is the kind of its first signal).
pub fn incident(kind: SignalKind, severity: Severity) {
    metrics::counter!("ward_incidents_total", "type" => kind.as_str(), "severity" => severity.as_str())
        .increment(1);
}

/// How long one triage took (`type` = `builtin` or `llm`).
pub fn triage(kind: &'static str, took: Duration) {
    metrics::histogram!("ward_triage_duration_seconds", "type" => kind).record(took.as_secs_f64());
}

/// An LLM triage that fell back to the built-in triager.
pub fn triage_fallback(reason: &'static str) {
    metrics::counter!("ward_triage_llm_fallbacks_total", "reason" => reason).increment(1);
}

/// A feature-store call that failed (`op` = `observe`, counting events, or `read`).
pub fn feature_error(op: &'static str, n: usize) {
    metrics::counter!("ward_pipeline_feature_errors_total", "op" => op).increment(n as u64);
}

/// Correlation matches that arrived behind the watermark.
pub fn late_matches(n: u64) {
    metrics::counter!("ward_detect_late_matches_total").increment(n);
}
