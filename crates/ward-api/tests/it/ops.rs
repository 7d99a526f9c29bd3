//! Health, readiness, metrics and the JSON answers for unknown routes.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::sync::Notify;

use crate::fixtures::*;
use crate::support::*;

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn health_and_readiness_reflect_the_log() {
    let h = Harness::new(Arc::new(MemLog::new(1)), |_| {});
    let (status, _) = h.send(get("/health")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, response) = h.send(get("/ready")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(response).await["durability"], "fsync");
    let broken = Arc::new(FaultyLog {
        inner: Arc::new(MemLog::new(1)),
        entered: Notify::new(),
        release: Notify::new(),
        hold: false,
        fail: true,
    });
    let h = Harness::new(broken, |_| {});
    let (status, response) = h.send(get("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["error"]["code"], "not_ready");
    let (status, _) = h.send(get("/health")).await;
    assert_eq!(status, StatusCode::OK, "liveness does not depend on the log");
}

#[tokio::test]
async fn metrics_count_requests_events_latency_and_log_size() {
    let log = Arc::new(MemLog::new(1));
    let h = Harness::new(log, |_| {});
    let dev = h.device("metrics-tenant").await;
    let (status, _) = h.send(signed(&dev, "/ingest/cowrie", format!("{COWRIE_LOGIN}\nbroken\n"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, response) = h.send(get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = text(response).await;
    for needle in [
        r#"ward_api_requests_total{route="/ingest/{source}",status="202"}"#,
        r#"ward_ingest_events_accepted_total{source="cowrie",tenant="metrics-tenant"} 1"#,
        r#"ward_ingest_events_rejected_total{source="cowrie",tenant="metrics-tenant"} 1"#,
        "ward_ingest_append_duration_seconds_bucket",
        r#"ward_log_size_bytes{topic="raw_events"}"#,
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let h = Harness::new(Arc::new(MemLog::new(1)), |_| {});
    let (status, response) = h.send(get("/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(response).await["error"]["code"], "not_found");
    let (status, response) = h.send(get("/ingest/cowrie")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json(response).await["error"]["code"], "method_not_allowed");
}
