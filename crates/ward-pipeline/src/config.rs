//! Configuration of the pipeline, incident grouping and triage: serde structs with defaults, so
//! the binary can read them from `[pipeline]`, `[incidents]`, `[triage]` and `[triage.llm]`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[pipeline]`: batching, polling and detection settings shared by every stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Records fetched per batch from one partition.
    pub batch_size: usize,
    /// How long an idle stage waits before polling its input again, in milliseconds.
    pub poll_interval_ms: u64,
    /// Wait before retrying a batch whose outputs could not be made durable, in milliseconds.
    pub retry_backoff_ms: u64,
    /// Records of the detect stage's input re-read (without re-emitting single-event alerts)
    /// after a restart, to rebuild correlation state.
    pub correlation_warmup_records: u64,
    /// How far behind the newest event a rule match may arrive and still be correlated, in seconds.
    pub correlation_lateness_secs: u64,
    /// Entity fields copied from matched events into alerts.
    pub entity_fields: Vec<String>,
    /// How `fuse` combines the signals on one event: `max` or `noisy_or`.
    pub fusion: Fusion,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_size: 512,
            poll_interval_ms: 50,
            retry_backoff_ms: 200,
            correlation_warmup_records: 100_000,
            correlation_lateness_secs: 60,
            entity_fields: DEFAULT_ENTITY_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            fusion: Fusion::NoisyOr,
        }
    }
}

impl PipelineConfig {
    /// The poll interval as a duration.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(1))
    }

    /// The retry backoff as a duration.
    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms.max(1))
    }
}

/// The ECS fields an alert names as its entities by default.
pub const DEFAULT_ENTITY_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "host.name",
    "user.name",
    "process.name",
    "file.hash.sha256",
    "file.hash.md5",
    "dns.question.name",
    "url.domain",
    "ward.asset.criticality",
];

/// How the signals on one event are combined into one score.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// The strongest signal wins.
    Max,
    /// `1 − Π(1 − sᵢ)`: independent signals reinforce each other.
    NoisyOr,
}

/// `[incidents]`: how alerts are grouped into incidents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentsConfig {
    /// Entity fields tried in order; the first one an alert names is its grouping key.
    pub group_by: Vec<String>,
    /// Alerts of one key within this many seconds (event time) of an open incident join it.
    pub window_secs: u64,
    /// Alerts of an incident read back for triage at most.
    pub triage_alert_limit: usize,
    /// Capacity of the broadcast channel of pipeline events (new alerts, incidents).
    pub event_channel_capacity: usize,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        Self {
            group_by: vec!["source.ip".into(), "host.name".into(), "user.name".into()],
            window_secs: 30 * 60,
            triage_alert_limit: 500,
            event_channel_capacity: 1024,
        }
    }
}

/// `[triage]`: the built-in triager and the optional LLM one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TriageConfig {
    /// `[triage.llm]`: when present and enabled, an OpenAI-compatible model triages first and the
    /// built-in triager is the fallback.
    pub llm: Option<LlmConfig>,
}

/// `[triage.llm]`: an OpenAI-compatible `/v1/chat/completions` endpoint.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// Whether to call it.
    pub enabled: bool,
    /// Base URL, e.g. `https://api.openai.com` or `http://127.0.0.1:8000` (without `/v1`).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Bearer token (never logged).
    pub api_key: Option<String>,
    /// Request timeout in seconds.
    pub timeout_secs: u64,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: usize,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            base_url: "http://127.0.0.1:8000".into(),
            model: "gpt-4o-mini".into(),
            api_key: None,
            timeout_secs: 20,
            max_response_bytes: 256 << 10,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("enabled", &self.enabled)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_parse_from_toml_with_defaults() {
        let t: TriageConfig =
            serde_json::from_value(serde_json::json!({"llm": {"enabled": true, "model": "m"}})).unwrap();
        let llm = t.llm.unwrap();
        assert!(llm.enabled);
        assert_eq!(llm.timeout_secs, 20);
        let i: IncidentsConfig = serde_json::from_value(serde_json::json!({"window_secs": 60})).unwrap();
        assert_eq!(i.group_by[0], "source.ip");
        assert!(serde_json::from_value::<PipelineConfig>(serde_json::json!({"nope": 1})).is_err());
    }

    #[test]
    fn api_key_is_not_printed() {
        let c = LlmConfig { api_key: Some("sk-secret".into()), ..LlmConfig::default() };
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
