//! Turns a request's credential into a [`Principal`]: a bearer API key, else the session
//! cookie. Failures answer 401 `unauthenticated` with a message that says which credential
//! failed and never echoes it.

use std::time::Instant;

use axum::http::{HeaderMap, header};
use serde_json::json;
use ward_model::TenantId;

use super::{Credential, Principal, SESSION_COOKIE};
use crate::api::ApiContext;
use crate::error::ApiError;

/// The principal of the request's credential.
///
/// # Errors
/// 401 when there is none or it is not valid; 500 when the identity store fails.
pub(crate) async fn authenticate(
    api: &ApiContext,
    headers: &HeaderMap,
    route: &str,
) -> Result<Principal, ApiError> {
    if let Some(key) = bearer(headers)? {
        return api_key(api, key, route).await;
    }
    if let Some((tenant, token)) = session_cookie(headers) {
        return session(api, &tenant, token).await;
    }
    crate::telemetry::api_refused("unauthenticated");
    Err(ApiError::Unauthenticated("no credential: send `Authorization: Bearer <api key>` or log in"))
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let text = value.to_str().map_err(|_| ApiError::Unauthenticated("unreadable Authorization header"))?;
    match text.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") && !key.trim().is_empty() => {
            Ok(Some(key.trim()))
        }
        _ => Err(ApiError::Unauthenticated("Authorization must be `Bearer <api key>`")),
    }
}

async fn api_key(api: &ApiContext, key: &str, route: &str) -> Result<Principal, ApiError> {
    let found = api.identity.api_key(key).await.map_err(|e| ApiError::internal("checking an API key", &e))?;
    let Some(principal) = found else {
        crate::telemetry::api_refused("unauthenticated");
        return Err(ApiError::Unauthenticated("invalid, revoked or expired API key"));
    };
    if let Credential::ApiKey { id } = &principal.credential
        && api.key_uses.should_record(id, Instant::now())
    {
        let detail = json!({ "route": route, "sampling": "first use per key per minute" });
        api.audit(&principal.tenant, principal.actor(), "apikey.use", format!("apikey:{id}"), detail).await?;
    }
    Ok(principal)
}

async fn session(api: &ApiContext, tenant: &TenantId, token: &str) -> Result<Principal, ApiError> {
    let found = api
        .identity
        .session(tenant, token)
        .await
        .map_err(|e| ApiError::internal("checking a session", &e))?;
    found.ok_or_else(|| {
        crate::telemetry::api_refused("unauthenticated");
        ApiError::Unauthenticated("session expired or invalid; log in again")
    })
}

/// The session cookie's `(tenant, token)`: its value is `<tenant>.<token>`.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<(TenantId, &str)> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == SESSION_COOKIE).then_some(value))?;
    let (tenant, token) = value.split_once('.')?;
    Some((TenantId::new(tenant).ok()?, token))
}

/// `Set-Cookie` value for a new session.
pub(crate) fn set_cookie(tenant: &TenantId, token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={tenant}.{token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

/// `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn session_cookie_is_found_among_others_and_needs_a_valid_tenant() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; ward_session=acme.abc123; c=d"));
        let (tenant, token) = session_cookie(&h).unwrap_or_else(|| panic!("cookie not found"));
        assert_eq!((tenant.as_str(), token), ("acme", "abc123"));
        h.insert(header::COOKIE, HeaderValue::from_static("ward_session=ACME!.abc"));
        assert!(session_cookie(&h).is_none());
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_only_with_tls() {
        let t = TenantId::new("acme").unwrap_or_else(|e| panic!("{e}"));
        let c = set_cookie(&t, "tok", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("; Secure"), "{c}");
        assert!(!set_cookie(&t, "tok", 60, false).contains("Secure"));
    }
}
