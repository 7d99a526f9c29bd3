//! Retention by size and age, at segment granularity.

use std::time::Duration;

use ward_log::embedded::EmbeddedLog;
use ward_log::{Log, LogLayout, RetentionPolicy, Topic, TopicConfig};

use super::{files, rec, small_segments};

const T: Topic = Topic::ModelOutputs;

fn layout(retention: RetentionPolicy) -> LogLayout {
    LogLayout::default().with(T, TopicConfig { partitions: 1, retention })
}

fn open(root: &std::path::Path, retention: RetentionPolicy) -> EmbeddedLog {
    EmbeddedLog::open(root, layout(retention), small_segments(1024)).expect("open")
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_by_size_removes_the_oldest_sealed_segments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = RetentionPolicy { max_age: None, max_bytes: Some(3000) };
    let log = open(dir.path(), policy);
    log.append(T, (0..200u8).map(|i| rec(None, 0, &[i; 50])).collect()).await.expect("append");
    log.ack("slow", T, 0, 5).await.expect("ack");
    let before = log.stats(T).await.expect("stats")[0].bytes;
    let removed = log.apply_retention(T, 0).await.expect("retention");
    let s = log.stats(T).await.expect("stats")[0].clone();
    assert!(before > 3000 && removed > 0, "{before} bytes must be cut to 3000");
    assert_eq!(s.first_offset, removed, "whole segments go from the head");
    assert!(s.bytes <= 3000, "{} bytes left", s.bytes);
    assert!(s.bytes + 1024 > 3000, "only as many segments go as needed: {} bytes left", s.bytes);
    assert_eq!(s.next_offset, 200);
    let read = log.read(T, 0, 0, 1).await.expect("read");
    assert_eq!(read[0].offset, removed, "reads below the head start at the head");
    assert_eq!(read[0].payload[0] as u64, removed);
    assert_eq!(
        log.fetch("slow", T, 0, 1).await.expect("fetch")[0].offset,
        removed,
        "a lagging group resumes at the head"
    );
    drop(log);
    let log = open(dir.path(), policy);
    assert_eq!(log.stats(T).await.expect("stats")[0].first_offset, removed, "removal is durable");
    assert_eq!(files(&dir.path().join("model_outputs/0"), ".log").len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_by_age_keeps_segments_holding_any_recent_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hour = 3_600_000;
    let log = open(dir.path(), RetentionPolicy { max_age: Some(Duration::from_secs(3600)), max_bytes: None });
    let now = 100 * hour;
    // Segments hold 12 records: the first 24 are old, record 30 is recent, the rest old.
    let ts = |i: u64| if i == 30 { now } else { now - 2 * hour };
    log.append(T, (0..50u64).map(|i| rec(None, ts(i), &[i as u8; 50])).collect()).await.expect("append");
    assert_eq!(log.apply_retention(T, now).await.expect("retention"), 24, "two old segments go");
    assert_eq!(
        log.stats(T).await.expect("stats")[0].first_offset,
        24,
        "the segment holding record 30 stops removal"
    );
    assert_eq!(
        log.apply_retention(T, now + 2 * hour).await.expect("retention"),
        26,
        "later, everything is old"
    );
    let s = log.stats(T).await.expect("stats")[0].clone();
    assert_eq!((s.first_offset, s.next_offset), (50, 50), "an expired active segment is rolled and removed");
    assert!(log.read(T, 0, 0, 10).await.expect("read").is_empty());
    let p = log.append(T, vec![rec(None, now, b"new")]).await.expect("append");
    assert_eq!(p[0].offset, 50, "offsets continue after everything expired");
    drop(log);
    let log = open(dir.path(), RetentionPolicy::default());
    assert_eq!(log.read(T, 0, 0, 10).await.expect("read")[0].offset, 50);
}
