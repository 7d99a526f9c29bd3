//! Pipeline throughput benchmark (plain `main`; `cargo bench -p ward-pipeline --bench pipeline`).
//!
//! Real Cowrie (committed fixture) and Suricata EVE (the shared suricata-verify corpus) records
//! are appended to an embedded log in a temporary directory, as the ingest API does, in batches
//! of 512; the spawned pipeline (normalize → detect with Ward's rule pack plus the 2,407 SigmaHQ
//! Windows rules → fuse → incidents into the memory sink) consumes them concurrently. Copies of
//! the corpus go to distinct tenants so every event, alert and incident is distinct.
//!
//! Prints events/s from the first append to the last incident write, and p50/p95/p99 of the
//! latency from a batch's durable append (ack) to each of its alerts being grouped.
//! Two phases: throughput (`WARD_BENCH_EVENTS`, default 200,000, appended as fast as possible)
//! and latency (`WARD_BENCH_RATE` events/s, default 10,000, for 10 s, in 10 ms batches).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_log::embedded::{EmbeddedLog, EmbeddedOptions};
use ward_log::{Log, LogLayout, Record, Topic, TopicConfig};
use ward_model::{EventId, RawEnvelope, TenantId};
use ward_pipeline::{
    DetectionRules, IncidentsConfig, MemorySink, Pipeline, PipelineConfig, PipelineEvent, StageKind,
};

/// The allocator `ward serve` runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let cowrie = ward_testkit::workspace_root().join("testdata/cowrie/cowrie.json");
    for line in std::fs::read_to_string(cowrie).unwrap_or_default().lines() {
        out.push(("cowrie", line.to_owned()));
    }
    if let Some(dir) = ward_testkit::shared("network/suricata_verify_eve") {
        let mut files: Vec<_> = walk(&dir).into_iter().filter(|p| p.ends_with("eve.json")).collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(f).unwrap_or_default().lines().filter(|l| !l.is_empty()) {
                out.push(("suricata", line.to_owned()));
            }
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn rules() -> (Arc<DetectionRules>, usize) {
    let mut paths = vec![ward_testkit::workspace_root().join("rules")];
    paths.extend(ward_testkit::shared("windows/sigmahq/rules/windows"));
    let Ok((rules, _rejected)) = DetectionRules::load(&paths, &[], Duration::from_secs(60)) else {
        eprintln!("rules could not be loaded");
        std::process::exit(1);
    };
    let n = rules.loaded();
    (Arc::new(rules), n)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let Ok(rt) = rt else {
        eprintln!("no runtime");
        return;
    };
    rt.block_on(run());
}

async fn run() {
    let want: usize = env("WARD_BENCH_EVENTS", 200_000);
    let rate: usize = env("WARD_BENCH_RATE", 10_000);
    let corpus = corpus();
    let (rules, loaded) = rules();
    println!(
        "rules_loaded={loaded} corpus_lines={} build={}",
        corpus.len(),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    println!("== throughput: {want} events appended as fast as the log takes them");
    phase(&corpus, &rules, want, None).await;
    let paced = (rate * 10).min(want);
    println!("== latency: {paced} events at a sustained {rate} events/s");
    phase(&corpus, &rules, paced, Some(rate)).await;
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Envelopes in batches, with the event id each will decode to (for the latency map).
fn batches(corpus: &[(&'static str, String)], want: usize, size: usize) -> Vec<(Vec<Record>, Vec<EventId>)> {
    let mut out = Vec::new();
    let (mut current, mut ids) = (Vec::new(), Vec::new());
    for i in 0..want {
        let (source, line) = &corpus[i % corpus.len()];
        let tenant = TenantId::new(&format!("bench-{}", i / corpus.len())).unwrap_or_default();
        ids.push(EventId::of(&tenant, source, line, 0));
        let env = RawEnvelope {
            tenant,
            source: (*source).into(),
            received_ms: 0,
            device_id: None,
            original: line.clone(),
        };
        let payload = serde_json::to_vec(&env).unwrap_or_default();
        current.push(Record {
            key: Some(line.as_bytes()[..line.len().min(24)].to_vec()),
            timestamp_ms: 0,
            payload,
        });
        if current.len() == size {
            out.push((std::mem::take(&mut current), std::mem::take(&mut ids)));
        }
    }
    if !current.is_empty() {
        out.push((current, ids));
    }
    out
}

async fn phase(
    corpus: &[(&'static str, String)],
    rules: &Arc<DetectionRules>,
    want: usize,
    rate: Option<usize>,
) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let two = TopicConfig { partitions: 2, ..TopicConfig::default() };
    let layout = LogLayout::default().with(Topic::RawEvents, two).with(Topic::EnrichedEvents, two);
    let root = dir.path().to_path_buf();
    let opened =
        tokio::task::spawn_blocking(move || EmbeddedLog::open(&root, layout, EmbeddedOptions::default()))
            .await;
    let Ok(Ok(log)) = opened else {
        eprintln!("cannot open the log");
        return;
    };
    let log: Arc<dyn Log> = Arc::new(log);
    // Paced: one batch per 10 ms; otherwise batches of 512 as fast as possible.
    let size = rate.map_or(512, |r| (r / 100).max(1));
    let batches = batches(corpus, want, size);

    let sink = Arc::new(MemorySink::new());
    let pipeline = Pipeline::builder(Arc::clone(&log), sink.clone())
        .rules(Arc::clone(rules))
        .config(PipelineConfig { batch_size: 1024, poll_interval_ms: 2, ..PipelineConfig::default() })
        .incidents_config(IncidentsConfig { event_channel_capacity: 1 << 20, ..IncidentsConfig::default() })
        .build();
    let Ok(pipeline) = pipeline else { return };
    let handle = pipeline.spawn();
    // Alerts are stamped as they are announced, concurrently with the producer.
    let mut events = handle.subscribe();
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let collector = tokio::spawn(async move {
        let mut seen: Vec<(ward_model::AlertRecord, Instant)> = Vec::new();
        loop {
            tokio::select! {
                e = events.recv() => match e {
                    Ok(PipelineEvent::Alert(a)) => seen.push((a, Instant::now())),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => break,
                },
                _ = stopped.changed() => break,
            }
        }
        while let Ok(e) = events.try_recv() {
            if let PipelineEvent::Alert(a) = e {
                seen.push((a, Instant::now()));
            }
        }
        seen
    });

    let started = Instant::now();
    let mut acked: HashMap<EventId, Instant> = HashMap::with_capacity(want);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    for (records, ids) in batches {
        if rate.is_some() {
            tick.tick().await;
        }
        if log.append(Topic::RawEvents, records).await.is_err() {
            eprintln!("append failed");
            return;
        }
        let now = Instant::now();
        acked.extend(ids.into_iter().map(|id| (id, now)));
    }
    let appended = started.elapsed();

    let done = loop {
        let stats = handle.stats();
        let get = |k: StageKind| stats.iter().find(|(s, _)| *s == k).map(|(_, s)| *s).unwrap_or_default();
        let (n, d, f, i) = (
            get(StageKind::Normalize),
            get(StageKind::Detect),
            get(StageKind::Fuse),
            get(StageKind::Incidents),
        );
        let finished = n.records_in == want as u64
            && d.records_in == n.records_out
            && f.records_in == d.records_out
            && i.records_in == f.records_out;
        if finished {
            break started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let _ = stop.send(true);
    let pending = collector.await.unwrap_or_default();
    let stats = handle.stats();
    handle.shutdown().await;
    let mut latencies = Vec::new();
    for (a, at) in pending {
        let ack =
            a.event_ids.iter().filter_map(|e| e.parse().ok()).filter_map(|e: EventId| acked.get(&e)).max();
        if let Some(ack) = ack {
            latencies.push(at.saturating_duration_since(*ack));
        }
    }
    latencies.sort();
    let secs = done.as_secs_f64();
    println!(
        "append (ingest side) {:.0} events/s; end-to-end {:.0} events/s ({:.2} s)",
        want as f64 / appended.as_secs_f64(),
        want as f64 / secs,
        secs
    );
    for (k, s) in &stats {
        println!(
            "  {:<9} in={} out={} rejected={} batches={}",
            k.as_str(),
            s.records_in,
            s.records_out,
            s.rejected,
            s.batches
        );
    }
    println!(
        "ack→alert latency over {} alerts: p50={:?} p95={:?} p99={:?}; incidents={}",
        latencies.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        sink.incidents().len()
    );
}
