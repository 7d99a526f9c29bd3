//! The API's metrics, each a named function so names and labels live in one place.
//! Names follow `ward_<stage>_<thing>_<unit|total>`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Installs the process-wide Prometheus recorder once and returns its handle (later calls
/// return the same handle).
///
/// # Errors
/// When another recorder was installed by someone else first.
pub fn install() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// One answered HTTP request.
pub fn request(route: &str, status: u16, elapsed: Duration) {
    let (route, status) = (route.to_owned(), status.to_string());
    counter!("ward_api_requests_total", "route" => route.clone(), "status" => status).increment(1);
    histogram!("ward_api_request_duration_seconds", "route" => route).record(elapsed.as_secs_f64());
}

/// Records accepted into `raw_events` and rejected to the dead-letter store.
pub fn events(source: &'static str, tenant: &str, accepted: u64, rejected: u64) {
    if accepted > 0 {
        counter!("ward_ingest_events_accepted_total", "source" => source, "tenant" => tenant.to_owned())
            .increment(accepted);
    }
    if rejected > 0 {
        counter!("ward_ingest_events_rejected_total", "source" => source, "tenant" => tenant.to_owned())
            .increment(rejected);
    }
}

/// Time for one durable append to `raw_events`.
pub fn append(elapsed: Duration, records: usize) {
    histogram!("ward_ingest_append_duration_seconds").record(elapsed.as_secs_f64());
    histogram!("ward_ingest_append_batch_records").record(records as f64);
}

/// A failed authentication, by the check that failed.
pub fn auth_failure(code: &'static str) {
    counter!("ward_ingest_auth_failures_total", "reason" => code).increment(1);
}

/// A request refused with 503 because too many were in flight.
pub fn overloaded() {
    counter!("ward_ingest_overloaded_total").increment(1);
}

/// A request refused with 429.
pub fn rate_limited() {
    counter!("ward_ingest_rate_limited_total").increment(1);
}

/// Requests being processed now.
pub fn in_flight(n: usize) {
    gauge!("ward_ingest_in_flight_requests").set(n as f64);
}

/// Size of one log topic, summed over partitions.
pub fn log_size(topic: &'static str, bytes: u64, records: u64) {
    gauge!("ward_log_size_bytes", "topic" => topic).set(bytes as f64);
    gauge!("ward_log_records", "topic" => topic).set(records as f64);
}

/// A login attempt refused with 429.
pub fn login_rate_limited() {
    counter!("ward_api_login_rate_limited_total").increment(1);
}

/// A login attempt, by outcome (`ok`, `failed`, `rate_limited`).
pub fn login(outcome: &'static str) {
    counter!("ward_api_logins_total", "outcome" => outcome).increment(1);
}

/// An `/api/*` request refused: 401 (`unauthenticated`) or 403 (`forbidden`).
pub fn api_refused(reason: &'static str) {
    counter!("ward_api_refused_total", "reason" => reason).increment(1);
}

/// Connected `/api/stream` WebSocket clients.
pub fn stream_clients(delta: f64) {
    gauge!("ward_api_stream_clients").increment(delta);
}

/// Stream messages a slow WebSocket client missed.
pub fn stream_lagged(skipped: u64) {
    counter!("ward_api_stream_lagged_total").increment(skipped);
}
