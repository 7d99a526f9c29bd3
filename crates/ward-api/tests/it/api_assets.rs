//! Asset routes: replace from JSON, import from CSV (problems with line and column), read back
//! per tenant, and the live inventory swapped for the served tenant.

use axum::http::Method;
use serde_json::json;
use ward_api::identity::Role;

use crate::api_support::ApiHarness;

const CSV: &str = "name,ip_or_cidr,owner,criticality,tags\n\
                   web-1,10.0.0.5,web team,high,dmz;pci\n\
                   db-net,10.1.0.0/16,dba,critical,\n";

#[tokio::test]
async fn json_records_replace_the_inventory_and_each_tenant_sees_its_own() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let analyst = h.key("acme", Role::Analyst).await;
    let globex = h.key("globex", Role::Admin).await;
    let records = json!([
        { "name": "web-1", "networks": ["10.0.0.5/32"], "owner": "web", "criticality": "high", "tags": ["dmz"] },
        { "name": "db-1", "networks": ["10.0.1.0/24"], "criticality": "critical" },
    ]);
    let (status, body) = h.call(Method::PUT, "/api/assets", Some(&admin), Some(records)).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({ "assets": 2 })), "{body}");
    let (status, _) = h.call(Method::PUT, "/api/assets", Some(&analyst), Some(json!([]))).await;
    assert_eq!(status, 403);

    let (status, list) = h.call(Method::GET, "/api/assets", Some(&analyst), None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> =
        list["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["db-1", "web-1"]);
    assert_eq!(list["items"][1]["networks"], json!(["10.0.0.5/32"]));
    let (_, other) = h.call(Method::GET, "/api/assets", Some(&globex), None).await;
    assert_eq!(other["items"], json!([]), "another tenant's assets are not visible");

    let live = h.inventory.current();
    assert!(live.by_name("web-1").is_some(), "the served tenant's live inventory was swapped");
    let (status, _) = h
        .call(
            Method::PUT,
            "/api/assets",
            Some(&globex),
            Some(json!([
                { "name": "gx", "criticality": "low" }
            ])),
        )
        .await;
    assert_eq!(status, 200);
    assert!(h.inventory.current().by_name("gx").is_none(), "another tenant never reaches the live inventory");

    let (status, _) = h
        .call(
            Method::PUT,
            "/api/assets",
            Some(&admin),
            Some(json!([
                { "name": "web-1", "criticality": "low" }
            ])),
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = h.call(Method::GET, "/api/assets", Some(&analyst), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "replace drops assets not given: {list}");

    let actions: Vec<String> = {
        let (_, page) = h.call(Method::GET, "/api/audit", Some(&admin), None).await;
        page["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect()
    };
    assert!(actions.contains(&"assets.replace".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn invalid_records_are_rejected_whole_with_every_problem() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let dup = json!([{ "name": "a", "criticality": "low" }, { "name": "A", "criticality": "high" }]);
    let (status, err) = h.call(Method::PUT, "/api/assets", Some(&admin), Some(dup)).await;
    assert_eq!((status.as_u16(), err["error"]["code"].as_str()), (422, Some("invalid_request")), "{err}");
    assert_eq!(err["error"]["problems"][0]["line"], 2, "{err}");
    let (status, _) = h
        .call(Method::PUT, "/api/assets", Some(&admin), Some(json!([{ "name": "a", "criticality": "huge" }])))
        .await;
    assert_eq!(status, 400);
    let (_, list) = h.call(Method::GET, "/api/assets", Some(&admin), None).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn csv_import_replaces_the_inventory_and_reports_line_and_column() {
    let h = ApiHarness::new().await;
    let admin = h.key("acme", Role::Admin).await;
    let (status, body) = h.call_text(Method::POST, "/api/assets/import", &admin, CSV).await;
    assert_eq!((status.as_u16(), &body), (200, &json!({ "assets": 2 })), "{body}");
    let (_, list) = h.call(Method::GET, "/api/assets", Some(&admin), None).await;
    assert_eq!(list["items"][1]["tags"], json!(["dmz", "pci"]), "{list}");

    let bad = "name,ip_or_cidr,owner,criticality,tags\nok,10.0.0.1,x,low,\nweb-2,10.0.0.300,x,high,\n";
    let (status, err) = h.call_text(Method::POST, "/api/assets/import", &admin, bad).await;
    assert_eq!((status.as_u16(), err["error"]["code"].as_str()), (422, Some("invalid_request")), "{err}");
    assert_eq!(err["error"]["problems"][0]["line"], 3, "{err}");
    assert_eq!(err["error"]["problems"][0]["column"], 2, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("line 3, column 2"), "{err}");
    let (_, list) = h.call(Method::GET, "/api/assets", Some(&admin), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "a bad file changes nothing");
}
