//! Login, the session cookie, logout, failed-login auditing and login rate limiting.

use axum::http::{Method, header};
use serde_json::json;
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

fn login_body(password: &str) -> serde_json::Value {
    json!({ "tenant": "acme", "name": "alice", "password": password })
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_that_works_until_logout() {
    let h = ApiHarness::new().await;
    h.user("acme", "alice", Role::Analyst, "correct horse battery").await;
    let (status, headers, body) = h
        .call_full(Method::POST, "/api/auth/login", None, &[], Some(login_body("correct horse battery")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["user"].as_str(), body["role"].as_str()), (Some("alice"), Some("analyst")));
    let set_cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("ward_session=acme."), "{set_cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attr), "{attr} missing: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "no Secure without TLS: {set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let (status, _, me) = h.call_full(Method::GET, "/api/auth/me", None, &[("cookie", &cookie)], None).await;
    assert_eq!(status, 200);
    assert_eq!((me["tenant"].as_str(), me["subject"].as_str()), (Some("acme"), Some("alice")));
    assert_eq!(me["credential"]["kind"], "session");

    let (status, headers, _) =
        h.call_full(Method::POST, "/api/auth/logout", None, &[("cookie", &cookie)], None).await;
    assert_eq!(status, 200);
    assert!(headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (status, _, body) =
        h.call_full(Method::GET, "/api/auth/me", None, &[("cookie", &cookie)], None).await;
    assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (401, Some("unauthenticated")));

    let admin = h.key("acme", Role::Admin).await;
    let (_, audit) = h.call(Method::GET, "/api/audit?limit=100", Some(&admin), None).await;
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|r| r["action"].as_str()).collect();
    assert!(actions.contains(&"auth.login") && actions.contains(&"auth.logout"), "{actions:?}");
}

#[tokio::test]
async fn a_session_of_one_tenant_does_not_open_another() {
    let h = ApiHarness::new().await;
    h.user("acme", "alice", Role::Admin, "correct horse battery").await;
    let (_, headers, _) = h
        .call_full(Method::POST, "/api/auth/login", None, &[], Some(login_body("correct horse battery")))
        .await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let forged = cookie.replace("ward_session=acme.", "ward_session=other.");
    let (status, _, _) = h.call_full(Method::GET, "/api/auth/me", None, &[("cookie", &forged)], None).await;
    assert_eq!(status, 401, "the token is bound to its tenant");
}

#[tokio::test]
async fn wrong_passwords_are_refused_audited_and_rate_limited() {
    let h = ApiHarness::with(crate::api_support::Db::Sqlite, |c| c.login_attempts_per_user_per_min = 3).await;
    h.user("acme", "alice", Role::Analyst, "correct horse battery").await;
    for _ in 0..3 {
        let (status, headers, body) =
            h.call_full(Method::POST, "/api/auth/login", None, &[], Some(login_body("wrong"))).await;
        assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (401, Some("invalid_credentials")));
        assert!(headers.get(header::SET_COOKIE).is_none());
    }
    let (status, headers, body) = h
        .call_full(Method::POST, "/api/auth/login", None, &[], Some(login_body("correct horse battery")))
        .await;
    assert_eq!(status, 429, "even the right password waits once the bucket is empty: {body}");
    assert_eq!(body["error"]["code"], "login_rate_limited");
    assert!(headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);

    let (status, _, _) = h
        .call_full(
            Method::POST,
            "/api/auth/login",
            None,
            &[],
            Some(json!({ "tenant": "acme", "name": "bob", "password": "x" })),
        )
        .await;
    assert_eq!(status, 401, "another account has its own bucket");

    let admin = h.key("acme", Role::Admin).await;
    let (_, audit) = h.call(Method::GET, "/api/audit?action=auth.login_failed", Some(&admin), None).await;
    let failed = audit["items"].as_array().unwrap();
    assert_eq!(failed.len(), 4, "three for alice, one for bob: {audit}");
    assert!(failed.iter().all(|r| !r.to_string().contains("wrong")), "no password in the audit log");
}

#[tokio::test]
async fn api_key_use_is_audited_once_per_key_per_minute() {
    let h = ApiHarness::new().await;
    let key = h.key("acme", Role::Viewer).await;
    for _ in 0..5 {
        let (status, _) = h.call(Method::GET, "/api/incidents", Some(&key), None).await;
        assert_eq!(status, 200);
    }
    let admin = h.key("acme", Role::Admin).await;
    let (_, audit) = h.call(Method::GET, "/api/audit?action=apikey.use", Some(&admin), None).await;
    let uses = audit["items"].as_array().unwrap();
    assert_eq!(uses.len(), 2, "one for the viewer key, one for the admin key: {audit}");
}
