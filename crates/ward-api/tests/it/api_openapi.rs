//! The OpenAPI document parses as OpenAPI 3.1 and lists every route with its method; the docs
//! page is self-contained.

use axum::http::Method;
use ward_api::api::matrix::ROUTES;
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

#[tokio::test]
async fn the_document_parses_and_lists_every_route() {
    let h = ApiHarness::new().await;
    let key = h.key("acme", Role::Viewer).await;
    let (status, doc) = h.call(Method::GET, "/api/openapi.json", Some(&key), None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let parsed: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(parsed.info.title, "Ward API");
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(op.is_object(), "{} {} missing from the document", route.method, route.path);
        assert!(op["responses"].is_object(), "{} {} has no responses", route.method, route.path);
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "dangling $ref {r}");
    }
}

fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                out.push(r.to_owned());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_docs_page_needs_no_outside_resources() {
    let h = ApiHarness::new().await;
    let key = h.key("acme", Role::Viewer).await;
    let (status, headers, _) = h.call_full(Method::GET, "/api/docs", Some(&key), &[], None).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
}
