//! IOC benchmark: load 1,000,000 synthetic indicators of every kind through the real loaders,
//! report load time and memory (peak RSS, `VmHWM`), then lookups per second per kind (half
//! hits, half misses) and whole-event matching; finally load the real shared feeds and print
//! counts per file.
//!
//! `cargo bench -p ward-ioc --bench ioc` (release). `IOC_BENCH_TOTAL` scales the synthetic set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ward_ioc::{FeedSource, IndicatorSet, MatchFields, Observable, load_sources};
use ward_model::{Event, FieldValue, TenantId};

/// SplitMix64: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(len);
        s
    }

    fn label(&mut self) -> String {
        let len = 4 + self.below(9) as usize;
        (0..len).map(|_| char::from(b'a' + self.below(26) as u8)).collect()
    }
}

const TLDS: [&str; 8] = ["com", "net", "org", "info", "xyz", "top", "ru", "cn"];

/// One synthetic feed: a kind name, its share of the total, and a value generator.
struct Kind {
    name: &'static str,
    per_mille: u64,
    make: fn(&mut Rng) -> String,
}

fn domain(r: &mut Rng) -> String {
    format!("{}.{}", r.label(), TLDS[r.below(8) as usize])
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind { name: "ipv4", per_mille: 300, make: |r| Ipv4Addr::from(r.next() as u32).to_string() },
        Kind {
            name: "ipv6",
            per_mille: 50,
            make: |r| Ipv6Addr::from(u128::from(r.next()) << 64 | u128::from(r.next())).to_string(),
        },
        Kind {
            name: "cidr",
            per_mille: 100,
            make: |r| format!("{}/{}", Ipv4Addr::from(r.next() as u32), 16 + r.below(15)),
        },
        Kind {
            name: "ip-port",
            per_mille: 50,
            make: |r| format!("{}:{}", Ipv4Addr::from(r.next() as u32), 1 + r.below(65_535)),
        },
        Kind { name: "domain", per_mille: 250, make: domain },
        Kind {
            name: "url",
            per_mille: 100,
            make: |r| format!("http://{}/{}/{}.php", domain(r), r.label(), r.label()),
        },
        Kind { name: "url-path", per_mille: 20, make: |r| format!("/{}/{}.php", r.label(), r.label()) },
        Kind { name: "md5", per_mille: 50, make: |r| r.hex(32) },
        Kind { name: "sha1", per_mille: 30, make: |r| r.hex(40) },
        Kind { name: "sha256", per_mille: 30, make: |r| r.hex(64) },
        Kind { name: "sha512", per_mille: 5, make: |r| r.hex(128) },
        Kind { name: "email", per_mille: 10, make: |r| format!("{}@{}", r.label(), domain(r)) },
        Kind { name: "ja3", per_mille: 4, make: |r| format!("ja3:{}", r.hex(32)) },
        Kind {
            name: "ja4",
            per_mille: 1,
            make: |r| format!("t13d{:02}{:02}h2_{}_{}", r.below(100), r.below(100), r.hex(12), r.hex(12)),
        },
    ]
}

/// Writes one list file per kind; returns the files and a sample of listed values per kind.
fn generate(dir: &Path, total: u64) -> (Vec<PathBuf>, BTreeMap<&'static str, Vec<String>>) {
    let mut rng = Rng(0x5EED);
    let mut files = Vec::new();
    let mut samples = BTreeMap::new();
    for kind in kinds() {
        let path = dir.join(format!("{}.txt", kind.name));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create feed"));
        let n = total * kind.per_mille / 1000;
        let mut sample = Vec::new();
        for i in 0..n {
            let value = (kind.make)(&mut rng);
            writeln!(out, "{value}").expect("write feed");
            if i % (n / 5_000).max(1) == 0 {
                sample.push(value);
            }
        }
        out.flush().expect("flush feed");
        files.push(path);
        samples.insert(kind.name, sample);
    }
    (files, samples)
}

fn proc_status(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// An observed value that hits a listed value of the kind (deeper name, deeper URL, address
/// inside a network, …).
fn observed_hit(kind: &str, listed: &str, r: &mut Rng) -> String {
    match kind {
        "domain" => format!("{}.{}.{listed}", r.label(), r.label()),
        "url" => listed.replace("http://", "https://"),
        "cidr" => {
            let net: ipnet::Ipv4Net = listed.parse().expect("generated network");
            let host = (r.next() as u32) & u32::from(net.hostmask());
            Ipv4Addr::from(u32::from(net.network()) | host).to_string()
        }
        "ja3" => listed.trim_start_matches("ja3:").to_owned(),
        _ => listed.to_owned(),
    }
}

fn observable<'a>(kind: &str, v: &'a str) -> Observable<'a> {
    match kind {
        "ipv4" | "ipv6" | "cidr" => Observable::Ip(v.parse().unwrap_or(IpAddr::from([0u8; 4]))),
        "ip-port" => {
            let (ip, port) = v.rsplit_once(':').unwrap_or((v, "0"));
            Observable::Socket(ip.parse().unwrap_or(IpAddr::from([0u8; 4])), port.parse().unwrap_or(0))
        }
        "domain" => Observable::Domain(v),
        "url" => Observable::Url(v),
        "url-path" => Observable::UrlPath(v),
        "email" => Observable::Email(v),
        "ja3" => Observable::Ja3(v),
        "ja4" => Observable::Ja4(v),
        _ => Observable::Hash(v),
    }
}

fn lookups(set: &IndicatorSet, samples: &BTreeMap<&'static str, Vec<String>>) {
    println!("\n{:<9} {:>10} {:>12} {:>10} {:>9}", "kind", "lookups", "lookups/s", "ns/lookup", "hit rate");
    let mut rng = Rng(0xBEEF);
    let gens: BTreeMap<&str, fn(&mut Rng) -> String> =
        kinds().into_iter().map(|k| (k.name, k.make)).collect();
    for (kind, listed) in samples {
        let mut probes = Vec::with_capacity(200_000);
        for i in 0..200_000 {
            let probe = match i % 2 {
                0 => observed_hit(kind, &listed[i / 2 % listed.len()], &mut rng),
                _ => observed_hit(kind, &gens[kind](&mut rng), &mut rng),
            };
            probes.push(probe);
        }
        // Addresses arrive parsed in events (`FieldValue::Ip`), so parsing is not timed.
        let observables: Vec<Observable<'_>> = probes.iter().map(|p| observable(kind, p)).collect();
        let rounds = 5;
        let start = Instant::now();
        let mut hits = 0usize;
        for _ in 0..rounds {
            for o in &observables {
                hits += usize::from(set.contains(black_box(*o)));
            }
        }
        report_rate(kind, observables.len() * rounds, start.elapsed(), hits);
    }
}

fn report_rate(kind: &str, n: usize, took: Duration, hits: usize) {
    let per_sec = n as f64 / took.as_secs_f64();
    let ns = took.as_nanos() as f64 / n as f64;
    println!(
        "{kind:<9} {n:>10} {:>10.2} M {ns:>10.0} {:>8.1}%",
        per_sec / 1e6,
        100.0 * hits as f64 / n as f64
    );
}

fn events(set: &IndicatorSet, samples: &BTreeMap<&'static str, Vec<String>>) {
    let ts = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).single().expect("valid time");
    let mut rng = Rng(0xE7E7);
    let evs: Vec<Event> = (0..20_000)
        .map(|i| {
            let mut ev = Event::new(&TenantId::default(), "bench", &i.to_string(), 0, ts);
            let src = IpAddr::V4(Ipv4Addr::from(rng.next() as u32));
            let dst: IpAddr = samples["ipv4"][i % samples["ipv4"].len()].parse().expect("ip");
            ev.set("source.ip", src);
            ev.set("destination.ip", dst);
            ev.set("destination.port", 443i64);
            ev.set("related.ip", FieldValue::List(vec![src.into(), dst.into()]));
            ev.set("dns.question.name", format!("www.{}", domain(&mut rng)));
            ev.set("url.original", format!("https://{}/{}/x.js", domain(&mut rng), rng.label()));
            ev.set("file.hash.sha256", rng.hex(64));
            ev.set("tls.client.ja3", rng.hex(32));
            ev
        })
        .collect();
    let start = Instant::now();
    let mut found = 0;
    for _ in 0..5 {
        for ev in &evs {
            found += black_box(set.matches_event(ev)).len();
        }
    }
    let took = start.elapsed();
    let n = evs.len() * 5;
    println!(
        "\nmatches_event: {n} events (8 observable fields each, destination.ip listed) in {took:.2?}: {:.0} events/s, {found} matches",
        n as f64 / took.as_secs_f64()
    );
}

fn synthetic(total: u64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (files, samples) = generate(tmp.path(), total);
    let baseline = (proc_status("VmHWM:"), proc_status("VmRSS:"));
    let sources: Vec<FeedSource> = files.iter().map(|p| p.as_path().into()).collect();
    let start = Instant::now();
    let (set, report) = load_sources(&sources, MatchFields::default()).expect("synthetic feeds load");
    let took = start.elapsed();
    println!(
        "synthetic: {} indicators read, {} indexed, {} rejected, {} merged duplicates",
        report.loaded(),
        set.len(),
        report.rejected(),
        report.files.iter().map(|f| f.duplicates).sum::<usize>()
    );
    println!(
        "load (read + parse + normalize + index): {took:.2?} = {:.0} indicators/s",
        report.loaded() as f64 / took.as_secs_f64()
    );
    println!(
        "memory: peak RSS (VmHWM) {} before load, {} after; RSS {} before, {} after",
        mib(baseline.0),
        mib(proc_status("VmHWM:")),
        mib(baseline.1),
        mib(proc_status("VmRSS:"))
    );
    println!("by kind: {:?}", set.count_by_kind());
    lookups(&set, &samples);
    events(&set, &samples);
}

fn real_feeds() {
    let Some(intel) = ward_testkit::shared("reference/threat_intel") else { return };
    let mut sources: Vec<FeedSource> = std::fs::read_dir(intel.join("misp_warninglists"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("schema.json"))
        .map(FeedSource::from)
        .collect();
    for sub in ["maltrail/malware", "maltrail/malicious", "maltrail/suspicious", "ipsum"] {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(intel.join(sub)).into_iter().flatten().flatten().map(|e| e.path()).collect();
        files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
        files.sort();
        sources.extend(files.into_iter().map(FeedSource::from));
    }
    sources.push(intel.join("misp_events/existing_event.json").into());
    let start = Instant::now();
    let (set, report) = match load_sources(&sources, MatchFields::default()) {
        Ok(loaded) => loaded,
        Err(e) => return println!("\nreal feeds failed: {e}"),
    };
    println!("\nreal feeds: {} files in {:.2?}; {} indexed", report.files.len(), start.elapsed(), set.len());
    println!(
        "{:<34} {:>6} {:>8} {:>8} {:>6} {:>10}",
        "group", "files", "loaded", "rejected", "dupes", "suppressed"
    );
    let mut groups: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for f in &report.files {
        let rel = f.path.strip_prefix(&intel).unwrap_or(&f.path);
        let group = match rel.parent().and_then(|p| p.to_str()) {
            Some(p) if p.starts_with("maltrail") || p == "ipsum" => p.to_owned(),
            _ => rel.display().to_string(),
        };
        let g = groups.entry(group).or_default();
        for (slot, n) in g.iter_mut().zip([1, f.loaded, f.rejected.len(), f.duplicates, f.suppressed]) {
            *slot += n;
        }
    }
    for (group, [files, loaded, rejected, dupes, suppressed]) in groups {
        println!("{group:<34} {files:>6} {loaded:>8} {rejected:>8} {dupes:>6} {suppressed:>10}");
    }
    let mut by_list: BTreeMap<&str, usize> = BTreeMap::new();
    for s in set.suppressed() {
        *by_list.entry(&s.by.list).or_default() += 1;
    }
    println!("suppressed by list: {by_list:?}");
}

fn main() {
    let total = std::env::var("IOC_BENCH_TOTAL").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    synthetic(total);
    real_feeds();
}
