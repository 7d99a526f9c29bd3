//! Asset inventory routes: list, replace from JSON records, import from CSV. Input is validated
//! whole (ward-enrich's `AssetIndex`) before anything is stored: one bad row rejects the lot with
//! every problem (line, column, reason). [`StoreAssets`] persists to the state store's `assets`
//! table and hot-swaps the live `AssetInventory` the enrichment chain reads.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use ward_enrich::{
    Asset, AssetError, AssetIndex, AssetInventory, AssetProblem, Criticality, assets::parse_net,
};
use ward_model::TenantId;
use ward_store::{NewAsset, Store, StoreError};

use super::{Caller, PortError, port_error};
use crate::error::ApiError;
use crate::state::AppState;

/// Most records in one replace or import.
pub const MAX_ASSETS: usize = 100_000;

/// Where a tenant's asset inventory lives.
#[async_trait]
pub trait AssetsPort: Send + Sync {
    /// The tenant's assets, by name.
    async fn assets(&self, tenant: &TenantId) -> Result<Vec<Asset>, PortError>;
    /// Replaces the tenant's whole inventory with `assets` (already validated).
    async fn replace(&self, tenant: &TenantId, assets: Vec<Asset>) -> Result<(), PortError>;
}

/// [`AssetsPort`] over the state store, optionally hot-swapping the live inventory of one tenant
/// (the one the enrichment chain serves).
#[derive(Clone)]
pub struct StoreAssets {
    store: Store,
    live: Option<(TenantId, Arc<AssetInventory>)>,
}

impl StoreAssets {
    /// Assets kept in `store`; `live` is swapped whenever its tenant's inventory is replaced.
    pub fn new(store: Store, live: Option<(TenantId, Arc<AssetInventory>)>) -> Self {
        Self { store, live }
    }
}

fn store_error(e: StoreError) -> PortError {
    PortError::Backend(e.to_string())
}

fn from_row(row: ward_store::Asset) -> Result<Asset, PortError> {
    let bad = |reason: String| PortError::Backend(format!("stored asset {}: {reason}", row.name));
    let networks = row
        .ip_or_cidr
        .as_deref()
        .unwrap_or_default()
        .split([' ', ';', '|'])
        .filter(|s| !s.is_empty())
        .map(parse_net)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let criticality = row.criticality.as_str().parse::<Criticality>().map_err(bad)?;
    Ok(Asset { name: row.name, networks, owner: row.owner.unwrap_or_default(), criticality, tags: row.tags })
}

fn to_row(asset: &Asset) -> Result<NewAsset, PortError> {
    let criticality = asset
        .criticality
        .as_str()
        .parse::<ward_store::Criticality>()
        .map_err(|e| PortError::Invalid(format!("asset {}: {e}", asset.name)))?;
    let nets: Vec<String> = asset.networks.iter().map(ToString::to_string).collect();
    Ok(NewAsset {
        name: asset.name.clone(),
        ip_or_cidr: Some(nets.join(" ")).filter(|s| !s.is_empty()),
        owner: Some(asset.owner.clone()).filter(|s| !s.is_empty()),
        criticality,
        tags: asset.tags.clone(),
    })
}

#[async_trait]
impl AssetsPort for StoreAssets {
    async fn assets(&self, tenant: &TenantId) -> Result<Vec<Asset>, PortError> {
        let rows = self.store.tenant(tenant).list_assets().await.map_err(store_error)?;
        rows.into_iter().map(from_row).collect()
    }

    async fn replace(&self, tenant: &TenantId, assets: Vec<Asset>) -> Result<(), PortError> {
        let rows = assets.iter().map(to_row).collect::<Result<Vec<_>, _>>()?;
        self.store.ensure_tenant(tenant).await.map_err(store_error)?;
        let t = self.store.tenant(tenant);
        let keep: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        for old in t.list_assets().await.map_err(store_error)? {
            if !keep.contains(old.name.as_str()) {
                t.delete_asset(&old.name).await.map_err(store_error)?;
            }
        }
        for row in &rows {
            t.put_asset(row).await.map_err(store_error)?;
        }
        if let Some((live_tenant, inventory)) = &self.live
            && live_tenant == tenant
        {
            inventory.replace(assets).map_err(|e| PortError::Invalid(e.to_string()))?;
        }
        Ok(())
    }
}

fn port(state: &AppState) -> Result<(&super::ApiContext, &dyn AssetsPort), ApiError> {
    let api = state.api()?;
    let port = api.assets.as_deref().ok_or(ApiError::PortUnavailable("the asset inventory"))?;
    Ok((api, port))
}

fn problems(origin: &str, found: &[AssetProblem]) -> ApiError {
    let list: Vec<Value> =
        found.iter().map(|p| json!({ "line": p.line, "column": p.column, "reason": p.reason })).collect();
    let text = found.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    ApiError::InvalidRecords { message: format!("asset inventory {origin}: {text}"), problems: list }
}

async fn store(
    state: &AppState,
    caller: &Caller,
    assets: Vec<Asset>,
    how: &str,
) -> Result<Json<Value>, ApiError> {
    let (api, port) = port(state)?;
    if assets.len() > MAX_ASSETS {
        return Err(ApiError::Invalid(format!("{} assets; at most {MAX_ASSETS}", assets.len())));
    }
    if let Err(found) = AssetIndex::build(&assets) {
        // The index numbers records from 1: for JSON input, "line" is the record number.
        return Err(problems("records", &found));
    }
    let count = assets.len();
    port.replace(&caller.tenant, assets).await.map_err(|e| port_error(e, "assets"))?;
    let detail = json!({ "assets": count });
    api.audit(&caller.tenant, caller.actor(), how, "assets".into(), detail).await?;
    Ok(Json(json!({ "assets": count })))
}

/// `GET /api/assets` → `{"items":[…]}`.
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let (_, port) = port(&state)?;
    let items = port.assets(&caller.tenant).await.map_err(|e| port_error(e, "assets"))?;
    Ok(Json(json!({ "items": items })))
}

/// `PUT /api/assets` (a JSON array of records): replaces the inventory → `{"assets":n}`.
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<Vec<Asset>>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(assets) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    store(&state, &caller, assets, "assets.replace").await
}

/// `POST /api/assets/import` (CSV `name,ip_or_cidr,owner,criticality,tags`): replaces the
/// inventory → `{"assets":n}`; problems answer 422 with their line and column.
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> Result<Json<Value>, ApiError> {
    let assets = match ward_enrich::assets::parse_csv(&body, "upload") {
        Ok(a) => a,
        Err(AssetError::Invalid { origin, problems: found }) => return Err(problems(&origin, &found)),
        Err(e @ AssetError::Read { .. }) => return Err(ApiError::BadRequest(e.to_string())),
    };
    store(&state, &caller, assets, "assets.import").await
}
