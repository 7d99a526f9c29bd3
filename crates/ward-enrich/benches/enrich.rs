//! Per-event enrichment cost over real Cowrie and Suricata events (`cargo bench -p
//! ward-enrich`): GeoIP + IOC + asset together and alone, dedupe and sessionize separately, each
//! as ns/event of `EnrichChain::enrich` alone (input cloning and dropping are not timed).

use std::hint::black_box;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ward_decode::sources::cowrie::CowrieDecoder;
use ward_decode::sources::suricata::SuricataDecoder;
use ward_decode::{DecodeContext, Decoder};
use ward_enrich::{EnrichChain, EnrichConfig};
use ward_model::{Event, TenantId};

fn decode(path: &Path, decoder: &dyn Decoder, out: &mut Vec<Event>) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    let ctx = DecodeContext::new(
        TenantId::default(),
        Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).single().expect("bench setup"),
    );
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let _ = decoder.decode(line, &ctx, out);
    }
}

fn shared() -> PathBuf {
    std::env::var_os("WARD_SHARED_DATA").map_or_else(|| root().join("../shared/data"), PathBuf::from)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lit(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// ns per event of `chain.enrich` over `events`; cloning the input and dropping the output
/// happen outside the timed region.
fn measure(name: &str, chain_toml: &str, events: &[Event]) {
    let cfg: EnrichConfig = toml::from_str(chain_toml).expect("bench setup");
    let chain = EnrichChain::from_config(&cfg).expect("bench setup");
    let budget = Duration::from_millis(1500);
    let (mut runs, start) = (0u64, Instant::now());
    let mut timed = Duration::ZERO;
    while start.elapsed() < budget {
        let mut batch = events.to_vec();
        let t = Instant::now();
        black_box(chain.enrich(&mut batch));
        timed += t.elapsed();
        drop(black_box(batch));
        runs += 1;
    }
    let per = timed.as_nanos() as f64 / (runs as f64 * events.len() as f64);
    println!("{name:<42} {per:>9.0} ns/event  ({} events x {runs} runs)", events.len());
}

fn main() {
    let data = shared();
    let mut cowrie = Vec::new();
    decode(&root().join("testdata/cowrie/cowrie.json"), &CowrieDecoder, &mut cowrie);
    let mut suricata = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(data.join("network/suricata_verify_eve")) {
        let mut dirs: Vec<_> = dirs.flatten().map(|d| d.path()).collect();
        dirs.sort();
        for d in dirs {
            decode(&d.join("eve.json"), &SuricataDecoder, &mut suricata);
        }
    }
    // The Cowrie run was recorded over loopback: give its events public test-database sources
    // so GeoIP and IOC really look up.
    let public: [IpAddr; 4] = ["81.2.69.142", "89.160.20.128", "216.160.83.56", "2.125.160.216"]
        .map(|s| s.parse().expect("bench setup"));
    let mut cowrie_public = cowrie.clone();
    for (i, e) in cowrie_public.iter_mut().enumerate() {
        e.set("source.ip", public[i % public.len()]);
    }
    let mmdb = data.join("reference/maxmind_test_mmdb");
    let ti = data.join("reference/threat_intel");
    let feeds: Vec<String> = (3..=8)
        .map(|l| lit(&ti.join(format!("ipsum/level{l}.txt"))))
        .chain([lit(&ti.join("misp_warninglists/public-dns-v4.json"))])
        .collect();
    let tmp = tempfile::tempdir().expect("bench setup");
    let assets = tmp.path().join("assets.csv");
    let mut csv = String::from("name,ip_or_cidr,owner,criticality,tags\n");
    for i in 0..1000u32 {
        csv.push_str(&format!("host{i},10.{}.{}.0/24,team{},high,prod\n", i / 256, i % 256, i % 7));
    }
    csv.push_str("honeypot,127.0.0.1,soc,medium,sensor\n");
    std::fs::write(&assets, csv).expect("bench setup");

    let off = "[dedupe]\nenabled = false\n[sessionize]\nenabled = false\n";
    let geo = format!(
        "[geoip]\ncity = {}\nasn = {}\nanonymous = {}\nreload_interval_secs = 0\n",
        lit(&mmdb.join("GeoIP2-City-Test.mmdb")),
        lit(&mmdb.join("GeoLite2-ASN-Test.mmdb")),
        lit(&mmdb.join("GeoIP2-Anonymous-IP-Test.mmdb"))
    );
    let ioc = format!("[ioc]\nfiles = [{}]\n", feeds.join(", "));
    let asset = format!("[assets]\ncsv = {}\n", lit(&assets));
    println!("ward-enrich per-event cost of EnrichChain::enrich (clone/drop not timed)");
    for (label, events) in [
        ("cowrie (public src)", &cowrie_public),
        ("cowrie (loopback)", &cowrie),
        ("suricata-verify eve", &suricata),
    ] {
        if events.is_empty() {
            continue;
        }
        println!("-- {label}: {} events", events.len());
        measure("off (no enricher)", off, events);
        measure("geoip (city+asn+anonymous)", &format!("{off}{geo}"), events);
        measure("ioc (ipsum 3-8 + warning-list)", &format!("{off}{ioc}"), events);
        measure("assets (1001 records)", &format!("{off}{asset}"), events);
        measure("geoip + ioc + assets", &format!("{off}{geo}{ioc}{asset}"), events);
        measure("dedupe (exact)", "[sessionize]\nenabled = false\n", events);
        measure("sessionize (session, community_id)", "[dedupe]\nenabled = false\n", events);
    }
}
