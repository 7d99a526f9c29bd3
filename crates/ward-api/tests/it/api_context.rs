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
