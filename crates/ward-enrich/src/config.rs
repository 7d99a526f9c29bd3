//! The `[enrich]` section of Ward's TOML: one serde struct per enricher, all optional, so a
//! missing section turns that enricher off. Keys named in `CONTRACTS.md` (`geoip.city/asn`,
//! `ioc.files`, `assets.csv`) are kept exactly; the rest are Ward extensions.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// Everything the enrichment chain can be told; embedded by the binary under `[enrich]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// MaxMind databases; absent = no GeoIP/ASN.
    #[serde(default)]
    pub geoip: Option<GeoIpConfig>,
    /// Threat-intel feed files; absent = no indicator matching.
    #[serde(default)]
    pub ioc: Option<IocConfig>,
    /// Asset inventory; absent = an empty inventory (API-provided records still apply).
    #[serde(default)]
    pub assets: Option<AssetsConfig>,
    /// ATT&CK bundle; absent = the bundled Enterprise v18.1 extract.
    #[serde(default)]
    pub attack: Option<AttackConfig>,
    /// Duplicate detection.
    #[serde(default)]
    pub dedupe: DedupeConfig,
    /// Session building.
    #[serde(default)]
    pub sessionize: SessionizeConfig,
    /// Pseudonymization and masking; absent = events stored as received.
    #[serde(default)]
    pub privacy: Option<PrivacyConfig>,
    /// Online reputation lookups; absent = none.
    #[serde(default)]
    pub online: Option<OnlineConfig>,
}

/// `[enrich.geoip]`: MaxMind `.mmdb` files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoIpConfig {
    /// City, Country or Enterprise database → `*.geo.*`.
    #[serde(default)]
    pub city: Option<PathBuf>,
    /// ASN or ISP database → `*.as.*`.
    #[serde(default)]
    pub asn: Option<PathBuf>,
    /// Anonymous-IP database → `ward.anonymizer.<side>.*` flags.
    #[serde(default)]
    pub anonymous: Option<PathBuf>,
    /// Walk the whole file at load to refuse damaged databases up front (default true).
    #[serde(default = "yes")]
    pub verify: bool,
    /// Seconds between checks of the files' modification time; 0 = never reload.
    #[serde(default = "default_reload_secs")]
    pub reload_interval_secs: u64,
}

/// `[enrich.ioc]`: indicator feeds and MISP warning-lists (detected by content).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IocConfig {
    /// Lists, CSV, MISP events, STIX bundles, MISP warning-lists.
    #[serde(default)]
    pub files: Vec<PathBuf>,
}

/// `[enrich.assets]`: the asset inventory file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetsConfig {
    /// CSV with header `name,ip_or_cidr,owner,criticality,tags`.
    #[serde(default)]
    pub csv: Option<PathBuf>,
}

/// `[enrich.attack]`: where technique and tactic names come from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackConfig {
    /// A STIX 2.x ATT&CK bundle (`.json` or `.json.gz`); absent = the bundled one.
    #[serde(default)]
    pub bundle: Option<PathBuf>,
}

/// `[enrich.dedupe]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeConfig {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Event-time window in seconds within which a repeat counts as a duplicate.
    #[serde(default = "default_dedupe_window")]
    pub window_secs: u64,
    /// Fields whose values (with tenant and source) form the key; empty = exact (the event id,
    /// a hash of tenant, source and original record).
    #[serde(default)]
    pub key: Vec<String>,
    /// Most keys remembered; the oldest are forgotten first.
    #[serde(default = "default_dedupe_max")]
    pub max_entries: usize,
}

impl Default for DedupeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: default_dedupe_window(),
            key: Vec::new(),
            max_entries: default_dedupe_max(),
        }
    }
}

/// How a session is recognized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKeyKind {
    /// `session.id` (Cowrie's sensor-scoped session).
    Session,
    /// `network.community_id` (Suricata, Zeek).
    CommunityId,
    /// Transport, addresses and ports in canonical (sorted) order.
    FiveTuple,
    /// `user.name` on `host.name`.
    UserHost,
}

impl SessionKeyKind {
    /// The name used in config and in `ward.session.key_kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::CommunityId => "community_id",
            Self::FiveTuple => "five_tuple",
            Self::UserHost => "user_host",
        }
    }
}

/// `[enrich.sessionize]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionizeConfig {
    /// On by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Keys tried in order; an event joins the session of the first key it has.
    #[serde(default = "default_session_keys")]
    pub keys: Vec<SessionKeyKind>,
    /// Inactivity timeout in seconds of event time.
    #[serde(default = "default_session_timeout")]
    pub timeout_secs: u64,
    /// Most open sessions; beyond it the least recently active one is closed (`evicted`).
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Most commands kept per summary (all are counted).
    #[serde(default = "default_max_commands")]
    pub max_commands: usize,
}

impl Default for SessionizeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            keys: default_session_keys(),
            timeout_secs: default_session_timeout(),
            max_sessions: default_max_sessions(),
            max_commands: default_max_commands(),
        }
    }
}

/// `[enrich.privacy]`: pseudonymization and masking applied last, before storage or export.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// GDPR mode: also pseudonymizes the personal-data fields (user names, e-mail addresses,
    /// host names of users' machines are not touched).
    #[serde(default)]
    pub gdpr: bool,
    /// Fields replaced by keyed HMAC tokens (added to the GDPR list when `gdpr` is on).
    #[serde(default)]
    pub pseudonymize: Vec<String>,
    /// Fields replaced by `[masked]` (captured credentials by default).
    #[serde(default = "default_mask")]
    pub mask: Vec<String>,
    /// HMAC-SHA256 key for tokens, base64, at least 32 bytes.
    pub hmac_key: SecretString,
    /// AES-256-GCM key, base64 of 32 bytes: when set, each replaced original is kept encrypted
    /// under `ward.privacy.sealed.<field>` for an authorized key holder.
    #[serde(default)]
    pub seal_key: Option<SecretString>,
}

/// `[enrich.online]`: reputation services queried in the background.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineConfig {
    /// AbuseIPDB v2 `check`.
    #[serde(default)]
    pub abuseipdb: Option<ProviderConfig>,
    /// VirusTotal v3 IP, domain and file reports.
    #[serde(default)]
    pub virustotal: Option<ProviderConfig>,
    /// How long an answer is reused, seconds.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_secs: u64,
    /// Most answers cached.
    #[serde(default = "default_cache_max")]
    pub cache_max: usize,
    /// Most lookups waiting; beyond it new ones are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Confidence (0–100) from which an answer becomes a `threat.enrichments[]` item.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: u8,
    /// MISP warning-lists whose values are never looked up (public resolvers, top sites).
    #[serde(default)]
    pub warninglists: Vec<PathBuf>,
}

/// One online service.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// API key, sent in the service's header; never logged or printed.
    pub api_key: SecretString,
    /// Service base URL (the public one by default; a mock server in tests).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Requests per minute allowed (the service's quota).
    #[serde(default = "default_rpm")]
    pub requests_per_minute: u32,
    /// Per-request timeout, milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn yes() -> bool {
    true
}
fn default_reload_secs() -> u64 {
    60
}
fn default_dedupe_window() -> u64 {
    600
}
fn default_dedupe_max() -> usize {
    1_000_000
}
fn default_session_keys() -> Vec<SessionKeyKind> {
    vec![SessionKeyKind::Session, SessionKeyKind::CommunityId]
}
fn default_session_timeout() -> u64 {
    600
}
fn default_max_sessions() -> usize {
    100_000
}
fn default_max_commands() -> usize {
    64
}
fn default_mask() -> Vec<String> {
    ["cowrie.password", "url.password", "user.password"].map(String::from).to_vec()
}
fn default_cache_ttl() -> u64 {
    86_400
}
fn default_cache_max() -> usize {
    100_000
}
fn default_queue() -> usize {
    10_000
}
fn default_min_confidence() -> u8 {
    50
}
fn default_rpm() -> u32 {
    30
}
fn default_timeout_ms() -> u64 {
    5_000
}
