//! Playbook routes: create/read/replace/delete round trip with audit, validation errors (422
//! naming step and field), role checks, tenant isolation, manual execution on an incident and
//! the 503 answer when the server runs without a playbook port.

use axum::http::Method;
use serde_json::json;
use ward_api::identity::Role;

use crate::api_support::{ApiHarness, Db};

const CONTAIN: &str = "name: contain\ndescription: gather facts\nsteps:\n  - { id: facts, enrich: {} }\n";

async fn audit_actions(h: &ApiHarness, admin: &str) -> Vec<String> {
    let (status, page) = h.call(Method::GET, "/api/audit?limit=500", Some(admin), None).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn playbooks_round_trip_through_create_read_replace_and_delete_with_audit() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let analyst = h.key("acme", Role::Analyst).await;
    let (status, _) = h.call_text(Method::PUT, "/api/playbooks/contain", &analyst, CONTAIN).await;
    assert_eq!(status, 403, "only an admin may change playbooks");

    let (status, created) = h.call_text(Method::PUT, "/api/playbooks/contain", &admin, CONTAIN).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["name"].as_str(), created["version"].as_i64()), (Some("contain"), Some(1)));
    let (status, list) = h.call(Method::GET, "/api/playbooks", Some(&analyst), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["definition"], CONTAIN);

    let replaced = CONTAIN.replace("gather facts", "gather more facts");
    let body = json!({ "yaml": replaced });
    let (status, updated) = h.call(Method::PUT, "/api/playbooks/contain", Some(&admin), Some(body)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2, "{updated}");
    let (status, one) = h.call(Method::GET, "/api/playbooks/contain", Some(&analyst), None).await;
    assert_eq!((status.as_u16(), one["definition"].as_str()), (200, Some(replaced.as_str())), "{one}");

    let (status, _) = h.call(Method::DELETE, "/api/playbooks/contain", Some(&analyst), None).await;
    assert_eq!(status, 403);
    let (status, _) = h.call(Method::DELETE, "/api/playbooks/contain", Some(&admin), None).await;
    assert_eq!(status, 204);
    let (status, _) = h.call(Method::GET, "/api/playbooks/contain", Some(&analyst), None).await;
    assert_eq!(status, 404);
    let actions = audit_actions(&h, &admin).await;
    for want in ["playbook.create", "playbook.update", "playbook.delete"] {
        assert!(actions.iter().any(|a| a == want), "{want} missing from {actions:?}");
    }
    h.cleanup().await;
}

#[tokio::test]
async fn an_invalid_playbook_is_refused_with_422_naming_step_and_field() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let bad = "name: bad\nsteps:\n  - { id: block, action: block_ip }\n";
    let (status, err) = h.call_text(Method::PUT, "/api/playbooks/bad", &admin, bad).await;
    assert_eq!(status, 422, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"block\"") && message.contains("\"target\""), "{message}");
    let (status, err) = h.call_text(Method::PUT, "/api/playbooks/other", &admin, CONTAIN).await;
    assert_eq!(status, 422, "the name in the body must match the path: {err}");
    let (status, list) = h.call(Method::GET, "/api/playbooks", Some(&admin), None).await;
    assert_eq!((status.as_u16(), list["items"].as_array().unwrap().len()), (200, 0), "nothing kept");
    h.cleanup().await;
}

#[tokio::test]
async fn playbooks_and_incidents_of_another_tenant_are_invisible() {
    let h = ApiHarness::with(Db::Sqlite, |_| {}).await;
    let acme = h.key("acme", Role::Admin).await;
    let other = h.key("globex", Role::Admin).await;
    let (status, _) = h.call_text(Method::PUT, "/api/playbooks/contain", &acme, CONTAIN).await;
    assert_eq!(status, 201);
    let (_, list) = h.call(Method::GET, "/api/playbooks", Some(&other), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let (status, _) = h.call(Method::GET, "/api/playbooks/contain", Some(&other), None).await;
    assert_eq!(status, 404);
    let (status, _) = h.call(Method::DELETE, "/api/playbooks/contain", Some(&other), None).await;
    assert_eq!(status, 404);

    h.incident("acme", "inc-acme").await;
    let body = json!({ "playbook": "contain" });
    let (status, err) =
        h.call(Method::POST, "/api/incidents/inc-acme/execute", Some(&other), Some(body)).await;
    assert_eq!(status, 404, "another tenant's incident: {err}");
    h.cleanup().await;
}

#[tokio::test]
async fn executing_a_playbook_on_an_incident_answers_a_run_id_and_is_audited() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let responder = h.key("acme", Role::Responder).await;
    let analyst = h.key("acme", Role::Analyst).await;
    let (status, _) = h.call_text(Method::PUT, "/api/playbooks/contain", &admin, CONTAIN).await;
    assert_eq!(status, 201);
    h.incident("acme", "inc-1").await;
    let body = json!({ "playbook": "contain" });
    let (status, _) =
        h.call(Method::POST, "/api/incidents/inc-1/execute", Some(&analyst), Some(body.clone())).await;
    assert_eq!(status, 403, "analysts do not run playbooks");
    let missing = json!({ "playbook": "nope" });
    let (status, _) =
        h.call(Method::POST, "/api/incidents/inc-1/execute", Some(&responder), Some(missing)).await;
    assert_eq!(status, 404);

    let (status, result) =
        h.call(Method::POST, "/api/incidents/inc-1/execute", Some(&responder), Some(body)).await;
    assert_eq!(status, 201, "{result}");
    let run_id = result["run_id"].as_str().unwrap();
    assert!(!run_id.is_empty(), "{result}");
    assert_eq!(result["status"], "completed", "{result}");
    let (status, run) =
        h.call(Method::GET, &format!("/api/playbook-runs/{run_id}"), Some(&analyst), None).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["run"]["incident_id"], "inc-1", "{run}");
    assert!(audit_actions(&h, &admin).await.iter().any(|a| a == "playbook.execute"));
    h.cleanup().await;
}

#[tokio::test]
async fn without_a_playbook_port_the_routes_answer_503() {
    let h = ApiHarness::with_extras(Db::Sqlite, |_| {}, false).await;
    let admin = h.key("acme", Role::Admin).await;
    let (status, err) = h.call(Method::GET, "/api/playbooks", Some(&admin), None).await;
    assert_eq!(status, 503, "{err}");
    let (status, _) = h.call_text(Method::PUT, "/api/playbooks/contain", &admin, CONTAIN).await;
    assert_eq!(status, 503);
    h.cleanup().await;
}
