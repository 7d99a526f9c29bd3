//! Configuration: a pure function of (file, environment map, arguments) that reports every
//! problem at once — unknown keys, wrongly typed values and invalid settings alike.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_path_to_error::Segment;
use ward_api::config::{IngestConfig, SecurityConfig, ServerConfig, WebhookConfig};
use ward_log::LogLayout;
use ward_log::embedded::EmbeddedOptions;

/// The whole configuration file. Unknown keys are errors, so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where embedded state lives.
    pub data_dir: Option<PathBuf>,
    /// Decoder settings.
    pub decode: DecodeConfig,
    /// HTTP server settings (used by `ward serve`).
    pub server: ServerConfig,
    /// Ingest admission control.
    pub ingest: IngestConfig,
    /// Secrets at rest and request signing.
    pub security: SecurityConfig,
    /// The durable log.
    pub log: LogConfig,
    /// Webhooks by name (`POST /api/webhooks/NAME`).
    pub webhooks: BTreeMap<String, WebhookConfig>,
    /// The state store (`[store]`).
    pub store: StoreConfig,
    /// Decision and response (`[respond]`, `[respond.nftables]`, …).
    pub respond: ward_respond::RespondConfig,
    /// The analyst API: sessions, login limits, listing bounds (`[api]`).
    pub api: ward_api::ApiConfig,
    /// Which detection rules `ward serve` runs (`[detect]`).
    pub detect: DetectConfig,
    /// Pipeline batching, correlation and fusion (`[pipeline]`).
    pub pipeline: ward_pipeline::PipelineConfig,
    /// Incident grouping (`[incidents]`).
    pub incidents: ward_pipeline::IncidentsConfig,
    /// Built-in and optional LLM triage (`[triage]`, `[triage.llm]`).
    pub triage: ward_pipeline::TriageConfig,
    /// Enrichment: GeoIP, threat intel, assets, dedupe, sessions, privacy (`[enrich]`).
    pub enrich: ward_enrich::EnrichConfig,
    /// The online feature store (`[features] online = "memory" | "redis://…"`).
    pub features: ward_features::FeaturesConfig,
    /// The offline Parquet store (`[offline] url = "file:///…" | "s3://bucket/prefix"`).
    pub offline: ward_features::OfflineConfig,
    /// The NetFlow v5/v9/IPFIX collector; present = on (`[flow] listen = ["0.0.0.0:2055"]`).
    pub flow: Option<ward_flow::collector::CollectorConfig>,
}

/// `[detect]`: the rules the pipeline's `detect` stage runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Run the rule pack compiled into the binary (`rules/` of the source tree).
    pub builtin: bool,
    /// More Sigma rule files or folders (recursive).
    pub rules: Vec<PathBuf>,
    /// Logsource pipelines: shipped names or files (empty = every shipped pipeline).
    pub pipelines: Vec<String>,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self { builtin: true, rules: Vec::new(), pipelines: Vec::new() }
    }
}

/// `[store]`: where users, incidents, alerts, actions and the audit log live.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`; unset = SQLite at
    /// `<data-dir>/state/ward.db`.
    pub url: Option<String>,
}

/// `[decode]`: limits and defaults for decoding.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeConfig {
    /// Largest accepted record, in bytes.
    pub max_record_bytes: usize,
    /// Tenant used when a command names none.
    pub tenant: String,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self { max_record_bytes: ward_decode::run::DEFAULT_MAX_RECORD_BYTES, tenant: "default".into() }
    }
}

/// `[log]`: which log adapter, and the topics' partitions and retention.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `embedded` (files under `<data-dir>/log`), `nats://HOST:PORT` or `redis://HOST:PORT`.
    pub url: String,
    /// Name prefix of streams/keys on server adapters.
    pub prefix: String,
    /// Per-topic partitions and retention (`[log.topics.raw_events]`).
    pub topics: LogLayout,
    /// Tuning of the embedded log (`[log.embedded]`).
    pub embedded: EmbeddedOptions,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            url: "embedded".into(),
            prefix: "ward".into(),
            topics: LogLayout::default(),
            embedded: EmbeddedOptions::default(),
        }
    }
}

/// Every problem found in a configuration.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration ({} problem{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        self.0.iter().try_for_each(|e| write!(f, "\n  - {e}"))
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Loads the file (if any), applies `WARD_<SECTION>__<KEY>` overrides from `env`, and checks
    /// everything.
    ///
    /// # Errors
    /// [`ConfigErrors`] listing every problem: unreadable file, invalid TOML, unknown keys,
    /// wrongly typed values, invalid settings.
    pub fn load(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let mut doc = read_document(file)?;
        apply_env(&mut doc, env);
        let (config, mut errors) = deserialize_all(doc);
        errors.extend(config.validate());
        if errors.is_empty() { Ok(config) } else { Err(ConfigErrors(errors)) }
    }

    /// The data directory: the flag, else the config, else `./ward-data`.
    pub fn data_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("ward-data"))
    }

    /// Semantic checks beyond types.
    fn validate(&self) -> Vec<String> {
        let mut errors =
            ward_api::config::validate(&self.server, &self.ingest, &self.security, &self.webhooks);
        if let Err(e) = ward_model::TenantId::new(&self.decode.tenant) {
            errors.push(format!("decode.tenant: {e}"));
        }
        if self.decode.max_record_bytes == 0 {
            errors.push("decode.max_record_bytes: must be above 0".into());
        }
        let url = self.log.url.as_str();
        if !(url == "embedded" || url.starts_with("nats://") || url.starts_with("redis://")) {
            errors.push(format!("log.url: {url:?} is not `embedded`, `nats://…` or `redis://…`"));
        }
        errors.extend(self.respond.validate());
        errors.extend(self.api.validate());
        errors.extend(self.features.validate());
        errors.extend(self.offline.validate());
        errors
    }
}

fn read_document(file: Option<&Path>) -> Result<toml::Table, ConfigErrors> {
    let Some(path) = file else { return Ok(toml::Table::new()) };
    let one = |msg: String| ConfigErrors(vec![msg]);
    let text = std::fs::read_to_string(path).map_err(|e| one(format!("reading {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| one(format!("parsing {}: {e}", path.display())))
}

fn apply_env(doc: &mut toml::Table, env: &BTreeMap<String, String>) {
    for (key, value) in env {
        let Some(rest) = key.strip_prefix("WARD_") else { continue };
        if matches!(rest, "CONFIG" | "SHARED_DATA" | "DEVICE_SECRET") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        set_path(doc, &path, env_value(value));
    }
}

/// Deserializes, and after each error drops the offending key and tries again, so every bad
/// key is reported (each at most once; the result uses defaults where keys were dropped).
fn deserialize_all(mut doc: toml::Table) -> (Config, Vec<String>) {
    let mut errors = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, Config>(toml::Value::Table(doc.clone())) {
            Ok(config) => return (config, errors),
            Err(e) => {
                let path = e.path().to_string();
                errors.push(format!("{path}: {}", e.inner().message()));
                let segments: Vec<String> = e.path().iter().filter_map(segment_key).collect();
                if segments.is_empty() || !remove_path(&mut doc, &segments) {
                    break;
                }
            }
        }
    }
    (Config::default(), errors)
}

fn segment_key(segment: &Segment) -> Option<String> {
    match segment {
        Segment::Map { key } => Some(key.clone()),
        Segment::Seq { index } => Some(index.to_string()),
        _ => None,
    }
}

fn remove_path(doc: &mut toml::Table, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => doc.remove(last).is_some(),
        [head, rest @ ..] => match doc.get_mut(head) {
            Some(toml::Value::Table(t)) => remove_path(t, rest),
            Some(toml::Value::Array(items)) => {
                let Some(i) = rest.first().and_then(|s| s.parse::<usize>().ok()) else { return false };
                i < items.len() && {
                    items.remove(i);
                    true
                }
            }
            _ => doc.remove(head).is_some(),
        },
    }
}

/// Environment values are typed the way TOML would read them, falling back to text.
fn env_value(text: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {text}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

fn set_path(doc: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [last] => {
            doc.insert(last.clone(), value);
        }
        [head, rest @ ..] => {
            let entry = doc.entry(head.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ward.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path), &env(vars))
    }

    #[test]
    fn environment_overrides_file_values_with_types() {
        let cfg = Config::load(
            None,
            &env(&[("WARD_SERVER__LISTEN", "0.0.0.0:9000"), ("WARD_DECODE__MAX_RECORD_BYTES", "2048")]),
        )
        .unwrap();
        assert_eq!(cfg.server.listen, "0.0.0.0:9000");
        assert_eq!(cfg.decode.max_record_bytes, 2048);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::load(None, &env(&[("WARD_DECODE__MAX_RECORD_BYTE", "1")])).unwrap_err();
        assert!(err.to_string().contains("decode.max_record_byte"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"
            colour = "blue"
            [server]
            listen = "nowhere"
            max_body_bytes = "ten"
            [ingest]
            rate_limit_burst = 0
            [log]
            url = "kafka://x"
            [log.topics.raw_event]
            partitions = 4
            [webhooks.splunk]
            tenant = "SOC"
            secret = "short"
        "#;
        let errors = load_text(text, &[("WARD_SECURITY__MAX_CLOCK_SKEW_SECS", "soon")]).unwrap_err().0;
        for needle in [
            "colour",
            "server.max_body_bytes",
            "server.listen",
            "ingest.rate_limit_burst",
            "log.url",
            "log.topics",
            "webhooks.splunk.decoder",
            "webhooks.splunk.tenant",
            "webhooks.splunk.secret",
            "security.max_clock_skew_secs",
        ] {
            assert!(errors.iter().any(|e| e.contains(needle)), "no error about {needle}: {errors:#?}");
        }
    }

    #[test]
    fn a_complete_file_loads() {
        let text = r#"
            data_dir = "/var/lib/ward"
            [server]
            listen = "0.0.0.0:8443"
            [ingest]
            rate_limit_events_per_sec = 500
            [security]
            master_key = "0000000000000000000000000000000000000000000000000000000000000000"
            [log]
            url = "nats://127.0.0.1:4222"
            [log.topics.raw_events]
            partitions = 4
            [webhooks.crowdstrike]
            decoder = "json"
            tenant = "soc"
            secret = "0123456789abcdef0123"
        "#;
        let cfg = load_text(text, &[]).unwrap();
        assert_eq!(cfg.log.topics.topic(ward_log::Topic::RawEvents).partitions, 4);
        assert_eq!(cfg.ingest.rate_limit_events_per_sec, 500);
        assert!(!format!("{cfg:?}").contains("0000000000000000"), "secrets never print");
    }
}
