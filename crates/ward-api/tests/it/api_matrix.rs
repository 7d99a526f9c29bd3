//! The authorization matrix: every route the router serves has an entry, `docs/authorization.md`
//! shows the same table, and every route called by every role answers as the matrix says —
//! 2xx (101 for the WebSocket) when allowed, 403 when not.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use serde_json::{Value, json};
use ward_api::api::matrix::{self, Access, ROUTES, RouteSpec};
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

#[test]
fn every_served_route_has_a_matrix_entry_and_every_entry_is_served() {
    let served = ward_api::api::registered_routes();
    let table: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    assert_eq!(served, table, "router and authorization matrix disagree");
}

#[test]
fn docs_show_the_matrix_from_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/authorization.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    assert!(
        doc.contains(&matrix::markdown()),
        "docs/authorization.md is out of date; paste this table:\n{}",
        matrix::markdown()
    );
}

/// Per-call state: a fresh incident, key and user names so calls do not interfere.
struct Fixture {
    n: usize,
    incident: String,
    other: String,
    revocable: String,
    action: String,
    pending: String,
    playbook: String,
}

/// A valid inventory for `POST /api/assets/import`.
const CSV: &str = "name,ip_or_cidr,owner,criticality,tags\nweb-1,10.0.0.5,web,high,dmz\n";

async fn fixture(h: &ApiHarness, n: usize) -> Fixture {
    let incident = format!("inc{n}");
    let other = format!("other{n}");
    h.incident("acme", &incident).await;
    h.incident("acme", &other).await;
    let key = h.key("acme", Role::Viewer).await;
    let revocable = key.split('_').nth(1).unwrap().to_owned();
    let target = format!("203.0.113.{}", n % 250 + 1);
    let action = h.action("acme", &target, false).await;
    let pending = h.action("acme", &target, true).await;
    let playbook = format!("pb{n}");
    let acme = ward_model::TenantId::new("acme").unwrap();
    h.store.tenant(&acme).create_playbook(&playbook, &playbook_yaml(&playbook), true).await.unwrap();
    Fixture { n, incident, other, revocable, action, pending, playbook }
}

/// A valid one-step playbook named `name`.
fn playbook_yaml(name: &str) -> String {
    format!("name: {name}\nsteps:\n  - {{ id: facts, enrich: {{}} }}\n")
}

/// The concrete path and body that exercise `route` successfully when allowed.
fn request(route: &RouteSpec, f: &Fixture) -> (String, Option<Value>) {
    let path = route
        .path
        .replace("{id}", if route.path.starts_with("/api/apikeys") { &f.revocable } else { &f.incident });
    let path = match route.path {
        "/api/alerts/{id}" => format!("/api/alerts/{}-a1", f.incident),
        "/api/actions/{id}" | "/api/actions/{id}/rollback" => route.path.replace("{id}", &f.action),
        p if p.starts_with("/api/approvals/{id}") => route.path.replace("{id}", &f.pending),
        "/api/playbook-runs/{id}" => "/api/playbook-runs/run-1".to_owned(),
        p if p.starts_with("/api/playbooks/{name}") => route.path.replace("{name}", &f.playbook),
        "/api/entities/{kind}/{value}/features" => "/api/entities/source.ip/203.0.113.7/features".to_owned(),
        _ => path,
    };
    let body = match (route.method, route.path) {
        ("POST", "/api/auth/login") => {
            Some(json!({ "tenant": "acme", "name": "login-user", "password": "correct horse battery" }))
        }
        ("PATCH", "/api/incidents/{id}") => Some(json!({ "status": "triaging" })),
        ("POST", "/api/incidents/{id}/comments") => Some(json!({ "body": "looking" })),
        ("POST", "/api/incidents/{id}/merge") => Some(json!({ "incidents": [f.other] })),
        ("POST", "/api/incidents/{id}/split") => Some(json!({ "alerts": [format!("{}-a2", f.incident)] })),
        ("POST", "/api/incidents/{id}/labels") => {
            Some(json!({ "verdict": "true_positive", "note": "confirmed" }))
        }
        ("POST", "/api/users") => Some(json!({ "name": format!("user{}", f.n), "role": "viewer" })),
        ("POST", "/api/apikeys") => Some(json!({ "role": "viewer", "name": "ci" })),
        ("POST", "/api/actions") => Some(json!({ "kind": "block_ip", "target": "203.0.113.200" })),
        ("PUT", "/api/playbooks/{name}") => Some(json!({ "yaml": playbook_yaml(&f.playbook) })),
        ("POST", "/api/incidents/{id}/execute") => Some(json!({ "playbook": f.playbook })),
        ("PUT", "/api/killswitch") => Some(json!({ "on": false })),
        ("PUT", "/api/assets") => Some(json!([{ "name": "web-1", "criticality": "high" }])),
        ("POST", _) => Some(json!({})),
        _ => None,
    };
    (path, body)
}

async fn websocket_status(addr: SocketAddr, key: &str) -> u16 {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/stream").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("websocket: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_the_matrix_says() {
    let h = ApiHarness::new().await;
    h.user("acme", "login-user", Role::Viewer, "correct horse battery").await;
    let addr = h.serve().await;
    let mut n = 0;
    let mut wrong = Vec::new();
    for role in Role::ALL {
        let key = h.key("acme", role).await;
        for route in ROUTES {
            n += 1;
            let f = fixture(&h, n).await;
            let status = if route.path == "/api/stream" {
                websocket_status(addr, &key).await
            } else {
                let (path, body) = request(route, &f);
                let method = route.method.parse().unwrap();
                let (status, json) = if route.path == "/api/assets/import" {
                    h.call_text(method, &path, &key, CSV).await
                } else {
                    h.call(method, &path, Some(&key), body).await
                };
                if !(status.is_success() || status == 403) {
                    wrong.push(format!("{} {} as {role}: {status} {json}", route.method, path));
                }
                status.as_u16()
            };
            let allowed = route.access.allows(role);
            let ok = if allowed { (200..300).contains(&status) || status == 101 } else { status == 403 };
            if !ok {
                wrong.push(format!(
                    "{} {} as {role}: got {status}, matrix says allowed={allowed}",
                    route.method, route.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {n} calls disagree with the matrix:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn no_credential_answers_401_except_login() {
    let h = ApiHarness::new().await;
    for route in ROUTES.iter().filter(|r| r.access != Access::Public) {
        let (status, json) = h.call(route.method.parse().unwrap(), route.path, None, None).await;
        assert_eq!(status, 401, "{} {}", route.method, route.path);
        assert_eq!(json["error"]["code"], "unauthenticated");
    }
    let (status, json) = h.call("GET".parse().unwrap(), "/api/incidents", Some("wk_0000_bad"), None).await;
    assert_eq!((status.as_u16(), json["error"]["code"].as_str()), (401, Some("unauthenticated")));
}
