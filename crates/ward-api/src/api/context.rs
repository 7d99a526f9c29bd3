//! Context routes: ATT&CK coverage of the loaded rules (`GET /api/attack/coverage`) and the
//! online features of one entity (`GET /api/entities/{kind}/{value}/features`), each behind a
//! port the binary fills from the enrichment chain and the feature store.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde_json::Value;
use ward_enrich::Attack;
use ward_features::Features;
use ward_model::TenantId;

use super::{Caller, PortError, port_error};
use crate::error::ApiError;
use crate::state::AppState;

/// What the rules cover of MITRE ATT&CK.
#[async_trait]
pub trait EnrichmentPort: Send + Sync {
    /// The coverage of `tenant`'s loaded rules: covered/total, per tactic, unknown ids.
    async fn attack_coverage(&self, tenant: &TenantId) -> Result<Value, PortError>;
}

/// [`EnrichmentPort`] over the loaded ATT&CK matrix and the technique ids of the loaded rules
/// (the same rule set serves every tenant).
#[derive(Clone, Debug)]
pub struct AttackCoverage {
    attack: Arc<Attack>,
    techniques: Vec<String>,
}

impl AttackCoverage {
    /// Coverage of `techniques` (rule tags like `attack.t1110` or ids like `T1110.001`) on
    /// `attack` (`EnrichChain::attack()`).
    pub fn new(attack: Arc<Attack>, techniques: Vec<String>) -> Self {
        Self { attack, techniques }
    }
}

#[async_trait]
impl EnrichmentPort for AttackCoverage {
    async fn attack_coverage(&self, _tenant: &TenantId) -> Result<Value, PortError> {
        let coverage = self.attack.coverage(self.techniques.iter().map(String::as_str));
        serde_json::to_value(&coverage).map_err(|e| PortError::Backend(format!("ATT&CK coverage: {e}")))
    }
}

/// Online features of entities.
#[async_trait]
pub trait FeaturesPort: Send + Sync {
    /// The feature vector of `kind`/`value` at `at` (latest when `None`), as the API body.
    /// Errors: `BadRequest` for an unknown kind or invalid value, `Unavailable` when the store fails.
    async fn entity_features(
        &self,
        tenant: &TenantId,
        kind: &str,
        value: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Value, PortError>;
}

#[async_trait]
impl FeaturesPort for Features {
    async fn entity_features(
        &self,
        tenant: &TenantId,
        kind: &str,
        value: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Value, PortError> {
        self.api_body(tenant, kind, value, at, now).await.map_err(|e| {
            if e.is_bad_request() {
                PortError::BadRequest(e.to_string())
            } else {
                PortError::Unavailable(e.to_string())
            }
        })
    }
}

/// `GET /api/attack/coverage`.
pub(crate) async fn coverage(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let port = api.enrichment.as_deref().ok_or(ApiError::PortUnavailable("ATT&CK coverage"))?;
    Ok(Json(port.attack_coverage(&caller.tenant).await.map_err(|e| port_error(e, "coverage"))?))
}

/// `GET /api/entities/{kind}/{value}/features?at=RFC3339`.
pub(crate) async fn features(
    State(state): State<AppState>,
    caller: Caller,
    Path((kind, value)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let port = api.features.as_deref().ok_or(ApiError::PortUnavailable("the feature store"))?;
    if let Some(unknown) = params.keys().find(|k| k.as_str() != "at") {
        return Err(ApiError::BadRequest(format!("unknown query parameter `{unknown}` (expected at)")));
    }
    let at = params
        .get("at")
        .map(|t| DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)))
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("at: {e} (expected RFC 3339)")))?;
    let body = port
        .entity_features(&caller.tenant, &kind, &value, at, Utc::now())
        .await
        .map_err(|e| port_error(e, "entity"))?;
    Ok(Json(body))
}
