//! `GET /api/stream`: a WebSocket pushing new alerts, incidents and status changes to the
//! clients of their tenant.
//!
//! The pipeline publishes into a [`StreamHub`] (a `tokio::sync::broadcast` channel); each
//! connected client subscribes, drops every message of another tenant, and may narrow the
//! topics with `?topics=alerts,incidents,status`. A client too slow to keep up is told how
//! many messages it missed (`{"type":"lagged","skipped":N}`) instead of stalling the
//! publisher: memory stays bounded by the channel capacity.

use std::str::FromStr;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Query};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use ward_model::TenantId;

use crate::error::ApiError;
use crate::identity::Principal;

/// What a stream message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamTopic {
    /// A new alert.
    Alerts,
    /// A new or updated incident.
    Incidents,
    /// A status change (incident lifecycle, action status).
    Status,
}

impl StreamTopic {
    /// Every topic.
    pub const ALL: [StreamTopic; 3] = [Self::Alerts, Self::Incidents, Self::Status];

    /// The name used in `?topics=` and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Alerts => "alerts",
            Self::Incidents => "incidents",
            Self::Status => "status",
        }
    }
}

impl FromStr for StreamTopic {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            ApiError::Invalid(format!("unknown stream topic {s:?} (alerts, incidents, status)"))
        })
    }
}

/// One message for the clients of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamMessage {
    /// Only this tenant's clients receive it.
    #[serde(skip)]
    pub tenant: TenantId,
    /// What it is about.
    pub topic: StreamTopic,
    /// The alert, incident or change, as JSON.
    pub data: serde_json::Value,
}

/// The publish side, shared by the pipeline and the API (cheap to clone).
#[derive(Clone, Debug)]
pub struct StreamHub {
    sender: broadcast::Sender<StreamMessage>,
}

impl StreamHub {
    /// A hub buffering at most `capacity` messages for the slowest client.
    pub fn new(capacity: usize) -> Self {
        Self { sender: broadcast::channel(capacity.max(1)).0 }
    }

    /// Publishes a message; returns how many clients are subscribed (0 is not an error).
    pub fn publish(&self, message: StreamMessage) -> usize {
        self.sender.send(message).unwrap_or(0)
    }

    /// Publishes `data` (any serializable record) on `topic` for `tenant`.
    ///
    /// # Errors
    /// When `data` cannot be serialized.
    pub fn publish_json<T: Serialize>(
        &self,
        tenant: &TenantId,
        topic: StreamTopic,
        data: &T,
    ) -> Result<usize, serde_json::Error> {
        let data = serde_json::to_value(data)?;
        Ok(self.publish(StreamMessage { tenant: tenant.clone(), topic, data }))
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<StreamMessage> {
        self.sender.subscribe()
    }
}

impl Default for StreamHub {
    fn default() -> Self {
        Self::new(1024)
    }
}

/// `?topics=` of `/api/stream`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct StreamParams {
    topics: Option<String>,
}

fn topics(params: &StreamParams) -> Result<Vec<StreamTopic>, ApiError> {
    match params.topics.as_deref() {
        None | Some("") => Ok(StreamTopic::ALL.to_vec()),
        Some(list) => list.split(',').map(|t| t.trim().parse()).collect(),
    }
}

/// `GET /api/stream`.
pub(crate) async fn stream(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    Extension(principal): Extension<Principal>,
    Query(params): Query<StreamParams>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let topics = topics(&params)?;
    let receiver = state.api()?.hub.subscribe();
    Ok(upgrade.on_upgrade(move |socket| pump(socket, receiver, principal.tenant, topics)))
}

async fn pump(
    mut socket: WebSocket,
    mut receiver: broadcast::Receiver<StreamMessage>,
    tenant: TenantId,
    topics: Vec<StreamTopic>,
) {
    crate::telemetry::stream_clients(1.0);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            next = receiver.recv() => {
                let text = match next {
                    Ok(m) if m.tenant == tenant && topics.contains(&m.topic) => serde_json::to_string(&m),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(skipped)) => {
                        crate::telemetry::stream_lagged(skipped);
                        serde_json::to_string(&serde_json::json!({ "type": "lagged", "skipped": skipped }))
                    }
                    Err(RecvError::Closed) => break,
                };
                let Ok(text) = text else { continue };
                if socket.send(Message::Text(Utf8Bytes::from(text))).await.is_err() {
                    break;
                }
            }
        }
    }
    crate::telemetry::stream_clients(-1.0);
}
