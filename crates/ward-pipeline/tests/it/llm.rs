//! The LLM triager against a local mock of `/v1/chat/completions`: nothing personal leaves,
//! strict parsing, fallback to the built-in triager on any failure.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use ward_model::{Severity, SignalKind, Verdict};
use ward_pipeline::triage::{TriageInput, Triager};
use ward_pipeline::{LlmConfig, LlmTriager};

use super::triage::{alert, incident};

/// Requests received: the `Authorization` header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone)]
struct Mock {
    seen: Seen,
    answer: Arc<(u16, String)>,
}

async fn completions(
    State(m): State<Mock>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, String) {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    m.seen.lock().unwrap().push((auth, body));
    (axum::http::StatusCode::from_u16(m.answer.0).unwrap(), m.answer.1.clone())
}

async fn serve(status: u16, body: String) -> (String, Mock) {
    let mock = Mock { seen: Arc::default(), answer: Arc::new((status, body)) };
    let app = axum::Router::new().route("/v1/chat/completions", post(completions)).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), mock)
}

fn completion(content: &Value) -> String {
    json!({"choices": [{"message": {"role": "assistant", "content": content.to_string()}}]}).to_string()
}

fn config(base_url: String) -> LlmConfig {
    LlmConfig {
        enabled: true,
        base_url,
        model: "mock-1".into(),
        api_key: Some("sk-test".into()),
        ..LlmConfig::default()
    }
}

const PERSONAL: [&str; 6] = [
    "203.0.113.7",
    "alice",
    "web-01.corp.example",
    "alice@corp.example",
    "d41d8cd98f00b204e9800998ecf8427e",
    "10.1.2.3",
];

fn sensitive() -> (Vec<ward_model::AlertRecord>, ward_model::Incident) {
    let ents = [
        ("source.ip", "203.0.113.7"),
        ("destination.ip", "10.1.2.3"),
        ("user.name", "alice"),
        ("host.name", "web-01.corp.example"),
        ("user.email", "alice@corp.example"),
        ("file.hash.md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ];
    let mut a = alert(SignalKind::Sigma, Severity::High, &ents, "winlog");
    a.rule_title = "Login by alice from 203.0.113.7".into();
    let alerts = vec![a];
    let mut inc = incident(&alerts);
    inc.title = "Login by alice from 203.0.113.7 — 203.0.113.7".into();
    (alerts, inc)
}

#[tokio::test]
async fn llm_verdict_is_used_and_no_personal_data_is_sent() {
    let answer = json!({"verdict": "likely_true_positive", "confidence": 0.8,
        "reasons": [{"name": "brute_force", "weight": 0.5, "detail": "ip_1 guessed passwords of user_1"}]});
    let (url, mock) = serve(200, completion(&answer)).await;
    let triager = LlmTriager::new(config(url)).unwrap();
    let (alerts, inc) = sensitive();
    let t = triager.triage(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] }).await;
    assert_eq!(t.verdict, Verdict::LikelyTruePositive);
    assert_eq!(t.triager, "llm:mock-1");
    // Tokens are handed out in entity order (`destination.ip` sorts first): restored for analysts.
    assert_eq!(t.reasoning[0].detail, "10.1.2.3 guessed passwords of alice");
    let seen = mock.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.as_deref(), Some("Bearer sk-test"));
    let body = seen[0].1.to_string();
    for p in PERSONAL {
        assert!(!body.contains(p), "{p} leaked in {body}");
    }
    assert!(body.contains("ip_1") && body.contains("user_1") && body.contains("host_1"), "{body}");
}

#[tokio::test]
async fn invalid_answers_and_errors_fall_back_to_builtin() {
    let (alerts, inc) = sensitive();
    let bad_verdict = completion(
        &json!({"verdict": "maybe", "confidence": 0.5, "reasons": [{"name": "x", "weight": 0.1, "detail": "d"}]}),
    );
    let extra_field =
        completion(&json!({"verdict": "suspicious", "confidence": 0.5, "reasons": [], "note": 1}));
    let out_of_range = completion(
        &json!({"verdict": "suspicious", "confidence": 7, "reasons": [{"name": "x", "weight": 0.1, "detail": "d"}]}),
    );
    for (status, body) in [
        (200, bad_verdict),
        (200, extra_field),
        (200, out_of_range),
        (200, "not json".into()),
        (500, "{}".into()),
    ] {
        let (url, _mock) = serve(status, body.clone()).await;
        let triager = LlmTriager::new(config(url)).unwrap();
        let t =
            triager.triage(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] }).await;
        assert_eq!(t.triager, "builtin", "{status} {body}");
        assert!(!t.reasoning.is_empty());
    }
    // Nothing listening at all.
    let triager = LlmTriager::new(config("http://127.0.0.1:9".into())).unwrap();
    let t = triager.triage(TriageInput { incident: &inc, alerts: &alerts, prior: &[], features: &[] }).await;
    assert_eq!(t.triager, "builtin");
}
