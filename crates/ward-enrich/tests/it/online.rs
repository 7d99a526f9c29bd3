//! Online lookups against a local mock of AbuseIPDB v2 and VirusTotal v3.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use ward_enrich::{EnrichChain, EnrichConfig};
use ward_model::{Event, FieldValue};

use crate::common::cowrie;

const ABUSE_KEY: &str = "abuse-secret-key-1234";
const VT_KEY: &str = "vt-secret-key-5678";

#[derive(Clone, Default)]
struct Mock {
    requests: Arc<AtomicUsize>,
}

async fn abuse(
    State(m): State<Mock>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    m.requests.fetch_add(1, Ordering::SeqCst);
    if headers.get("Key").and_then(|v| v.to_str().ok()) != Some(ABUSE_KEY) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let ip = q.iter().find(|(k, _)| k == "ipAddress").map(|(_, v)| v.clone()).unwrap_or_default();
    let score = if ip == "198.51.100.1" { 90 } else { 3 };
    axum::Json(json!({"data": {"ipAddress": ip, "abuseConfidenceScore": score, "countryCode": "NL", "isTor": false, "totalReports": 12}}))
        .into_response()
}

async fn vt_ip(State(m): State<Mock>, headers: HeaderMap, Path(ip): Path<String>) -> Response {
    m.requests.fetch_add(1, Ordering::SeqCst);
    if headers.get("x-apikey").and_then(|v| v.to_str().ok()) != Some(VT_KEY) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let malicious = if ip == "198.51.100.1" { 7 } else { 0 };
    axum::Json(json!({"data": {"attributes": {"reputation": -20, "last_analysis_stats": {"malicious": malicious, "suspicious": 0, "harmless": 60, "undetected": 20}}}}))
        .into_response()
}

async fn slow(State(m): State<Mock>) -> Response {
    m.requests.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    axum::Json(json!({"data": {"abuseConfidenceScore": 100}})).into_response()
}

async fn serve(mock: Mock) -> SocketAddr {
    let app = Router::new()
        .route("/api/v2/check", get(abuse))
        .route("/api/v3/ip_addresses/{ip}", get(vt_ip))
        .route("/slow/api/v2/check", get(slow))
        .with_state(mock);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn event(ip: &str) -> Event {
    let mut e = cowrie().remove(3);
    e.set("source.ip", ip.parse::<IpAddr>().unwrap());
    e
}

fn config(body: &str) -> EnrichConfig {
    toml::from_str(&format!("[dedupe]\nenabled = false\n[sessionize]\nenabled = false\n{body}")).unwrap()
}

fn feeds(e: &Event) -> Vec<String> {
    match e.get("threat.enrichments") {
        Some(FieldValue::Json(v)) => {
            v.as_array().unwrap().iter().map(|i| i["feed"].as_str().unwrap().to_owned()).collect()
        }
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_arrive_in_the_background_and_enrich_later_events_from_the_cache() {
    let mock = Mock::default();
    let addr = serve(mock.clone()).await;
    let warning = ward_testkit::shared("reference/threat_intel/misp_warninglists/public-dns-v4.json");
    let warning =
        warning.map(|p| format!("warninglists = [{}]\n", crate::common::lit(&p))).unwrap_or_default();
    let cfg = config(&format!(
        "[online]\nmin_confidence = 50\n{warning}[online.abuseipdb]\napi_key = \"{ABUSE_KEY}\"\nbase_url = \"http://{addr}/\"\nrequests_per_minute = 600\n\
         [online.virustotal]\napi_key = \"{VT_KEY}\"\nbase_url = \"http://{addr}/\"\nrequests_per_minute = 600\n"
    ));
    assert!(!format!("{cfg:?}").contains(ABUSE_KEY), "API keys never appear in debug output");
    let chain = EnrichChain::from_config(&cfg).unwrap();
    let mut worker = chain.take_online_worker().unwrap();
    assert!(chain.take_online_worker().is_none(), "the worker is handed out once");

    let mut batch = vec![event("198.51.100.1"), event("198.51.100.1"), event("127.0.0.1")];
    let stats = chain.enrich(&mut batch);
    assert_eq!(
        (stats.online_queued, stats.online_enriched),
        (2, 0),
        "one lookup per provider, none for loopback"
    );
    assert!(batch.iter().all(|e| feeds(e).is_empty()), "nothing is waited for on the hot path");

    assert_eq!(worker.drain().await, 2);
    let mut later = vec![event("198.51.100.1")];
    let stats = chain.enrich(&mut later);
    assert_eq!((stats.online_queued, stats.online_enriched), (0, 2));
    assert_eq!(feeds(&later[0]), ["abuseipdb", "virustotal"]);
    let Some(FieldValue::Json(items)) = later[0].get("threat.enrichments") else { panic!() };
    assert_eq!(items[0]["confidence"], 90);
    assert_eq!(items[0]["matched"]["type"], "online_lookup");
    assert_eq!(items[1]["confidence"], 100, "7 malicious engines");
    assert_eq!(mock.requests.load(Ordering::SeqCst), 2, "answers are cached");

    // A low score is cached but does not enrich; a warning-listed resolver is never sent.
    let mut batch = vec![event("192.0.2.44"), event("8.8.8.8")];
    let stats = chain.enrich(&mut batch);
    let expect_queued = if warning.is_empty() { 4 } else { 2 };
    assert_eq!(stats.online_queued, expect_queued);
    worker.drain().await;
    let mut again = vec![event("192.0.2.44")];
    assert_eq!(chain.enrich(&mut again).online_enriched, 0);

    let mut alert = crate::attack::alert(&["attack.t1110"]);
    alert.entities.insert("source.ip".into(), vec!["198.51.100.1".into()]);
    chain.enrich_alert(&mut alert);
    assert_eq!(alert.details["online"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_a_full_queue_are_counted_and_failures_not_cached() {
    let mock = Mock::default();
    let addr = serve(mock.clone()).await;
    let cfg = config(&format!(
        "[online]\nqueue = 1\n[online.abuseipdb]\napi_key = \"{ABUSE_KEY}\"\nbase_url = \"http://{addr}/slow/\"\ntimeout_ms = 200\n\
         [online.virustotal]\napi_key = \"{VT_KEY}\"\nbase_url = \"http://{addr}/\"\n"
    ));
    let chain = EnrichChain::from_config(&cfg).unwrap();
    let mut worker = chain.take_online_worker().unwrap();
    let mut batch = vec![event("198.51.100.1")];
    let stats = chain.enrich(&mut batch);
    assert_eq!(
        (stats.online_queued, stats.online_dropped),
        (1, 1),
        "queue of one: the second lookup is dropped"
    );
    assert_eq!(worker.drain().await, 1);
    let mut batch = vec![event("198.51.100.1")];
    let stats = chain.enrich(&mut batch);
    assert_eq!(stats.online_enriched, 0);
    assert_eq!(stats.online_queued, 1, "a timed-out lookup is not cached and is asked again");
    assert_eq!(mock.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_api_key_enriches_nothing_and_is_asked_again() {
    let mock = Mock::default();
    let addr = serve(mock.clone()).await;
    let cfg = config(&format!("[online.virustotal]\napi_key = \"wrong\"\nbase_url = \"http://{addr}/\"\n"));
    let chain = EnrichChain::from_config(&cfg).unwrap();
    let mut worker = chain.take_online_worker().unwrap();
    let mut batch = vec![event("198.51.100.1")];
    assert_eq!(chain.enrich(&mut batch).online_queued, 1);
    worker.drain().await;
    let mut batch = vec![event("198.51.100.1")];
    let stats = chain.enrich(&mut batch);
    assert_eq!((stats.online_enriched, stats.online_queued), (0, 1));
    assert_eq!(mock.requests.load(Ordering::SeqCst), 1);
}

#[test]
fn bad_online_config_is_rejected_with_the_key_named() {
    let cfg = config("[online.abuseipdb]\napi_key = \"k\"\nbase_url = \"not a url\"\n");
    let err = EnrichChain::from_config(&cfg).unwrap_err().to_string();
    assert!(err.contains("online.abuseipdb") && err.contains("base_url"), "{err}");
    let cfg = config("[online.virustotal]\napi_key = \"k\"\nrequests_per_minute = 0\n");
    let err = EnrichChain::from_config(&cfg).unwrap_err().to_string();
    assert!(err.contains("requests_per_minute"), "{err}");
}
