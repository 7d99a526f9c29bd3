//! The API's configuration sections (`[server]`, `[ingest]`, `[security]`, `[webhooks.NAME]`).
//! Unknown keys are rejected; `validate` lists every semantic problem at once.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use ward_decode::SourceKind;
use ward_model::TenantId;

/// `[server]`: where to listen and how large a request may be.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address (`ward serve --listen` overrides it).
    pub listen: String,
    /// Largest request body as sent (compressed or not), bytes; larger answers 413.
    pub max_body_bytes: usize,
    /// Largest body after gzip decompression, bytes; larger answers 413.
    pub max_decompressed_bytes: usize,
    /// Time allowed to receive a request body, seconds; slower answers 408.
    pub body_timeout_secs: u64,
    /// `[server.tls]`: serve HTTPS with this certificate and key.
    pub tls: Option<TlsConfig>,
}

/// `[server.tls]`: PEM files of the server certificate (chain) and its private key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM (leaf first).
    pub cert: PathBuf,
    /// Private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 10 << 20,
            max_decompressed_bytes: 64 << 20,
            body_timeout_secs: 30,
            tls: None,
        }
    }
}

/// `[ingest]`: admission control.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Requests being read, decoded and appended at once; more answer 503 at once (no queue).
    pub max_in_flight: usize,
    /// `Retry-After` sent with 503 answers, seconds.
    pub overload_retry_after_secs: u64,
    /// Sustained events per second per device (and per webhook).
    pub rate_limit_events_per_sec: u32,
    /// Token-bucket size: the most events a device may send at once.
    pub rate_limit_burst: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 32,
            overload_retry_after_secs: 1,
            rate_limit_events_per_sec: 10_000,
            rate_limit_burst: 20_000,
        }
    }
}

/// `[security]`: secrets at rest and request signing.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// 32-byte key (64 hex digits or base64) sealing device secrets; when absent, one is
    /// generated into `<data-dir>/master.key` (mode 0600).
    pub master_key: Option<SecretString>,
    /// Largest accepted difference between `X-TS` and the server clock, seconds.
    pub max_clock_skew_secs: u64,
    /// Most nonces remembered at once (each is kept for the skew window).
    pub nonce_cache_capacity: usize,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self { master_key: None, max_clock_skew_secs: 300, nonce_cache_capacity: 500_000 }
    }
}

/// `[webhooks.NAME]`: a SIEM/EDR/email-gateway webhook at `POST /api/webhooks/NAME`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Decoder for its bodies (default: NAME, when NAME is a decoder).
    #[serde(default)]
    pub decoder: Option<String>,
    /// Field-mapping file for the `json` decoder.
    #[serde(default)]
    pub mapping: Option<PathBuf>,
    /// Tenant its events belong to.
    pub tenant: String,
    /// Shared secret: the header carries hex HMAC-SHA256(secret, body).
    pub secret: SecretString,
    /// Header holding the signature.
    #[serde(default = "default_webhook_header")]
    pub header: String,
    /// Text before the hex digest in the header (e.g. `sha256=`); empty for none.
    #[serde(default)]
    pub signature_prefix: String,
}

fn default_webhook_header() -> String {
    "X-Ward-Signature".into()
}

impl WebhookConfig {
    /// The decoder this webhook uses.
    ///
    /// # Errors
    /// A message when neither `decoder` nor the webhook name is a decoder.
    pub fn source_kind(&self, name: &str) -> Result<SourceKind, String> {
        let decoder = self.decoder.as_deref().unwrap_or(name);
        decoder.parse::<SourceKind>().map_err(|e| e.to_string())
    }
}

/// Every semantic problem in the API sections, each prefixed with its key.
pub fn validate(
    server: &ServerConfig,
    ingest: &IngestConfig,
    security: &SecurityConfig,
    webhooks: &BTreeMap<String, WebhookConfig>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut check = |ok: bool, msg: &str| {
        if !ok {
            errors.push(msg.to_owned());
        }
    };
    check(server.listen.parse::<std::net::SocketAddr>().is_ok(), "server.listen: not an IP:PORT address");
    check(server.max_body_bytes > 0, "server.max_body_bytes: must be above 0");
    check(server.max_decompressed_bytes > 0, "server.max_decompressed_bytes: must be above 0");
    check(server.body_timeout_secs > 0, "server.body_timeout_secs: must be above 0");
    check(ingest.max_in_flight > 0, "ingest.max_in_flight: must be above 0");
    check(ingest.rate_limit_events_per_sec > 0, "ingest.rate_limit_events_per_sec: must be above 0");
    check(ingest.rate_limit_burst > 0, "ingest.rate_limit_burst: must be above 0");
    check(security.max_clock_skew_secs > 0, "security.max_clock_skew_secs: must be above 0");
    check(security.nonce_cache_capacity > 0, "security.nonce_cache_capacity: must be above 0");
    if let Some(key) = &security.master_key {
        check(
            crate::MasterKey::parse(key).is_ok(),
            &format!("security.master_key: {}", crate::KeyError::Format),
        );
    }
    for (name, hook) in webhooks {
        errors.extend(validate_webhook(name, hook));
    }
    errors
}

fn validate_webhook(name: &str, hook: &WebhookConfig) -> Vec<String> {
    let mut errors = Vec::new();
    let at = |msg: String| format!("webhooks.{name}.{msg}");
    match hook.source_kind(name) {
        Err(e) => errors.push(at(format!("decoder: {e}"))),
        Ok(SourceKind::Evtx) => errors.push(at("decoder: evtx is binary and cannot come by webhook".into())),
        Ok(_) => {}
    }
    if let Err(e) = TenantId::new(&hook.tenant) {
        errors.push(at(format!("tenant: {e}")));
    }
    if hook.secret.expose_secret().len() < 16 {
        errors.push(at("secret: must be at least 16 characters".into()));
    }
    if axum::http::HeaderName::from_bytes(hook.header.as_bytes()).is_err() {
        errors.push(at("header: not a valid HTTP header name".into()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        errors.push(format!("webhooks.{name}: names use A-Z, a-z, 0-9, '-', '_'"));
    }
    errors
}
