//! The ingest routes: `POST /ingest/{source}`, `POST /ingest/multi` (signed by a device) and
//! `POST /api/webhooks/{name}` (signed with the webhook's shared secret).
//!
//! Every route runs the same steps: authenticate (cheap header checks first) → take an
//! in-flight permit (503 when none) → read the body within its limits → verify the signature →
//! decompress and validate each record off the async runtime → take rate tokens (429) →
//! append valid records and dead-letter the rest → 202.

pub mod body;
pub mod commit;
pub mod items;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use chrono::{DateTime, Utc};
use ward_decode::DecodeContext;
use ward_model::TenantId;

use crate::error::{ApiError, AuthFailure};
use crate::limits::Admitted;
use crate::state::AppState;
use crate::telemetry;
use commit::{IngestResponse, Sender, commit};
use items::{Checked, check_body, check_multi};

/// A 202 answer.
type Accepted = (StatusCode, Json<IngestResponse>);

/// `POST /ingest/{source}`.
pub(crate) async fn source(
    State(state): State<AppState>,
    Path(source): Path<String>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    let decoder = state.0.decoders.for_http(&source)?;
    let (sender, _permit, raw) = signed(&state, &method, uri.path(), &headers, body).await?;
    let now = state.0.clock.now();
    let items = validate(&state, &headers, raw, &sender.tenant, now, move |body, ctx, max| {
        Ok(check_body(&decoder, body, ctx, max))
    })
    .await?;
    let rate_key = sender.device_id.clone().unwrap_or_default();
    finish(&state, &sender, &rate_key, items, now).await
}

/// `POST /ingest/multi`.
pub(crate) async fn multi(
    State(state): State<AppState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    let (sender, _permit, raw) = signed(&state, &method, uri.path(), &headers, body).await?;
    let now = state.0.clock.now();
    let decoders = std::sync::Arc::clone(&state.0.decoders);
    let items = validate(&state, &headers, raw, &sender.tenant, now, move |body, ctx, max| {
        check_multi(&decoders, body, ctx, max)
    })
    .await?;
    let rate_key = sender.device_id.clone().unwrap_or_default();
    finish(&state, &sender, &rate_key, items, now).await
}

/// `POST /api/webhooks/{name}`.
pub(crate) async fn webhook(
    State(state): State<AppState>,
    Path(name): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    let hook = state.0.webhooks.get(&name).ok_or_else(|| ApiError::UnknownWebhook(name.clone()))?;
    let _permit = enter(&state)?;
    let limits = state.0.limits;
    let raw = body::read(body, &headers, limits.max_body, limits.body_timeout).await?;
    let signature = headers
        .get(&hook.header)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().strip_prefix(hook.prefix.as_str()).unwrap_or(v.trim()));
    let signature = signature.ok_or(AuthFailure::MissingHeader("signature")).inspect_err(note_auth)?;
    if !hook.key.verify_hex(&raw, signature) {
        note_auth(&AuthFailure::BadSignature);
        return Err(AuthFailure::BadSignature.into());
    }
    let sender = Sender { tenant: hook.tenant.clone(), device_id: None, path: uri.path().to_owned() };
    let (now, decoder) = (state.0.clock.now(), hook.decoder.clone());
    let items = validate(&state, &headers, raw, &sender.tenant, now, move |body, ctx, max| {
        Ok(check_body(&decoder, body, ctx, max))
    })
    .await?;
    finish(&state, &sender, &format!("webhook:{name}"), items, now).await
}

/// Device authentication around reading the body; the permit bounds memory held by bodies.
async fn signed(
    state: &AppState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Sender, Admitted, Bytes), ApiError> {
    let auth = &state.0.auth;
    let claim = auth.claim(headers).await.inspect_err(note_api_auth)?;
    let permit = enter(state)?;
    let limits = state.0.limits;
    let raw = body::read(body, headers, limits.max_body, limits.body_timeout).await?;
    auth.verify(&claim, method.as_str(), path, &raw).inspect_err(note_api_auth)?;
    let device = claim.credential.device;
    let sender =
        Sender { tenant: device.tenant, device_id: Some(device.id.to_string()), path: path.to_owned() };
    Ok((sender, permit, raw))
}

fn enter(state: &AppState) -> Result<Admitted, ApiError> {
    state.0.admission.try_enter()
}

fn note_auth(f: &AuthFailure) {
    telemetry::auth_failure(f.code());
}

fn note_api_auth(e: &ApiError) {
    if let ApiError::Auth(f) = e {
        note_auth(f);
    }
}

/// Undoes the content encoding and validates every record on a blocking thread.
async fn validate<F>(
    state: &AppState,
    headers: &HeaderMap,
    raw: Bytes,
    tenant: &TenantId,
    now: DateTime<Utc>,
    check: F,
) -> Result<Vec<Checked>, ApiError>
where
    F: FnOnce(&[u8], &DecodeContext, usize) -> Result<Vec<Checked>, ApiError> + Send + 'static,
{
    let encoding = body::encoding(headers)?;
    let limits = state.0.limits;
    let ctx = DecodeContext::new(tenant.clone(), now);
    let work = move || check(&body::decode(raw, encoding, limits.max_decompressed)?, &ctx, limits.max_record);
    let items = tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "validation task failed");
        ApiError::Internal
    })??;
    if items.is_empty() {
        return Err(ApiError::EmptyBatch);
    }
    Ok(items)
}

/// Rate tokens, then the durable commit.
async fn finish(
    state: &AppState,
    sender: &Sender,
    rate_key: &str,
    items: Vec<Checked>,
    now: DateTime<Utc>,
) -> Result<Accepted, ApiError> {
    state.0.rates.check(rate_key, items.len())?;
    let response = commit(state, sender, items, now.timestamp_millis()).await?;
    Ok((StatusCode::ACCEPTED, Json(response)))
}
