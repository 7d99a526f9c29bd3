//! Throughput of `insert_alerts` (10,000 alerts) and of an idempotent replay of the same batch,
//! on SQLite (temporary data directory) and PostgreSQL (`WARD_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, in a throw-away schema). Prints rows/s.
//!
//! Run: `cargo bench -p ward-store --bench insert`.

use std::time::Instant;

use chrono::{TimeZone as _, Utc};
use ward_model::{AlertRecord, Entities, Severity, SignalKind, TenantId};
use ward_store::Store;

const N: usize = 10_000;
const BATCH: usize = 1_000;

fn alerts(tenant: &TenantId) -> Vec<AlertRecord> {
    (0..N)
        .map(|i| {
            let mut entities = Entities::new();
            ward_model::add_entity(&mut entities, "source.ip", &format!("203.0.113.{}", i % 250));
            ward_model::add_entity(&mut entities, "user.name", "root");
            AlertRecord {
                id: format!("{i:032x}"),
                tenant: tenant.clone(),
                kind: SignalKind::Sigma,
                rule_id: format!("rule-{}", i % 40),
                rule_title: "SSH brute force".to_owned(),
                level: Severity::ALL[i % 5],
                score: 0.5,
                timestamp: Utc.timestamp_opt(1_714_521_600 + i as i64, 0).single().unwrap_or_default(),
                event_ids: vec![format!("{:032x}", i * 7)],
                tags: vec!["attack.t1110".to_owned()],
                techniques: vec!["T1110".to_owned()],
                entities,
                source: "cowrie".to_owned(),
                details: serde_json::json!({"matched": {"event.action": "cowrie.login.failed"}}),
            }
        })
        .collect()
}

async fn run(name: &str, store: &Store) -> Result<(), ward_store::StoreError> {
    let t = TenantId::new("bench").map_err(|e| ward_store::StoreError::invalid("tenant", e.to_string()))?;
    let ts = store.tenant(&t);
    let batch = alerts(&t);
    let start = Instant::now();
    let mut inserted = 0;
    for chunk in batch.chunks(BATCH) {
        inserted += ts.insert_alerts(chunk).await?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name}: insert_alerts {inserted} rows in batches of {BATCH}: {secs:.3} s = {:.0} rows/s",
        inserted as f64 / secs
    );
    let start = Instant::now();
    let replayed = ts.insert_alerts(&batch).await?;
    let secs = start.elapsed().as_secs_f64();
    println!("{name}: replay of {N} (one call, {replayed} new): {secs:.3} s = {:.0} rows/s", N as f64 / secs);
    Ok(())
}

fn main() {
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return eprintln!("runtime: {e}"),
    };
    rt.block_on(async {
        let Ok(dir) = tempfile::tempdir() else { return eprintln!("no temp dir") };
        match Store::for_data_dir(dir.path()).await {
            Ok(store) => {
                if let Err(e) = run("sqlite", &store).await {
                    eprintln!("sqlite: {e}");
                }
            }
            Err(e) => eprintln!("sqlite: {e}"),
        }
        let url = std::env::var("WARD_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let schema = format!("ward_bench_{}", std::process::id());
        match Store::open_postgres_in_schema(&url, &schema).await {
            Ok(store) => {
                if let Err(e) = run("postgres", &store).await {
                    eprintln!("postgres: {e}");
                }
                if let Err(e) = store.drop_schema().await {
                    eprintln!("postgres: drop schema: {e}");
                }
            }
            Err(e) => eprintln!("postgres unreachable, skipped: {e}"),
        }
    });
}
