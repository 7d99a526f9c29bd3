//! Tests of the embedded adapter: the conformance suite over real files and over the
//! fault-injecting in-memory filesystem, then the adapter's own guarantees.

mod durability;
mod format;
mod model;
mod recovery;
mod retention;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use ward_log::conformance::{self, Harness};
use ward_log::embedded::{EmbeddedLog, EmbeddedOptions, MemFs};
use ward_log::{Log, LogLayout, Record, Topic};

/// A record with an optional key.
pub(crate) fn rec(key: Option<&str>, ts: i64, payload: &[u8]) -> Record {
    Record { key: key.map(|k| k.as_bytes().to_vec()), timestamp_ms: ts, payload: payload.to_vec() }
}

/// Options with small segments and a dense index, so tests cross segment boundaries.
pub(crate) fn small_segments(segment_bytes: u64) -> EmbeddedOptions {
    EmbeddedOptions { segment_bytes, index_interval_bytes: 128, ..EmbeddedOptions::default() }
}

/// Opens a log over real files.
pub(crate) fn open(dir: &Path, options: EmbeddedOptions) -> EmbeddedLog {
    EmbeddedLog::open(dir, LogLayout::conformance(), options).expect("open")
}

/// The `.log` (or other `suffix`) files of a partition directory, sorted.
pub(crate) fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Each call to `fresh` opens a new directory; `reopen` opens the last one again.
struct TempHarness {
    dir: tempfile::TempDir,
    current: PathBuf,
    count: usize,
}

#[async_trait]
impl Harness for TempHarness {
    async fn fresh(&mut self) -> Arc<dyn Log> {
        self.count += 1;
        self.current = self.dir.path().join(self.count.to_string());
        Arc::new(open(&self.current, EmbeddedOptions::default()))
    }

    async fn reopen(&mut self) -> Arc<dyn Log> {
        Arc::new(open(&self.current, EmbeddedOptions::default()))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_over_real_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let current = dir.path().join("0");
    conformance::run(&mut TempHarness { dir, current, count: 0 }).await;
}

/// Each `fresh` log gets its own in-memory filesystem; `reopen` crashes it first, so the
/// suite's durability check runs against only what was synced.
struct MemHarness {
    fs: MemFs,
    seed: u64,
}

impl MemHarness {
    fn open(&self) -> Arc<dyn Log> {
        let log = EmbeddedLog::open_with(
            self.fs.clone(),
            Path::new("/ward"),
            LogLayout::conformance(),
            small_segments(8192),
        );
        Arc::new(log.expect("open"))
    }
}

#[async_trait]
impl Harness for MemHarness {
    async fn fresh(&mut self) -> Arc<dyn Log> {
        self.seed += 1;
        self.fs = MemFs::new(self.seed);
        self.open()
    }

    async fn reopen(&mut self) -> Arc<dyn Log> {
        self.fs.crash();
        self.open()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_over_memfs_with_a_crash_before_each_reopen() {
    conformance::run(&mut MemHarness { fs: MemFs::new(0), seed: 0 }).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_open_log_per_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), EmbeddedOptions::default());
    match EmbeddedLog::open(dir.path(), LogLayout::conformance(), EmbeddedOptions::default()) {
        Err(ward_log::LogError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::WouldBlock)
        }
        other => panic!("a second writer on the same files must be refused: {other:?}"),
    }
    drop(log);
    open(dir.path(), EmbeddedOptions::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn records_over_the_size_limit_are_refused_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), EmbeddedOptions { max_record_bytes: 100, ..EmbeddedOptions::default() });
    let batch = vec![rec(None, 1, b"fits"), rec(Some("key"), 1, &[0; 98])];
    let err = log.append(Topic::Actions, batch).await.expect_err("101 bytes of key and payload exceed 100");
    assert!(matches!(err, ward_log::LogError::TooLarge { size: 101, limit: 100 }), "{err}");
    assert!(
        log.read(Topic::Actions, 0, 0, 10).await.expect("read").is_empty(),
        "no record of the batch is stored"
    );
    log.append(Topic::Actions, vec![rec(None, 1, &[0; 100])]).await.expect("exactly the limit fits");
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_roll_at_the_configured_size_and_reads_cross_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), small_segments(2048));
    let t = Topic::Notifications;
    let payload = |i: u64| format!("record-{i:04}-{}", "x".repeat((i % 97) as usize)).into_bytes();
    for chunk in 0..10u64 {
        log.append(t, (chunk * 30..chunk * 30 + 30).map(|i| rec(None, i as i64, &payload(i))).collect())
            .await
            .expect("append");
    }
    let part = dir.path().join("notifications/0");
    let segments = files(&part, ".log");
    assert!(segments.len() >= 5, "300 records of ~80 bytes roll 2 KiB segments: {segments:?}");
    for s in &segments {
        assert!(
            std::fs::metadata(s).expect("stat").len() <= 2048,
            "{} exceeds the segment size",
            s.display()
        );
    }
    assert_eq!(files(&part, ".idx").len(), segments.len() - 1, "every sealed segment has an index file");
    for from in [0u64, 1, 29, 30, 77, 150, 298, 299] {
        let got = log.read(t, 0, from, 40).await.expect("read");
        let want: Vec<u64> = (from..(from + 40).min(300)).collect();
        assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), want, "read from {from}");
        assert!(got.iter().all(|r| r.payload == payload(r.offset)), "payloads from {from}");
    }
}
