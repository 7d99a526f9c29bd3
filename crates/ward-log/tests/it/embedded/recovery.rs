//! Recovery on open, over real files damaged by hand: torn tails are cut, everything else
//! is reported as corruption naming the file and byte.

use std::io::Write;
use std::path::{Path, PathBuf};

use ward_log::embedded::EmbeddedLog;
use ward_log::{Log, LogError, LogLayout, Topic};

use super::{files, open, rec, small_segments};

const T: Topic = Topic::Notifications;

/// A log with 120 records of 50-byte payloads in 1 KiB segments; returns the partition dir.
async fn filled(root: &Path) -> PathBuf {
    let log = open(root, small_segments(1024));
    for chunk in 0..4u8 {
        let batch = (0..30u8).map(|i| rec(None, i.into(), &[chunk * 30 + i; 50])).collect();
        log.append(T, batch).await.expect("append");
    }
    root.join("notifications/0")
}

fn reopen(root: &Path) -> Result<EmbeddedLog, LogError> {
    EmbeddedLog::open(root, LogLayout::conformance(), small_segments(1024))
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new().append(true).open(path).expect("open").write_all(bytes).expect("write");
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = std::fs::read(path).expect("read");
    b[at] ^= 0x20;
    std::fs::write(path, b).expect("write");
}

async fn all(log: &EmbeddedLog) -> Vec<u8> {
    log.read(T, 0, 0, 1000).await.expect("read").iter().map(|r| r.payload[0]).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_torn_tail_is_cut_and_appends_continue_densely() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let last = files(&part, ".log").pop().expect("segment");
    let size = std::fs::metadata(&last).expect("stat").len();
    append_bytes(&last, &[78, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    let log = reopen(dir.path()).expect("open");
    assert_eq!(log.recovery().len(), 1, "{:?}", log.recovery());
    assert_eq!((log.recovery()[0].kept_bytes, log.recovery()[0].dropped_bytes), (size, 10));
    assert_eq!(std::fs::metadata(&last).expect("stat").len(), size, "the torn bytes are gone from the file");
    assert_eq!(all(&log).await, (0..120).collect::<Vec<u8>>());
    let p = log.append(T, vec![rec(None, 0, &[120; 50])]).await.expect("append");
    assert_eq!(p[0].offset, 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_last_record_is_cut_as_a_torn_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let last = files(&part, ".log").pop().expect("segment");
    let size = std::fs::metadata(&last).expect("stat").len() as usize;
    flip_byte(&last, size - 3);
    let log = reopen(dir.path()).expect("open");
    assert_eq!(all(&log).await, (0..119).collect::<Vec<u8>>(), "the record whose checksum fails is dropped");
    assert_eq!(log.recovery()[0].reason, "record checksum mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_record_in_a_sealed_segment_is_an_error_naming_file_and_byte() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let first = files(&part, ".log").remove(0);
    let frame = 20 + 78; // the second record: header, then one 78-byte frame
    flip_byte(&first, frame + 40);
    let log = reopen(dir.path()).expect("sealed segments are trusted through their index on open");
    assert_eq!(log.read(T, 0, 0, 1).await.expect("the first record is intact")[0].payload[0], 0);
    match log.read(T, 0, 0, 10).await {
        Err(LogError::Corrupt { path, offset, reason }) => {
            assert!(path.ends_with("00000000000000000000.log"), "{path}");
            assert_eq!(offset, frame as u64);
            assert_eq!(reason, "record checksum mismatch");
        }
        other => panic!("a corrupt record must not be returned: {other:?}"),
    }
    assert!(log.read(T, 0, 20, 10).await.is_ok(), "later segments stay readable");
    drop(log);
    std::fs::remove_file(part.join("00000000000000000000.idx")).expect("remove index");
    match reopen(dir.path()) {
        Err(LogError::Corrupt { path, offset, .. }) => {
            assert!(path.ends_with("0.log") && offset == frame as u64)
        }
        other => panic!("rebuilding the index finds the corruption: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_damaged_index_files_are_rebuilt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let idx = files(&part, ".idx");
    assert!(idx.len() >= 3, "{idx:?}");
    std::fs::remove_file(&idx[0]).expect("remove");
    flip_byte(&idx[1], 30);
    std::fs::write(part.join("00000000000000000999.idx"), b"orphan").expect("write");
    let log = reopen(dir.path()).expect("open");
    assert_eq!(all(&log).await, (0..120).collect::<Vec<u8>>());
    for from in (0..120).step_by(7) {
        assert_eq!(log.read(T, 0, from, 1).await.expect("read")[0].payload[0] as u64, from);
    }
    assert_eq!(files(&part, ".idx"), idx, "index files rewritten, the orphan removed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_segment_whose_creation_was_torn_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let torn = part.join("00000000000000000120.log");
    std::fs::write(&torn, b"WLOG\x01").expect("write");
    let log = reopen(dir.path()).expect("open");
    assert!(!torn.exists());
    assert_eq!(log.recovery()[0].dropped_bytes, 5);
    assert_eq!(log.append(T, vec![rec(None, 0, &[120; 50])]).await.expect("append")[0].offset, 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_header_in_front_of_records_is_corruption() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let last = files(&part, ".log").pop().expect("segment");
    flip_byte(&last, 10);
    match reopen(dir.path()) {
        Err(LogError::Corrupt { path, offset: 0, reason }) => {
            assert_eq!(Path::new(&path), last);
            assert_eq!(reason, "segment header checksum mismatch");
        }
        other => panic!("records behind a damaged header must not be dropped silently: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_segment_is_corruption_not_a_gap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let part = filled(dir.path()).await;
    let segments = files(&part, ".log");
    std::fs::remove_file(&segments[1]).expect("remove");
    match reopen(dir.path()) {
        Err(LogError::Corrupt { path, reason, .. }) => {
            assert_eq!(Path::new(&path), segments[2]);
            assert!(reason.contains("previous one ends"), "{reason}");
        }
        other => panic!("offsets must stay dense: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_commit_file_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = open(dir.path(), small_segments(1024));
    log.ack("g", T, 0, 1).await.expect("ack");
    drop(log);
    flip_byte(&dir.path().join("groups/g/notifications.0.commit"), 6);
    let log = reopen(dir.path()).expect("open");
    assert!(matches!(log.committed("g", T, 0).await, Err(LogError::Corrupt { .. })));
    assert!(matches!(log.fetch("g", T, 0, 1).await, Err(LogError::Corrupt { .. })));
}
