//! `ward bench sigma`: rule load and compile time, then events per CPU-second of the compiled
//! Sigma engine on decoded events — single-threaded and on every core — next to the cost of
//! decoding the same events, and peak memory.
//!
//! CPU time is each thread's own, read from `/proc/thread-self/schedstat`, so figures stay
//! meaningful when other work shares the machine.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use ward_decode::run::{Collect, RunOptions};
use ward_decode::{DecodeContext, SourceKind, SourceSelection, decode_inputs};
use ward_model::{Event, TenantId};
use ward_rules::{Engine, Pipeline, RuleSet, Scratch};

use crate::Outcome;
use crate::cli::BenchSigmaArgs;
use crate::memory::peak_rss_bytes;

/// Nanoseconds this thread has spent on a CPU.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs `ward bench sigma`.
///
/// # Errors
/// Unreadable rules or events, no events, or no rule compiled.
pub fn run(args: &BenchSigmaArgs) -> Result<Outcome> {
    let pipeline = Pipeline::builtin().context("shipped pipelines")?;
    let started = Instant::now();
    let (set, rejected) = RuleSet::load(&args.rules);
    let loaded_in = started.elapsed();
    let started = Instant::now();
    let (engine, compile_rejected) = Engine::compile(&set, &pipeline);
    let compiled_in = started.elapsed();
    let rules = engine.stats().rules;
    if rules == 0 {
        bail!("no rule compiled from {:?}", args.rules);
    }
    let (events, decode_secs) = decode(&args.events, &args.source)?;
    println!("rules_loaded={rules} rules_rejected={}", rejected.len() + compile_rejected.len());
    println!("load_ms={:.1} compile_ms={:.1}", ms(loaded_in), ms(compiled_in));
    let decode_eps = events.len() as f64 / decode_secs;
    println!("events={} decode_events_per_cpu_s={decode_eps:.0}", events.len());
    let min = Duration::from_secs_f64(args.seconds);
    let single = measure(&engine, &events, min);
    println!(
        "single_thread events_per_cpu_s={:.0} alerts_per_pass={} rules_share_of_decode_plus_rules={:.0}%",
        single.events_per_cpu_s(),
        single.alerts_per_pass,
        100.0 * (1.0 / single.events_per_cpu_s()) / (1.0 / single.events_per_cpu_s() + 1.0 / decode_eps)
    );
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let (wall_eps, cpu_eps) = measure_parallel(&engine, &events, min, threads);
    println!(
        "threads={threads} events_per_s={wall_eps:.0} events_per_cpu_s={cpu_eps:.0} scaling={:.2}x",
        wall_eps / single.events_per_wall_s()
    );
    if let Some(peak) = peak_rss_bytes() {
        println!("peak_rss_mb={:.1}", peak as f64 / 1e6);
    }
    Ok(Outcome::Success)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn decode(paths: &[PathBuf], source: &str) -> Result<(Vec<Event>, f64)> {
    let selection = match source {
        "auto" => SourceSelection::Auto,
        name => SourceSelection::Fixed(name.parse::<SourceKind>()?),
    };
    let opts = RunOptions {
        selection,
        mapping: None,
        max_record_bytes: ward_decode::run::DEFAULT_MAX_RECORD_BYTES,
        ctx: DecodeContext::new(TenantId::default(), Utc::now()),
    };
    let mut sink = Collect::default();
    let cpu = thread_cpu_ns();
    let wall = Instant::now();
    decode_inputs(paths, &opts, &mut sink)?;
    let secs = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => wall.elapsed().as_secs_f64(),
    };
    if sink.events.is_empty() {
        bail!("no events decoded from {paths:?}");
    }
    Ok((sink.events, secs))
}

/// One thread's measurement.
struct Run {
    events: u64,
    cpu_ns: u64,
    wall: Duration,
    alerts_per_pass: usize,
}

impl Run {
    fn events_per_cpu_s(&self) -> f64 {
        self.events as f64 / (self.cpu_ns.max(1) as f64 / 1e9)
    }

    fn events_per_wall_s(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64()
    }
}

/// Matches every event against the engine, pass after pass, for at least `min`.
fn measure(engine: &Engine, events: &[Event], min: Duration) -> Run {
    let (mut scratch, mut alerts) = (Scratch::default(), Vec::new());
    let (mut n, mut alerts_per_pass, mut passes) = (0u64, 0usize, 0u32);
    let cpu0 = thread_cpu_ns().unwrap_or(0);
    let wall = Instant::now();
    while wall.elapsed() < min || passes == 0 {
        let mut pass_alerts = 0;
        for e in events {
            alerts.clear();
            pass_alerts += engine.matches_with(e, &mut scratch, &mut alerts);
        }
        alerts_per_pass = pass_alerts;
        n += events.len() as u64;
        passes += 1;
    }
    let cpu_ns = thread_cpu_ns().map_or_else(|| wall.elapsed().as_nanos() as u64, |c| c.saturating_sub(cpu0));
    Run { events: n, cpu_ns, wall: wall.elapsed(), alerts_per_pass }
}

/// The same on `threads` threads at once: (events per wall second, events per CPU second).
fn measure_parallel(engine: &Engine, events: &[Event], min: Duration, threads: usize) -> (f64, f64) {
    let wall = Instant::now();
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(|| measure(engine, events, min))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let total: u64 = runs.iter().map(|r| r.events).sum();
    let cpu: u64 = runs.iter().map(|r| r.cpu_ns).sum();
    (total as f64 / wall.elapsed().as_secs_f64(), total as f64 / (cpu.max(1) as f64 / 1e9))
}
