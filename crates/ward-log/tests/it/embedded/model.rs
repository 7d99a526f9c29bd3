//! Model check: random sequences of appends, reads, fetches, acks, retention, reopens, crashes
//! and injected write/sync failures against the embedded log over [`MemFs`], compared with a
//! `Vec` of records per partition.
//!
//! What must hold: every append that returned `Ok` is readable after any later crash; reads
//! return exactly the model's records (offsets dense, from the first retained one); records of
//! failed appends are never visible before a reopen, and after one at most a prefix of them
//! appears, whole, right after the acknowledged records; commits that returned `Ok` survive
//! crashes and never move backwards; nothing corrupt is ever returned.

use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use ward_log::embedded::{EmbeddedLog, EmbeddedOptions, MemFs};
use ward_log::{Log, LogLayout, Record, RetentionPolicy, StoredRecord, Topic, TopicConfig, partition_for};

const T: Topic = Topic::RawEvents;
const PARTS: u32 = 3;
const GROUP: &str = "model";

#[derive(Clone, Debug)]
enum Op {
    /// Records as (partition, payload length).
    Append(Vec<(u32, usize)>),
    /// An append while the write (or sync) after `after` successful ones fails.
    FaultyAppend {
        sync: bool,
        after: u32,
        batch: Vec<(u32, usize)>,
    },
    Read {
        partition: u32,
        from: u64,
        max: usize,
    },
    Fetch {
        partition: u32,
        max: usize,
    },
    Ack {
        partition: u32,
        next: u64,
        fault: Option<bool>,
    },
    Retention {
        now_back: i64,
    },
    Reopen,
    Crash,
}

fn batch() -> impl Strategy<Value = Vec<(u32, usize)>> {
    prop::collection::vec((0..PARTS, 0..160usize), 1..10)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => batch().prop_map(Op::Append),
        2 => (any::<bool>(), 0..5u32, batch())
            .prop_map(|(sync, after, batch)| Op::FaultyAppend { sync, after, batch }),
        3 => (0..PARTS, 0..90u64, 1..30usize)
            .prop_map(|(partition, from, max)| Op::Read { partition, from, max }),
        1 => (0..PARTS, 1..30usize).prop_map(|(partition, max)| Op::Fetch { partition, max }),
        2 => (0..PARTS, 0..90u64, prop::option::of(any::<bool>()))
            .prop_map(|(partition, next, fault)| Op::Ack { partition, next, fault }),
        1 => (0..80i64).prop_map(|now_back| Op::Retention { now_back }),
        1 => Just(Op::Reopen),
        2 => Just(Op::Crash),
    ]
}

/// One partition of the model.
#[derive(Default)]
struct Part {
    /// Every record ever acknowledged (or adopted after a reopen), by offset.
    records: Vec<Record>,
    first: u64,
    /// Records of failed appends since the last reopen, in the order they were staged.
    failed: Vec<Record>,
    stopped: bool,
    committed: u64,
    /// Positions of failed commits, which a reopen may reveal.
    maybe_committed: Vec<u64>,
}

struct Model {
    fs: MemFs,
    log: Option<EmbeddedLog>,
    parts: Vec<Part>,
    keys: Vec<Vec<u8>>,
    counter: i64,
}

fn layout() -> LogLayout {
    let retention = RetentionPolicy { max_age: Some(Duration::from_millis(40)), max_bytes: Some(2500) };
    LogLayout::default().with(T, TopicConfig { partitions: PARTS, retention })
}

fn options() -> EmbeddedOptions {
    EmbeddedOptions { segment_bytes: 600, index_interval_bytes: 100, ..EmbeddedOptions::default() }
}

/// A key hashing to each partition.
fn keys() -> Vec<Vec<u8>> {
    (0..PARTS)
        .map(|p| {
            (0u32..)
                .map(|i| format!("k{i}").into_bytes())
                .find(|k| partition_for(Some(k), PARTS) == p)
                .expect("key")
        })
        .collect()
}

fn same(got: &StoredRecord, want: &Record, offset: u64) -> bool {
    got.offset == offset
        && got.key == want.key
        && got.timestamp_ms == want.timestamp_ms
        && got.payload == want.payload
}

impl Model {
    fn new(seed: u64) -> Self {
        let fs = MemFs::new(seed);
        let mut m = Self {
            fs,
            log: None,
            parts: (0..PARTS).map(|_| Part::default()).collect(),
            keys: keys(),
            counter: 0,
        };
        m.open();
        m
    }

    fn open(&mut self) {
        let log = EmbeddedLog::open_with(self.fs.clone(), Path::new("/m"), layout(), options());
        self.log = Some(log.expect("the log opens after any crash"));
    }

    fn log(&self) -> &EmbeddedLog {
        self.log.as_ref().expect("open")
    }

    fn records(&mut self, batch: &[(u32, usize)]) -> Vec<Record> {
        batch
            .iter()
            .map(|&(p, len)| {
                self.counter += 1;
                let payload = self.counter.to_le_bytes().iter().copied().cycle().take(len.max(8)).collect();
                Record { key: Some(self.keys[p as usize].clone()), timestamp_ms: self.counter, payload }
            })
            .collect()
    }

    async fn append(&mut self, batch: &[(u32, usize)], fault: Option<(bool, u32)>) {
        let records = self.records(batch);
        let stopped = batch.iter().any(|&(p, _)| self.parts[p as usize].stopped);
        match fault {
            Some((true, after)) => self.fs.fail_sync(after),
            Some((false, after)) => self.fs.fail_write(after),
            None => {}
        }
        let result = self.log().append(T, records.clone()).await;
        self.fs.clear_faults();
        match result {
            Ok(positions) => {
                assert!(!stopped, "a stopped partition accepted an append");
                for (r, pos) in records.into_iter().zip(positions) {
                    let part = &mut self.parts[pos.partition as usize];
                    assert_eq!(pos.offset, part.records.len() as u64, "offsets are dense, in order");
                    part.records.push(r);
                }
            }
            Err(e) => {
                assert!(stopped || fault.is_some(), "append failed without a fault: {e}");
                if !stopped {
                    for (r, &(p, _)) in records.into_iter().zip(batch) {
                        self.parts[p as usize].failed.push(r);
                    }
                    batch.iter().for_each(|&(p, _)| self.parts[p as usize].stopped = true);
                }
            }
        }
    }

    async fn check_read(&self, partition: u32, from: u64, max: usize) {
        let got = self.log().read(T, partition, from, max).await.expect("reads never fail here");
        self.check(&got, partition, from, max);
    }

    /// `got` must be exactly the model's records of `partition` from `from` (or the head), at
    /// most `max`.
    fn check(&self, got: &[StoredRecord], partition: u32, from: u64, max: usize) {
        let part = &self.parts[partition as usize];
        let start = from.max(part.first) as usize;
        let want = part.records.get(start..).unwrap_or_default();
        let want = &want[..want.len().min(max)];
        assert_eq!(got.len(), want.len(), "read({partition}, {from}, {max})");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(same(g, w, (start + i) as u64), "record {} of partition {partition}", start + i);
        }
    }

    async fn ack(&mut self, partition: u32, next: u64, fault: Option<bool>) {
        match fault {
            Some(true) => self.fs.fail_sync(0),
            Some(false) => self.fs.fail_write(0),
            None => {}
        }
        let result = self.log().ack(GROUP, T, partition, next).await;
        self.fs.clear_faults();
        let part = &mut self.parts[partition as usize];
        match result {
            Ok(()) if next > part.committed => (part.committed, part.maybe_committed) = (next, Vec::new()),
            Ok(()) => {}
            Err(e) => {
                assert!(fault.is_some() && next > part.committed, "ack failed without a fault: {e}");
                part.maybe_committed.push(next);
            }
        }
        let committed = self.log().committed(GROUP, T, partition).await.expect("committed");
        assert_eq!(
            committed, self.parts[partition as usize].committed,
            "commits report the last durable one"
        );
    }

    async fn retention(&mut self, now_back: i64) {
        let removed = self.log().apply_retention(T, self.counter - now_back).await.expect("retention");
        let stats = self.log().stats(T).await.expect("stats");
        let mut total = 0;
        for (part, s) in self.parts.iter_mut().zip(stats) {
            assert!(s.first_offset >= part.first && s.first_offset <= part.records.len() as u64);
            total += s.first_offset - part.first;
            part.first = s.first_offset;
        }
        assert_eq!(removed, total, "the removed count matches the heads' moves");
    }

    /// Drops the log (crashing the filesystem first when asked), reopens it, and reconciles:
    /// acknowledged records all there, then at most a prefix of the failed ones.
    async fn reopen(&mut self, crash: bool) {
        self.log = None;
        if crash {
            self.fs.crash();
        }
        self.open();
        for p in 0..PARTS {
            let got = self.log().read(T, p, 0, 100_000).await.expect("read after reopen");
            let part = &mut self.parts[p as usize];
            let acked = part.records.len() - part.first as usize;
            assert!(
                got.len() >= acked,
                "partition {p}: {} records after reopen, {acked} acknowledged",
                got.len()
            );
            let extra = got.len() - acked;
            assert!(extra <= part.failed.len(), "partition {p}: records that were never appended");
            for (i, g) in got.iter().enumerate() {
                let offset = part.first + i as u64;
                let want = part.records.get(offset as usize).unwrap_or_else(|| &part.failed[i - acked]);
                assert!(same(g, want, offset), "partition {p} offset {offset} after reopen (crash: {crash})");
            }
            let adopted: Vec<Record> = part.failed.drain(..).take(extra).collect();
            part.records.extend(adopted);
            part.stopped = false;
            let committed = self.log.as_ref().expect("open").committed(GROUP, T, p).await.expect("committed");
            assert!(
                committed == part.committed || part.maybe_committed.contains(&committed),
                "commit {committed}"
            );
            (part.committed, part.maybe_committed) = (committed, Vec::new());
        }
    }

    async fn apply(&mut self, op: &Op) {
        match op {
            Op::Append(batch) => self.append(batch, None).await,
            Op::FaultyAppend { sync, after, batch } => self.append(batch, Some((*sync, *after))).await,
            Op::Read { partition, from, max } => self.check_read(*partition, *from, *max).await,
            Op::Fetch { partition, max } => {
                let got = self.log().fetch(GROUP, T, *partition, *max).await.expect("fetch");
                self.check(&got, *partition, self.parts[*partition as usize].committed, *max);
            }
            Op::Ack { partition, next, fault } => self.ack(*partition, *next, *fault).await,
            Op::Retention { now_back } => self.retention(*now_back).await,
            Op::Reopen => self.reopen(false).await,
            Op::Crash => self.reopen(true).await,
        }
        let stats = self.log().stats(T).await.expect("stats");
        for (part, s) in self.parts.iter().zip(stats) {
            assert_eq!(s.next_offset, part.records.len() as u64, "only acknowledged records are visible");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn embedded_log_matches_the_model(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let mut model = Model::new(seed);
            for op in &ops {
                model.apply(op).await;
            }
            model.reopen(true).await;
        });
    }
}
