//! The `[features]` and `[offline]` sections of Ward's configuration file.

use secrecy::SecretString;
use serde::Deserialize;

/// `[features]`: which online store, and its limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeaturesConfig {
    /// `memory` (in-process) or `redis://HOST:PORT`.
    pub online: String,
    /// Key prefix on Redis (keys are `<prefix>:<tenant>:<kind>:<value>:…`).
    pub prefix: String,
    /// In-process adapter: most entities kept (all tenants); the oldest are evicted beyond it.
    pub max_entities: usize,
    /// Redis adapter: seconds each bucket key lives after its creation (at least 7200).
    pub ttl_secs: u64,
}

impl Default for FeaturesConfig {
    fn default() -> Self {
        Self {
            online: "memory".into(),
            prefix: "ward:features".into(),
            max_entities: 100_000,
            ttl_secs: 7_200,
        }
    }
}

impl FeaturesConfig {
    /// Semantic checks beyond types, as `features.<key>: problem` lines.
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        let url = self.online.as_str();
        if !(url == "memory" || url.starts_with("redis://") || url.starts_with("rediss://")) {
            errors.push(format!("features.online: {url:?} is not `memory` or `redis://…`"));
        }
        if self.max_entities == 0 {
            errors.push("features.max_entities: must be above 0".into());
        }
        if self.ttl_secs < 7_200 {
            errors.push("features.ttl_secs: must be at least 7200 (twice the longest window)".into());
        }
        if self.prefix.is_empty() || self.prefix.contains(char::is_whitespace) {
            errors.push("features.prefix: must be non-empty without spaces".into());
        }
        errors
    }
}

/// `[offline]`: where Parquet history is written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfflineConfig {
    /// `file:///path/to/dir` or `s3://bucket/prefix`; unset turns the offline store off.
    pub url: Option<String>,
    /// S3: endpoint of an S3-compatible server (`http://127.0.0.1:5000`); default AWS.
    pub endpoint: Option<String>,
    /// S3: region (default `us-east-1`).
    pub region: Option<String>,
    /// S3: access key id (else the AWS environment / instance credentials).
    pub access_key_id: Option<String>,
    /// S3: secret access key (never printed).
    pub secret_access_key: Option<SecretString>,
    /// S3: allow plain `http://` endpoints (test servers).
    pub allow_http: bool,
}

impl OfflineConfig {
    /// Semantic checks beyond types, as `offline.<key>: problem` lines.
    pub fn validate(&self) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(url) = &self.url {
            if !(url.starts_with("file://") || url.starts_with("s3://")) {
                errors.push(format!("offline.url: {url:?} is not `file:///…` or `s3://bucket/prefix`"));
            }
            if url.starts_with("s3://")
                && url.trim_start_matches("s3://").split('/').next().is_none_or(str::is_empty)
            {
                errors.push("offline.url: names no bucket".into());
            }
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            errors.push("offline: access_key_id and secret_access_key go together".into());
        }
        errors
    }
}
