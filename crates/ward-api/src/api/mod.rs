//! The `/api/*` routes: incidents, alerts, events, dead letters, telemetry status, the stream,
//! the audit log, users and API keys, login, ATT&CK coverage, entity features, the asset
//! inventory and response (actions, approvals, rollback, kill switch, playbook runs, stored
//! playbooks) — all JSON, all authenticated and authorized through [`matrix`], all scoped to
//! the caller's tenant. Optional parts sit behind optional ports of [`ApiPorts`]; without one,
//! its routes answer 503.
//!
//! API Boundary: handlers take the tenant from the [`Principal`] only; another tenant's object
//! answers 404 exactly like a missing one. Every state change appends an audit record
//! (actor, action, target) before the answer.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod context;
pub mod events;
pub mod incidents;
pub mod matrix;
pub mod playbooks;
pub mod port;
pub mod response;
pub mod status;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use serde::Deserialize;
use ward_model::TenantId;

use crate::error::ApiError;
use crate::identity::login::{KeyUseSampler, LoginLimiter};
use crate::identity::{IdentityStore, Principal};
use crate::state::AppState;
use crate::stream::StreamHub;
pub use assets::{AssetsPort, StoreAssets};
pub use context::{AttackCoverage, EnrichmentPort, FeaturesPort};
pub use playbooks::{PlaybooksPort, StorePlaybooks};
pub use port::{AuditEntry, AuditLog, DeadLetterReader, IncidentStore, PortError};
pub use response::{ActionOrder, ApprovalAnswer, ResponsePort};
pub use status::PipelineStats;

/// `[api]`: sessions, login limits and listing bounds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// How long a login session lasts, seconds.
    pub session_ttl_secs: u64,
    /// Login attempts per minute for one `(tenant, user)`.
    pub login_attempts_per_user_per_min: u32,
    /// Login attempts per minute from one client address.
    pub login_attempts_per_ip_per_min: u32,
    /// Largest page a listing returns (and the default is 50).
    pub max_page: usize,
    /// Most log records `GET /api/events` scans per request.
    pub max_event_scan: usize,
    /// Mark the session cookie `Secure` (default: when `[server.tls]` is set).
    pub secure_cookie: Option<bool>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            session_ttl_secs: 12 * 3600,
            login_attempts_per_user_per_min: 5,
            login_attempts_per_ip_per_min: 30,
            max_page: 500,
            max_event_scan: 100_000,
            secure_cookie: None,
        }
    }
}

impl ApiConfig {
    /// Every semantic problem, each prefixed with its key.
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for (ok, msg) in [
            (self.session_ttl_secs > 0, "api.session_ttl_secs: must be above 0"),
            (
                self.login_attempts_per_user_per_min > 0,
                "api.login_attempts_per_user_per_min: must be above 0",
            ),
            (self.login_attempts_per_ip_per_min > 0, "api.login_attempts_per_ip_per_min: must be above 0"),
            (self.max_page > 0, "api.max_page: must be above 0"),
            (self.max_event_scan > 0, "api.max_event_scan: must be above 0"),
        ] {
            if !ok {
                errors.push(msg.to_owned());
            }
        }
        errors
    }
}

/// The stores and channels the `/api/*` routes use.
pub struct ApiPorts {
    /// Users, sessions, API keys.
    pub identity: Arc<dyn IdentityStore>,
    /// Incidents and alerts.
    pub incidents: Arc<dyn IncidentStore>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// Dead letters, read back.
    pub dead_letters: Arc<dyn DeadLetterReader>,
    /// Where the pipeline publishes for `/api/stream`.
    pub hub: StreamHub,
    /// Counters and lag the pipeline feeds, for `/api/telemetry/status`.
    pub stats: Arc<PipelineStats>,
    /// ATT&CK coverage (`None`: `/api/attack/coverage` answers 503 `api_unavailable`).
    pub enrichment: Option<Arc<dyn EnrichmentPort>>,
    /// Online features (`None`: the entity feature route answers 503).
    pub features: Option<Arc<dyn FeaturesPort>>,
    /// The asset inventory (`None`: `/api/assets*` answer 503).
    pub assets: Option<Arc<dyn AssetsPort>>,
    /// The responder (`None`: actions, approvals, kill switch and playbook runs answer 503).
    pub response: Option<Arc<dyn ResponsePort>>,
    /// Stored playbooks and manual runs (`None`: `/api/playbooks*` and
    /// `/api/incidents/{id}/execute` answer 503).
    pub playbooks: Option<Arc<dyn PlaybooksPort>>,
}

impl ApiPorts {
    /// With ATT&CK coverage (e.g. [`AttackCoverage`]).
    pub fn with_enrichment(mut self, port: Arc<dyn EnrichmentPort>) -> Self {
        self.enrichment = Some(port);
        self
    }

    /// With online features (e.g. an `Arc<ward_features::Features>`).
    pub fn with_features(mut self, port: Arc<dyn FeaturesPort>) -> Self {
        self.features = Some(port);
        self
    }

    /// With the asset inventory (e.g. [`StoreAssets`]).
    pub fn with_assets(mut self, port: Arc<dyn AssetsPort>) -> Self {
        self.assets = Some(port);
        self
    }

    /// With the responder (e.g. an `Arc<ward_respond::Responder>`).
    pub fn with_response(mut self, port: Arc<dyn ResponsePort>) -> Self {
        self.response = Some(port);
        self
    }

    /// With stored playbooks and manual runs (e.g. [`StorePlaybooks`]).
    pub fn with_playbooks(mut self, port: Arc<dyn PlaybooksPort>) -> Self {
        self.playbooks = Some(port);
        self
    }
}

/// The built API part of the state.
pub(crate) struct ApiContext {
    pub identity: Arc<dyn IdentityStore>,
    pub incidents: Arc<dyn IncidentStore>,
    pub audit: Arc<dyn AuditLog>,
    pub dead_letters: Arc<dyn DeadLetterReader>,
    pub hub: StreamHub,
    pub stats: Arc<PipelineStats>,
    pub enrichment: Option<Arc<dyn EnrichmentPort>>,
    pub features: Option<Arc<dyn FeaturesPort>>,
    pub assets: Option<Arc<dyn AssetsPort>>,
    pub response: Option<Arc<dyn ResponsePort>>,
    pub playbooks: Option<Arc<dyn PlaybooksPort>>,
    pub logins: LoginLimiter,
    pub key_uses: KeyUseSampler,
    pub session_ttl: chrono::Duration,
    pub secure_cookie: bool,
    pub max_page: usize,
    pub max_event_scan: usize,
}

impl ApiContext {
    pub(crate) fn new(ports: ApiPorts, config: &ApiConfig, tls: bool) -> Self {
        Self {
            identity: ports.identity,
            incidents: ports.incidents,
            audit: ports.audit,
            dead_letters: ports.dead_letters,
            hub: ports.hub,
            stats: ports.stats,
            enrichment: ports.enrichment,
            features: ports.features,
            assets: ports.assets,
            response: ports.response,
            playbooks: ports.playbooks,
            logins: LoginLimiter::new(
                config.login_attempts_per_user_per_min,
                config.login_attempts_per_ip_per_min,
            ),
            key_uses: KeyUseSampler::new(Duration::from_secs(60)),
            session_ttl: chrono::Duration::seconds(
                i64::try_from(config.session_ttl_secs).unwrap_or(i64::MAX / 1000),
            ),
            secure_cookie: config.secure_cookie.unwrap_or(tls),
            max_page: config.max_page,
            max_event_scan: config.max_event_scan,
        }
    }

    /// Appends an audit record; a failure fails the request (a change that cannot be audited
    /// is reported, not hidden).
    pub(crate) async fn audit(
        &self,
        tenant: &TenantId,
        actor: &str,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let entry = AuditEntry { actor: actor.to_owned(), action: action.to_owned(), target, detail };
        self.audit
            .append(tenant, entry)
            .await
            .map_err(|e| ApiError::internal("appending to the audit log", &e))
    }

    /// The page size for a requested `limit`: 50 by default, at most `max_page`.
    pub(crate) fn page(&self, limit: Option<usize>) -> usize {
        limit.unwrap_or(50).clamp(1, self.max_page)
    }
}

/// Maps a store error to an answer, naming `what` for 404s.
pub(crate) fn port_error(e: PortError, what: &str) -> ApiError {
    match e {
        PortError::NotFound(id) => ApiError::NotFound(format!("{what} {id}")),
        PortError::InvalidTransition(t) => ApiError::InvalidTransition(t),
        PortError::Conflict(m) => ApiError::Conflict(m),
        PortError::Invalid(m) => ApiError::Invalid(m),
        PortError::BadRequest(m) => ApiError::BadRequest(m),
        PortError::Forbidden(m) => ApiError::Refused(m),
        PortError::Unavailable(m) => {
            tracing::warn!(%what, error = %m, "backing service unavailable");
            ApiError::unavailable(
                "unavailable",
                format!("{what}: the backing store does not answer"),
                Duration::from_secs(5),
            )
        }
        PortError::Backend(m) => ApiError::internal(what, &m),
    }
}

/// Every `/api/*` endpoint with its handler; each must have a [`matrix`] entry.
fn endpoints() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("POST", "/api/auth/login", post(auth::login)),
        ("POST", "/api/auth/logout", post(auth::logout)),
        ("GET", "/api/auth/me", get(auth::me)),
        ("GET", "/api/incidents", get(incidents::list)),
        ("GET", "/api/incidents/{id}", get(incidents::show)),
        ("PATCH", "/api/incidents/{id}", patch(incidents::update)),
        ("GET", "/api/incidents/{id}/comments", get(incidents::comments)),
        ("POST", "/api/incidents/{id}/comments", post(incidents::comment)),
        ("GET", "/api/incidents/{id}/timeline", get(incidents::timeline)),
        ("POST", "/api/incidents/{id}/merge", post(incidents::merge)),
        ("POST", "/api/incidents/{id}/split", post(incidents::split)),
        ("POST", "/api/incidents/{id}/labels", post(incidents::label)),
        ("GET", "/api/alerts", get(incidents::alerts)),
        ("GET", "/api/alerts/{id}", get(incidents::alert)),
        ("GET", "/api/events", get(events::search)),
        ("GET", "/api/deadletter", get(events::dead_letters)),
        ("GET", "/api/telemetry/status", get(status::status)),
        ("GET", "/api/stream", get(crate::stream::stream)),
        ("GET", "/api/openapi.json", get(crate::openapi::document)),
        ("GET", "/api/docs", get(crate::openapi::page)),
        ("GET", "/api/audit", get(admin::audit)),
        ("GET", "/api/users", get(admin::users)),
        ("POST", "/api/users", post(admin::create_user)),
        ("GET", "/api/apikeys", get(admin::api_keys)),
        ("POST", "/api/apikeys", post(admin::create_api_key)),
        ("DELETE", "/api/apikeys/{id}", delete(admin::revoke_api_key)),
        ("GET", "/api/attack/coverage", get(context::coverage)),
        ("GET", "/api/entities/{kind}/{value}/features", get(context::features)),
        ("GET", "/api/assets", get(assets::list)),
        ("PUT", "/api/assets", put(assets::replace)),
        ("POST", "/api/assets/import", post(assets::import)),
        ("GET", "/api/actions", get(response::list)),
        ("GET", "/api/actions/{id}", get(response::show)),
        ("POST", "/api/actions", post(response::run)),
        ("POST", "/api/actions/{id}/rollback", post(response::rollback)),
        ("POST", "/api/incidents/{id}/rollback", post(response::rollback_incident)),
        ("GET", "/api/approvals", get(response::approvals)),
        ("POST", "/api/approvals/{id}/approve", post(response::approve)),
        ("POST", "/api/approvals/{id}/reject", post(response::reject)),
        ("POST", "/api/approvals/{id}/cancel", post(response::cancel)),
        ("GET", "/api/killswitch", get(response::kill_switch)),
        ("PUT", "/api/killswitch", put(response::set_kill_switch)),
        ("GET", "/api/playbook-runs/{id}", get(response::playbook_run)),
        ("GET", "/api/playbooks", get(playbooks::list)),
        ("GET", "/api/playbooks/{name}", get(playbooks::show)),
        ("PUT", "/api/playbooks/{name}", put(playbooks::put)),
        ("DELETE", "/api/playbooks/{name}", delete(playbooks::delete)),
        ("POST", "/api/incidents/{id}/execute", post(playbooks::execute)),
    ]
}

/// `(method, path)` of every endpoint the router serves, for the matrix test.
pub fn registered_routes() -> BTreeSet<(String, String)> {
    endpoints().into_iter().map(|(m, p, _)| (m.to_owned(), p.to_owned())).collect()
}

/// The `/api/*` routes, each behind authentication and the matrix check.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for (_, path, handler) in endpoints() {
        router = router.route(path, handler);
    }
    router.route_layer(middleware::from_fn_with_state(state, authorize))
}

/// Authenticates the caller and checks the matrix; puts the [`Principal`] into the request.
async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let method = request.method().as_str().to_owned();
    let route = matched.map(|m| m.as_str().to_owned()).unwrap_or_default();
    let Some(spec) = matrix::lookup(&method, &route) else {
        tracing::error!(%method, %route, "route has no authorization matrix entry; refused");
        crate::telemetry::api_refused("forbidden");
        return Err(ApiError::Forbidden { role: "any", method, route });
    };
    if spec.access == matrix::Access::Public {
        return Ok(next.run(request).await);
    }
    let api = state.api()?;
    let principal = crate::identity::authn::authenticate(api, request.headers(), &route).await?;
    if !spec.access.allows(principal.role) {
        crate::telemetry::api_refused("forbidden");
        return Err(ApiError::Forbidden { role: principal.role.as_str(), method, route });
    }
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

/// The caller's principal, put there by [`authorize`].
pub(crate) type Caller = axum::extract::Extension<Principal>;
