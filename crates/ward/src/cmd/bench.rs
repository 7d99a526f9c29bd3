//! `ward bench decode`: throughput of each decoder on real data, against `serde_json` alone.
//!
//! Each decoder's corpus is loaded into memory first, then decoded over and over for at least
//! `--seconds`. Per-event latency is the time between consecutive events leaving the decoder.
//! The baseline parses the same records into `serde_json::Value` and nothing else.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use ward_decode::frame;
use ward_decode::run::{RunOptions, decode_bytes};
use ward_decode::{DecodeContext, Framing, Rejection, Sink, SourceKind};
use ward_model::{Event, TenantId};

use crate::Outcome;
use crate::cli::{BenchDecodeArgs, BenchFormat};
use crate::memory::peak_rss_bytes;

/// Where each decoder's benchmark corpus comes from: (folder under the data root, file suffix).
fn corpus_spec(kind: SourceKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        SourceKind::Suricata => &[("network/suricata_verify_eve", "eve.json")],
        SourceKind::Cowrie => &[("testdata:cowrie", ".json")],
        SourceKind::Osquery => &[("testdata:osquery", ".jsonl")],
        SourceKind::Evtx => &[("windows/sigmahq/regression_data", ".evtx")],
        SourceKind::Winlog => &[("windows/sigmahq/regression_data", ".json")],
        SourceKind::Syslog => &[("logs/loghub_2k/OpenSSH", ".log"), ("logs/loghub_2k/Linux", ".log")],
        SourceKind::Cef => &[("testdata:cef", ".cef")],
        SourceKind::Json => &[("testdata:json", "ecs_documents.jsonl")],
        SourceKind::Netflow => &[("network/netflow_vendor_samples/pcap", ".pcap")],
        SourceKind::Pcap => &[("network/suricata_verify_eve", ".pcap")],
    }
}

/// Counts events and records the gap between consecutive ones.
struct Timing {
    events: u64,
    rejected: u64,
    last: Instant,
    gaps_ns: Vec<u32>,
}

impl Sink for Timing {
    fn event(&mut self, event: Event) {
        std::hint::black_box(&event);
        let now = Instant::now();
        self.gaps_ns.push(u32::try_from((now - self.last).as_nanos()).unwrap_or(u32::MAX));
        self.last = now;
        self.events += 1;
    }
    fn reject(&mut self, _: Rejection) {
        self.rejected += 1;
    }
}

/// One decoder's measured figures.
#[derive(Debug, serde::Serialize)]
struct Result1 {
    source: &'static str,
    corpus_files: usize,
    corpus_mb: f64,
    events: u64,
    rejected: u64,
    events_per_s: f64,
    mb_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    p999_us: f64,
    serde_json_events_per_s: Option<f64>,
    ratio_to_serde_json: Option<f64>,
}

/// Runs `ward bench decode`.
///
/// # Errors
/// A missing corpus or an unknown decoder name.
pub fn run(args: &BenchDecodeArgs) -> Result<Outcome> {
    let kinds: Vec<SourceKind> = if args.sources.is_empty() {
        SourceKind::ALL.to_vec()
    } else {
        args.sources.iter().map(|s| s.parse()).collect::<Result<_, _>>()?
    };
    let testdata = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata");
    let mut results = Vec::new();
    for kind in kinds {
        let corpus = load_corpus(kind, &args.data, &testdata)?;
        if corpus.is_empty() {
            eprintln!("{kind}: no corpus found, skipped");
            continue;
        }
        results.push(measure(kind, &corpus, Duration::from_secs_f64(args.seconds))?);
    }
    print(&results, args.format);
    if let Some(peak) = peak_rss_bytes() {
        println!("peak_rss_mb={:.1}", peak as f64 / 1e6);
    }
    Ok(Outcome::Success)
}

fn load_corpus(kind: SourceKind, data: &Path, testdata: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (dir, suffix) in corpus_spec(kind) {
        let root = match dir.strip_prefix("testdata:") {
            Some(sub) => testdata.join(sub),
            None => data.join(dir),
        };
        if !root.is_dir() {
            continue;
        }
        for entry in walk(&root)? {
            if entry.to_string_lossy().ends_with(suffix) {
                let bytes = std::fs::read(&entry).with_context(|| format!("reading {}", entry.display()))?;
                out.push((entry.display().to_string(), bytes));
            }
        }
    }
    Ok(out)
}

fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    let mut files = ward_decode::input::expand(&[root.to_path_buf()], ward_decode::input::DirFilter::Any)?;
    files.sort();
    Ok(files)
}

fn measure(kind: SourceKind, corpus: &[(String, Vec<u8>)], min: Duration) -> Result<Result1> {
    let decoder = kind.build(None)?;
    let opts = RunOptions::fixed(kind, DecodeContext::new(TenantId::default(), Utc::now()));
    let bytes: usize = corpus.iter().map(|(_, b)| b.len()).sum();
    let mut sink = Timing { events: 0, rejected: 0, last: Instant::now(), gaps_ns: Vec::new() };
    let (mut rounds, started) = (0u64, Instant::now());
    while started.elapsed() < min || rounds == 0 {
        for (name, data) in corpus {
            sink.last = Instant::now();
            decode_bytes(decoder.as_ref(), name, data, &opts, &mut sink);
        }
        rounds += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    if sink.events == 0 {
        bail!("{kind}: corpus produced no events");
    }
    let baseline = serde_json_rate(decoder.framing(), corpus, min);
    let eps = sink.events as f64 / secs;
    let mut gaps = std::mem::take(&mut sink.gaps_ns);
    gaps.sort_unstable();
    let pct = |p: f64| gaps[((gaps.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
    Ok(Result1 {
        source: kind.as_str(),
        corpus_files: corpus.len(),
        corpus_mb: bytes as f64 / 1e6,
        events: sink.events / rounds,
        rejected: sink.rejected / rounds,
        events_per_s: eps,
        mb_per_s: (bytes as f64 * rounds as f64) / secs / 1e6,
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        p999_us: pct(0.999),
        serde_json_events_per_s: baseline,
        ratio_to_serde_json: baseline.map(|b| eps / b),
    })
}

/// Records per second when the same records are only parsed by `serde_json` (JSON framings).
fn serde_json_rate(framing: Framing, corpus: &[(String, Vec<u8>)], min: Duration) -> Option<f64> {
    if framing == Framing::Evtx {
        return None;
    }
    let (mut n, mut rounds, started) = (0u64, 0u64, Instant::now());
    while started.elapsed() < min || rounds == 0 {
        for (_, data) in corpus {
            let mut parse = |_: frame::Location, r: Result<&str, ward_decode::DecodeError>| {
                if let Ok(text) = r
                    && serde_json::from_str::<serde_json::Value>(text).is_ok()
                {
                    n += 1;
                }
            };
            let read = match framing {
                Framing::Lines => frame::for_each_line(&mut &data[..], usize::MAX, &mut parse),
                _ => frame::for_each_json_value(&mut &data[..], usize::MAX, &mut parse),
            };
            read.ok()?;
        }
        rounds += 1;
    }
    (n > 0).then(|| n as f64 / started.elapsed().as_secs_f64())
}

fn print(results: &[Result1], format: BenchFormat) {
    match format {
        BenchFormat::Jsonl => {
            for r in results {
                println!("{}", serde_json::to_string(r).unwrap_or_default());
            }
        }
        BenchFormat::Table | BenchFormat::Markdown => {
            println!(
                "| source | files | MB | events | rejected | events/s | MB/s | p50 µs | p99 µs | p99.9 µs | serde_json events/s | ratio |"
            );
            println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for r in results {
                let base = r.serde_json_events_per_s.map_or("-".into(), |b| format!("{b:.0}"));
                let ratio = r.ratio_to_serde_json.map_or("-".into(), |x| format!("{x:.2}"));
                println!(
                    "| {} | {} | {:.2} | {} | {} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} |",
                    r.source,
                    r.corpus_files,
                    r.corpus_mb,
                    r.events,
                    r.rejected,
                    r.events_per_s,
                    r.mb_per_s,
                    r.p50_us,
                    r.p99_us,
                    r.p999_us,
                    base,
                    ratio
                );
            }
        }
    }
}
