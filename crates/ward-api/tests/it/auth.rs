//! Device authentication: each failed check answers 401 with a code naming it.

use std::sync::Arc;

use axum::http::{Request, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use ward_api::registry::{DeviceId, DeviceStore};
use ward_log::{Log, Topic};

use crate::fixtures::*;
use crate::support::*;

fn harness() -> (Harness, Arc<MemLog>) {
    let log = Arc::new(MemLog::new(1));
    (Harness::new(log.clone(), |_| {}), log)
}

async fn expect_401(h: &Harness, request: Request<axum::body::Body>, code: &str) -> serde_json::Value {
    let (status, response) = h.send(request).await;
    let body = json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body
}

#[tokio::test]
async fn a_signed_request_is_acknowledged_with_offsets_after_the_append() {
    let (h, log) = harness();
    let dev = h.device("acme").await;
    let body = format!("{COWRIE_LOGIN}\n{COWRIE_CONNECT}\n");
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", body)).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["rejected"], 0);
    assert_eq!(answer["first_offset"], 0);
    assert_eq!(answer["last_offset"], 1);
    assert_eq!(answer["errors"], serde_json::json!([]));
    let stored = log.raw_events();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["tenant"], "acme", "the device decides the tenant");
    assert_eq!(stored[0]["source"], "cowrie");
    assert_eq!(stored[0]["device_id"], dev.id.as_str());
    assert_eq!(stored[0]["original"], COWRIE_LOGIN, "kept verbatim");
    assert_eq!(log.keys(), ["203.0.113.7", "198.51.100.23"], "keyed by source.ip");
    let (status, _) = h.send(signed(&dev, "/ingest/cowrie", COWRIE_LOGIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(log.stats(Topic::RawEvents).await.unwrap()[0].next_offset, 3);
}

#[tokio::test]
async fn a_signature_made_with_another_key_is_refused_without_leaking_the_secret() {
    let (h, log) = harness();
    let dev = h.device("acme").await;
    let forged = Dev { id: dev.id.clone(), secret: SecretString::from("0".repeat(64)) };
    let body = expect_401(&h, signed(&forged, "/ingest/cowrie", COWRIE_LOGIN), "auth_bad_signature").await;
    assert!(!body.to_string().contains(dev.secret.expose_secret()));
    assert!(log.raw_events().is_empty());
}

#[tokio::test]
async fn the_signature_covers_body_and_path() {
    let (h, _) = harness();
    let dev = h.device("acme").await;
    let mut tampered = signed(&dev, "/ingest/cowrie", COWRIE_LOGIN);
    *tampered.body_mut() = COWRIE_CONNECT.into();
    expect_401(&h, tampered, "auth_bad_signature").await;
    let mut moved = signed(&dev, "/ingest/cowrie", EVE_DNS);
    *moved.uri_mut() = "/ingest/suricata".parse().unwrap();
    expect_401(&h, moved, "auth_bad_signature").await;
    let mut with_query = signed(&dev, "/ingest/cowrie", COWRIE_LOGIN);
    *with_query.uri_mut() = "/ingest/cowrie?batch=7".parse().unwrap();
    let (status, _) = h.send(with_query).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the query string is not signed");
}

#[tokio::test]
async fn unknown_and_disabled_devices_are_refused() {
    let (h, _) = harness();
    let ghost = Dev { id: "dev-000000000000000000000000".into(), secret: SecretString::from("x") };
    expect_401(&h, signed(&ghost, "/ingest/cowrie", COWRIE_LOGIN), "auth_unknown_device").await;
    let dev = h.device("acme").await;
    h.devices.set_disabled(&DeviceId::parse(&dev.id).unwrap(), true).await.unwrap();
    expect_401(&h, signed(&dev, "/ingest/cowrie", COWRIE_LOGIN), "auth_device_disabled").await;
    h.devices.set_disabled(&DeviceId::parse(&dev.id).unwrap(), false).await.unwrap();
    let (status, _) = h.send(signed(&dev, "/ingest/cowrie", COWRIE_LOGIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "re-enabled devices are accepted again");
}

#[tokio::test]
async fn a_nonce_is_accepted_once() {
    let (h, log) = harness();
    let dev = h.device("acme").await;
    let (status, _) = h.send(signed_nonce(&dev, "/ingest/cowrie", COWRIE_LOGIN, "nonce-0001")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    expect_401(&h, signed_nonce(&dev, "/ingest/cowrie", COWRIE_LOGIN, "nonce-0001"), "auth_replayed_nonce")
        .await;
    assert_eq!(log.raw_events().len(), 1, "the replay appended nothing");
    let (status, _) = h.send(signed_nonce(&dev, "/ingest/cowrie", COWRIE_LOGIN, "nonce-0002")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_forged_request_does_not_burn_the_nonce() {
    let (h, _) = harness();
    let dev = h.device("acme").await;
    let forged = Dev { id: dev.id.clone(), secret: SecretString::from("wrong") };
    expect_401(&h, signed_nonce(&forged, "/ingest/cowrie", COWRIE_LOGIN, "nonce-aaaa"), "auth_bad_signature")
        .await;
    let (status, _) = h.send(signed_nonce(&dev, "/ingest/cowrie", COWRIE_LOGIN, "nonce-aaaa")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn stale_and_future_timestamps_beyond_the_skew_are_refused() {
    let (h, _) = harness();
    let dev = h.device("acme").await;
    let stale =
        expect_401(&h, signed_at(&dev, "/ingest/cowrie", COWRIE_LOGIN, now() - 301), "auth_clock_skew").await;
    assert!(stale["error"]["message"].as_str().unwrap().contains("300 s"), "{stale}");
    expect_401(&h, signed_at(&dev, "/ingest/cowrie", COWRIE_LOGIN, now() + 400), "auth_clock_skew").await;
    let (status, _) = h.send(signed_at(&dev, "/ingest/cowrie", COWRIE_LOGIN, now() - 250)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "inside the window is fine");
}

#[tokio::test]
async fn missing_or_malformed_headers_are_named() {
    let (h, _) = harness();
    let dev = h.device("acme").await;
    let mut request = signed(&dev, "/ingest/cowrie", COWRIE_LOGIN);
    request.headers_mut().remove("x-nonce");
    let body = expect_401(&h, request, "auth_missing_header").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("X-Nonce"));
    let mut request = signed(&dev, "/ingest/cowrie", COWRIE_LOGIN);
    request.headers_mut().insert("x-ts", "yesterday".parse().unwrap());
    expect_401(&h, request, "auth_bad_timestamp").await;
    let body = axum::body::Bytes::from(COWRIE_LOGIN);
    let short = ward_api::signing::sign_with_nonce(
        &dev.id,
        &dev.secret,
        "POST",
        "/ingest/cowrie",
        &body,
        now(),
        "n1",
    );
    expect_401(&h, build("/ingest/cowrie", body, short.pairs()), "auth_bad_nonce").await;
}
