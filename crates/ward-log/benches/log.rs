//! Throughput and latency of the embedded log on the local disk (not a test: it prints numbers).
//!
//! `cargo bench -p ward-log --bench log` — first the device's own speed (1 MiB written and
//! fdatasync'd per batch, no log), then 1 KiB records in batches of 1,000, each batch appended
//! (and fsync'd) before the appender sends the next: one appender, then 4 and 16 concurrent
//! appenders (group commit), then a sequential read of everything. `WARD_BENCH_BATCHES` sets the batches
//! per phase (default 300, i.e. ~300 MB); `WARD_BENCH_DIR` the directory (default: a temporary
//! directory under the system's temp dir).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_log::embedded::{EmbeddedLog, EmbeddedOptions};
use ward_log::{Log, LogLayout, Record, Topic};

const RECORD_BYTES: usize = 1024;
const BATCH: usize = 1000;

fn batch(seed: u64) -> Vec<Record> {
    (0..BATCH as u64)
        .map(|i| {
            let x = (seed * BATCH as u64 + i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let payload = (0..RECORD_BYTES).map(|j| (x >> (j % 57)) as u8).collect();
            Record { key: None, timestamp_ms: 1_700_000_000_000 + i as i64, payload }
        })
        .collect()
}

/// CPU time this process used so far (user + system), from `/proc/self/stat`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(name: &str, events: usize, (elapsed, cpu): (Duration, Duration), mut latencies: Vec<Duration>) {
    let secs = elapsed.as_secs_f64();
    let mb = (events * RECORD_BYTES) as f64 / 1e6;
    latencies.sort_unstable();
    println!(
        "{name:<36} {:>9.0} events/s {:>7.1} MB/s  per batch p50 {:>6.2} ms p99 {:>6.2} ms  cpu {:>3.0}%",
        events as f64 / secs,
        mb / secs,
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        cpu.as_secs_f64() / secs * 100.0,
    );
}

/// Wall-clock and CPU time since a start.
struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    fn start() -> Self {
        Self { wall: Instant::now(), cpu: cpu_time() }
    }

    fn stop(&self) -> (Duration, Duration) {
        (self.wall.elapsed(), cpu_time().saturating_sub(self.cpu))
    }
}

/// `appenders` tasks each append `batches` batches one after the other.
async fn append_phase(log: &Arc<EmbeddedLog>, appenders: usize, batches: usize) -> Vec<Duration> {
    let template = Arc::new(batch(7));
    let tasks: Vec<_> = (0..appenders)
        .map(|_| {
            let (log, template) = (Arc::clone(log), Arc::clone(&template));
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(batches);
                for _ in 0..batches {
                    let b = (*template).clone();
                    let t = Instant::now();
                    log.append(Topic::RawEvents, b).await.expect("append");
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("appender"));
    }
    latencies
}

/// The device's own speed for the same pattern: 1,000 frames' worth of bytes written and
/// fdatasync'd per batch, without the log.
fn raw_phase(dir: &Path, batches: usize) -> Vec<Duration> {
    let mut file = std::fs::File::create(dir.join("raw")).expect("raw file");
    let chunk = vec![0x5au8; BATCH * (RECORD_BYTES + 28)];
    (0..batches)
        .map(|_| {
            let t = Instant::now();
            file.write_all(&chunk).and_then(|()| file.sync_data()).expect("raw write");
            t.elapsed()
        })
        .collect()
}

/// Reads the whole partition, 1,000 records per call; returns the count and latencies.
async fn read_phase(log: &EmbeddedLog) -> (usize, Vec<Duration>) {
    let (mut next, mut events, mut latencies) = (0, 0, Vec::new());
    loop {
        let t = Instant::now();
        let got = log.read(Topic::RawEvents, 0, next, BATCH).await.expect("read");
        latencies.push(t.elapsed());
        let Some(last) = got.last() else { break };
        next = last.offset + 1;
        events += got.len();
    }
    (events, latencies)
}

async fn run(dir: &Path, batches: usize) {
    let open =
        |name: &str| EmbeddedLog::open(&dir.join(name), LogLayout::default(), EmbeddedOptions::default());

    let clock = Clock::start();
    let lat = raw_phase(dir, batches);
    report("raw disk: write 1 MiB + fdatasync", batches * BATCH, clock.stop(), lat);

    let log = Arc::new(open("one").expect("open"));
    let clock = Clock::start();
    let lat = append_phase(&log, 1, batches).await;
    report("append, 1 appender", batches * BATCH, clock.stop(), lat);

    for appenders in [4, 16] {
        let many = Arc::new(open(&appenders.to_string()).expect("open"));
        let per = batches / appenders;
        let clock = Clock::start();
        let lat = append_phase(&many, appenders, per).await;
        report(
            &format!("append, {appenders} appenders (group commit)"),
            per * appenders * BATCH,
            clock.stop(),
            lat,
        );
    }

    let clock = Clock::start();
    let (events, lat) = read_phase(&log).await;
    report("sequential read, 1,000 per call", events, clock.stop(), lat);
    drop(log);
    let start = Instant::now();
    let reopened = open("one").expect("reopen");
    println!(
        "reopen (index files + scan of each active segment): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let clock = Clock::start();
    let (events, lat) = read_phase(&reopened).await;
    report("sequential read after reopen", events, clock.stop(), lat);
}

fn main() {
    let batches =
        std::env::var("WARD_BENCH_BATCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(300usize).max(16);
    let tmp = match std::env::var_os("WARD_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    println!(
        "embedded log bench in {} ({batches} batches of {BATCH} x {RECORD_BYTES} B per phase)",
        tmp.path().display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(tmp.path(), batches));
}
