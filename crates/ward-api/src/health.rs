//! Liveness, readiness, metrics, and the JSON answers for unknown routes and methods.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use ward_log::Topic;

use crate::error::ApiError;
use crate::state::AppState;
use crate::telemetry;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /health`: the process answers.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: the log answers a stats call in time.
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let not_ready = |reason: String| ApiError::unavailable("not_ready", reason, state.retry_after());
    match tokio::time::timeout(READY_TIMEOUT, state.log().stats(Topic::RawEvents)).await {
        Ok(Ok(_)) => Ok(Json(json!({ "status": "ready", "durability": state.log().durability() }))),
        Ok(Err(e)) => Err(not_ready(format!("event log unavailable: {e}"))),
        Err(_) => Err(not_ready(format!("event log did not answer within {READY_TIMEOUT:?}"))),
    }
}

/// `GET /metrics`: Prometheus text, with log sizes refreshed first.
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    for topic in Topic::ALL {
        match state.log().stats(topic).await {
            Ok(parts) => {
                let bytes = parts.iter().map(|p| p.bytes).sum();
                let records = parts.iter().map(|p| p.next_offset.saturating_sub(p.first_offset)).sum();
                telemetry::log_size(topic.as_str(), bytes, records);
            }
            Err(e) => tracing::warn!(topic = %topic, error = %e, "log stats unavailable for metrics"),
        }
    }
    state.0.metrics.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.0.metrics.render())
}

/// Any unknown path.
pub(crate) async fn not_found() -> impl IntoResponse {
    let body = json!({ "error": { "code": "not_found", "message": "no such route" } });
    (StatusCode::NOT_FOUND, Json(body))
}

/// A known path with another method.
pub(crate) async fn method_not_allowed() -> impl IntoResponse {
    let body =
        json!({ "error": { "code": "method_not_allowed", "message": "method not allowed on this route" } });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body))
}
