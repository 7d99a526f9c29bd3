//! Tenant isolation through the HTTP API on both store adapters: tenant B's credentials cannot
//! read, list or modify anything of tenant A — every attempt answers 404 (or an empty list),
//! exactly like a missing object, and tenant A's incident is unchanged afterwards.

use axum::http::Method;
use serde_json::json;
use ward_api::identity::Role;

use crate::api_support::{ApiHarness, Db};

async fn tenant_b_cannot_touch_tenant_a(db: Db) {
    let h = ApiHarness::with(db, |_| {}).await;
    let a = h.incident("tenant-a", "a1").await;
    h.incident("tenant-a", "a2").await;
    let key_a = h.key("tenant-a", Role::Admin).await;
    let key_b = h.key("tenant-b", Role::Admin).await;

    let (status, body) = h.call(Method::GET, "/api/incidents/a1", Some(&key_a), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alerts"].as_array().map(Vec::len), Some(2));

    let (status, body) = h.call(Method::GET, "/api/incidents", Some(&key_b), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"], json!([]), "tenant B lists none of A's incidents");
    let (status, body) = h.call(Method::GET, "/api/alerts", Some(&key_b), None).await;
    assert_eq!((status.as_u16(), body["items"].clone()), (200, json!([])));

    let attempts = [
        (Method::GET, "/api/incidents/a1", None),
        (Method::PATCH, "/api/incidents/a1", Some(json!({ "status": "resolved" }))),
        (Method::GET, "/api/incidents/a1/comments", None),
        (Method::POST, "/api/incidents/a1/comments", Some(json!({ "body": "pwned" }))),
        (Method::GET, "/api/incidents/a1/timeline", None),
        (Method::POST, "/api/incidents/a1/merge", Some(json!({ "incidents": ["a2"] }))),
        (Method::POST, "/api/incidents/a1/split", Some(json!({ "alerts": ["a1-a1"] }))),
        (Method::POST, "/api/incidents/a1/labels", Some(json!({ "verdict": "false_positive" }))),
        (Method::GET, "/api/alerts/a1-a1", None),
    ];
    for (method, path, body) in attempts {
        let (status, json) = h.call(method.clone(), path, Some(&key_b), body).await;
        assert_eq!(status, 404, "{method} {path} as tenant B: {json}");
        assert_eq!(json["error"]["code"], "not_found");
    }

    let (_, after) = h.call(Method::GET, "/api/incidents/a1", Some(&key_a), None).await;
    assert_eq!(after["status"], json!(a.status), "tenant B changed nothing");
    let (_, comments) = h.call(Method::GET, "/api/incidents/a1/comments", Some(&key_a), None).await;
    assert_eq!(comments["items"], json!([]));
    let (_, audit) = h.call(Method::GET, "/api/audit", Some(&key_b), None).await;
    assert!(
        audit["items"].as_array().unwrap().iter().all(|r| r["tenant"] == "tenant-b"),
        "tenant B's audit log holds only its own records: {audit}"
    );
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_isolation_on_sqlite() {
    tenant_b_cannot_touch_tenant_a(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_isolation_on_postgres() {
    tenant_b_cannot_touch_tenant_a(Db::Postgres).await;
}
