//! Bodies: formats, encodings, limits, per-record verdicts and dead letters.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use ward_api::crypto::SigningKey;

use crate::fixtures::*;
use crate::support::*;

fn harness_with(configure: impl FnOnce(&mut ward_api::Settings)) -> (Harness, Arc<MemLog>) {
    let log = Arc::new(MemLog::new(1));
    (Harness::new(log.clone(), configure), log)
}

#[tokio::test]
async fn gzip_bodies_are_signed_as_sent_and_decoded() {
    let (h, log) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let mut request = signed(&dev, "/ingest/cowrie", gzip(cowrie_ndjson(50).as_bytes()));
    request.headers_mut().insert("content-encoding", "gzip".parse().unwrap());
    let (status, response) = h.send(request).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 50);
    assert_eq!(log.raw_events()[49]["original"], COWRIE_LOGIN.replace("db4f42456091", "s00000000049"));
}

#[tokio::test]
async fn bodies_over_the_limits_are_413() {
    let (h, log) = harness_with(|s| {
        s.server.max_body_bytes = 4096;
        s.server.max_decompressed_bytes = 8192;
    });
    let dev = h.device("acme").await;
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", cowrie_ndjson(30))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["error"]["code"], "body_too_large");
    let bomb = gzip(&vec![b' '; 100_000]);
    assert!(bomb.len() < 4096);
    let mut request = signed(&dev, "/ingest/cowrie", bomb);
    request.headers_mut().insert("content-encoding", "gzip".parse().unwrap());
    let (status, response) = h.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["error"]["code"], "decompressed_too_large");
    assert!(log.raw_events().is_empty());
}

#[tokio::test]
async fn bad_records_are_rejected_by_index_and_dead_lettered_while_the_rest_is_kept() {
    let (h, log) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let body = format!("{COWRIE_LOGIN}\n{{\"eventid\": \n\n42\n{COWRIE_CONNECT}\n");
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", body)).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!((answer["accepted"].as_u64(), answer["rejected"].as_u64()), (Some(2), Some(2)), "{answer}");
    let indexes: Vec<_> =
        answer["errors"].as_array().unwrap().iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [1, 2]);
    assert!(answer["errors"][0]["reason"].as_str().unwrap().contains("JSON"), "{answer}");
    assert_eq!(log.raw_events().len(), 2);
    let dead = h.dead_letters();
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0]["index"], 1);
    assert_eq!(dead[0]["path"], "http:/ingest/cowrie");
    assert_eq!(dead[0]["tenant"], "acme");
    assert_eq!(dead[0]["device_id"], dev.id.as_str());
    assert_eq!(dead[0]["line"], 2);
    assert!(dead[0]["original"].as_str().unwrap().starts_with("{\"eventid\""), "{}", dead[0]);
}

#[tokio::test]
async fn an_all_rejected_batch_is_still_202_with_nothing_appended() {
    let (h, log) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let (status, response) = h.send(signed(&dev, "/ingest/suricata", "not json\nnor this\n")).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 0);
    assert_eq!(answer["rejected"], 2);
    assert!(answer["first_offset"].is_null() && answer["last_offset"].is_null());
    assert!(log.raw_events().is_empty());
    assert_eq!(h.dead_letters().len(), 2);
}

#[tokio::test]
async fn json_arrays_and_plain_syslog_lines_are_accepted() {
    let (h, log) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let (status, response) =
        h.send(signed(&dev, "/ingest/suricata", format!("[{EVE_DNS},\n {EVE_DNS}]"))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(json(response).await["accepted"], 2);
    let (status, response) =
        h.send(signed(&dev, "/ingest/syslog", format!("{SYSLOG_SSHD}\r\n{SYSLOG_SSHD}\n"))).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 2);
    assert_eq!(answer["first_offset"], 2);
    let stored = log.raw_events();
    assert_eq!(stored[2]["original"], SYSLOG_SSHD);
    assert_eq!(stored[2]["source"], "syslog");
}

#[tokio::test]
async fn unknown_and_unsupported_sources_and_empty_bodies_are_clear_errors() {
    let (h, _) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let (status, response) = h.send(signed(&dev, "/ingest/netscreen", COWRIE_LOGIN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = json(response).await;
    assert_eq!(body["error"]["code"], "unknown_source");
    assert!(body["error"]["message"].as_str().unwrap().contains("cowrie"), "lists the known ones");
    let (status, response) = h.send(signed(&dev, "/ingest/evtx", "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"]["code"], "unsupported_source");
    let (status, response) = h.send(signed(&dev, "/ingest/cowrie", "\n \n")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"]["code"], "empty_batch");
}

#[tokio::test]
async fn multi_takes_mixed_sources_and_judges_each_item() {
    let (h, log) = harness_with(|_| {});
    let dev = h.device("acme").await;
    let body = format!(
        r#"{{"events":[{{"source":"cowrie","event":{COWRIE_LOGIN}}},{{"source":"suricata","event":{EVE_DNS}}},{{"source":"syslog","event":{}}},{{"source":"nope","event":{{}}}},{{"event":{{}}}},{{"source":"suricata","event":{{"event_type":"dns"}}}}]}}"#,
        serde_json::to_string(SYSLOG_SSHD).unwrap()
    );
    let (status, response) = h.send(signed(&dev, "/ingest/multi", body)).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["accepted"], 3, "{answer}");
    let errors = answer["errors"].as_array().unwrap();
    let indexes: Vec<_> = errors.iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [3, 4, 5]);
    assert!(errors[0]["reason"].as_str().unwrap().contains("unknown source"), "{answer}");
    let sources: Vec<_> = log.raw_events().iter().map(|e| e["source"].as_str().unwrap().to_owned()).collect();
    assert_eq!(sources, ["cowrie", "suricata", "syslog"]);
    assert_eq!(log.raw_events()[2]["original"], SYSLOG_SSHD, "line formats store the string's text");
    let (status, response) = h.send(signed(&dev, "/ingest/multi", "[]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(response).await["error"]["code"], "bad_request");
}

fn webhook_request(name: &str, body: &str, signature: &str) -> Request<Body> {
    Request::post(format!("/api/webhooks/{name}"))
        .header("X-Ward-Signature", signature)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn webhooks_check_their_shared_secret_signature_and_take_the_configured_tenant() {
    let (h, log) = harness_with(|_| {});
    let good = format!("sha256={}", SigningKey::new(WEBHOOK_SECRET.as_bytes()).sign_hex(EVE_DNS.as_bytes()));
    let (status, response) = h.send(webhook_request("suricata", EVE_DNS, &good)).await;
    let answer = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let stored = log.raw_events();
    assert_eq!(stored[0]["tenant"], "soc");
    assert!(stored[0].get("device_id").is_none());
    let bad = format!("sha256={}", SigningKey::new(b"guess").sign_hex(EVE_DNS.as_bytes()));
    let (status, response) = h.send(webhook_request("suricata", EVE_DNS, &bad)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(response).await["error"]["code"], "auth_bad_signature");
    let (status, response) = h.send(webhook_request("splunk", EVE_DNS, &good)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(response).await["error"]["code"], "unknown_webhook");
    assert_eq!(log.raw_events().len(), 1);
}
