//! Admin routes: the audit log, users and API keys of the caller's tenant. Created secrets are
//! returned once and never logged or audited.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Caller;
use super::port::{AuditQuery, AuditRecord, Page};
use crate::error::ApiError;
use crate::identity::{IdentityError, Role};
use crate::state::AppState;

fn identity_error(e: IdentityError) -> ApiError {
    match e {
        IdentityError::Duplicate(reason) => ApiError::Conflict(reason),
        IdentityError::Invalid(m) => ApiError::Invalid(m),
        IdentityError::Backend(m) => ApiError::internal("identity store", &m),
    }
}

/// `GET /api/audit?actor=&action=&limit=&cursor=`: records newest first, with `next_cursor`.
pub(crate) async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<Page<AuditRecord>>, ApiError> {
    let api = state.api()?;
    let limit = params.get("limit").map(|v| v.parse::<usize>()).transpose();
    let limit = limit.map_err(|e| ApiError::BadRequest(format!("limit: {e}")))?;
    let query = AuditQuery {
        actor: params.get("actor").cloned(),
        action: params.get("action").cloned(),
        limit: api.page(limit),
        cursor: params.get("cursor").cloned(),
    };
    let page =
        api.audit.records(&caller.tenant, &query).await.map_err(|e| super::port_error(e, "audit log"))?;
    Ok(Json(page))
}

/// `GET /api/users`.
pub(crate) async fn users(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let users = api.identity.users(&caller.tenant).await.map_err(identity_error)?;
    Ok(Json(json!({ "items": users })))
}

/// The body of `POST /api/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserRequest {
    name: String,
    role: Role,
    #[serde(default)]
    password: Option<SecretString>,
}

/// `POST /api/users` → 201 `{"user","role","password"}` (the password shown once).
pub(crate) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewUserRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let api = state.api()?;
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let new = api
        .identity
        .create_user(&caller.tenant, &req.name, req.role, req.password)
        .await
        .map_err(identity_error)?;
    let detail = json!({ "role": new.user.role });
    api.audit(&caller.tenant, caller.actor(), "user.create", format!("user:{}", new.user.name), detail)
        .await?;
    let body =
        json!({ "user": new.user.name, "role": new.user.role, "password": new.password.expose_secret() });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/apikeys`.
pub(crate) async fn api_keys(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    let keys = api.identity.api_keys(&caller.tenant).await.map_err(identity_error)?;
    Ok(Json(json!({ "items": keys })))
}

/// The body of `POST /api/apikeys`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewKeyRequest {
    role: Role,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

/// `POST /api/apikeys` → 201 `{"id","key",…}` (the key shown once).
pub(crate) async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewKeyRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let api = state.api()?;
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if req.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::Invalid("expires_at is in the past".into()));
    }
    let name = req.name.unwrap_or_default();
    let new = api
        .identity
        .create_api_key(&caller.tenant, req.role, &name, req.expires_at)
        .await
        .map_err(identity_error)?;
    let info = &new.key;
    let detail = json!({ "role": info.role, "expires_at": info.expires_at });
    api.audit(&caller.tenant, caller.actor(), "apikey.create", format!("apikey:{}", info.id), detail).await?;
    let body = json!({
        "id": info.id, "key": new.plaintext, "role": info.role, "name": info.name, "expires_at": info.expires_at,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `DELETE /api/apikeys/{id}`.
pub(crate) async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let api = state.api()?;
    if !api.identity.revoke_api_key(&caller.tenant, &id).await.map_err(identity_error)? {
        return Err(ApiError::NotFound(format!("api key {id}")));
    }
    api.audit(&caller.tenant, caller.actor(), "apikey.revoke", format!("apikey:{id}"), json!({})).await?;
    Ok(Json(json!({ "id": id, "revoked": true })))
}
