//! `GET /api/events` over the `enriched_events` topic (tenant-filtered, time and field
//! filters, bounded scan), `GET /api/deadletter` and `GET /api/telemetry/status`.

use axum::http::Method;
use chrono::{TimeZone, Utc};
use serde_json::json;
use ward_api::identity::Role;
use ward_log::{Log, Record, Topic};
use ward_model::{Event, TenantId};

use crate::api_support::ApiHarness;

async fn put_event(h: &ApiHarness, tenant: &str, minute: u32, ip: &str) {
    let t = TenantId::new(tenant).unwrap();
    let ts = Utc.with_ymd_and_hms(2026, 11, 1, 12, minute, 0).unwrap();
    let mut e = Event::new(&t, "cowrie", &format!(r#"{{"src_ip":"{ip}","m":{minute}}}"#), 0, ts);
    e.set("source.ip", ip.parse::<std::net::IpAddr>().unwrap());
    let record =
        Record { key: None, timestamp_ms: ts.timestamp_millis(), payload: serde_json::to_vec(&e).unwrap() };
    h.log.append(Topic::EnrichedEvents, vec![record]).await.unwrap();
}

#[tokio::test]
async fn event_search_filters_by_tenant_time_and_field() {
    let h = ApiHarness::new().await;
    put_event(&h, "acme", 1, "203.0.113.7").await;
    put_event(&h, "acme", 2, "198.51.100.9").await;
    put_event(&h, "other", 3, "203.0.113.7").await;
    put_event(&h, "acme", 4, "203.0.113.7").await;
    h.log
        .append(
            Topic::EnrichedEvents,
            vec![Record { key: None, timestamp_ms: 0, payload: b"not json".to_vec() }],
        )
        .await
        .unwrap();
    let key = h.key("acme", Role::Analyst).await;

    let (status, page) = h.call(Method::GET, "/api/events?source.ip=203.0.113.7", Some(&key), None).await;
    assert_eq!(status, 200, "{page}");
    let minutes: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e["event"]["original"].as_str().unwrap()).unwrap()["m"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(minutes, [4, 1], "acme's matching events, newest first; never another tenant's");
    assert_eq!(
        (page["scanned"].as_u64(), page["unreadable"].as_u64(), page["complete"].as_bool()),
        (Some(5), Some(1), Some(true))
    );

    let path = "/api/events?from=2026-11-01T12:02:00Z&to=2026-11-01T12:04:00Z";
    let (_, page) = h.call(Method::GET, path, Some(&key), None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, body) = h.call(Method::GET, "/api/events?from=yesterday", Some(&key), None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("bad_request")));
}

#[tokio::test]
async fn the_scan_is_bounded_and_says_so() {
    let h = ApiHarness::with(crate::api_support::Db::Sqlite, |c| c.max_event_scan = 2).await;
    for m in 0..5 {
        put_event(&h, "acme", m, "203.0.113.7").await;
    }
    let key = h.key("acme", Role::Analyst).await;
    let (_, page) = h.call(Method::GET, "/api/events", Some(&key), None).await;
    assert_eq!((page["scanned"].as_u64(), page["complete"].as_bool()), (Some(2), Some(false)));
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn dead_letters_and_status_are_per_tenant() {
    let h = ApiHarness::new().await;
    let lines = [
        json!({ "path": "http:/ingest/cowrie", "line": 1, "offset": 0, "reason": "invalid JSON", "source": "cowrie", "index": 0, "tenant": "acme", "received_ms": 1, "original": "{" }),
        json!({ "path": "http:/ingest/cowrie", "line": 1, "offset": 0, "reason": "invalid JSON", "source": "cowrie", "index": 0, "tenant": "other", "received_ms": 2, "original": "[" }),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(h.dead_letter_path(), text).unwrap();
    h.incident("acme", "i1").await;
    let key = h.key("acme", Role::Analyst).await;
    let (status, body) = h.call(Method::GET, "/api/deadletter", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["tenant"], "acme");

    h.stats.record_events(&TenantId::new("acme").unwrap(), "cowrie", 7, Utc::now());
    h.stats.set_lag("detect", 3);
    let (status, s) = h.call(Method::GET, "/api/telemetry/status", Some(&key), None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!((s["tenant"].as_str(), s["events_total"].as_u64()), (Some("acme"), Some(7)));
    assert_eq!(s["events_by_source"]["cowrie"], 7);
    assert_eq!((s["open_incidents"].as_u64(), s["pipeline_lag"]["detect"].as_u64()), (Some(1), Some(3)));
}
