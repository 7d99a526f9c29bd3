//! The router's state: the ports it writes to and the settings it enforces, built valid or not
//! at all.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use ward_decode::SourceKind;
use ward_log::Log;
use ward_model::TenantId;

use crate::api::{ApiConfig, ApiContext, ApiPorts};
use crate::auth::Authenticator;
use crate::config::{IngestConfig, SecurityConfig, ServerConfig, WebhookConfig};
use crate::crypto::SigningKey;
use crate::deadletter::DeadLetterStore;
use crate::error::ApiError;
use crate::ingest::items::{Decoders, SourceDecoder};
use crate::limits::{Admission, RateLimits};
use crate::registry::DeviceStore;
use crate::stream::StreamHub;

/// The time source (a port, so tests can fix it).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Everything the API writes to or reads from.
pub struct Ports {
    /// The durable log (`raw_events`).
    pub log: Arc<dyn Log>,
    /// Registered devices.
    pub devices: Arc<dyn DeviceStore>,
    /// Where rejected records go.
    pub dead_letters: Arc<dyn DeadLetterStore>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
}

/// The API's settings, from configuration.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[ingest]`.
    pub ingest: IngestConfig,
    /// `[security]`.
    pub security: SecurityConfig,
    /// `[webhooks.NAME]`.
    pub webhooks: BTreeMap<String, WebhookConfig>,
    /// Largest record, bytes (`decode.max_record_bytes`).
    pub max_record_bytes: usize,
}

/// Why the state cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A decoder (or a webhook's mapping) cannot be built.
    #[error("{context}: {source}")]
    Decoder {
        /// Which one.
        context: String,
        /// Cause.
        #[source]
        source: ward_decode::BuildError,
    },
    /// The settings are invalid (every problem listed).
    #[error("invalid settings: {}", .0.join("; "))]
    Invalid(Vec<String>),
}

/// A configured webhook, ready to check requests.
pub(crate) struct Webhook {
    pub decoder: SourceDecoder,
    pub tenant: TenantId,
    pub key: SigningKey,
    pub header: HeaderName,
    pub prefix: String,
}

/// Request-size and timing limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_body: usize,
    pub max_decompressed: usize,
    pub max_record: usize,
    pub body_timeout: Duration,
    pub retry_after: Duration,
}

pub(crate) struct Inner {
    pub log: Arc<dyn Log>,
    pub devices: Arc<dyn DeviceStore>,
    pub api: Option<ApiContext>,
    pub dead_letters: Arc<dyn DeadLetterStore>,
    pub clock: Arc<dyn Clock>,
    pub metrics: PrometheusHandle,
    pub auth: Authenticator,
    pub decoders: Arc<Decoders>,
    pub webhooks: BTreeMap<String, Webhook>,
    pub admission: Admission,
    pub rates: RateLimits,
    pub limits: Limits,
}

/// Shared state of the router (cheap to clone).
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl AppState {
    /// Builds the state, validating `settings` and building every decoder up front.
    ///
    /// # Errors
    /// [`BuildError`] listing every invalid setting, or a decoder that cannot be built.
    pub fn new(ports: Ports, settings: &Settings) -> Result<Self, BuildError> {
        Self::build(ports, settings, None)
    }

    /// Builds the state with the `/api/*` routes on: [`AppState::new`] plus the stores and
    /// channels of [`ApiPorts`] and the `[api]` settings.
    ///
    /// # Errors
    /// [`BuildError`] as for [`AppState::new`], or invalid `[api]` settings.
    pub fn with_api(
        ports: Ports,
        settings: &Settings,
        api: ApiPorts,
        config: &ApiConfig,
    ) -> Result<Self, BuildError> {
        let errors = config.validate();
        if !errors.is_empty() {
            return Err(BuildError::Invalid(errors));
        }
        let tls = settings.server.tls.is_some();
        Self::build(ports, settings, Some(ApiContext::new(api, config, tls)))
    }

    fn build(ports: Ports, settings: &Settings, api: Option<ApiContext>) -> Result<Self, BuildError> {
        let (server, ingest, security) = (&settings.server, &settings.ingest, &settings.security);
        let errors = crate::config::validate(server, ingest, security, &settings.webhooks);
        let per_sec = NonZeroU32::new(ingest.rate_limit_events_per_sec);
        let burst = NonZeroU32::new(ingest.rate_limit_burst);
        let (Some(per_sec), Some(burst), true) = (per_sec, burst, errors.is_empty()) else {
            return Err(BuildError::Invalid(errors));
        };
        let decoders =
            Decoders::build().map_err(|source| BuildError::Decoder { context: "decoders".into(), source })?;
        let webhooks = settings
            .webhooks
            .iter()
            .map(|(n, w)| Ok((n.clone(), webhook(n, w)?)))
            .collect::<Result<_, _>>()?;
        let retry_after = Duration::from_secs(ingest.overload_retry_after_secs);
        let devices = Arc::clone(&ports.devices);
        let auth = Authenticator::new(
            devices,
            security.max_clock_skew_secs,
            security.nonce_cache_capacity,
            Arc::clone(&ports.clock),
        );
        Ok(Self(Arc::new(Inner {
            log: ports.log,
            devices: Arc::clone(&ports.devices),
            api,
            dead_letters: ports.dead_letters,
            clock: ports.clock,
            metrics: ports.metrics,
            auth,
            decoders: Arc::new(decoders),
            webhooks,
            admission: Admission::new(ingest.max_in_flight, retry_after),
            rates: RateLimits::new(per_sec, burst),
            limits: Limits {
                max_body: server.max_body_bytes,
                max_decompressed: server.max_decompressed_bytes,
                max_record: settings.max_record_bytes.max(1),
                body_timeout: Duration::from_secs(server.body_timeout_secs),
                retry_after,
            },
        })))
    }

    /// The `/api/*` context, or 503 `api_unavailable` when the server runs without it.
    pub(crate) fn api(&self) -> Result<&ApiContext, ApiError> {
        self.0.api.as_ref().ok_or(ApiError::ApiNotConfigured)
    }

    /// The stream hub, when the API is on (the pipeline publishes into it).
    pub fn hub(&self) -> Option<&StreamHub> {
        self.0.api.as_ref().map(|a| &a.hub)
    }

    pub(crate) fn log(&self) -> &Arc<dyn Log> {
        &self.0.log
    }

    pub(crate) fn dead_letters(&self) -> &Arc<dyn DeadLetterStore> {
        &self.0.dead_letters
    }

    pub(crate) fn retry_after(&self) -> Duration {
        self.0.limits.retry_after
    }
}

fn webhook(name: &str, config: &WebhookConfig) -> Result<Webhook, BuildError> {
    let invalid = |msg: String| BuildError::Invalid(vec![format!("webhooks.{name}.{msg}")]);
    let kind: SourceKind = config.source_kind(name).map_err(|e| invalid(format!("decoder: {e}")))?;
    let decoder = SourceDecoder::build(kind, config.mapping.as_deref())
        .map_err(|source| BuildError::Decoder { context: format!("webhooks.{name}"), source })?;
    Ok(Webhook {
        decoder,
        tenant: TenantId::new(&config.tenant).map_err(|e| invalid(format!("tenant: {e}")))?,
        key: SigningKey::new(config.secret.expose_secret().as_bytes()),
        header: HeaderName::from_bytes(config.header.as_bytes())
            .map_err(|e| invalid(format!("header: {e}")))?,
        prefix: config.signature_prefix.clone(),
    })
}
