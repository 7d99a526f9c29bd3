//! Playbook routes: stored playbooks (list, show, create or replace, delete), validated by
//! `ward_respond::Playbook::parse` before they are kept, and the manual run of one on an
//! incident — through [`PlaybooksPort`], which [`StorePlaybooks`] implements over the state
//! store and the responder. Every change is audited.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use ward_model::{AlertRecord, Incident, TenantId};
use ward_respond::playbook::{Playbook, PlaybookRunner};
use ward_respond::{RespondError, Responder};
use ward_store::{Store, StoreError};

use super::port::AlertQuery;
use super::{ApiContext, Caller, PortError, port_error};
use crate::error::ApiError;
use crate::state::AppState;

/// Longest playbook name, characters.
const MAX_NAME: usize = 128;

/// How long `execute` waits for a run to end before answering with it still `running`.
const DRIVE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Where a tenant's playbooks live and how one is run on an incident; every call is scoped to
/// `tenant`.
#[async_trait]
pub trait PlaybooksPort: Send + Sync {
    /// The tenant's playbooks, by name (`{"name","definition","enabled","version",…}`).
    async fn playbooks(&self, tenant: &TenantId) -> Result<Vec<Value>, PortError>;
    /// One playbook by name.
    async fn playbook(&self, tenant: &TenantId, name: &str) -> Result<Value, PortError>;
    /// Creates or replaces playbook `name` with `text` (already validated); `(record, created)`.
    async fn put_playbook(
        &self,
        tenant: &TenantId,
        name: &str,
        text: &str,
    ) -> Result<(Value, bool), PortError>;
    /// Deletes playbook `name`.
    async fn delete_playbook(&self, tenant: &TenantId, name: &str) -> Result<(), PortError>;
    /// Creates and drives a run of `playbook` on `incident`; `{"run_id","status","reason"}`.
    async fn execute(
        &self,
        tenant: &TenantId,
        incident: &Incident,
        alerts: &[AlertRecord],
        playbook: &str,
    ) -> Result<Value, PortError>;
}

/// [`PlaybooksPort`] over the state store (definitions) and a responder (runs).
#[derive(Clone)]
pub struct StorePlaybooks {
    store: Store,
    responder: Arc<Responder>,
}

impl StorePlaybooks {
    /// Playbooks kept in `store`, run through `responder`.
    pub fn new(store: Store, responder: Arc<Responder>) -> Self {
        Self { store, responder }
    }

    async fn find(&self, tenant: &TenantId, name: &str) -> Result<Option<ward_store::Playbook>, PortError> {
        let all = self.store.tenant(tenant).list_playbooks().await.map_err(store_error)?;
        Ok(all.into_iter().find(|p| p.name == name))
    }
}

fn store_error(e: StoreError) -> PortError {
    match e {
        StoreError::NotFound { .. } => PortError::NotFound(e.to_string()),
        StoreError::Conflict { .. } => PortError::Conflict(e.to_string()),
        StoreError::Invalid { .. } => PortError::Invalid(e.to_string()),
        other => PortError::Backend(other.to_string()),
    }
}

fn respond_error(e: RespondError) -> PortError {
    match e {
        RespondError::NotFound { what, id } => PortError::NotFound(format!("{what} {id}")),
        RespondError::Conflict(m) => PortError::Conflict(m),
        RespondError::Forbidden(m) => PortError::Forbidden(m),
        other => PortError::Backend(other.to_string()),
    }
}

fn record(p: &ward_store::Playbook) -> Value {
    json!({
        "name": p.name, "definition": p.definition, "enabled": p.enabled, "version": p.version,
        "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

#[async_trait]
impl PlaybooksPort for StorePlaybooks {
    async fn playbooks(&self, tenant: &TenantId) -> Result<Vec<Value>, PortError> {
        let all = self.store.tenant(tenant).list_playbooks().await.map_err(store_error)?;
        Ok(all.iter().map(record).collect())
    }

    async fn playbook(&self, tenant: &TenantId, name: &str) -> Result<Value, PortError> {
        let p = self.find(tenant, name).await?.ok_or_else(|| PortError::NotFound(name.to_owned()))?;
        Ok(record(&p))
    }

    async fn put_playbook(
        &self,
        tenant: &TenantId,
        name: &str,
        text: &str,
    ) -> Result<(Value, bool), PortError> {
        self.store.ensure_tenant(tenant).await.map_err(store_error)?;
        let t = self.store.tenant(tenant);
        match self.find(tenant, name).await? {
            Some(old) => {
                Ok((record(&t.update_playbook(&old.id, text, true).await.map_err(store_error)?), false))
            }
            None => Ok((record(&t.create_playbook(name, text, true).await.map_err(store_error)?), true)),
        }
    }

    async fn delete_playbook(&self, tenant: &TenantId, name: &str) -> Result<(), PortError> {
        let p = self.find(tenant, name).await?.ok_or_else(|| PortError::NotFound(name.to_owned()))?;
        self.store.tenant(tenant).delete_playbook(&p.id).await.map_err(store_error)
    }

    async fn execute(
        &self,
        tenant: &TenantId,
        incident: &Incident,
        alerts: &[AlertRecord],
        playbook: &str,
    ) -> Result<Value, PortError> {
        let stored =
            self.find(tenant, playbook).await?.ok_or_else(|| PortError::NotFound(playbook.to_owned()))?;
        let parsed = Playbook::parse(playbook, &stored.definition)
            .map_err(|e| PortError::Conflict(format!("stored playbook no longer valid: {e}")))?;
        let runner = Arc::new(PlaybookRunner::new(Arc::clone(&self.responder), vec![parsed]));
        let run = runner.create_run(playbook, incident, alerts).await.map_err(respond_error)?;
        // Driven in its own task: a step waiting for an approval keeps running after the
        // answer (the run is durable), the request waits at most `DRIVE_WAIT`.
        let (driver, t, id) = (Arc::clone(&runner), tenant.clone(), run.id.clone());
        let task = tokio::spawn(async move { driver.drive(&t, &id).await });
        let run = match tokio::time::timeout(DRIVE_WAIT, task).await {
            Ok(Ok(done)) => done.map_err(respond_error)?,
            Ok(Err(e)) => return Err(PortError::Backend(format!("playbook run {}: {e}", run.id))),
            Err(_) => run,
        };
        Ok(json!({ "run_id": run.id, "status": run.status, "reason": run.reason }))
    }
}

fn port(api: &ApiContext) -> Result<&dyn PlaybooksPort, ApiError> {
    api.playbooks.as_deref().ok_or(ApiError::PortUnavailable("playbooks"))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Invalid(format!("playbook name must be 1-{MAX_NAME} of [A-Za-z0-9._-]")))
    }
}

/// The JSON form of a `PUT /api/playbooks/{name}` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlBody {
    yaml: String,
}

/// The playbook text of a body: YAML, or JSON `{"yaml": "..."}`.
fn text_of(body: &[u8]) -> Result<String, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
    if text.trim_start().starts_with('{')
        && let Ok(b) = serde_json::from_str::<YamlBody>(text)
    {
        return Ok(b.yaml);
    }
    Ok(text.to_owned())
}

/// `GET /api/playbooks`: the tenant's playbooks, by name.
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let items = port(api)?.playbooks(&caller.tenant).await.map_err(|e| port_error(e, "playbooks"))?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/playbooks/{name}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    Ok(Json(port(api)?.playbook(&caller.tenant, &name).await.map_err(|e| port_error(e, "playbook"))?))
}

/// `PUT /api/playbooks/{name}` (YAML, or `{"yaml"}`): validates, then creates or replaces.
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let api = state.api()?;
    let playbooks = port(api)?;
    check_name(&name)?;
    let text = text_of(&body)?;
    let parsed = Playbook::parse(&name, &text).map_err(|e| ApiError::Invalid(e.to_string()))?;
    if parsed.def.name != name {
        return Err(ApiError::Invalid(format!(
            "{name}: step \"-\", field \"name\": {:?} differs from the name in the path",
            parsed.def.name
        )));
    }
    let (record, created) =
        playbooks.put_playbook(&caller.tenant, &name, &text).await.map_err(|e| port_error(e, "playbook"))?;
    let action = if created { "playbook.create" } else { "playbook.update" };
    let detail =
        json!({ "version": record["version"], "hash": parsed.hash, "steps": parsed.def.steps.len() });
    api.audit(&caller.tenant, caller.actor(), action, format!("playbook:{name}"), detail).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(record)))
}

/// `DELETE /api/playbooks/{name}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let api = state.api()?;
    port(api)?.delete_playbook(&caller.tenant, &name).await.map_err(|e| port_error(e, "playbook"))?;
    api.audit(&caller.tenant, caller.actor(), "playbook.delete", format!("playbook:{name}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /api/incidents/{id}/execute`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Execute {
    playbook: String,
}

/// `POST /api/incidents/{id}/execute` (`{"playbook"}`): runs a stored playbook on the incident
/// → `{"run_id","status","reason"}`.
pub(crate) async fn execute(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Execute>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let api = state.api()?;
    let playbooks = port(api)?;
    let Json(order) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    check_name(&order.playbook)?;
    let incident = api
        .incidents
        .incident(&caller.tenant, &id)
        .await
        .map_err(|e| port_error(e, "incident"))?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    let query = AlertQuery { incident: Some(id.clone()), limit: api.max_page, ..AlertQuery::default() };
    let alerts =
        api.incidents.list_alerts(&caller.tenant, &query).await.map_err(|e| port_error(e, "alerts"))?.items;
    let result = playbooks
        .execute(&caller.tenant, &incident, &alerts, &order.playbook)
        .await
        .map_err(|e| port_error(e, "playbook"))?;
    let detail = json!({
        "playbook": order.playbook, "run_id": result["run_id"], "status": result["status"],
        "reason": result["reason"],
    });
    api.audit(&caller.tenant, caller.actor(), "playbook.execute", format!("incident:{id}"), detail).await?;
    Ok((StatusCode::CREATED, Json(result)))
}
