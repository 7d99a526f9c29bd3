//! Every way a request can fail, and the one table that maps each to an HTTP status and a
//! stable error code. Responses look like `{"error":{"code":"…","message":"…"}}`.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Which device-authentication check failed (each answers 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// A required header is absent or not valid text.
    MissingHeader(&'static str),
    /// `X-Device-ID` names no registered device (or is malformed).
    UnknownDevice,
    /// The device is disabled.
    DeviceDisabled,
    /// `X-TS` is not a Unix time in seconds.
    BadTimestamp,
    /// `X-TS` is further from the server's clock than the allowed skew.
    ClockSkew {
        /// Seconds between `X-TS` and the server's clock (positive: in the future).
        delta: i64,
        /// Allowed skew, seconds.
        limit: u64,
    },
    /// `X-Nonce` is not 8–128 visible ASCII characters.
    BadNonce,
    /// `X-Signature` does not match.
    BadSignature,
    /// The nonce was already used within the skew window.
    ReplayedNonce,
}

impl AuthFailure {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "auth_missing_header",
            Self::UnknownDevice => "auth_unknown_device",
            Self::DeviceDisabled => "auth_device_disabled",
            Self::BadTimestamp => "auth_bad_timestamp",
            Self::ClockSkew { .. } => "auth_clock_skew",
            Self::BadNonce => "auth_bad_nonce",
            Self::BadSignature => "auth_bad_signature",
            Self::ReplayedNonce => "auth_replayed_nonce",
        }
    }

    fn message(self) -> String {
        match self {
            Self::MissingHeader(h) => format!("missing or unreadable {h} header"),
            Self::UnknownDevice => "unknown device".into(),
            Self::DeviceDisabled => "device is disabled".into(),
            Self::BadTimestamp => "X-TS must be a Unix time in whole seconds".into(),
            Self::ClockSkew { delta, limit } => {
                format!("X-TS is {delta} s from the server clock; at most {limit} s allowed")
            }
            Self::BadNonce => "X-Nonce must be 8-128 visible ASCII characters".into(),
            Self::BadSignature => "signature does not match the request".into(),
            Self::ReplayedNonce => "nonce already used; send a fresh nonce with each request".into(),
        }
    }
}

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Device or webhook authentication failed.
    #[error("{}", .0.message())]
    Auth(AuthFailure),
    /// The body (as sent) is over the limit.
    #[error("request body exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// Limit, bytes.
        limit: usize,
    },
    /// The gzip-decompressed body is over the limit.
    #[error("decompressed body exceeds the {limit}-byte limit")]
    DecompressedTooLarge {
        /// Limit, bytes.
        limit: usize,
    },
    /// More events in one request than the device's burst allows, ever.
    #[error("batch of {events} events exceeds the per-device burst of {burst}; send smaller batches")]
    BatchOverBurst {
        /// Events in the request.
        events: u32,
        /// Configured burst.
        burst: u32,
    },
    /// The body could not be read in time.
    #[error("request body not received within {0:?}")]
    BodyTimeout(Duration),
    /// The body or its encoding is unusable as a whole.
    #[error("{0}")]
    BadRequest(String),
    /// The request carries no records.
    #[error("request contains no records")]
    EmptyBatch,
    /// No decoder by that name.
    #[error("unknown source {0:?} (known: cowrie, suricata, osquery, winlog, syslog, cef, json)")]
    UnknownSource(String),
    /// No webhook configured by that name.
    #[error("no webhook {0:?} is configured")]
    UnknownWebhook(String),
    /// A source that cannot come over HTTP.
    #[error("{0}")]
    UnsupportedSource(String),
    /// The device's rate limit is exhausted.
    #[error("rate limit exceeded; retry after {} s", retry_secs(.retry_after))]
    RateLimited {
        /// When to retry.
        retry_after: Duration,
    },
    /// Too many requests in flight, or the log cannot take more now.
    #[error("{reason}; retry after {} s", retry_secs(.retry_after))]
    Unavailable {
        /// Stable code (`overloaded`, `log_unavailable`, `nonce_cache_full`, `not_ready`).
        code: &'static str,
        /// What happened (no internals).
        reason: String,
        /// When to retry.
        retry_after: Duration,
    },
    /// No usable credential on an `/api/*` route.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Login with a wrong name, password or tenant (one answer for all three).
    #[error("invalid tenant, user name or password")]
    InvalidCredentials,
    /// The caller's role may not use this route.
    #[error("role {role} may not {method} {route}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// The method.
        method: String,
        /// The route template.
        route: String,
    },
    /// No such object for this tenant (another tenant's object answers this too).
    #[error("{0} not found")]
    NotFound(String),
    /// An incident status change the lifecycle forbids.
    #[error(transparent)]
    InvalidTransition(#[from] ward_model::InvalidTransition),
    /// The request conflicts with the current state (duplicate name, merged incident, …).
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but its values are invalid.
    #[error("{0}")]
    Invalid(String),
    /// Too many login attempts for this user or from this address.
    #[error("too many login attempts; retry after {} s", retry_secs(.retry_after))]
    LoginRateLimited {
        /// When to retry.
        retry_after: Duration,
    },
    /// The server runs without the port behind this route (responder, features, assets, ATT&CK).
    #[error("{0} is not configured on this server")]
    PortUnavailable(&'static str),
    /// This caller may not do this to this object (e.g. approve their own high-risk request).
    #[error("{0}")]
    Refused(String),
    /// Input records with problems; the answer lists each (line or record, column, reason).
    #[error("{message}")]
    InvalidRecords {
        /// Every problem, as text.
        message: String,
        /// Every problem: `{"line","column","reason"}`.
        problems: Vec<serde_json::Value>,
    },
    /// The server runs without the state store, so `/api/*` routes are off.
    #[error("the API is not configured on this server")]
    ApiNotConfigured,
    /// A bug or an unexpected failure; details are logged, not returned.
    #[error("internal error")]
    Internal,
}

fn retry_secs(d: &Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl ApiError {
    /// The one table: error → (status, code).
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Auth(f) => (StatusCode::UNAUTHORIZED, f.code()),
            Self::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::DecompressedTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "decompressed_too_large"),
            Self::BatchOverBurst { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "batch_over_burst"),
            Self::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::EmptyBatch => (StatusCode::BAD_REQUEST, "empty_batch"),
            Self::UnknownSource(_) => (StatusCode::NOT_FOUND, "unknown_source"),
            Self::UnknownWebhook(_) => (StatusCode::NOT_FOUND, "unknown_webhook"),
            Self::UnsupportedSource(_) => (StatusCode::BAD_REQUEST, "unsupported_source"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, code),
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::InvalidTransition(_) => (StatusCode::CONFLICT, "invalid_transition"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            Self::LoginRateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "login_rate_limited"),
            Self::ApiNotConfigured | Self::PortUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "api_unavailable")
            }
            Self::Refused(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::InvalidRecords { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// A 503 with `Retry-After`.
    pub fn unavailable(code: &'static str, reason: impl Into<String>, retry_after: Duration) -> Self {
        Self::Unavailable { code, reason: reason.into(), retry_after }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after }
            | Self::LoginRateLimited { retry_after }
            | Self::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

impl ApiError {
    /// An unexpected failure at `context`: logged here (the one place it is handled), answered
    /// as a bare 500.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%context, %error, "internal error");
        Self::Internal
    }
}

impl From<AuthFailure> for ApiError {
    fn from(f: AuthFailure) -> Self {
        Self::Auth(f)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut error = json!({ "code": code, "message": self.to_string() });
        if let Self::InvalidRecords { problems, .. } = &self {
            error["problems"] = json!(problems);
        }
        let body = json!({ "error": error });
        let mut response = (status, Json(body)).into_response();
        if let Some(after) = self.retry_after() {
            let secs = retry_secs(&after).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_rounded_up_to_whole_seconds() {
        let r = ApiError::RateLimited { retry_after: Duration::from_millis(1200) }.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let r = ApiError::unavailable("overloaded", "busy", Duration::ZERO).into_response();
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
