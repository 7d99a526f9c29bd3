//! Response routes: actions (run, list, show, roll back), approvals (approve, reject, cancel),
//! the kill switch and playbook runs — all through one port, [`ResponsePort`], which
//! `ward_respond::Responder` implements here, so the binary only hands over an
//! `Arc<Responder>`. Refusals (guards, kill switch, policy) are results with status `denied`,
//! not errors; every change is audited in the API's audit log as well as the responder's.

use std::collections::BTreeMap;

use async_trait::async_trait;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use ward_model::{Severity, TenantId};
use ward_respond::{
    ActionKind, ActionRequest, ActionStatus, ApprovalStatus, RespondError, Responder, parse_duration,
};

use super::{ApiContext, Caller, PortError, port_error};
use crate::error::ApiError;
use crate::identity::Role;
use crate::state::AppState;

/// Longest action target, characters.
const MAX_TARGET: usize = 1024;

/// What `POST /api/actions` asks for.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionOrder {
    /// Action kind (`block_ip`, `isolate_host`, `notify`, …).
    pub kind: String,
    /// What to act on (address, host, user, channel).
    pub target: String,
    /// Time to live: seconds, or `30s`, `10m`, `2h`, `7d` (default from the responder's config).
    #[serde(default)]
    pub ttl: Option<Value>,
    /// Decide and record only; nothing changes.
    #[serde(default)]
    pub dry_run: bool,
    /// The incident this action answers (its severity and score go to the policy).
    #[serde(default)]
    pub incident: Option<String>,
    /// Ask a human to approve even when the policy allows.
    #[serde(default)]
    pub approval: bool,
    /// Incident severity (filled from `incident`, not from the body).
    #[serde(skip)]
    pub severity: Option<Severity>,
    /// Incident score (filled from `incident`, not from the body).
    #[serde(skip)]
    pub score: f64,
}

/// An answer to a pending approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalAnswer {
    /// Approve and execute.
    Approve,
    /// Reject (the action becomes `denied`).
    Reject,
    /// Withdraw (the action becomes `cancelled`).
    Cancel,
}

/// Everything the response routes do, JSON in and out; every call is scoped to `tenant`.
#[async_trait]
pub trait ResponsePort: Send + Sync {
    /// Requests an action as `actor`; `{"id","status","reason"}`.
    async fn run(&self, tenant: &TenantId, order: &ActionOrder, actor: &str) -> Result<Value, PortError>;
    /// Action records, newest first, optionally only with one of `statuses`.
    async fn actions(&self, tenant: &TenantId, statuses: &[String]) -> Result<Vec<Value>, PortError>;
    /// One action record.
    async fn action(&self, tenant: &TenantId, id: &str) -> Result<Value, PortError>;
    /// Undoes one action; `{"id","status","reason"}`.
    async fn rollback(&self, tenant: &TenantId, id: &str, actor: &str) -> Result<Value, PortError>;
    /// Undoes every active action of an incident; one result per action.
    async fn rollback_incident(
        &self,
        tenant: &TenantId,
        incident: &str,
        actor: &str,
    ) -> Result<Vec<Value>, PortError>;
    /// Approval records, optionally only with `status`.
    async fn approvals(&self, tenant: &TenantId, status: Option<&str>) -> Result<Vec<Value>, PortError>;
    /// Answers a pending approval as `actor` with `role`; `{"id","status","reason"}`.
    async fn decide(
        &self,
        tenant: &TenantId,
        id: &str,
        answer: ApprovalAnswer,
        actor: &str,
        role: Role,
        reason: &str,
    ) -> Result<Value, PortError>;
    /// Whether the kill switch is on.
    async fn kill_switch(&self) -> Result<bool, PortError>;
    /// Turns the kill switch on or off as `actor`.
    async fn set_kill_switch(&self, tenant: &TenantId, on: bool, actor: &str) -> Result<(), PortError>;
    /// A playbook run with its journal (`{"run":…,"steps":[…]}`).
    async fn playbook_run(&self, tenant: &TenantId, id: &str) -> Result<Value, PortError>;
}

fn respond_error(e: RespondError) -> PortError {
    match e {
        RespondError::NotFound { what, id } => PortError::NotFound(format!("{what} {id}")),
        RespondError::Conflict(m) => PortError::Conflict(m),
        RespondError::Forbidden(m) => PortError::Forbidden(m),
        other => PortError::Backend(other.to_string()),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, PortError> {
    serde_json::to_value(v).map_err(|e| PortError::Backend(format!("serializing a response record: {e}")))
}

fn respond_role(role: Role) -> ward_respond::Role {
    match role {
        Role::Admin => ward_respond::Role::Admin,
        Role::Analyst => ward_respond::Role::Analyst,
        Role::Responder => ward_respond::Role::Responder,
        Role::Viewer => ward_respond::Role::Viewer,
    }
}

fn ttl(value: &Value) -> Result<std::time::Duration, PortError> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| PortError::Invalid(format!("ttl: {n} is not a whole number of seconds"))),
        Value::String(s) => parse_duration(s).map_err(|e| PortError::Invalid(format!("ttl: {e}"))),
        other => Err(PortError::Invalid(format!("ttl: {other} is neither seconds nor a duration like 2h"))),
    }
}

#[async_trait]
impl ResponsePort for Responder {
    async fn run(&self, tenant: &TenantId, order: &ActionOrder, actor: &str) -> Result<Value, PortError> {
        let kind: ActionKind = order.kind.parse().map_err(|e| PortError::Invalid(format!("kind: {e}")))?;
        let mut request = ActionRequest::manual(tenant.clone(), kind, order.target.trim(), actor);
        request.ttl = order.ttl.as_ref().map(ttl).transpose()?;
        request.dry_run = order.dry_run;
        request.incident_id = order.incident.clone();
        request.severity = order.severity;
        request.score = order.score;
        request.force_approval = order.approval;
        request.message = format!("{} {} requested by {actor}", kind, order.target.trim());
        to_json(&self.request(&request).await.map_err(respond_error)?)
    }

    async fn actions(&self, tenant: &TenantId, statuses: &[String]) -> Result<Vec<Value>, PortError> {
        let statuses = statuses
            .iter()
            .map(|s| s.parse::<ActionStatus>().map_err(|e| PortError::BadRequest(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let records = self.repo().actions(tenant, &statuses).await.map_err(|e| respond_error(e.into()))?;
        records.iter().map(to_json).collect()
    }

    async fn action(&self, tenant: &TenantId, id: &str) -> Result<Value, PortError> {
        to_json(&Responder::action(self, tenant, id).await.map_err(respond_error)?)
    }

    async fn rollback(&self, tenant: &TenantId, id: &str, actor: &str) -> Result<Value, PortError> {
        to_json(&Responder::rollback(self, tenant, id, actor).await.map_err(respond_error)?)
    }

    async fn rollback_incident(
        &self,
        tenant: &TenantId,
        incident: &str,
        actor: &str,
    ) -> Result<Vec<Value>, PortError> {
        let results =
            Responder::rollback_incident(self, tenant, incident, actor).await.map_err(respond_error)?;
        results.iter().map(to_json).collect()
    }

    async fn approvals(&self, tenant: &TenantId, status: Option<&str>) -> Result<Vec<Value>, PortError> {
        let status = status
            .map(|s| s.parse::<ApprovalStatus>().map_err(|e| PortError::BadRequest(e.to_string())))
            .transpose()?;
        let records = self.repo().approvals(tenant, status).await.map_err(|e| respond_error(e.into()))?;
        records.iter().map(to_json).collect()
    }

    async fn decide(
        &self,
        tenant: &TenantId,
        id: &str,
        answer: ApprovalAnswer,
        actor: &str,
        role: Role,
        reason: &str,
    ) -> Result<Value, PortError> {
        let role = respond_role(role);
        let result = match answer {
            ApprovalAnswer::Approve => self.approve(tenant, id, actor, role).await,
            ApprovalAnswer::Reject => self.reject(tenant, id, actor, role, reason).await,
            ApprovalAnswer::Cancel => self.cancel(tenant, id, actor, role).await,
        };
        to_json(&result.map_err(respond_error)?)
    }

    async fn kill_switch(&self) -> Result<bool, PortError> {
        Responder::kill_switch(self).await.map_err(respond_error)
    }

    async fn set_kill_switch(&self, tenant: &TenantId, on: bool, actor: &str) -> Result<(), PortError> {
        Responder::set_kill_switch(self, tenant, on, actor).await.map_err(respond_error)
    }

    async fn playbook_run(&self, tenant: &TenantId, id: &str) -> Result<Value, PortError> {
        let repo = self.repo();
        let run = repo
            .run(tenant, id)
            .await
            .map_err(|e| respond_error(e.into()))?
            .ok_or_else(|| PortError::NotFound(format!("playbook run {id}")))?;
        let steps = repo.journal(tenant, id).await.map_err(|e| respond_error(e.into()))?;
        Ok(json!({ "run": to_json(&run)?, "steps": to_json(&steps)? }))
    }
}

fn port(api: &ApiContext) -> Result<&dyn ResponsePort, ApiError> {
    api.response.as_deref().ok_or(ApiError::PortUnavailable("response"))
}

fn statuses(params: &BTreeMap<String, String>) -> Vec<String> {
    params
        .get("status")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `GET /api/actions?status=a,b`: the tenant's actions, newest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let items =
        port(api)?.actions(&caller.tenant, &statuses(&params)).await.map_err(|e| port_error(e, "actions"))?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/actions/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    Ok(Json(port(api)?.action(&caller.tenant, &id).await.map_err(|e| port_error(e, "action"))?))
}

/// `POST /api/actions`: runs an action through the responder → `{"id","status","reason"}`.
pub(crate) async fn run(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ActionOrder>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let api = state.api()?;
    let respond = port(api)?;
    let Json(mut order) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if order.target.trim().is_empty() || order.target.chars().count() > MAX_TARGET {
        return Err(ApiError::Invalid(format!("target must be 1-{MAX_TARGET} characters")));
    }
    if let Some(id) = &order.incident {
        let incident = api
            .incidents
            .incident(&caller.tenant, id)
            .await
            .map_err(|e| port_error(e, "incident"))?
            .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
        order.severity = Some(incident.severity);
        order.score = incident.score;
    }
    let result =
        respond.run(&caller.tenant, &order, caller.actor()).await.map_err(|e| port_error(e, "action"))?;
    let target = format!("action:{}", result["id"].as_str().unwrap_or_default());
    let detail = json!({
        "kind": order.kind, "target": order.target, "dry_run": order.dry_run,
        "incident": order.incident, "status": result["status"], "reason": result["reason"],
    });
    api.audit(&caller.tenant, caller.actor(), "action.request", target, detail).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// `POST /api/actions/{id}/rollback`.
pub(crate) async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let result = port(api)?
        .rollback(&caller.tenant, &id, caller.actor())
        .await
        .map_err(|e| port_error(e, "action"))?;
    let detail = json!({ "status": result["status"], "reason": result["reason"] });
    api.audit(&caller.tenant, caller.actor(), "action.rollback", format!("action:{id}"), detail).await?;
    Ok(Json(result))
}

/// `POST /api/incidents/{id}/rollback`: undoes every active action of the incident.
pub(crate) async fn rollback_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let respond = port(api)?;
    api.incidents
        .incident(&caller.tenant, &id)
        .await
        .map_err(|e| port_error(e, "incident"))?
        .ok_or_else(|| ApiError::NotFound(format!("incident {id}")))?;
    let items = respond
        .rollback_incident(&caller.tenant, &id, caller.actor())
        .await
        .map_err(|e| port_error(e, "incident"))?;
    let detail = json!({ "actions": items.iter().map(|r| r["id"].clone()).collect::<Vec<_>>() });
    api.audit(&caller.tenant, caller.actor(), "incident.rollback", format!("incident:{id}"), detail).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/approvals?status=pending`.
pub(crate) async fn approvals(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let status = params.get("status").map(String::as_str).filter(|s| !s.is_empty());
    let items = port(api)?.approvals(&caller.tenant, status).await.map_err(|e| port_error(e, "approvals"))?;
    Ok(Json(json!({ "items": items })))
}

/// The optional body of the approval answers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    #[serde(default)]
    reason: String,
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: String,
    body: axum::body::Bytes,
    answer: ApprovalAnswer,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        String::new()
    } else {
        serde_json::from_slice::<Answer>(&body)
            .map_err(|e| ApiError::BadRequest(format!("body: {e}")))?
            .reason
    };
    if reason.chars().count() > 4000 {
        return Err(ApiError::Invalid("reason over 4000 characters".into()));
    }
    let result = port(api)?
        .decide(&caller.tenant, &id, answer, caller.actor(), caller.role, &reason)
        .await
        .map_err(|e| port_error(e, "approval"))?;
    let action = match answer {
        ApprovalAnswer::Approve => "approval.approve",
        ApprovalAnswer::Reject => "approval.reject",
        ApprovalAnswer::Cancel => "approval.cancel",
    };
    let detail = json!({ "status": result["status"], "reason": reason });
    api.audit(&caller.tenant, caller.actor(), action, format!("approval:{id}"), detail).await?;
    Ok(Json(result))
}

/// `POST /api/approvals/{id}/approve`.
pub(crate) async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, body, ApprovalAnswer::Approve).await
}

/// `POST /api/approvals/{id}/reject` (`{"reason"}`).
pub(crate) async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, body, ApprovalAnswer::Reject).await
}

/// `POST /api/approvals/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, body, ApprovalAnswer::Cancel).await
}

/// `GET /api/killswitch` → `{"on":bool}`.
pub(crate) async fn kill_switch(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let on = port(api)?.kill_switch().await.map_err(|e| port_error(e, "kill switch"))?;
    Ok(Json(json!({ "on": on })))
}

/// The body of `PUT /api/killswitch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KillSwitch {
    on: bool,
}

/// `PUT /api/killswitch` (`{"on":bool}`): stops (or allows again) every automated and manual action.
pub(crate) async fn set_kill_switch(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<KillSwitch>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let Json(k) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    port(api)?
        .set_kill_switch(&caller.tenant, k.on, caller.actor())
        .await
        .map_err(|e| port_error(e, "kill switch"))?;
    let action = if k.on { "killswitch.on" } else { "killswitch.off" };
    api.audit(&caller.tenant, caller.actor(), action, "killswitch".into(), json!({ "on": k.on })).await?;
    Ok(Json(json!({ "on": k.on })))
}

/// `GET /api/playbook-runs/{id}` → `{"run","steps"}`.
pub(crate) async fn playbook_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    Ok(Json(port(api)?.playbook_run(&caller.tenant, &id).await.map_err(|e| port_error(e, "playbook run"))?))
}
