//! `GET /api/stream`: a client receives what is published for its tenant, and nothing of
//! another tenant's, over a real WebSocket.

use std::net::SocketAddr;

use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use ward_api::StreamTopic;
use ward_api::identity::Role;
use ward_model::TenantId;

use crate::api_support::{ApiHarness, incident};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, key: &str, query: &str) -> Socket {
    let mut req = format!("ws://{addr}/api/stream{query}").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

async fn next_json(socket: &mut Socket) -> serde_json::Value {
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_receive_their_tenants_messages_only() {
    let h = ApiHarness::new().await;
    let addr = h.serve().await;
    let mut a = connect(addr, &h.key("tenant-a", Role::Viewer).await, "").await;
    let mut b = connect(addr, &h.key("tenant-b", Role::Viewer).await, "").await;
    let mut a_alerts = connect(addr, &h.key("tenant-a", Role::Viewer).await, "?topics=alerts").await;
    let (ta, tb) = (TenantId::new("tenant-a").unwrap(), TenantId::new("tenant-b").unwrap());

    assert_eq!(h.hub.publish_json(&tb, StreamTopic::Incidents, &incident(&tb, "b-incident")).unwrap(), 3);
    h.hub.publish_json(&ta, StreamTopic::Incidents, &incident(&ta, "a-incident")).unwrap();
    h.hub.publish_json(&ta, StreamTopic::Alerts, &crate::api_support::alert(&ta, "a-alert")).unwrap();

    let first = next_json(&mut a).await;
    assert_eq!(first["topic"], "incidents");
    assert_eq!(first["data"]["id"], "a-incident", "tenant B's incident is not shown to A: {first}");
    assert_eq!(next_json(&mut a).await["data"]["id"], "a-alert");
    assert_eq!(next_json(&mut b).await["data"]["id"], "b-incident");
    let only_alerts = next_json(&mut a_alerts).await;
    assert_eq!(
        (only_alerts["topic"].as_str(), only_alerts["data"]["id"].as_str()),
        (Some("alerts"), Some("a-alert"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_through_the_api_is_pushed() {
    let h = ApiHarness::new().await;
    h.incident("acme", "i1").await;
    let addr = h.serve().await;
    let mut socket = connect(addr, &h.key("acme", Role::Viewer).await, "?topics=status").await;
    let key = h.key("acme", Role::Analyst).await;
    let patch = serde_json::json!({ "status": "triaging" });
    let (status, _) = h.call(axum::http::Method::PATCH, "/api/incidents/i1", Some(&key), Some(patch)).await;
    assert_eq!(status, 200);
    let msg = next_json(&mut socket).await;
    assert_eq!((msg["topic"].as_str(), msg["data"]["status"].as_str()), (Some("status"), Some("triaging")));
}

#[tokio::test]
async fn unknown_topics_are_refused() {
    let h = ApiHarness::new().await;
    let addr = h.serve().await;
    let key = h.key("acme", Role::Viewer).await;
    let mut req = format!("ws://{addr}/api/stream?topics=weather").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 422),
        other => panic!("expected a 422 refusal, got {:?}", other.map(|(_, r)| r.status())),
    }
}
