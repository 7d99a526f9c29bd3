//! Ward's HTTP API: authenticated device ingest, webhooks, health, readiness and metrics.
//!
//! [`router`] builds the whole [`axum::Router`] from an [`AppState`]; the binary binds it to a
//! socket and tests drive it with `tower::ServiceExt::oneshot`. This is the only crate that
//! knows HTTP.
//!
//! Routes:
//!
//! | route | answers |
//! |---|---|
//! | `POST /ingest/{source}` | 202, 400, 401, 404, 408, 413, 429, 503 |
//! | `POST /ingest/multi` | as above |
//! | `POST /api/webhooks/{name}` | as above |
//! | `GET /health` | 200 |
//! | `GET /ready` | 200, 503 |
//! | `GET /metrics` | 200 (Prometheus text) |
//! | `/api/*` (see [`api::matrix::ROUTES`]) | JSON; bearer API key or session cookie; roles checked |
//!
//! API Boundary: a 202 means every record of the request is durable — valid ones in the
//! `raw_events` topic, invalid ones in the dead-letter store — so a client retries only on
//! 429, 503 or a lost connection, and retried records are at-least-once.

pub mod api;
pub mod auth;
pub mod backend;
pub mod config;
pub mod crypto;
pub mod deadletter;
mod error;
mod health;
pub mod identity;
pub mod ingest;
pub mod limits;
pub mod master_key;
pub mod openapi;
pub mod registry;
pub mod signing;
mod state;
pub mod stream;
pub mod telemetry;
pub mod tls;

pub use api::{ApiConfig, ApiPorts, PipelineStats};
pub use error::{ApiError, AuthFailure};
pub use master_key::{KeyError, KeyOrigin, MasterKey};
pub use state::{AppState, BuildError, Clock, Ports, Settings, SystemClock};
pub use stream::{StreamHub, StreamMessage, StreamTopic};

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router(state.clone()))
        .route("/ingest/multi", post(ingest::multi))
        .route("/ingest/{source}", post(ingest::source))
        .route("/api/webhooks/{name}", post(ingest::webhook))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(health::not_found)
        .method_not_allowed_fallback(health::method_not_allowed)
        .layer(middleware::from_fn(track))
        .with_state(state)
}

/// Counts every answered request by route template and status.
async fn track(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    telemetry::request(&route, response.status().as_u16(), started.elapsed());
    response
}
