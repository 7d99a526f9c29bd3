//! The OpenAPI 3.1 document of the `/api/*` routes (`GET /api/openapi.json`) and a small
//! self-contained page that renders it (`GET /api/docs`; no script or style is fetched from
//! anywhere).
//!
//! Paths come from the authorization matrix ([`crate::api::matrix::ROUTES`]), so the document
//! lists every route the router serves, each with the roles allowed to call it; request and
//! response bodies refer to the component schemas below.

use std::sync::OnceLock;

use axum::Json;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{Components, Ref};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem, PathsBuilder, Required, ResponseBuilder,
};

use crate::api::matrix::{Access, ROUTES, RouteSpec};
use crate::error::ApiError;

/// The document (built once).
///
/// # Errors
/// When the built-in component schemas do not parse (a bug, caught by the tests).
pub fn document_value() -> Result<&'static Value, ApiError> {
    static DOC: OnceLock<Result<Value, String>> = OnceLock::new();
    DOC.get_or_init(|| build().and_then(|d| serde_json::to_value(d).map_err(|e| e.to_string())))
        .as_ref()
        .map_err(|e| ApiError::internal("building the OpenAPI document", e))
}

/// `GET /api/openapi.json`.
pub(crate) async fn document() -> Result<Json<&'static Value>, ApiError> {
    document_value().map(Json)
}

/// `GET /api/docs`.
pub(crate) async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], DOCS_PAGE)
}

fn build() -> Result<OpenApi, String> {
    let mut paths = PathsBuilder::new();
    let mut seen: Vec<(&str, PathItem)> = Vec::new();
    for route in ROUTES {
        let item = PathItem::new(method(route.method)?, operation(route));
        match seen.iter_mut().find(|(p, _)| *p == route.path) {
            Some((_, existing)) => existing.merge_operations(item),
            None => seen.push((route.path, item)),
        }
    }
    for (path, item) in seen {
        paths = paths.path(path, item);
    }
    let components: Components =
        serde_json::from_value(components()).map_err(|e| format!("components: {e}"))?;
    let info = InfoBuilder::new()
        .title("Ward API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Incidents, alerts, events and administration. Authenticate with `Authorization: Bearer <api key>` \
             or the session cookie from `POST /api/auth/login`. Errors are `{\"error\":{\"code\",\"message\"}}`.",
        ))
        .build();
    Ok(OpenApiBuilder::new().info(info).paths(paths.build()).components(Some(components)).build())
}

fn method(m: &str) -> Result<HttpMethod, String> {
    Ok(match m {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PATCH" => HttpMethod::Patch,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        other => return Err(format!("method {other} not mapped")),
    })
}

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn operation(route: &RouteSpec) -> utoipa::openapi::path::Operation {
    let roles = match route.access {
        Access::Public => "no credential".to_owned(),
        Access::Roles(r) => r.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
    };
    let id = format!("{}{}", route.method.to_lowercase(), route.path.replace(['/', '{', '}', '.'], "_"));
    let mut op = OperationBuilder::new()
        .tag(route.tag)
        .summary(Some(route.summary))
        .description(Some(format!("Roles: {roles}.")))
        .operation_id(Some(id));
    for name in route.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
        op = op.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .build(),
        );
    }
    for (name, description) in query_parameters(route) {
        op = op.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(*description))
                .build(),
        );
    }
    let (status, body, request) = bodies(route);
    if let Some(request) = request {
        let content = ContentBuilder::new().schema(Some(schema_ref(request))).build();
        op = op.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", content)
                .required(Some(Required::True))
                .build(),
        ));
    }
    let mut ok = ResponseBuilder::new().description("success");
    if let Some(body) = body {
        ok = ok.content("application/json", ContentBuilder::new().schema(Some(schema_ref(body))).build());
    }
    op = op.response(status, ok.build());
    for (code, what) in errors(route) {
        let content = ContentBuilder::new().schema(Some(schema_ref("Error"))).build();
        op = op.response(
            *code,
            ResponseBuilder::new().description(*what).content("application/json", content).build(),
        );
    }
    if route.access != Access::Public {
        op = op
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .security(SecurityRequirement::new("session", Vec::<String>::new()));
    }
    op.build()
}

fn query_parameters(route: &RouteSpec) -> &'static [(&'static str, &'static str)] {
    match (route.method, route.path) {
        ("GET", "/api/incidents") => &[
            ("status", "comma-separated statuses"),
            ("severity", "comma-separated severities"),
            ("min_score", "lowest score, 0..=1"),
            ("assignee", "assigned user"),
            ("entity", "entity value, or field=value"),
            ("q", "text in title or entities"),
            ("from", "last seen at or after (RFC 3339)"),
            ("to", "first seen before (RFC 3339)"),
            ("sort", "updated_desc | created_desc | created_asc | score_desc | severity_desc"),
            ("limit", "page size (default 50)"),
            ("cursor", "next_cursor of the previous page"),
        ],
        ("GET", "/api/alerts") => &[
            ("incident", "alerts of this incident"),
            ("rule_id", "this rule"),
            ("min_level", "lowest level"),
            ("from", "at or after (RFC 3339)"),
            ("to", "before (RFC 3339)"),
            ("limit", "page size"),
            ("cursor", "next_cursor of the previous page"),
        ],
        ("GET", "/api/events") => &[
            ("from", "event time at or after (RFC 3339)"),
            ("to", "event time before (RFC 3339)"),
            ("q", "text in the original record"),
            ("limit", "most events returned"),
            ("<field>", "any other key: exact match on that ECS field, e.g. source.ip=203.0.113.7"),
        ],
        ("GET", "/api/audit") => &[("after", "records after this seq"), ("limit", "page size")],
        ("GET", "/api/deadletter") => &[("limit", "most records returned")],
        ("GET", "/api/entities/{kind}/{value}/features") => &[("at", "features as of this time (RFC 3339)")],
        ("GET", "/api/actions") => &[("status", "comma-separated action statuses")],
        ("GET", "/api/approvals") => &[("status", "pending | approved | rejected | expired | cancelled")],
        ("GET", "/api/stream") => &[("topics", "comma-separated: alerts, incidents, status")],
        _ => &[],
    }
}

/// (success status, response schema, request schema) per route.
fn bodies(route: &RouteSpec) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    match (route.method, route.path) {
        ("POST", "/api/auth/login") => ("200", Some("LoginResponse"), Some("LoginRequest")),
        ("GET", "/api/auth/me") => ("200", Some("Principal"), None),
        ("GET", "/api/incidents") => ("200", Some("IncidentPage"), None),
        ("GET", "/api/incidents/{id}") => ("200", Some("IncidentDetail"), None),
        ("PATCH", "/api/incidents/{id}") => ("200", Some("Incident"), Some("IncidentPatch")),
        ("POST", "/api/incidents/{id}/comments") => ("201", Some("Comment"), Some("NewComment")),
        ("POST", "/api/incidents/{id}/merge") => ("200", Some("Incident"), Some("MergeRequest")),
        ("POST", "/api/incidents/{id}/split") => ("201", Some("Incident"), Some("SplitRequest")),
        ("POST", "/api/incidents/{id}/labels") => ("201", Some("Label"), Some("Disposition")),
        ("GET", "/api/alerts") => ("200", Some("AlertPage"), None),
        ("GET", "/api/alerts/{id}") => ("200", Some("Alert"), None),
        ("POST", "/api/users") => ("201", Some("NewUserResponse"), Some("NewUser")),
        ("POST", "/api/apikeys") => ("201", Some("NewApiKeyResponse"), Some("NewApiKey")),
        ("GET", "/api/stream") => ("101", None, None),
        ("PUT", "/api/playbooks/{name}") => ("200", Some("Playbook"), Some("PlaybookText")),
        ("GET", "/api/playbooks/{name}") => ("200", Some("Playbook"), None),
        ("POST", "/api/incidents/{id}/execute") => ("201", Some("ExecuteResponse"), Some("ExecuteRequest")),
        _ => ("200", Some("Object"), None),
    }
}

fn errors(route: &RouteSpec) -> &'static [(&'static str, &'static str)] {
    match (route.method, route.path) {
        ("POST", "/api/auth/login") => &[
            ("400", "unreadable body"),
            ("401", "invalid_credentials"),
            ("422", "invalid_request"),
            ("429", "login_rate_limited"),
        ],
        ("PATCH", "/api/incidents/{id}") => &[
            ("401", "unauthenticated"),
            ("403", "forbidden"),
            ("404", "not_found (also another tenant's incident)"),
            ("409", "invalid_transition, with the allowed statuses"),
            ("422", "invalid_request"),
        ],
        ("PUT", "/api/playbooks/{name}") => &[
            ("400", "bad_request"),
            ("401", "unauthenticated"),
            ("403", "forbidden"),
            ("422", "invalid_request: the parse error, naming step and field"),
            ("503", "api_unavailable (no playbook port)"),
        ],
        _ => &[
            ("400", "bad_request"),
            ("401", "unauthenticated"),
            ("403", "forbidden"),
            ("404", "not_found (also another tenant's object)"),
        ],
    }
}

fn components() -> Value {
    let s = |d: &str| json!({ "type": "string", "description": d });
    let t = || json!({ "type": "string", "format": "date-time" });
    let n = |d: &str| json!({ "type": "number", "description": d });
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let arr = |items: Value| json!({ "type": "array", "items": items });
    let page = |item: &str| {
        json!({ "type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": arr(r(item)), "next_cursor": { "type": ["string", "null"] } } })
    };
    let status = json!({ "type": "string", "enum": ["new", "triaging", "triaged", "in_progress", "resolved", "false_positive", "duplicate"] });
    let severity =
        json!({ "type": "string", "enum": ["informational", "low", "medium", "high", "critical"] });
    let verdict = json!({ "type": "string", "enum": ["true_positive", "likely_true_positive", "suspicious", "likely_false_positive", "false_positive"] });
    let role = json!({ "type": "string", "enum": ["admin", "analyst", "responder", "viewer"] });
    let entities = json!({ "type": "object", "additionalProperties": arr(json!({ "type": "string" })) });
    let factor = json!({ "type": "object", "properties": { "name": s("factor"), "weight": n("signed weight"), "detail": s("evidence") } });
    let incident_props = json!({
        "id": s("32 hex digits"), "tenant": s("owner"), "status": r("IncidentStatus"), "severity": r("Severity"),
        "score": n("0..=1"), "title": s("title"), "group_key": s("grouping key"), "entities": entities,
        "alert_count": { "type": "integer" }, "verdict": { "oneOf": [r("Verdict"), { "type": "null" }] },
        "confidence": { "type": ["number", "null"] }, "reasoning": arr(factor.clone()),
        "assignee": { "type": ["string", "null"] }, "first_seen": t(), "last_seen": t(),
        "created_at": t(), "updated_at": t() });
    let mut detail_props = incident_props.clone();
    detail_props["alerts"] = arr(r("Alert"));
    json!({
        "schemas": {
            "Object": { "type": "object" },
            "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                "type": "object", "required": ["code", "message"],
                "properties": { "code": s("stable machine-readable code"), "message": s("human explanation") } } } },
            "IncidentStatus": status, "Severity": severity, "Verdict": verdict, "Role": role,
            "Incident": { "type": "object", "required": ["id", "status", "severity", "score", "title", "entities",
                "alert_count", "verdict", "confidence", "reasoning", "created_at", "updated_at"], "properties": incident_props },
            "IncidentDetail": { "type": "object", "properties": detail_props },
            "IncidentPage": page("Incident"),
            "IncidentPatch": { "type": "object", "additionalProperties": false, "properties": {
                "status": r("IncidentStatus"), "assignee": s("user; empty unassigns"), "severity": r("Severity") } },
            "Alert": { "type": "object", "properties": { "id": s("32 hex digits"), "kind": s("sigma | correlation | ioc | model | flow"),
                "rule_id": s("rule"), "rule_title": s("title"), "level": r("Severity"), "score": n("0..=1"), "timestamp": t(),
                "event_ids": arr(json!({ "type": "string" })), "tags": arr(json!({ "type": "string" })), "entities": entities, "source": s("decoder") } },
            "AlertPage": page("Alert"),
            "Comment": { "type": "object", "properties": { "id": s("id"), "incident_id": s("incident"), "author": s("who"), "body": s("text"), "created_at": t() } },
            "NewComment": { "type": "object", "required": ["body"], "properties": { "body": s("1-16000 characters") } },
            "MergeRequest": { "type": "object", "required": ["incidents"], "properties": { "incidents": arr(s("incident id")) } },
            "SplitRequest": { "type": "object", "required": ["alerts"], "properties": { "alerts": arr(s("alert id")) } },
            "Disposition": { "type": "object", "required": ["verdict"], "properties": { "verdict": r("Verdict"), "note": s("why") } },
            "Label": { "type": "object", "properties": { "incident_id": s("incident"), "verdict": r("Verdict"), "note": s("why"), "actor": s("who"), "created_at": t() } },
            "LoginRequest": { "type": "object", "required": ["tenant", "name", "password"], "properties": {
                "tenant": s("tenant"), "name": s("user name"), "password": { "type": "string", "format": "password" } } },
            "LoginResponse": { "type": "object", "properties": { "tenant": s("tenant"), "user": s("user"), "role": r("Role"), "expires_at": t() } },
            "Principal": { "type": "object", "properties": { "tenant": s("tenant"), "subject": s("user or apikey:<id>"), "role": r("Role"),
                "credential": { "type": "object", "properties": { "kind": s("session | api_key"), "id": s("key id") } } } },
            "NewUser": { "type": "object", "required": ["name", "role"], "properties": { "name": s("login name"), "role": r("Role"),
                "password": { "type": "string", "format": "password", "description": "generated when absent" } } },
            "NewUserResponse": { "type": "object", "properties": { "user": s("name"), "role": r("Role"), "password": s("shown once") } },
            "Playbook": { "type": "object", "properties": { "name": s("name"), "definition": s("YAML text"),
                "enabled": { "type": "boolean" }, "version": { "type": "integer" }, "created_at": t(), "updated_at": t() } },
            "PlaybookText": { "type": "string", "description": "playbook YAML (or JSON {\"yaml\": \"...\"})" },
            "ExecuteRequest": { "type": "object", "required": ["playbook"], "properties": { "playbook": s("stored playbook name") } },
            "ExecuteResponse": { "type": "object", "properties": { "run_id": s("playbook run id"),
                "status": s("running | completed | failed | …"), "reason": s("why it ended") } },
            "NewApiKey": { "type": "object", "required": ["role"], "properties": { "role": r("Role"), "name": s("label"), "expires_at": t() } },
            "NewApiKeyResponse": { "type": "object", "properties": { "id": s("key id"), "key": s("bearer token, shown once"), "role": r("Role"),
                "name": s("label"), "expires_at": { "type": ["string", "null"], "format": "date-time" } } },
        },
        "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer", "description": "an API key from `ward apikeys create`" },
            "session": { "type": "apiKey", "in": "cookie", "name": crate::identity::SESSION_COOKIE },
        }
    })
}

/// A page listing every operation of the document, fetched with the caller's cookie.
const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ward API</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}code{background:#f3f3f3;padding:0 .3em}
.op{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.5em}.m{font-weight:bold;display:inline-block;width:5em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}</style></head>
<body><h1>Ward API</h1><p>The machine-readable document is at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>.</p>
<div id="ops">loading…</div>
<script>
fetch('/api/openapi.json',{credentials:'same-origin'}).then(r=>r.json()).then(doc=>{
  const root=document.getElementById('ops');root.textContent='';
  const p=document.createElement('p');p.textContent=doc.info.description||'';root.appendChild(p);
  for(const [path,item] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(item)){
      const d=document.createElement('div');d.className='op';
      const h=document.createElement('div');
      const m=document.createElement('span');m.className='m';m.textContent=method.toUpperCase();
      const c=document.createElement('code');c.textContent=path;
      h.append(m,c,' — '+(op.summary||''));d.appendChild(h);
      const info=document.createElement('div');info.textContent=(op.description||'')+' Answers: '+Object.keys(op.responses||{}).join(', ');
      d.appendChild(info);root.appendChild(d);
    }
  }
}).catch(e=>{document.getElementById('ops').textContent='cannot load the document: '+e});
</script></body></html>
"#;
