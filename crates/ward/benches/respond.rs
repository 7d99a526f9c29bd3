//! Alert → verified nftables block latency under background load, autonomous mode
//! (`cargo bench -p ward --bench respond`; a plain `main`; needs root, `ip` and `nft`).
//!
//! The real `ward serve` binary runs with `[respond] mode = "autonomous"`, a Rego policy that
//! allows `block_ip` of the attacker range only, the private-range guard opened for that range
//! (`198.18.0.0/15`), the `block_ip` rate limit raised, and nftables inside a throw-away network
//! namespace. Signed ingest carries a steady background of real Suricata EVE records
//! (suricata-verify; each stamped with its send time) at `WARD_BENCH_RATE` events/s (default
//! 10,000) in requests of `WARD_BENCH_BATCH` records (250) for `WARD_BENCH_SECONDS` (60).
//! Spread evenly over that time, `WARD_BENCH_ATTACKERS` attackers (default: one per second)
//! each replay the real Cowrie brute-force session from a fresh address in one request.
//!
//! Per attacker, from the API (`GET /api/actions`, `GET /api/incidents/{id}`): ingest ack (the
//! 202 of the request carrying its last event) → `verified_at` of its first verified
//! `block_ip`; incident opened (`created_at`, when its first alert was grouped) → verified;
//! decision (action `created_at`) → verified. Afterwards every attacker address must be in the
//! namespace's `blocked_v4` set. A refused request, a failed or missing block (after
//! `WARD_BENCH_DRAIN_SECONDS`, default 60) panics: no figures are printed for a broken run.
//! `WARD_BENCH_PARTITIONS` (default 1) sets the partitions of `raw_events` and `enriched_events`.

use std::sync::Arc;
use std::time::Duration;

use ward_testkit::netns::{Lab, capable};

#[path = "respond/load.rs"]
mod load;
#[path = "respond/measure.rs"]
mod measure;
#[path = "respond/server.rs"]
mod server;

use load::{Attack, Background, Corpus};
use measure::{Block, metric, millis, summary};
use server::Ward;

/// The knobs, from `WARD_BENCH_*` environment variables.
#[derive(Clone)]
struct Params {
    rate: usize,
    batch: usize,
    duration: Duration,
    attackers: usize,
    drain: Duration,
}

impl Params {
    fn from_env() -> Self {
        let seconds = env("WARD_BENCH_SECONDS", 60).max(2);
        let params = Self {
            rate: env("WARD_BENCH_RATE", 10_000).max(1),
            batch: env("WARD_BENCH_BATCH", 250).max(1),
            duration: Duration::from_secs(seconds as u64),
            attackers: env("WARD_BENCH_ATTACKERS", seconds).max(1),
            drain: Duration::from_secs(env("WARD_BENCH_DRAIN_SECONDS", 60) as u64),
        };
        assert!(params.attackers <= 250 * 256, "at most 64,000 attackers (198.18.0.0/16)");
        params
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let params = Params::from_env();
    assert!(capable("the response benchmark"), "the response benchmark needs root, `ip` and `nft`");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    runtime.expect("a tokio runtime").block_on(run(&params));
}

async fn run(params: &Params) {
    let lab = Lab::new();
    let corpus = Arc::new(Corpus::load());
    let ward = Arc::new(Ward::start(&lab.ns));
    println!(
        "ward serve ({}), autonomous, nftables in netns {}; background {} ({} records) at {} events/s \
         in requests of {} for {} s; {} attackers, Cowrie session of {} records each; load average {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        lab.ns,
        corpus.eve_origin,
        corpus.eve_len(),
        params.rate,
        params.batch,
        params.duration.as_secs(),
        params.attackers,
        corpus.session_len(),
        load_average(),
    );
    let cpu_before = (ward.cpu_seconds(), server::cpu_seconds("self"));
    let session_len = corpus.session_len();
    let (background, attacks) = load::drive(Arc::clone(&ward), corpus, params).await;
    let cpu = (ward.cpu_seconds() - cpu_before.0, server::cpu_seconds("self") - cpu_before.1);
    let lag = metric(&ward.metrics().await, "ward_pipeline_lag_records", Some("stage"));
    let sent = background.accepted + (attacks.len() * session_len) as u64;
    let unread = lag.get("normalize").copied().unwrap_or(0.0);
    let consumed = (sent as f64 - unread) / background.elapsed.as_secs_f64();
    let blocks = measure::wait_for_blocks(&ward, &attacks, params.drain).await;
    let in_set = measure::all_in_set(&lab.ns, &attacks);
    report(&background, &attacks, &blocks, in_set);
    println!(
        "during the load: ward serve {:.1} CPU-s, this client {:.1} CPU-s over {:.1} s on {} cores; \
         pipeline lag when it stopped (records per stage) {lag:?}, so normalize consumed \
         ≈ {consumed:.0} events/s; load average {}",
        cpu.0,
        cpu.1,
        background.elapsed.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_average(),
    );
    let ward = Arc::into_inner(ward).expect("no request is in flight any more");
    server_report(ward).await;
}

/// Peak RSS, what the pipeline and the responder counted, warnings, and a graceful stop.
async fn server_report(ward: Ward) {
    let metrics = ward.metrics().await;
    let warnings = ward.warnings();
    let rss = ward.peak_rss();
    let clean = ward.stop();
    println!(
        "ward serve: peak RSS {:.0} MiB; alerts {}; incidents {}; actions by status {:?}; \
         {} warning/error log lines; clean exit on SIGTERM: {clean}",
        rss as f64 / (1 << 20) as f64,
        metric(&metrics, "ward_alerts_total", None).values().sum::<f64>(),
        metric(&metrics, "ward_incidents_total", None).values().sum::<f64>(),
        metric(&metrics, "ward_actions_total", Some("status")),
        warnings.len(),
    );
    for line in warnings.iter().take(5) {
        println!("  {line}");
    }
}

fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn report(background: &Background, attacks: &[Attack], blocks: &[Block], in_set: usize) {
    let secs = background.elapsed.as_secs_f64();
    println!(
        "background: {} events accepted in {} requests over {secs:.1} s = {:.0} events/s",
        background.accepted,
        background.requests,
        background.accepted as f64 / secs,
    );
    println!(
        "attackers: {} of {} blocked and verified (API); {} addresses in the namespace's blocked_v4",
        blocks.len(),
        attacks.len(),
        in_set,
    );
    let acked: Vec<f64> = blocks.iter().map(|b| millis(b.ack, b.verified)).collect();
    let p99 = measure::p99(acked.clone());
    println!("ingest ack → block verified:        {}", summary(acked));
    println!(
        "ingest ack → incident opened:       {}",
        summary(blocks.iter().map(|b| millis(b.ack, b.incident_created)).collect())
    );
    println!(
        "incident opened → block verified:   {}",
        summary(blocks.iter().map(|b| millis(b.incident_created, b.verified)).collect())
    );
    println!(
        "decision → block verified:          {}",
        summary(blocks.iter().map(|b| millis(b.action_created, b.verified)).collect())
    );
    let verdict = if p99 <= 1000.0 { "met" } else { "NOT met" };
    println!("goal p99 ≤ 1 s (ingest ack → verified): {verdict} ({p99:.0} ms)");
}
