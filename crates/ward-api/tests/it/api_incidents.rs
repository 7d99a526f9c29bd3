//! Incident routes through the API: the contract's fields, filters and cursor pagination,
//! lifecycle enforcement (409 with the reason), and the audit trail of every change.

use axum::http::Method;
use serde_json::json;
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

#[tokio::test]
async fn incidents_list_with_contract_fields_filters_and_cursor() {
    let h = ApiHarness::new().await;
    for id in ["i1", "i2", "i3"] {
        h.incident("acme", id).await;
    }
    let key = h.key("acme", Role::Viewer).await;
    let (status, page) =
        h.call(Method::GET, "/api/incidents?limit=2&sort=created_asc", Some(&key), None).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for field in [
        "id",
        "status",
        "severity",
        "score",
        "title",
        "entities",
        "alert_count",
        "verdict",
        "confidence",
        "reasoning",
        "created_at",
        "updated_at",
    ] {
        assert!(items[0].get(field).is_some(), "incident lacks `{field}`: {}", items[0]);
    }
    assert_eq!(items[0]["entities"]["source.ip"], json!(["203.0.113.7"]));
    assert_eq!(items[0]["alert_count"], 2);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let (_, next) = h
        .call(
            Method::GET,
            &format!("/api/incidents?limit=2&sort=created_asc&cursor={cursor}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert_eq!(next["next_cursor"], json!(null));

    let (_, filtered) = h.call(Method::GET, "/api/incidents?status=resolved", Some(&key), None).await;
    assert_eq!(filtered["items"], json!([]));
    let (_, filtered) =
        h.call(Method::GET, "/api/incidents?severity=high&min_score=0.7&q=i2", Some(&key), None).await;
    let ids: Vec<&str> =
        filtered["items"].as_array().unwrap().iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, ["i2"]);
    let (status, body) = h.call(Method::GET, "/api/incidents?status=bogus", Some(&key), None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("bad_request")));
}

#[tokio::test]
async fn an_invalid_transition_answers_409_with_the_reason_and_changes_nothing() {
    let h = ApiHarness::new().await;
    h.incident("acme", "i1").await;
    let key = h.key("acme", Role::Analyst).await;
    let (status, body) =
        h.call(Method::PATCH, "/api/incidents/i1", Some(&key), Some(json!({ "status": "duplicate" }))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        h.call(Method::PATCH, "/api/incidents/i1", Some(&key), Some(json!({ "status": "new" }))).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "invalid_transition");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("duplicate") && message.contains("none (final)"), "{message}");
    let (_, now) = h.call(Method::GET, "/api/incidents/i1", Some(&key), None).await;
    assert_eq!(now["status"], "duplicate");
}

#[tokio::test]
async fn every_change_is_audited_with_actor_action_and_target() {
    let h = ApiHarness::new().await;
    h.incident("acme", "i1").await;
    h.incident("acme", "i2").await;
    let key = h.key("acme", Role::Analyst).await;
    let patch = json!({ "status": "in_progress", "assignee": "alice", "severity": "critical" });
    let (status, body) = h.call(Method::PATCH, "/api/incidents/i1", Some(&key), Some(patch)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["assignee"].as_str(), body["severity"].as_str()), (Some("alice"), Some("critical")));
    let (status, _) = h
        .call(Method::POST, "/api/incidents/i1/comments", Some(&key), Some(json!({ "body": "on it" })))
        .await;
    assert_eq!(status, 201);
    let (status, body) = h
        .call(Method::POST, "/api/incidents/i1/merge", Some(&key), Some(json!({ "incidents": ["i2"] })))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alert_count"], 4);
    let (status, body) = h
        .call(Method::POST, "/api/incidents/i1/split", Some(&key), Some(json!({ "alerts": ["i2-a1"] })))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = h
        .call(
            Method::POST,
            "/api/incidents/i1/labels",
            Some(&key),
            Some(json!({ "verdict": "true_positive" })),
        )
        .await;
    assert_eq!(status, 201);
    let (_, timeline) = h.call(Method::GET, "/api/incidents/i1/timeline", Some(&key), None).await;
    assert!(timeline["items"].as_array().unwrap().len() >= 5, "{timeline}");

    let admin = h.key("acme", Role::Admin).await;
    let (_, audit) = h.call(Method::GET, "/api/audit?limit=100", Some(&admin), None).await;
    let records = audit["items"].as_array().unwrap();
    for action in
        ["incident.update", "incident.comment", "incident.merge", "incident.split", "incident.label"]
    {
        let r =
            records.iter().find(|r| r["action"] == action).unwrap_or_else(|| panic!("{action} not audited"));
        assert_eq!(r["target"], "incident:i1");
        assert!(r["actor"].as_str().unwrap().starts_with("apikey:"), "{r}");
    }
}

#[tokio::test]
async fn bad_bodies_answer_json_errors() {
    let h = ApiHarness::new().await;
    h.incident("acme", "i1").await;
    let key = h.key("acme", Role::Analyst).await;
    let (status, body) =
        h.call(Method::PATCH, "/api/incidents/i1", Some(&key), Some(json!({ "colour": "red" }))).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (400, Some("bad_request")));
    let (status, body) = h.call(Method::PATCH, "/api/incidents/i1", Some(&key), Some(json!({}))).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (422, Some("invalid_request")));
    let (status, body) = h.call(Method::GET, "/api/incidents/nope", Some(&key), None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (404, Some("not_found")));
}
