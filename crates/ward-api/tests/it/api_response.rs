//! Response routes: run (dry run, kill switch), approvals (requester rule), rollback, tenant
//! isolation and the 503 answer when the server runs without a responder.

use axum::http::Method;
use serde_json::{Value, json};
use ward_api::identity::Role;

use crate::api_support::{ApiHarness, Db};

fn block(target: &str) -> Value {
    json!({ "kind": "block_ip", "target": target })
}

async fn audit_actions(h: &ApiHarness, admin: &str) -> Vec<String> {
    let (status, page) = h.call(Method::GET, "/api/audit?limit=500", Some(admin), None).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_dry_run_through_the_api_changes_nothing_and_says_dry_run() {
    let h = ApiHarness::new().await;
    let key = h.key("acme", Role::Responder).await;
    let mut body = block("203.0.113.7");
    body["dry_run"] = json!(true);
    let (status, result) = h.call(Method::POST, "/api/actions", Some(&key), Some(body)).await;
    assert_eq!(status, 201, "{result}");
    assert_eq!(result["status"], "dry_run", "{result}");
    assert!(h.block.active.lock().unwrap().is_empty());
    let id = result["id"].as_str().unwrap();
    let (status, record) = h.call(Method::GET, &format!("/api/actions/{id}"), Some(&key), None).await;
    assert_eq!((status.as_u16(), record["mode"].as_str()), (200, Some("dry_run")), "{record}");
    let (status, err) = h.call(Method::POST, &format!("/api/actions/{id}/rollback"), Some(&key), None).await;
    assert_eq!((status.as_u16(), err["error"]["code"].as_str()), (409, Some("conflict")), "{err}");
}

#[tokio::test]
async fn with_the_kill_switch_on_actions_are_denied_and_audited() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let responder = h.key("acme", Role::Responder).await;
    let (status, _) =
        h.call(Method::PUT, "/api/killswitch", Some(&responder), Some(json!({ "on": true }))).await;
    assert_eq!(status, 403, "only an admin may flip the kill switch");
    let (status, on) =
        h.call(Method::PUT, "/api/killswitch", Some(&admin), Some(json!({ "on": true }))).await;
    assert_eq!((status.as_u16(), &on), (200, &json!({ "on": true })));
    let (_, now) = h.call(Method::GET, "/api/killswitch", Some(&responder), None).await;
    assert_eq!(now["on"], true);

    let (status, result) =
        h.call(Method::POST, "/api/actions", Some(&responder), Some(block("203.0.113.9"))).await;
    assert_eq!(status, 201, "{result}");
    assert_eq!(result["status"], "denied", "{result}");
    assert!(result["reason"].as_str().unwrap().contains("kill switch"), "{result}");
    assert!(h.block.active.lock().unwrap().is_empty());

    let actions = audit_actions(&h, &admin).await;
    assert!(actions.contains(&"killswitch.on".to_owned()), "{actions:?}");
    assert!(actions.contains(&"action.request".to_owned()), "{actions:?}");
    let responder_audit: Vec<String> = h.respond_repo.audit_entries().into_iter().map(|e| e.event).collect();
    assert!(responder_audit.contains(&"guard.kill_switch".to_owned()), "{responder_audit:?}");

    h.call(Method::PUT, "/api/killswitch", Some(&admin), Some(json!({ "on": false }))).await;
    let (_, result) =
        h.call(Method::POST, "/api/actions", Some(&responder), Some(block("203.0.113.9"))).await;
    assert_eq!(result["status"], "verified", "{result}");
}

#[tokio::test]
async fn approval_needs_a_responder_who_is_not_the_requester() {
    let h = ApiHarness::new().await;
    let alice = h.key("acme", Role::Responder).await;
    let bob = h.key("acme", Role::Responder).await;
    let analyst = h.key("acme", Role::Analyst).await;
    let mut body = block("203.0.113.10");
    body["approval"] = json!(true);
    let (status, result) = h.call(Method::POST, "/api/actions", Some(&alice), Some(body)).await;
    assert_eq!((status.as_u16(), result["status"].as_str()), (201, Some("pending_approval")), "{result}");
    let id = result["id"].as_str().unwrap().to_owned();

    let (_, pending) = h.call(Method::GET, "/api/approvals?status=pending", Some(&analyst), None).await;
    let ids: Vec<&str> =
        pending["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![id.as_str()]);

    let approve = format!("/api/approvals/{id}/approve");
    let (status, _) = h.call(Method::POST, &approve, Some(&analyst), Some(json!({}))).await;
    assert_eq!(status, 403, "analysts may not approve");
    let (status, err) = h.call(Method::POST, &approve, Some(&alice), Some(json!({}))).await;
    assert_eq!((status.as_u16(), err["error"]["code"].as_str()), (403, Some("forbidden")), "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("may not approve"), "{err}");
    assert!(h.block.active.lock().unwrap().is_empty());

    let (status, done) = h.call(Method::POST, &approve, Some(&bob), Some(json!({}))).await;
    assert_eq!((status.as_u16(), done["status"].as_str()), (200, Some("verified")), "{done}");
    assert!(h.block.active.lock().unwrap().contains("203.0.113.10"));
    let (status, again) = h.call(Method::POST, &approve, Some(&bob), None).await;
    assert_eq!(status, 409, "{again}");

    let (status, undone) =
        h.call(Method::POST, &format!("/api/actions/{id}/rollback"), Some(&bob), None).await;
    assert_eq!((status.as_u16(), undone["status"].as_str()), (200, Some("rolled_back")), "{undone}");
    assert!(h.block.active.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejecting_denies_and_an_incident_rollback_undoes_its_actions() {
    let h = ApiHarness::new().await;
    h.incident("acme", "inc-r").await;
    let alice = h.key("acme", Role::Responder).await;
    let admin = h.key("acme", Role::Admin).await;
    let mut pending = block("203.0.113.20");
    pending["approval"] = json!(true);
    let (_, p) = h.call(Method::POST, "/api/actions", Some(&alice), Some(pending)).await;
    let reject = format!("/api/approvals/{}/reject", p["id"].as_str().unwrap());
    let (status, r) =
        h.call(Method::POST, &reject, Some(&admin), Some(json!({ "reason": "lab address" }))).await;
    assert_eq!((status.as_u16(), r["status"].as_str()), (200, Some("denied")), "{r}");
    assert!(r["reason"].as_str().unwrap().contains("lab address"));

    let mut on_incident = block("203.0.113.21");
    on_incident["incident"] = json!("inc-r");
    let (_, a) = h.call(Method::POST, "/api/actions", Some(&alice), Some(on_incident)).await;
    assert_eq!(a["status"], "verified", "{a}");
    let (status, rolled) = h.call(Method::POST, "/api/incidents/inc-r/rollback", Some(&alice), None).await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["items"][0]["status"], "rolled_back", "{rolled}");
    let (status, _) = h.call(Method::POST, "/api/incidents/nope/rollback", Some(&alice), None).await;
    assert_eq!(status, 404);
    let mut unknown = block("203.0.113.22");
    unknown["incident"] = json!("nope");
    let (status, _) = h.call(Method::POST, "/api/actions", Some(&alice), Some(unknown)).await;
    assert_eq!(status, 404, "an action on an unknown incident");
    let (status, err) = h.call(Method::POST, "/api/actions", Some(&alice), Some(block(""))).await;
    assert_eq!(status, 422, "{err}");
    let (status, err) = h
        .call(Method::POST, "/api/actions", Some(&alice), Some(json!({ "kind": "nuke", "target": "x" })))
        .await;
    assert_eq!(status, 422, "{err}");
    let (status, err) = h.call(Method::GET, "/api/actions?status=sleeping", Some(&alice), None).await;
    assert_eq!(status, 400, "{err}");
}

#[tokio::test]
async fn another_tenants_actions_and_approvals_answer_404() {
    let h = ApiHarness::new().await;
    let acme = h.key("acme", Role::Responder).await;
    let globex = h.key("globex", Role::Admin).await;
    let mut body = block("203.0.113.30");
    body["approval"] = json!(true);
    let (_, r) = h.call(Method::POST, "/api/actions", Some(&acme), Some(body)).await;
    let id = r["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("/api/actions/{id}")),
        (Method::POST, format!("/api/actions/{id}/rollback")),
        (Method::POST, format!("/api/approvals/{id}/approve")),
        (Method::POST, format!("/api/approvals/{id}/reject")),
        (Method::POST, format!("/api/approvals/{id}/cancel")),
        (Method::GET, "/api/playbook-runs/run-1".to_owned()),
    ] {
        let (status, err) = h.call(method.clone(), &path, Some(&globex), None).await;
        assert_eq!(
            (status.as_u16(), err["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{method} {path}"
        );
    }
    for path in ["/api/actions", "/api/approvals"] {
        let (_, list) = h.call(Method::GET, path, Some(&globex), None).await;
        assert_eq!(list["items"], json!([]), "{path}");
        let (_, list) = h.call(Method::GET, path, Some(&acme), None).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{path}");
    }
    let (status, run) = h.call(Method::GET, "/api/playbook-runs/run-1", Some(&acme), None).await;
    assert_eq!((status.as_u16(), run["run"]["playbook"].as_str()), (200, Some("contain")), "{run}");
}

#[tokio::test]
async fn without_a_responder_the_routes_answer_503() {
    let h = ApiHarness::with_extras(Db::Sqlite, |_| {}, false).await;
    let key = h.key("acme", Role::Admin).await;
    for (method, path) in [
        (Method::GET, "/api/actions"),
        (Method::GET, "/api/killswitch"),
        (Method::GET, "/api/assets"),
        (Method::GET, "/api/attack/coverage"),
        (Method::GET, "/api/entities/source.ip/203.0.113.7/features"),
    ] {
        let (status, err) = h.call(method, path, Some(&key), None).await;
        assert_eq!(
            (status.as_u16(), err["error"]["code"].as_str()),
            (503, Some("api_unavailable")),
            "{path}"
        );
    }
}
