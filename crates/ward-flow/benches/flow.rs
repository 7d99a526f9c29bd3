//! Throughput of ward-flow (run in release: `cargo bench -p ward-flow --bench flow`):
//! 1. IPFIX decoding with cached templates, records per second on one core;
//! 2. pcap → flows + metadata over the shared captures, Gbit/s of capture;
//! 3. the UDP collector over loopback at 100,000 flows/s for a few seconds, with kernel and
//!    application drops.

use std::io::BufReader;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ward_flow::collector::{Collector, CollectorConfig, DeadLetter, FlowSink, SinkError};
use ward_flow::flows::FlowConfig;
use ward_flow::netflow::{Session, SessionConfig, Tag};
use ward_flow::offline::capture_flows;
use ward_model::Event;

const RECORDS_PER_MESSAGE: usize = 30;

/// A softflowd-like IPFIX template (id 256) and a message of `RECORDS_PER_MESSAGE` records.
fn ipfix_pair(seq: u32) -> (Vec<u8>, Vec<u8>) {
    let fields: [(u16, u16); 13] = [
        (8, 4),
        (12, 4),
        (7, 2),
        (11, 2),
        (4, 1),
        (6, 1),
        (1, 8),
        (2, 8),
        (10, 4),
        (14, 4),
        (152, 8),
        (153, 8),
        (5, 1),
    ];
    let mut t = vec![1, 0, 0, u8::try_from(fields.len()).unwrap_or(0)];
    for (id, len) in fields {
        t.extend(id.to_be_bytes());
        t.extend(len.to_be_bytes());
    }
    let rec_len: usize = fields.iter().map(|f| usize::from(f.1)).sum();
    let mut d = Vec::with_capacity(rec_len * RECORDS_PER_MESSAGE);
    for i in 0..RECORDS_PER_MESSAGE {
        let i8 = u8::try_from(i).unwrap_or(0);
        d.extend([10, 0, 0, i8, 192, 0, 2, i8]);
        d.extend((40000u16 + u16::from(i8)).to_be_bytes());
        d.extend(443u16.to_be_bytes());
        d.extend([6, 0x1b]);
        d.extend((1500u64 * (i as u64 + 1)).to_be_bytes());
        d.extend((10u64 + i as u64).to_be_bytes());
        d.extend(1u32.to_be_bytes());
        d.extend(2u32.to_be_bytes());
        d.extend(1_764_000_000_000u64.to_be_bytes());
        d.extend(1_764_000_001_000u64.to_be_bytes());
        d.push(0);
    }
    (message(seq, 2, &t), message(seq, 256, &d))
}

fn message(seq: u32, set: u16, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 10];
    m.extend(u16::try_from(body.len() + 20).unwrap_or(0).to_be_bytes());
    m.extend(1_764_000_000u32.to_be_bytes());
    m.extend(seq.to_be_bytes());
    m.extend(1u32.to_be_bytes());
    m.extend(set.to_be_bytes());
    m.extend(u16::try_from(body.len() + 4).unwrap_or(0).to_be_bytes());
    m.extend(body);
    m
}

fn ipfix_decode() {
    let (tpl, data) = ipfix_pair(1);
    let from: SocketAddr = "192.0.2.1:4739".parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
    let mut s = Session::new(SessionConfig::default());
    s.decode(from, &tpl, Tag::default(), &mut |_, _| {});
    let (mut n, started) = (0u64, Instant::now());
    while started.elapsed() < Duration::from_secs(3) {
        for _ in 0..1000 {
            s.decode(from, &data, Tag::default(), &mut |_, r| n += u64::from(r.is_ok()));
        }
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("ipfix_decode records_per_s={rate:.0} (records to FlowRecord, template cached, one core)");
    let tenant = ward_model::TenantId::default();
    let now = chrono::Utc::now();
    let (mut n, started) = (0u64, Instant::now());
    while started.elapsed() < Duration::from_secs(3) {
        for _ in 0..100 {
            s.decode(from, &data, Tag::default(), &mut |_, r| {
                if let Ok(rec) = r {
                    let ev = ward_flow::event::flow_event(&rec, &rec.to_json(), &tenant, "netflow", now);
                    n += u64::from(ev.get("source.ip").is_some());
                }
            });
        }
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    println!("ipfix_to_events events_per_s={rate:.0} (records to normalized events with JSON original)");
}

fn pcap_flows() {
    let Some(root) = ward_testkit::shared("network/suricata_verify_eve") else { return };
    let mut captures = Vec::new();
    for entry in walk(&root) {
        if entry.extension().is_some_and(|e| e == "pcap") {
            captures.push(std::fs::read(&entry).unwrap_or_default());
        }
    }
    if let Some(p) = ward_testkit::shared("network/netflow_generated/source_pcaps") {
        for host in ["SCRANTON", "UTICA-C"] {
            let gz = std::fs::read(p.join(format!("{host}.pcap.gz"))).unwrap_or_default();
            let mut out = Vec::new();
            let _ = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out);
            captures.push(out);
        }
    }
    let total: usize = captures.iter().map(Vec::len).sum();
    let (mut bytes, mut flows, mut rounds, started) = (0u64, 0u64, 0u64, Instant::now());
    while started.elapsed() < Duration::from_secs(3) || rounds == 0 {
        for c in &captures {
            let (stats, _) = capture_flows(&mut BufReader::new(&c[..]), FlowConfig::default(), &mut |_| {});
            flows += stats.flows;
            bytes += c.len() as u64;
        }
        rounds += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pcap_to_flows gbit_per_s={:.2} captures={} capture_bytes={total} flows_per_round={} (one core)",
        bytes as f64 * 8.0 / secs / 1e9,
        captures.len(),
        flows / rounds
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[derive(Default)]
struct Counting {
    events: AtomicU64,
    dead: AtomicU64,
}

impl FlowSink for Counting {
    async fn deliver(&self, batch: Vec<Event>) -> Result<(), SinkError> {
        self.events.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    async fn dead_letter(&self, _: DeadLetter) {
        self.dead.fetch_add(1, Ordering::Relaxed);
    }
}

fn udp_loopback() {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else {
        return;
    };
    rt.block_on(async {
        let config = CollectorConfig {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
            recv_buffer_bytes: 32 << 20,
            ..CollectorConfig::default()
        };
        let Ok(collector) = Collector::bind(config) else { return };
        let addr = collector.local_addrs()[0];
        let stats = collector.stats();
        let sink = Arc::new(Counting::default());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let run = tokio::spawn(collector.run(sink.clone(), async move {
            let _ = stop_rx.await;
        }));
        let Ok(client) = std::net::UdpSocket::bind("127.0.0.1:0") else { return };
        let (tpl, data) = ipfix_pair(1);
        let _ = client.send_to(&tpl, addr);
        let target_rate = 100_000.0;
        let seconds = 5.0;
        let messages = (target_rate * seconds / RECORDS_PER_MESSAGE as f64) as u64;
        let started = Instant::now();
        let sender = std::thread::spawn(move || {
            for i in 0..messages {
                let due = Duration::from_secs_f64(i as f64 * RECORDS_PER_MESSAGE as f64 / target_rate);
                while started.elapsed() < due {
                    std::hint::spin_loop();
                }
                let _ = client.send_to(&data, addr);
            }
        });
        let _ = tokio::task::spawn_blocking(move || sender.join()).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = stop_tx.send(());
        let _ = run.await;
        let sent = messages * RECORDS_PER_MESSAGE as u64;
        let got = sink.events.load(Ordering::Relaxed);
        println!(
            "udp_loopback target_flows_per_s={target_rate:.0} seconds={seconds} sent_records={sent} received_records={got} lost={} kernel_drops_packets={} app_dead_letters={} sink_failures={}",
            sent.saturating_sub(got),
            stats.kernel_drops.load(Ordering::Relaxed),
            sink.dead.load(Ordering::Relaxed),
            stats.sink_failures.load(Ordering::Relaxed)
        );
    });
}

fn main() {
    ipfix_decode();
    pcap_flows();
    udp_loopback();
}
