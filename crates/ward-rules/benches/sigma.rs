//! Sigma engine benchmark (plain `main`, run with `cargo bench -p ward-rules --bench sigma`):
//!
//! - parse-only time of the 2,407 SigmaHQ Windows rules (texts already in memory), load time
//!   (read + parse) and compile time for the shipped pipelines;
//! - events per CPU-second, single-threaded, of the compiled engine with all those rules over the
//!   SigmaHQ regression events and the OTRF Windows datasets (decoded beforehand), and of the
//!   reference evaluator for comparison.
//!
//! Needs the shared data folder (`WARD_SHARED_DATA`); prints a notice and exits otherwise.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ward_decode::{DecodeContext, SourceKind};
use ward_model::{Event, TenantId};
use ward_rules::{Engine, Pipeline, ReferenceEngine, RuleSet, Scratch};

/// Passes over the event corpus for the compiled engine.
const PASSES: usize = 5;

fn main() {
    let (Some(rules), Some(regression), Some(otrf)) = (
        ward_testkit::shared("windows/sigmahq/rules/windows"),
        ward_testkit::shared("windows/sigmahq/regression_data/rules/windows"),
        ward_testkit::shared("windows/otrf_security_datasets/atomic/windows"),
    ) else {
        eprintln!("shared data not found: nothing to measure");
        return;
    };
    let pipeline = Pipeline::builtin().expect("shipped pipelines parse");
    let set = measure_rules(&rules, &pipeline);
    let events = corpus(&regression, &otrf);
    measure_matching(&set, &pipeline, &events);
}

fn measure_rules(dir: &Path, pipeline: &Pipeline) -> RuleSet {
    let mut files = Vec::new();
    collect(dir, "yml", &mut files);
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).expect("readable")))
        .collect();
    let best = |f: &mut dyn FnMut() -> Duration| (0..5).map(|_| f()).min().unwrap_or_default();
    let parse = best(&mut || {
        let t = Instant::now();
        let (set, _) = RuleSet::from_sources(texts.iter().map(|(f, t)| (f.as_str(), t.as_str())));
        std::hint::black_box(set);
        t.elapsed()
    });
    let t = Instant::now();
    let (set, rejected) = RuleSet::load(&[dir]);
    let load = t.elapsed();
    let compile = best(&mut || {
        let t = Instant::now();
        std::hint::black_box(Engine::compile(&set, pipeline));
        t.elapsed()
    });
    let (engine, compile_rejected) = Engine::compile(&set, pipeline);
    println!(
        "rules: files={} loaded={} rejected={} compiled={} (compile rejections {})",
        files.len(),
        set.len(),
        rejected.len(),
        engine.stats().rules,
        compile_rejected.len()
    );
    println!("  parse only (in memory)   {:>8.1} ms", ms(parse));
    println!("  load (read + parse)      {:>8.1} ms", ms(load));
    println!("  compile                  {:>8.1} ms", ms(compile));
    println!("  load + compile           {:>8.1} ms", ms(load + compile));
    println!("  {:?}", engine.stats());
    set
}

fn corpus(regression: &Path, otrf: &Path) -> Vec<Event> {
    let ctx = DecodeContext::new(
        TenantId::default(),
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("a valid fixed date"),
    );
    let mut json = Vec::new();
    collect(regression, "json", &mut json);
    let mut zips = Vec::new();
    collect(otrf, "zip", &mut zips);
    let paths: Vec<&Path> = json.iter().chain(&zips).map(PathBuf::as_path).collect();
    let t = Instant::now();
    let (collected, _) =
        ward_decode::run::decode_paths_collect(SourceKind::Winlog, &paths, ctx).expect("inputs readable");
    println!(
        "events: {} ({} regression files, {} OTRF zips; {} rejected records) decoded in {:.1} s",
        collected.events.len(),
        json.len(),
        zips.len(),
        collected.rejections.len(),
        t.elapsed().as_secs_f64()
    );
    collected.events
}

fn measure_matching(set: &RuleSet, pipeline: &Pipeline, events: &[Event]) {
    let (engine, _) = Engine::compile(set, pipeline);
    let mut scratch = Scratch::default();
    let mut alerts = Vec::new();
    let (cpu0, t) = (cpu_seconds(), Instant::now());
    let mut fired = 0usize;
    for _ in 0..PASSES {
        for e in events {
            alerts.clear();
            fired += engine.matches_with(e, &mut scratch, &mut alerts);
        }
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, t.elapsed().as_secs_f64());
    let n = (events.len() * PASSES) as f64;
    println!("compiled engine, single thread, {PASSES} passes:");
    println!(
        "  {:.0} events/CPU-second ({:.0} events/s wall), {:.2} µs/event, {} alerts per pass",
        n / cpu,
        n / wall,
        wall * 1e6 / n,
        fired / PASSES
    );
    let (reference, _) = ReferenceEngine::new(set, pipeline);
    let sample = &events[..events.len().min(5_000)];
    let (cpu0, t) = (cpu_seconds(), Instant::now());
    let hits: usize = sample.iter().map(|e| reference.matching_rules(e).len()).sum();
    let (cpu, wall) = (cpu_seconds() - cpu0, t.elapsed().as_secs_f64());
    println!(
        "reference evaluator on {} events: {:.0} events/CPU-second ({:.0}/s wall), {hits} matches",
        sample.len(),
        sample.len() as f64 / cpu,
        sample.len() as f64 / wall
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// User + system CPU time of this process, from `/proc/self/stat` (Linux), else wall time.
fn cpu_seconds() -> f64 {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| {
        let after = s.rsplit_once(')')?.1;
        let f: Vec<&str> = after.split_whitespace().collect();
        Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
    });
    match ticks {
        Some(t) => t / 100.0,
        None => Instant::now().elapsed().as_secs_f64(),
    }
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}
