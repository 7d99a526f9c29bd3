//! Admission control: rate limits (429), overload (503) and log failures (503), each with
//! `Retry-After`, and nothing acknowledged that is not durable.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use tokio::sync::Notify;

use crate::fixtures::*;
use crate::support::*;

#[tokio::test]
async fn an_empty_token_bucket_answers_429_with_retry_after() {
    let log = Arc::new(MemLog::new(1));
    let h = Harness::new(log.clone(), |s| {
        s.ingest.rate_limit_events_per_sec = 1;
        s.ingest.rate_limit_burst = 10;
    });
    let dev = h.device("acme").await;
    let other = h.device("acme").await;
    let (status, _) = h.send(signed(&dev, "/ingest/cowrie", cowrie_ndjson(10))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", cowrie_ndjson(2))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "retry after {retry}");
    assert_eq!(json(response).await["error"]["code"], "rate_limited");
    let (status, _) = h.send(signed(&other, "/ingest/cowrie", cowrie_ndjson(10))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "buckets are per device");
    let (status, response) = h.send(signed(&other, "/ingest/cowrie", cowrie_ndjson(11))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "a batch over the burst can never pass");
    assert_eq!(json(response).await["error"]["code"], "batch_over_burst");
    assert_eq!(log.raw_events().len(), 20);
}

fn faulty(hold: bool, fail: bool) -> Arc<FaultyLog> {
    Arc::new(FaultyLog {
        inner: Arc::new(MemLog::new(1)),
        entered: Notify::new(),
        release: Notify::new(),
        hold,
        fail,
    })
}

#[tokio::test]
async fn requests_beyond_the_in_flight_limit_get_503_at_once() {
    let log = faulty(true, false);
    let h = Harness::new(log.clone(), |s| {
        s.ingest.max_in_flight = 1;
        s.ingest.overload_retry_after_secs = 3;
    });
    let dev = h.device("acme").await;
    let first = tokio::spawn(h.app.clone().oneshot_owned(signed(&dev, "/ingest/cowrie", COWRIE_LOGIN)));
    log.entered.notified().await;
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", COWRIE_CONNECT)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "3");
    assert_eq!(json(response).await["error"]["code"], "overloaded");
    assert!(log.inner.raw_events().is_empty(), "nothing is durable before the slow append ends");
    log.release.notify_one();
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::ACCEPTED);
    log.release.notify_one();
    let (status, _) = h.send(signed(&dev, "/ingest/cowrie", COWRIE_CONNECT)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the permit is released after the answer");
    assert_eq!(log.inner.raw_events().len(), 2);
}

#[tokio::test]
async fn a_failed_append_is_503_and_never_acknowledged() {
    let log = faulty(false, true);
    let h = Harness::new(log.clone(), |_| {});
    let dev = h.device("acme").await;
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", COWRIE_LOGIN)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let body = json(response).await;
    assert_eq!(body["error"]["code"], "log_unavailable");
    assert!(body.get("accepted").is_none());
}

/// Keeps the owned-oneshot call readable.
trait OneshotOwned {
    fn oneshot_owned(
        self,
        request: axum::http::Request<axum::body::Body>,
    ) -> impl std::future::Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send;
}

impl OneshotOwned for axum::Router {
    fn oneshot_owned(
        self,
        request: axum::http::Request<axum::body::Body>,
    ) -> impl std::future::Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send
    {
        tower::ServiceExt::oneshot(self, request)
    }
}
