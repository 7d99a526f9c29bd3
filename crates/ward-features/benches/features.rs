//! Online feature store speed, in-process vs Redis, in one run: update latency (one event per
//! call) p50/p99, batched update throughput, and read latency p50/p99.
//!
//! `cargo bench -p ward-features --bench features` (Redis at `WARD_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`; skipped with a note when unreachable).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ward_features::online::memory::MemoryStore;
use ward_features::online::redis::RedisStore;
use ward_features::{EntityKind, Features, OnlineStore};
use ward_model::{Event, FieldValue, TenantId};

const EVENTS: usize = 20_000;
const SINGLE: usize = 3_000;
const READS: usize = 2_000;
const BATCH: usize = 256;

/// Cowrie-like login attempts from 2,000 addresses against 300 user names.
fn events(tenant: &TenantId) -> Vec<Event> {
    let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap_or_default();
    (0..EVENTS)
        .map(|i| {
            let ts = t0 + chrono::Duration::milliseconds(i as i64 * 50);
            let original = format!("bench {i}");
            let mut e = Event::new(tenant, "cowrie", &original, 0, ts);
            let ip = std::net::Ipv4Addr::from(0xCB00_7100 + (i as u32 * 7919) % 2000);
            e.set("source.ip", FieldValue::Ip(ip.into()));
            e.set("user.name", format!("user{}", i % 300));
            e.set("cowrie.password", format!("pw{}", (i * 31) % 5000));
            e.set("destination.port", FieldValue::Int(22 + (i % 3) as i64));
            e.set("event.category", FieldValue::List(vec!["authentication".into()]));
            e.set("event.outcome", if i % 20 == 0 { "success" } else { "failure" });
            e.set("host.name", format!("honeypot-{}", i % 4));
            e
        })
        .collect()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

struct Row {
    adapter: &'static str,
    update_p50: f64,
    update_p99: f64,
    batched_eps: f64,
    read_p50: f64,
    read_p99: f64,
}

async fn measure(
    adapter: &'static str,
    store: Arc<dyn OnlineStore>,
    tenant: &TenantId,
    events: &[Event],
) -> Row {
    let features = Features::new(store);
    let mut lat = Vec::with_capacity(SINGLE);
    for e in &events[..SINGLE] {
        let start = Instant::now();
        features.observe(tenant, e).await.expect("observe");
        lat.push(start.elapsed());
    }
    lat.sort();
    let (update_p50, update_p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
    let start = Instant::now();
    for chunk in events[SINGLE..].chunks(BATCH) {
        features.observe_batch(tenant, chunk).await.expect("observe batch");
    }
    let batched_eps = (events.len() - SINGLE) as f64 / start.elapsed().as_secs_f64();
    let at = events.last().map(Event::timestamp).unwrap_or_default();
    let mut lat = Vec::with_capacity(READS);
    for i in 0..READS {
        let ip = std::net::Ipv4Addr::from(0xCB00_7100 + (i as u32 * 13) % 2000).to_string();
        let start = Instant::now();
        let v = features.get(tenant, EntityKind::SourceIp, &ip, at).await.expect("get");
        lat.push(start.elapsed());
        std::hint::black_box(v);
    }
    lat.sort();
    Row { adapter, update_p50, update_p99, batched_eps, read_p50: pct(&lat, 0.5), read_p99: pct(&lat, 0.99) }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let tenant = TenantId::new("bench").expect("tenant");
        let events = events(&tenant);
        let mut rows = vec![measure("memory", Arc::new(MemoryStore::new(100_000)), &tenant, &events).await];
        let url = std::env::var("WARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
        let prefix = format!("wardbench:features:{}", std::process::id());
        match RedisStore::connect(&url, &prefix, 7200).await {
            Ok(store) => {
                rows.push(measure("redis", Arc::new(store.clone()), &tenant, &events).await);
                store.delete_keys().await.expect("delete bench keys");
            }
            Err(e) => eprintln!("skipping redis: {e}"),
        }
        println!("| adapter | update p50 µs | update p99 µs | batched updates/s (batch {BATCH}) | read p50 µs | read p99 µs |");
        println!("|---|---:|---:|---:|---:|---:|");
        for r in rows {
            println!(
                "| {} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} |",
                r.adapter, r.update_p50, r.update_p99, r.batched_eps, r.read_p50, r.read_p99
            );
        }
        println!("events={EVENTS} single_updates={SINGLE} reads={READS} (each event updates 3 entities)");
    });
}
