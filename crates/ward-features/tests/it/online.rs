//! The online store: the conformance suite on both adapters, the two adapters agreeing on
//! real Cowrie honeypot events, the memory bound, and configuration.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_features::conformance::{self, Harness};
use ward_features::online::memory::MemoryStore;
use ward_features::online::redis::RedisStore;
use ward_features::{EntityKind, Features, FeaturesConfig, OnlineStore};
use ward_model::{Event, TenantId};

use crate::services::{reachable, redis_url, unique};

struct MemoryHarness;

#[async_trait]
impl Harness for MemoryHarness {
    async fn fresh(&mut self) -> Arc<dyn OnlineStore> {
        Arc::new(MemoryStore::new(100_000))
    }
}

#[derive(Default)]
struct RedisHarness {
    stores: Vec<RedisStore>,
}

#[async_trait]
impl Harness for RedisHarness {
    async fn fresh(&mut self) -> Arc<dyn OnlineStore> {
        let store =
            RedisStore::connect(&redis_url(), &unique("wardtest:features:"), 7200).await.expect("connect");
        self.stores.push(store.clone());
        Arc::new(store)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_passes_the_conformance_suite() {
    conformance::run(&mut MemoryHarness).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_passes_the_conformance_suite() {
    if !reachable("Redis", &redis_url()).await {
        return;
    }
    let mut harness = RedisHarness::default();
    conformance::run(&mut harness).await;
    for store in harness.stores {
        store.delete_keys().await.expect("delete test keys");
    }
}

/// The Cowrie events committed under `testdata/cowrie/` (real honeypot output).
fn cowrie_events(tenant: &TenantId) -> Vec<Event> {
    let path = ward_testkit::workspace_root().join("testdata/cowrie/cowrie.json");
    let text = std::fs::read_to_string(&path).expect("cowrie fixture");
    let ctx = ward_decode::DecodeContext::new(tenant.clone(), Utc::now());
    let decoder = ward_decode::SourceKind::Cowrie.build(None).expect("cowrie decoder");
    let mut events = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        decoder.decode(line, &ctx, &mut events).expect("fixture decodes");
    }
    assert!(events.len() > 20, "fixture has {} events", events.len());
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn adapters_agree_on_real_cowrie_events() {
    if !reachable("Redis", &redis_url()).await {
        return;
    }
    let tenant = TenantId::new("honeynet").unwrap();
    let events = cowrie_events(&tenant);
    let memory = Features::in_memory(10_000);
    let redis_store = RedisStore::connect(&redis_url(), &unique("wardtest:features:"), 7200).await.unwrap();
    let redis = Features::new(Arc::new(redis_store.clone()));
    for chunk in events.chunks(16) {
        let a = memory.observe_batch(&tenant, chunk).await.unwrap();
        let b = redis.observe_batch(&tenant, chunk).await.unwrap();
        assert_eq!(a, b, "both adapters report the same counts");
    }
    let mut entities: Vec<(EntityKind, String, DateTime<Utc>)> = Vec::new();
    for e in &events {
        for kind in [EntityKind::SourceIp, EntityKind::UserName] {
            if let Some(v) = e.get(kind.as_str()) {
                let text =
                    v.as_str().map(str::to_owned).or_else(|| v.as_ip().map(|i| i.to_string())).unwrap();
                entities.push((kind, text, e.timestamp()));
            }
        }
    }
    assert!(entities.iter().any(|(k, ..)| *k == EntityKind::UserName), "fixture has logins");
    let mut compared = 0;
    for (kind, value, at) in &entities {
        let a = memory.get(&tenant, *kind, value, *at).await.unwrap();
        let b = redis.get(&tenant, *kind, value, *at).await.unwrap();
        assert_eq!(a.last_seen, b.last_seen, "{kind}={value}");
        for (name, x) in &a.features {
            let y = b.value(name);
            assert!(
                (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                "{kind}={value} at {at}: {name} memory={x} redis={y}"
            );
        }
        compared += 1;
    }
    assert!(compared > 20);
    let logins = memory.get(&tenant, entities[0].0, &entities[0].1, entities[0].2).await.unwrap();
    assert!(logins.value("events_1h") >= 1.0, "{logins:?}");
    redis_store.delete_keys().await.unwrap();
}

#[tokio::test]
async fn the_memory_adapter_stays_within_its_entity_bound() {
    let tenant = TenantId::default();
    let features = Features::in_memory(160);
    let events: Vec<Event> = (0..1000u32)
        .map(|i| {
            let ip = std::net::Ipv4Addr::from(0xC633_6400 + i);
            conformance::event(&tenant, f64::from(i), &[("source.ip", std::net::IpAddr::V4(ip).into())])
        })
        .collect();
    let report = features.observe_batch(&tenant, &events).await.unwrap();
    assert!(report.store.evicted >= 1000 - 176, "{report:?}");
    let store = MemoryStore::new(160);
    Features::new(Arc::new(store)).observe_batch(&tenant, &events).await.unwrap();
    let newest =
        features.get(&tenant, EntityKind::SourceIp, "198.51.103.231", events[999].timestamp()).await.unwrap();
    assert_eq!(newest.value("events_1m"), 1.0, "the newest entity is kept");
    let oldest =
        features.get(&tenant, EntityKind::SourceIp, "198.51.100.0", events[999].timestamp()).await.unwrap();
    assert_eq!(oldest.last_seen, None, "the oldest entity was evicted");
}

#[tokio::test]
async fn the_api_body_names_features_and_defaults_to_the_newest_event() {
    let tenant = TenantId::default();
    let features = Features::in_memory(100);
    let events: Vec<Event> = (0..3)
        .map(|i| conformance::event(&tenant, f64::from(i) * 5.0, &[("host.name", "db-7".into())]))
        .collect();
    features.observe_batch(&tenant, &events).await.unwrap();
    let now = events[2].timestamp() + chrono::Duration::days(3);
    let body = features.api_body(&tenant, "host.name", "DB-7", None, now).await.unwrap();
    assert_eq!(body["kind"], "host.name");
    assert_eq!(body["value"], "db-7");
    assert_eq!(body["adapter"], "memory");
    assert_eq!(body["at"], body["last_seen"]);
    assert_eq!(body["features"]["events_1m"], 3.0);
    assert_eq!(body["features"]["gap_mean_s_1m"], 5.0);
    let err = features.api_body(&tenant, "process.name", "x", None, now).await.unwrap_err();
    assert!(err.is_bad_request(), "{err}");
}

#[tokio::test]
async fn configuration_is_checked_and_opens_adapters() {
    let bad = FeaturesConfig { online: "kafka://x".into(), ttl_secs: 60, ..FeaturesConfig::default() };
    let errors = bad.validate();
    assert!(errors.iter().any(|e| e.contains("features.online")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("features.ttl_secs")), "{errors:?}");
    assert!(FeaturesConfig::default().validate().is_empty());
    let store = ward_features::online::open(&FeaturesConfig::default()).await.unwrap();
    assert_eq!(store.adapter(), "memory");
    assert!(ward_features::online::open(&bad).await.is_err());
    let parsed: FeaturesConfig = toml::from_str("online = \"redis://127.0.0.1:6379\"").unwrap();
    assert_eq!(parsed.online, "redis://127.0.0.1:6379");
    assert!(toml::from_str::<FeaturesConfig>("onlin = \"memory\"").is_err(), "unknown keys are rejected");
}
