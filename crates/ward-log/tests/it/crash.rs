//! SIGKILL crash-safety test of the embedded log.
//!
//! The test re-executes its own binary as a writer (`WARD_CRASH_WRITER=<dir>`): concurrent
//! tasks append random batches and print each acknowledged batch (its seed, a checksum of its
//! content, its positions) and each acknowledged commit, one flushed line at a time. The parent
//! kills it with SIGKILL a random 5–200 ms after it started (every third round: often during
//! its recovery) or after its first batch, many times over the same directory, and
//! after each kill reopens the log and checks: it opens (no corruption), every partition's
//! offsets are dense, every stored record is one the writer built (a self-checksum in each
//! payload), every reported batch is there with identical content, and every reported commit
//! survived.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ward_log::embedded::{EmbeddedLog, EmbeddedOptions};
use ward_log::{Log, LogLayout, Position, Record, StoredRecord, Topic};

const WRITER_ENV: &str = "WARD_CRASH_WRITER";
const ROUND_ENV: &str = "WARD_CRASH_ROUND";
const TEST_NAME: &str = "crash::sigkill_never_loses_an_acknowledged_batch";
const T: Topic = Topic::RawEvents;
const GROUP: &str = "crash";

fn options() -> EmbeddedOptions {
    EmbeddedOptions { segment_bytes: 64 * 1024, index_interval_bytes: 1024, ..EmbeddedOptions::default() }
}

fn open(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(dir, LogLayout::conformance(), options()).expect("the log opens after SIGKILL")
}

/// splitmix64.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The batch for `seed`: 1–20 records with random keys and payloads; each payload starts with
/// the XXH3 of the rest, so any stored record can be checked.
fn batch(seed: u64) -> Vec<Record> {
    let mut s = seed;
    let n = 1 + next(&mut s) % 20;
    (0..n)
        .map(|_| {
            let key =
                (!next(&mut s).is_multiple_of(4)).then(|| format!("host-{}", next(&mut s) % 64).into_bytes());
            let body: Vec<u8> = (0..next(&mut s) % 300).map(|_| next(&mut s) as u8).collect();
            let mut payload = xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes().to_vec();
            payload.extend(body);
            Record { key, timestamp_ms: seed as i64, payload }
        })
        .collect()
}

fn self_check(r: &StoredRecord) -> bool {
    r.payload.len() >= 8 && r.payload[..8] == xxhash_rust::xxh3::xxh3_64(&r.payload[8..]).to_le_bytes()
}

/// A checksum over a batch's content, as the writer reports it.
fn checksum<'a>(records: impl Iterator<Item = (Option<&'a [u8]>, i64, &'a [u8])>) -> u64 {
    let mut bytes = Vec::new();
    for (key, ts, payload) in records {
        bytes.extend(key.map_or(0, |k| k.len() as u64 + 1).to_le_bytes());
        bytes.extend(key.unwrap_or_default());
        bytes.extend(ts.to_le_bytes());
        bytes.extend((payload.len() as u64).to_le_bytes());
        bytes.extend(payload);
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes()).and_then(|()| out.flush()).expect("stdout");
}

/// The child: appends from three tasks until killed (or 30 s pass).
fn writer(dir: &Path) {
    let round: u64 = std::env::var(ROUND_ENV).ok().and_then(|r| r.parse().ok()).expect("round");
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let log = Arc::new(open(dir));
        let tasks: Vec<_> = (0..3u64)
            .map(|task| {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let start = Instant::now();
                    for n in 0.. {
                        let seed = round << 40 | task << 32 | n;
                        let records = batch(seed);
                        let sum = checksum(
                            records.iter().map(|r| (r.key.as_deref(), r.timestamp_ms, &r.payload[..])),
                        );
                        let positions = log.append(T, records).await.expect("append");
                        let pos: Vec<String> =
                            positions.iter().map(|p| format!("{}:{}", p.partition, p.offset)).collect();
                        say(&format!("BATCH {seed} {sum} {}\n", pos.join(" ")));
                        if n % 8 == 7 {
                            let p = positions[0];
                            log.ack(GROUP, T, p.partition, p.offset + 1).await.expect("ack");
                            say(&format!("ACK {} {}\n", p.partition, p.offset + 1));
                        }
                        if start.elapsed() > Duration::from_secs(30) {
                            break;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("writer task");
        }
    });
}

/// What the killed writers reported.
#[derive(Default)]
struct Reported {
    batches: Vec<(u64, u64, Vec<Position>)>,
    commits: BTreeMap<u32, u64>,
}

impl Reported {
    fn parse(&mut self, line: &str) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let num = |v: &str| v.parse::<u64>().expect("number");
        match fields.as_slice() {
            ["BATCH", seed, sum, positions @ ..] => {
                let positions = positions.iter().map(|p| {
                    let (partition, offset) = p.split_once(':').expect("position");
                    Position { partition: num(partition) as u32, offset: num(offset) }
                });
                self.batches.push((num(seed), num(sum), positions.collect()));
            }
            ["ACK", partition, next] => {
                let c = self.commits.entry(num(partition) as u32).or_default();
                *c = (*c).max(num(next));
            }
            _ => {}
        }
    }
}

/// When a round kills its writer.
#[derive(Clone, Copy, Debug)]
enum KillAt {
    /// This long after the start (often during the writer's recovery).
    Start(Duration),
    /// This long after the writer reported its first batch (mid-stream).
    FirstBatch(Duration),
}

/// Runs one writer, kills it with SIGKILL at `at`, and records the complete lines it printed
/// (a line cut by the kill is ignored: its append is not known to have returned).
fn run_and_kill(dir: &Path, round: u64, at: KillAt, reported: &mut Reported) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut r = BufReader::new(stdout);
        let mut line = Vec::new();
        while r.read_until(b'\n', &mut line).map(|n| n > 0).unwrap_or(false) {
            if line.ends_with(b"\n") {
                lines.push(String::from_utf8_lossy(&line).into_owned());
                // The parent stops listening after the first line.
                let _ = first_tx.send(());
            }
            line.clear();
        }
        lines
    });
    match at {
        KillAt::Start(after) => std::thread::sleep(after),
        KillAt::FirstBatch(after) => {
            // A writer that never reports a batch is killed all the same.
            let _ = first_rx.recv_timeout(Duration::from_secs(10));
            std::thread::sleep(after);
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    reader.join().expect("reader").iter().for_each(|l| reported.parse(l));
}

async fn verify(dir: &Path, reported: &Reported) {
    let log = open(dir);
    let mut stored: BTreeMap<Position, StoredRecord> = BTreeMap::new();
    for partition in 0..log.partitions(T) {
        let mut from = 0;
        loop {
            let got = log.read(T, partition, from, 500).await.expect("no corrupt record is ever returned");
            if got.is_empty() {
                break;
            }
            for r in got {
                assert_eq!(r.offset, from, "partition {partition}: offsets are dense");
                assert!(
                    self_check(&r),
                    "partition {partition} offset {from}: a record the writer never built"
                );
                stored.insert(Position { partition, offset: from }, r);
                from += 1;
            }
        }
    }
    for (seed, sum, positions) in &reported.batches {
        let want = batch(*seed);
        let got: Vec<&StoredRecord> = positions
            .iter()
            .map(|p| stored.get(p).unwrap_or_else(|| panic!("batch {seed}: {p:?} lost")))
            .collect();
        assert_eq!(
            checksum(got.iter().map(|r| (r.key.as_deref(), r.timestamp_ms, &r.payload[..]))),
            *sum,
            "batch {seed}"
        );
        for (g, w) in got.iter().zip(&want) {
            assert!(
                g.key == w.key && g.timestamp_ms == w.timestamp_ms && g.payload == w.payload,
                "batch {seed} differs"
            );
        }
    }
    for (&partition, &next) in &reported.commits {
        assert!(
            log.committed(GROUP, T, partition).await.expect("committed") >= next,
            "commit of partition {partition} lost"
        );
    }
}

#[test]
fn sigkill_never_loses_an_acknowledged_batch() {
    if let Some(dir) = std::env::var_os(WRITER_ENV) {
        writer(Path::new(&dir));
        return;
    }
    let rounds: u64 = std::env::var("WARD_CRASH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(30);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    println!("crash test seed {rng}");
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut reported = Reported::default();
    for round in 0..rounds {
        let after = Duration::from_millis(5 + next(&mut rng) % 196);
        let at = if round % 3 == 0 { KillAt::Start(after) } else { KillAt::FirstBatch(after) };
        run_and_kill(dir.path(), round, at, &mut reported);
        rt.block_on(verify(dir.path(), &reported));
    }
    let (batches, commits) = (reported.batches.len(), reported.commits.len());
    println!(
        "verified {batches} acknowledged batches and commits of {commits} partitions over {rounds} kills"
    );
    assert!(batches as u64 >= rounds, "the writers must get batches in: {batches} reported");
}
