//! Context routes: ATT&CK coverage of the loaded rules and one entity's online features.

use axum::http::Method;
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

#[tokio::test]
async fn coverage_lists_tactics_and_counts_the_rules_techniques() {
    let h = ApiHarness::new().await;
    let viewer = h.key("acme", Role::Viewer).await;
    let (status, body) = h.call(Method::GET, "/api/attack/coverage", Some(&viewer), None).await;
    assert_eq!(status, 200, "{body}");
    let tactics = body["tactics"].as_array().unwrap();
    assert!(tactics.len() >= 10, "{body}");
    assert!(tactics.iter().any(|t| t["name"] == "Credential Access"), "{body}");
    assert_eq!(body["covered"], 2, "T1110 and T1059 (T1110.001 counts as T1110): {body}");
    assert_eq!(body["unknown"], serde_json::json!(["T9999"]), "{body}");
}

#[tokio::test]
async fn observed_events_show_in_the_tenants_features_only() {
    let h = ApiHarness::new().await;
    let acme = ward_model::TenantId::new("acme").unwrap();
    let ts = chrono::Utc::now() - chrono::Duration::seconds(30);
    let events: Vec<ward_model::Event> = (0..3)
        .map(|n| {
            let mut e = ward_model::Event::new(&acme, "cowrie", &format!("login {n}"), 0, ts);
            e.set("source.ip", "198.51.100.4".parse::<std::net::IpAddr>().unwrap());
            e.set("event.outcome", "failure");
            e.set("user.name", format!("user{n}"));
            e
        })
        .collect();
    h.features.observe_batch(&acme, &events).await.unwrap();
    let path = "/api/entities/source.ip/198.51.100.4/features";
    let (status, body) = h.call(Method::GET, path, Some(&h.key("acme", Role::Viewer).await), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["last_seen"].is_string(), "{body}");
    let features = body["features"].as_object().unwrap();
    assert!(features.values().any(|v| v.as_f64() == Some(3.0)), "three events counted: {body}");
    let (status, other) = h.call(Method::GET, path, Some(&h.key("globex", Role::Viewer).await), None).await;
    assert_eq!(status, 200, "{other}");
    assert!(other["last_seen"].is_null(), "another tenant sees nothing: {other}");
}

#[tokio::test]
async fn entity_features_answer_the_vector_or_400_for_bad_input() {
    let h = ApiHarness::new().await;
    let viewer = h.key("acme", Role::Viewer).await;
    let (status, body) =
        h.call(Method::GET, "/api/entities/source.ip/203.0.113.7/features", Some(&viewer), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["windows"].is_array(), "{body}");
    let (status, body) = h
        .call(
            Method::GET,
            "/api/entities/source.ip/203.0.113.7/features?at=2026-11-25T12:00:00Z",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for bad in [
        "/api/entities/planet/earth/features",
        "/api/entities/source.ip/203.0.113.7/features?at=yesterday",
        "/api/entities/source.ip/203.0.113.7/features?when=now",
    ] {
        let (status, err) = h.call(Method::GET, bad, Some(&viewer), None).await;
        assert_eq!(
            (status.as_u16(), err["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {err}"
        );
    }
}
