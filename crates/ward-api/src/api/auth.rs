//! `POST /api/auth/login`, `POST /api/auth/logout`, `GET /api/auth/me`.
//!
//! Login checks the rate limits first (per client address and per account), then the password;
//! a failure answers one 401 for unknown tenant, user or password alike and is audited.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ward_model::TenantId;

use super::Caller;
use crate::error::ApiError;
use crate::identity::authn::{clear_cookie, session_cookie, set_cookie};
use crate::identity::{Credential, Principal};
use crate::state::AppState;

/// Largest accepted name or tenant, characters.
const MAX_NAME: usize = 128;
/// Largest accepted password, bytes (argon2 work is bounded by it).
const MAX_PASSWORD: usize = 1024;

/// The body of `POST /api/auth/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    tenant: String,
    name: String,
    password: SecretString,
}

/// A successful login.
#[derive(Serialize)]
pub(crate) struct LoginResponse {
    tenant: TenantId,
    user: String,
    role: &'static str,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// `POST /api/auth/login`.
pub(crate) async fn login(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let api = state.api()?;
    let ip = client_ip(&request);
    let body = axum::body::to_bytes(request.into_body(), 16 * 1024)
        .await
        .map_err(|_| ApiError::BadRequest("login body over 16 KiB or unreadable".into()))?;
    let req: LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("login body must be {{\"tenant\",\"name\",\"password\"}}: {e}"))
    })?;
    if req.name.is_empty() || req.name.chars().count() > MAX_NAME || req.tenant.len() > MAX_NAME {
        return Err(ApiError::Invalid(format!("tenant and name must be 1-{MAX_NAME} characters")));
    }
    if secrecy::ExposeSecret::expose_secret(&req.password).len() > MAX_PASSWORD {
        return Err(ApiError::Invalid(format!("password over {MAX_PASSWORD} bytes")));
    }
    if let Err(e) = api.logins.check(&req.tenant, &req.name, &ip) {
        crate::telemetry::login("rate_limited");
        return Err(e);
    }
    let Ok(tenant) = TenantId::new(&req.tenant) else {
        crate::telemetry::login("failed");
        return Err(ApiError::InvalidCredentials);
    };
    let checked = api.identity.check_password(&tenant, &req.name, &req.password).await;
    let user = checked.map_err(|e| ApiError::internal("checking a password", &e))?;
    let Some(user) = user else {
        crate::telemetry::login("failed");
        let detail = json!({ "ip": ip, "reason": "bad name or password" });
        api.audit(&tenant, &req.name, "auth.login_failed", format!("user:{}", req.name), detail).await?;
        return Err(ApiError::InvalidCredentials);
    };
    let session = api
        .identity
        .create_session(&user, api.session_ttl)
        .await
        .map_err(|e| ApiError::internal("starting a session", &e))?;
    api.audit(&tenant, &user.name, "auth.login", format!("user:{}", user.name), json!({ "ip": ip })).await?;
    crate::telemetry::login("ok");
    let cookie = set_cookie(&tenant, &session.token, api.session_ttl.num_seconds(), api.secure_cookie);
    let body = LoginResponse {
        tenant,
        user: user.name,
        role: user.role.as_str(),
        expires_at: session.session.expires_at,
    };
    let mut response = Json(body).into_response();
    let value = HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal("session cookie", &e))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

/// `POST /api/auth/logout`: ends the session of the cookie (if the caller used one).
pub(crate) async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let api = state.api()?;
    let p = &caller.0;
    if p.credential == Credential::Session
        && let Some((tenant, token)) = session_cookie(&headers)
    {
        api.identity
            .end_session(&tenant, token)
            .await
            .map_err(|e| ApiError::internal("ending a session", &e))?;
        api.audit(&p.tenant, p.actor(), "auth.logout", format!("user:{}", p.subject), json!({})).await?;
    }
    let mut response = Json(json!({ "status": "logged_out" })).into_response();
    let value = HeaderValue::from_str(&clear_cookie(api.secure_cookie))
        .map_err(|e| ApiError::internal("cookie", &e))?;
    response.headers_mut().insert(header::SET_COOKIE, value);
    Ok(response)
}

/// `GET /api/auth/me`.
pub(crate) async fn me(caller: Caller) -> Json<Principal> {
    Json(caller.0)
}

/// The client's address, when the server was started with connection info.
fn client_ip(request: &Request) -> String {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}
