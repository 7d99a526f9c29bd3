//! HTTP and SMTP connectors against local mock servers: EDR containment, SCIM, Slack, Jira,
//! signed webhook and e-mail, all through the `Responder` (policy, audit, verification).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, patch, post};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use ward_respond::config::{EdrConfig, IdentityConfig, JiraConfig, SignedWebhookConfig, SmtpConfig};
use ward_respond::exec::{
    EdrExecutor, EmailExecutor, Executors, IdentityExecutor, JiraExecutor, SignedWebhookExecutor,
    SlackExecutor, webhook_signature,
};
use ward_respond::{ActionKind, ActionRequest, ActionStatus, Mode};

use crate::common::{config, harness, tenant};

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

#[derive(Default)]
struct Edr {
    devices: Mutex<HashMap<String, String>>,
    tokens: Mutex<u32>,
}

fn edr_router(state: Arc<Edr>) -> Router {
    async fn token(State(s): State<Arc<Edr>>, body: String) -> (StatusCode, axum::Json<serde_json::Value>) {
        if !body.contains("client_id=ward") || !body.contains("client_secret=s3cret") {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"errors": [{"message": "bad client"}]})),
            );
        }
        *s.tokens.lock().unwrap() += 1;
        (StatusCode::CREATED, axum::Json(serde_json::json!({"access_token": "tok-1", "expires_in": 1799})))
    }
    fn authorized(h: &HeaderMap) -> bool {
        h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-1")
    }
    async fn act(
        State(s): State<Arc<Edr>>,
        uri: Uri,
        h: HeaderMap,
        body: String,
    ) -> (StatusCode, axum::Json<serde_json::Value>) {
        if !authorized(&h) {
            return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({})));
        }
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = doc["ids"][0].as_str().unwrap().to_owned();
        let status = match query(&uri, "action_name").as_deref() {
            Some("contain") => "contained",
            Some("lift_containment") => "normal",
            _ => return (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({}))),
        };
        s.devices.lock().unwrap().insert(id.clone(), status.into());
        (StatusCode::ACCEPTED, axum::Json(serde_json::json!({"resources": [{"id": id}], "errors": []})))
    }
    async fn device(
        State(s): State<Arc<Edr>>,
        uri: Uri,
        h: HeaderMap,
    ) -> (StatusCode, axum::Json<serde_json::Value>) {
        if !authorized(&h) {
            return (StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({})));
        }
        let id = query(&uri, "ids").unwrap_or_default();
        let status = s.devices.lock().unwrap().get(&id).cloned().unwrap_or_else(|| "normal".into());
        (StatusCode::OK, axum::Json(serde_json::json!({"resources": [{"device_id": id, "status": status}]})))
    }
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/devices/entities/devices-actions/v2", post(act))
        .route("/devices/entities/devices/v2", get(device))
        .with_state(state)
}

#[tokio::test]
async fn edr_contains_and_releases_a_host() {
    let edr = Arc::new(Edr::default());
    let url = serve(edr_router(edr.clone())).await;
    let mut all = Executors::new();
    let cfg = EdrConfig { url: url.clone(), client_id: "ward".into(), client_secret: "s3cret".into() };
    all.register_with_inverse(Arc::new(EdrExecutor::new(Some(cfg))));
    let h = harness(config(Mode::Autonomous), all);
    let r = h.manual(ActionKind::IsolateHost, "dev-42", "cli:a").await;
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    assert_eq!(edr.devices.lock().unwrap()["dev-42"], "contained");
    let back = h.responder.rollback(&tenant(), &r.id, "cli:a").await.unwrap();
    assert_eq!(back.status, ActionStatus::RolledBack);
    assert_eq!(edr.devices.lock().unwrap()["dev-42"], "normal");
    assert_eq!(*edr.tokens.lock().unwrap(), 1, "the OAuth2 token is reused until it expires");

    let mut bad = Executors::new();
    let cfg = EdrConfig { url, client_id: "ward".into(), client_secret: "wrong".into() };
    bad.register(Arc::new(EdrExecutor::new(Some(cfg))));
    let h = harness(config(Mode::Autonomous), bad);
    let r = h.manual(ActionKind::IsolateHost, "dev-43", "cli:a").await;
    assert_eq!(r.status, ActionStatus::Failed);
    assert!(r.reason.contains("401"), "{}", r.reason);
}

#[tokio::test]
async fn scim_disables_and_reenables_a_user() {
    let users: Arc<Mutex<HashMap<String, bool>>> =
        Arc::new(Mutex::new(HashMap::from([("u-7".to_owned(), true)])));
    async fn patch_user(
        State(s): State<Arc<Mutex<HashMap<String, bool>>>>,
        Path(id): Path<String>,
        h: HeaderMap,
        body: String,
    ) -> StatusCode {
        if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer idp-token") {
            return StatusCode::UNAUTHORIZED;
        }
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc["Operations"][0]["path"], "active");
        s.lock().unwrap().insert(id, doc["Operations"][0]["value"].as_bool().unwrap());
        StatusCode::OK
    }
    async fn get_user(
        State(s): State<Arc<Mutex<HashMap<String, bool>>>>,
        Path(id): Path<String>,
    ) -> axum::Json<serde_json::Value> {
        let active = s.lock().unwrap()[&id];
        axum::Json(serde_json::json!({"id": id, "active": active}))
    }
    let router =
        Router::new().route("/scim/v2/Users/{id}", patch(patch_user).get(get_user)).with_state(users.clone());
    let url = serve(router).await;
    let mut all = Executors::new();
    let cfg = IdentityConfig { url: format!("{url}/scim/v2"), token: "idp-token".into() };
    all.register_with_inverse(Arc::new(IdentityExecutor::new(Some(cfg))));
    let h = harness(config(Mode::Autonomous), all);
    let r = h.manual(ActionKind::DisableUser, "u-7", "cli:a").await;
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    assert!(!users.lock().unwrap()["u-7"]);
    let e = h.manual(ActionKind::EnableUser, "u-7", "cli:a").await;
    assert_eq!(e.status, ActionStatus::Verified, "{}", e.reason);
    assert!(users.lock().unwrap()["u-7"]);
    let bad = h.manual(ActionKind::DisableUser, "../admin", "cli:a").await;
    assert_eq!(bad.status, ActionStatus::Denied, "path-like user ids never reach the API");
}

type Seen = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn record(State(s): State<Seen>, h: HeaderMap, body: String) -> (StatusCode, String) {
    s.lock().unwrap().push((h, body));
    (StatusCode::CREATED, serde_json::json!({"id": "10001", "key": "SEC-1"}).to_string())
}

#[tokio::test]
async fn slack_jira_and_signed_webhook_deliver() {
    let seen: Seen = Arc::default();
    let router = Router::new()
        .route("/slack", post(record))
        .route("/rest/api/2/issue", post(record))
        .route("/hook", post(record))
        .with_state(seen.clone());
    let url = serve(router).await;
    let mut all = Executors::new();
    all.register(Arc::new(SlackExecutor::new(Some(format!("{url}/slack")))));
    let jira =
        JiraConfig { url: url.clone(), project: "SEC".into(), user: "ward".into(), token: "jt".into() };
    all.register(Arc::new(JiraExecutor::new(Some(jira))));
    let hook = SignedWebhookConfig { url: format!("{url}/hook"), secret: "whsec".into() };
    all.register(Arc::new(SignedWebhookExecutor::new(Some(hook))));
    let h = harness(config(Mode::Autonomous), all);
    for (kind, target) in [
        (ActionKind::Notify, "security"),
        (ActionKind::CreateTicket, "ssh brute force"),
        (ActionKind::Webhook, "incident"),
    ] {
        let mut req = ActionRequest::manual(tenant(), kind, target, "cli:a");
        req.message = "incident inc-1: blocked 203.0.113.7".into();
        let r = h.responder.request(&req).await.unwrap();
        assert_eq!(r.status, ActionStatus::Verified, "{kind}: {}", r.reason);
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    let slack: serde_json::Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(slack["text"], "incident inc-1: blocked 203.0.113.7");
    let jira: serde_json::Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(jira["fields"]["project"]["key"], "SEC");
    assert!(seen[1].0["authorization"].to_str().unwrap().starts_with("Basic "));
    let (headers, body) = &seen[2];
    let ts: i64 = headers["x-ward-timestamp"].to_str().unwrap().parse().unwrap();
    let expected = format!("sha256={}", webhook_signature(b"whsec", ts, body));
    assert_eq!(
        headers["x-ward-signature"].to_str().unwrap(),
        expected,
        "the receiver can verify the signature"
    );
}

#[tokio::test]
async fn email_goes_through_smtp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(String::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (r, mut w) = stream.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"220 mock ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push_str(&format!("{line}\n"));
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 2.0.0 queued as 42\r\n"
                } else {
                    continue;
                }
            } else if line.starts_with("EHLO") {
                b"250-mock\r\n250 8BITMIME\r\n"
            } else if line == "DATA" {
                in_data = true;
                b"354 go ahead\r\n"
            } else if line == "QUIT" {
                w.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            w.write_all(reply).await.unwrap();
        }
    });
    let mut all = Executors::new();
    let cfg = SmtpConfig {
        server: addr.to_string(),
        from: "ward@example.org".into(),
        to: vec!["soc@example.org".into()],
    };
    all.register(Arc::new(EmailExecutor::new(Some(cfg))));
    let h = harness(config(Mode::Autonomous), all);
    let mut req = ActionRequest::manual(tenant(), ActionKind::Email, "Ward: incident inc-1", "cli:a");
    req.message = "blocked 203.0.113.7".into();
    let r = h.responder.request(&req).await.unwrap();
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    let text = received.lock().unwrap().clone();
    assert!(
        text.contains("MAIL FROM:<ward@example.org>") && text.contains("RCPT TO:<soc@example.org>"),
        "{text}"
    );
    assert!(text.contains("Subject: Ward: incident inc-1"), "{text}");
}
