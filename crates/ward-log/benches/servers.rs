//! Append and read throughput of the server adapters: NATS JetStream and Redis Streams.
//!
//! `cargo bench -p ward-log --bench servers --features nats,redis`
//!
//! Appends `RECORDS` records of 1 KiB in batches of 1,000 (one writer, then four concurrent
//! writers), then reads them back 1,000 at a time, against the servers at
//! `WARD_TEST_NATS_URL` / `WARD_TEST_REDIS_URL` (defaults: the local ones). Each run uses a new
//! prefix and deletes what it wrote. A server that is not reachable is skipped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_log::nats::NatsLog;
use ward_log::redis::RedisLog;
use ward_log::{Log, LogLayout, Record, Topic};

const RECORDS: usize = 100_000;
const BATCH: usize = 1_000;
const RECORD_BYTES: usize = 1024;
const WRITERS: usize = 4;
const TOPIC: Topic = Topic::EnrichedEvents;

fn batch(writer: usize, n: usize) -> Vec<Record> {
    (0..BATCH)
        .map(|i| {
            let tag = format!("{writer}-{n}-{i}");
            let mut payload = vec![b'x'; RECORD_BYTES];
            payload[..tag.len()].copy_from_slice(tag.as_bytes());
            Record { key: None, timestamp_ms: 1_700_000_000_000 + i as i64, payload }
        })
        .collect()
}

fn report(what: &str, records: usize, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let mib = (records * RECORD_BYTES) as f64 / (1024.0 * 1024.0);
    println!(
        "{what:<34} {:>10.0} records/s {:>8.1} MiB/s  ({records} in {secs:.2} s)",
        records as f64 / secs,
        mib / secs
    );
}

async fn append_one_writer(log: &Arc<dyn Log>) -> Result<(), ward_log::LogError> {
    let start = Instant::now();
    for n in 0..RECORDS / BATCH {
        log.append(TOPIC, batch(0, n)).await?;
    }
    report("append, 1 writer", RECORDS, start.elapsed());
    Ok(())
}

async fn append_concurrently(log: &Arc<dyn Log>) -> Result<(), ward_log::LogError> {
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let log = Arc::clone(log);
            tokio::spawn(async move {
                for n in 0..RECORDS / BATCH / WRITERS {
                    log.append(TOPIC, batch(w + 1, n)).await?;
                }
                Ok::<(), ward_log::LogError>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await.map_err(|e| ward_log::LogError::Server(e.to_string()))??;
    }
    report(&format!("append, {WRITERS} concurrent writers"), RECORDS, start.elapsed());
    Ok(())
}

async fn read_all(log: &Arc<dyn Log>) -> Result<(), ward_log::LogError> {
    let start = Instant::now();
    let (mut next, mut count) = (0, 0);
    loop {
        let got = log.read(TOPIC, 0, next, BATCH).await?;
        let Some(last) = got.last() else { break };
        next = last.offset + 1;
        count += got.len();
    }
    if count != 2 * RECORDS {
        return Err(ward_log::LogError::Server(format!(
            "read {count} records back, appended {}",
            2 * RECORDS
        )));
    }
    report("read, 1,000 per call", count, start.elapsed());
    Ok(())
}

async fn run(name: &str, log: Arc<dyn Log>) -> Result<(), ward_log::LogError> {
    println!("== {name} ({:?})", log.durability());
    append_one_writer(&log).await?;
    append_concurrently(&log).await?;
    read_all(&log).await
}

fn prefix() -> String {
    format!("wardbench-{}", std::process::id())
}

async fn nats() -> Result<(), ward_log::LogError> {
    let url = std::env::var("WARD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let log = match NatsLog::connect(&url, &prefix(), LogLayout::default()).await {
        Ok(log) => log,
        Err(e) => {
            println!("skipping NATS: {e}");
            return Ok(());
        }
    };
    let result = run("nats (JetStream, file storage)", Arc::new(log.clone())).await;
    log.delete_streams().await?;
    result
}

async fn redis() -> Result<(), ward_log::LogError> {
    let url = std::env::var("WARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let log = match RedisLog::connect(&url, &prefix(), LogLayout::default()).await {
        Ok(log) => log,
        Err(e) => {
            println!("skipping Redis: {e}");
            return Ok(());
        }
    };
    let result = run("redis (Streams)", Arc::new(log.clone())).await;
    log.delete_keys().await?;
    result
}

fn main() -> Result<(), ward_log::LogError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ward_log::LogError::Server(format!("runtime: {e}")))?;
    runtime.block_on(async {
        nats().await?;
        redis().await
    })
}
