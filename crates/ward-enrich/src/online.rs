//! Online reputation lookups (AbuseIPDB v2 `check`, VirusTotal v3 IP, domain and file
//! reports), kept off the hot path.
//!
//! Semantics: [`Online::enrich`] never waits on the network. For each observable of an event
//! (global `source.ip`/`destination.ip`; `url.domain`, `destination.domain`,
//! `dns.question.name`; `file.hash.sha256/sha1/md5`) it reads a shared TTL cache. A cached
//! answer whose confidence reaches `min_confidence` becomes a `threat.enrichments[]` item
//! (`feed` = provider, `matched.type = online_lookup`); a miss is queued once (a bounded queue:
//! a full queue drops the lookup and counts `ward_enrich_online_dropped_total`). The
//! [`OnlineWorker`], spawned by the caller on its runtime, drains the queue: one request at a
//! time per the provider's rate limit (governor), each with a timeout; answers (including
//! "unknown to the service") are cached for `cache_ttl_secs`, failures are counted in
//! `ward_enrich_online_errors_total{provider,reason}` and not cached, so a later sighting asks
//! again. So the first event with a new address is not enriched online; events after the
//! answer arrived are, and so are alerts through [`Online::attach`]. Online results make
//! enrichment depend on when a replay runs: they are marked as such and never feed the event
//! id.
//!
//! Values on the configured MISP warning-lists and non-global addresses are never sent. API
//! keys are sent only in the service's header (marked sensitive) and never logged.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rustc_hash::{FxHashMap, FxHashSet};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use ward_ioc::{Indicator, WarningListOptions, WarningLists};
use ward_model::{AlertRecord, Event, FieldValue};

use crate::config::{OnlineConfig, ProviderConfig};
use crate::error::EnrichError;

/// Which service answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// AbuseIPDB (addresses only).
    AbuseIpDb,
    /// VirusTotal (addresses, domains, file hashes).
    VirusTotal,
}

impl Provider {
    /// The name used as `feed` and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AbuseIpDb => "abuseipdb",
            Self::VirusTotal => "virustotal",
        }
    }

    fn default_base(self) -> &'static str {
        match self {
            Self::AbuseIpDb => "https://api.abuseipdb.com",
            Self::VirusTotal => "https://www.virustotal.com",
        }
    }
}

/// A value a service can be asked about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Observable {
    /// An address.
    Ip(IpAddr),
    /// A host name (lower-cased).
    Domain(String),
    /// A hex file digest (lower-cased).
    Hash(String),
}

impl Observable {
    fn text(&self) -> String {
        match self {
            Self::Ip(ip) => ip.to_string(),
            Self::Domain(d) | Self::Hash(d) => d.clone(),
        }
    }

    fn ecs_type(&self) -> &'static str {
        match self {
            Self::Ip(IpAddr::V4(_)) => "ipv4-addr",
            Self::Ip(IpAddr::V6(_)) => "ipv6-addr",
            Self::Domain(_) => "domain-name",
            Self::Hash(_) => "file",
        }
    }
}

/// A service's answer about one observable.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// 0–100: AbuseIPDB's `abuseConfidenceScore`; for VirusTotal
    /// min(100, 20 × malicious + 10 × suspicious engines); 0 when the service knows nothing.
    pub confidence: u8,
    /// The service's answer, trimmed to the fields worth keeping.
    pub summary: Value,
}

type Key = (Provider, Observable);

#[derive(Debug)]
struct Cache {
    map: Mutex<FxHashMap<Key, (Instant, Verdict)>>,
    pending: Mutex<FxHashSet<Key>>,
    ttl: Duration,
    max: usize,
}

impl Cache {
    fn get(&self, key: &Key) -> Option<Verdict> {
        let map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    fn put(&self, key: Key, verdict: Verdict) {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= self.max {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.max
                && let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(key, (Instant::now(), verdict));
    }

    fn done(&self, key: &Key) {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// The hot-path side: cache reads and queueing.
#[derive(Debug)]
pub struct Online {
    cache: Arc<Cache>,
    tx: mpsc::Sender<Key>,
    providers: Vec<Provider>,
    min_confidence: u8,
    warning: WarningLists,
}

/// What one event got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnlineHits {
    /// Enrichment items added from cached answers.
    pub enriched: u32,
    /// Lookups queued.
    pub queued: u32,
    /// Lookups dropped because the queue was full.
    pub dropped: u32,
}

struct Client {
    provider: Provider,
    base: reqwest::Url,
    key: SecretString,
    limiter: DefaultDirectRateLimiter,
    timeout: Duration,
}

/// The background side: drains the queue. Spawn [`OnlineWorker::run`] on a Tokio runtime.
pub struct OnlineWorker {
    rx: mpsc::Receiver<Key>,
    cache: Arc<Cache>,
    clients: Vec<Client>,
    http: reqwest::Client,
}

impl std::fmt::Debug for OnlineWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.clients.iter().map(|c| c.provider.as_str()).collect();
        f.debug_struct("OnlineWorker").field("providers", &names).finish_non_exhaustive()
    }
}

impl Online {
    /// Builds the cache, the queue and the worker for `cfg`.
    pub fn new(cfg: &OnlineConfig) -> Result<(Self, OnlineWorker), EnrichError> {
        let cache = Arc::new(Cache {
            map: Mutex::new(FxHashMap::default()),
            pending: Mutex::new(FxHashSet::default()),
            ttl: Duration::from_secs(cfg.cache_ttl_secs),
            max: cfg.cache_max.max(1),
        });
        let mut warning = WarningLists::default();
        for path in &cfg.warninglists {
            let (list, _) = ward_ioc::load_warning_list(path, &WarningListOptions::default())
                .map_err(|e| config_err("online.warninglists", e.to_string()))?;
            warning.push(list);
        }
        let mut clients = Vec::new();
        for (provider, pc) in [(Provider::AbuseIpDb, &cfg.abuseipdb), (Provider::VirusTotal, &cfg.virustotal)]
        {
            if let Some(pc) = pc {
                clients.push(client(provider, pc)?);
            }
        }
        let (tx, rx) = mpsc::channel(cfg.queue.max(1));
        // reqwest uses rustls; make sure one process-wide crypto provider is chosen.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| config_err("online", format!("cannot build HTTP client: {e}")))?;
        let providers = clients.iter().map(|c| c.provider).collect();
        let online =
            Self { cache: cache.clone(), tx, providers, min_confidence: cfg.min_confidence, warning };
        Ok((online, OnlineWorker { rx, cache, clients, http }))
    }

    /// Adds cached answers to the event and queues what is not known yet.
    pub fn enrich(&self, ev: &mut Event) -> OnlineHits {
        let mut hits = OnlineHits::default();
        let mut items = Vec::new();
        for (field, obs) in observables(ev) {
            if self.is_benign(&obs) {
                continue;
            }
            for &provider in &self.providers {
                if provider == Provider::AbuseIpDb && !matches!(obs, Observable::Ip(_)) {
                    continue;
                }
                let key = (provider, obs.clone());
                match self.cache.get(&key) {
                    Some(v) if v.confidence >= self.min_confidence => {
                        items.push(item(provider, &obs, field, &v));
                        hits.enriched += 1;
                    }
                    Some(_) => {}
                    None => self.queue(key, &mut hits),
                }
            }
        }
        crate::push_enrichments(ev, items);
        hits
    }

    /// Adds `details.online` (cached answers about the alert's addresses, domains and hashes)
    /// to an alert; returns how many.
    pub fn attach(&self, alert: &mut AlertRecord) -> usize {
        let mut found = Vec::new();
        for (field, values) in &alert.entities {
            for v in values {
                let Some(obs) = observable_of(field, v) else { continue };
                for &provider in &self.providers {
                    if let Some(verdict) = self.cache.get(&(provider, obs.clone())) {
                        found.push(item(provider, &obs, field, &verdict));
                    }
                }
            }
        }
        let n = found.len();
        if n > 0 {
            crate::details_object(&mut alert.details).insert("online".into(), Value::Array(found));
        }
        n
    }

    fn queue(&self, key: Key, hits: &mut OnlineHits) {
        let mut pending = self.cache.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.contains(&key) {
            return;
        }
        match self.tx.try_send(key.clone()) {
            Ok(()) => {
                pending.insert(key);
                hits.queued += 1;
            }
            Err(_) => {
                hits.dropped += 1;
                metrics::counter!("ward_enrich_online_dropped_total", "provider" => key.0.as_str())
                    .increment(1);
            }
        }
    }

    fn is_benign(&self, obs: &Observable) -> bool {
        if let Observable::Ip(ip) = obs
            && !crate::is_global(*ip)
        {
            return true;
        }
        if self.warning.is_empty() {
            return false;
        }
        Indicator::detect(&obs.text(), Arc::from("online"))
            .is_ok_and(|ind| self.warning.check(&ind).is_some())
    }
}

fn item(provider: Provider, obs: &Observable, field: &str, v: &Verdict) -> Value {
    json!({
        "feed": provider.as_str(),
        "confidence": v.confidence,
        "indicator": {
            "type": obs.ecs_type(),
            "value": obs.text(),
            "provider": provider.as_str(),
            "confidence": ward_ioc::confidence_label(v.confidence),
        },
        "matched": { "field": field, "atomic": obs.text(), "type": "online_lookup" },
        "online": v.summary,
    })
}

const FIELDS: [(&str, u8); 8] = [
    ("source.ip", 0),
    ("destination.ip", 0),
    ("url.domain", 1),
    ("destination.domain", 1),
    ("dns.question.name", 1),
    ("file.hash.sha256", 2),
    ("file.hash.sha1", 2),
    ("file.hash.md5", 2),
];

fn observables(ev: &Event) -> Vec<(&'static str, Observable)> {
    let mut out: Vec<(&'static str, Observable)> = Vec::new();
    for (field, _) in FIELDS {
        let Some(v) = ev.get(field) else { continue };
        let text = match v {
            FieldValue::Ip(ip) => ip.to_string(),
            FieldValue::Str(s) => s.to_string(),
            _ => continue,
        };
        if let Some(obs) = observable_of(field, &text)
            && !out.iter().any(|(_, o)| *o == obs)
        {
            out.push((field, obs));
        }
    }
    out
}

fn observable_of(field: &str, value: &str) -> Option<Observable> {
    let kind = FIELDS.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)?;
    let value = value.trim();
    match kind {
        0 => value.parse().ok().filter(|ip| crate::is_global(*ip)).map(Observable::Ip),
        1 if value.contains('.') && value.parse::<IpAddr>().is_err() => {
            Some(Observable::Domain(value.trim_end_matches('.').to_ascii_lowercase()))
        }
        2 if matches!(value.len(), 32 | 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(Observable::Hash(value.to_ascii_lowercase()))
        }
        _ => None,
    }
}

fn client(provider: Provider, pc: &ProviderConfig) -> Result<Client, EnrichError> {
    let key_name = match provider {
        Provider::AbuseIpDb => "online.abuseipdb",
        Provider::VirusTotal => "online.virustotal",
    };
    let base = pc.base_url.as_deref().unwrap_or(provider.default_base());
    let base = reqwest::Url::parse(base).map_err(|e| config_err(key_name, format!("base_url: {e}")))?;
    if pc.api_key.expose_secret().trim().is_empty() {
        return Err(config_err(key_name, "api_key is empty".into()));
    }
    let rpm = NonZeroU32::new(pc.requests_per_minute)
        .ok_or_else(|| config_err(key_name, "requests_per_minute must be at least 1".into()))?;
    Ok(Client {
        provider,
        base,
        key: pc.api_key.clone(),
        limiter: RateLimiter::direct(Quota::per_minute(rpm)),
        timeout: Duration::from_millis(pc.timeout_ms.max(1)),
    })
}

fn config_err(key: &'static str, reason: String) -> EnrichError {
    EnrichError::Config { key, reason }
}

/// Why a lookup failed.
#[derive(Debug)]
enum Failure {
    Timeout,
    Http(u16),
    Transport,
    Body,
}

impl Failure {
    fn reason(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Http(429) => "rate_limited",
            Self::Http(401 | 403) => "unauthorized",
            Self::Http(_) => "http_status",
            Self::Transport => "transport",
            Self::Body => "bad_body",
        }
    }
}

impl OnlineWorker {
    /// Answers queued lookups until every [`Online`] handle is dropped.
    pub async fn run(mut self) {
        while let Some(key) = self.rx.recv().await {
            self.lookup(&key).await;
            self.cache.done(&key);
        }
    }

    /// Answers the lookups queued so far, then returns (tests, batch tools).
    pub async fn drain(&mut self) -> usize {
        let mut n = 0;
        while let Ok(key) = self.rx.try_recv() {
            self.lookup(&key).await;
            self.cache.done(&key);
            n += 1;
        }
        n
    }

    async fn lookup(&self, key: &Key) {
        let Some(client) = self.clients.iter().find(|c| c.provider == key.0) else { return };
        client.limiter.until_ready().await;
        let provider = client.provider.as_str();
        match self.fetch(client, &key.1).await {
            Ok(verdict) => {
                metrics::counter!("ward_enrich_online_lookups_total", "provider" => provider).increment(1);
                self.cache.put(key.clone(), verdict);
            }
            Err(f) => {
                metrics::counter!("ward_enrich_online_errors_total", "provider" => provider, "reason" => f.reason())
                    .increment(1);
                tracing::debug!(provider, reason = f.reason(), "online lookup failed");
            }
        }
    }

    async fn fetch(&self, c: &Client, obs: &Observable) -> Result<Verdict, Failure> {
        let (url, header) = match c.provider {
            Provider::AbuseIpDb => {
                let mut url = c.base.join("api/v2/check").map_err(|_| Failure::Transport)?;
                url.query_pairs_mut().append_pair("ipAddress", &obs.text()).append_pair("maxAgeInDays", "90");
                (url, "Key")
            }
            Provider::VirusTotal => {
                let path = match obs {
                    Observable::Ip(ip) => format!("api/v3/ip_addresses/{ip}"),
                    Observable::Domain(d) => format!("api/v3/domains/{d}"),
                    Observable::Hash(h) => format!("api/v3/files/{h}"),
                };
                (c.base.join(&path).map_err(|_| Failure::Transport)?, "x-apikey")
            }
        };
        let mut key =
            reqwest::header::HeaderValue::from_str(c.key.expose_secret()).map_err(|_| Failure::Transport)?;
        key.set_sensitive(true);
        let resp = self
            .http
            .get(url)
            .header(header, key)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(c.timeout)
            .send()
            .await
            .map_err(|e| if e.is_timeout() { Failure::Timeout } else { Failure::Transport })?;
        let status = resp.status().as_u16();
        if status == 404 && c.provider == Provider::VirusTotal {
            return Ok(Verdict { confidence: 0, summary: json!({"found": false}) });
        }
        if status != 200 {
            return Err(Failure::Http(status));
        }
        let body =
            resp.bytes().await.map_err(|e| if e.is_timeout() { Failure::Timeout } else { Failure::Body })?;
        let doc: Value = serde_json::from_slice(&body).map_err(|_| Failure::Body)?;
        match c.provider {
            Provider::AbuseIpDb => abuseipdb_verdict(&doc),
            Provider::VirusTotal => virustotal_verdict(&doc),
        }
        .ok_or(Failure::Body)
    }
}

fn abuseipdb_verdict(doc: &Value) -> Option<Verdict> {
    let data = doc.get("data")?;
    let score = data.get("abuseConfidenceScore")?.as_u64()?;
    let keep = [
        "abuseConfidenceScore",
        "countryCode",
        "usageType",
        "isp",
        "domain",
        "isTor",
        "totalReports",
        "lastReportedAt",
    ];
    let summary = keep.iter().filter_map(|k| Some(((*k).to_owned(), data.get(*k)?.clone()))).collect();
    Some(Verdict { confidence: u8::try_from(score.min(100)).unwrap_or(100), summary: Value::Object(summary) })
}

fn virustotal_verdict(doc: &Value) -> Option<Verdict> {
    let attrs = doc.get("data")?.get("attributes")?;
    let stats = attrs.get("last_analysis_stats")?;
    let n = |k: &str| stats.get(k).and_then(Value::as_u64).unwrap_or(0);
    let confidence = (20 * n("malicious") + 10 * n("suspicious")).min(100);
    let summary = json!({
        "last_analysis_stats": stats,
        "reputation": attrs.get("reputation"),
    });
    Some(Verdict { confidence: u8::try_from(confidence).unwrap_or(100), summary })
}
