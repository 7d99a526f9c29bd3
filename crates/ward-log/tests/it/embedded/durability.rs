//! Group commit, backpressure, and what failed writes and syncs leave behind.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ward_log::embedded::{EmbeddedLog, EmbeddedOptions, MemFs};
use ward_log::{Log, LogLayout, Topic};

use super::{rec, small_segments};

fn open_mem(fs: &MemFs, options: EmbeddedOptions) -> EmbeddedLog {
    EmbeddedLog::open_with(fs.clone(), Path::new("/ward"), LogLayout::conformance(), options).expect("open")
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_appends_share_one_sync_per_group() {
    let fs = MemFs::new(1);
    let log = Arc::new(open_mem(&fs, EmbeddedOptions::default()));
    fs.set_sync_delay(Duration::from_millis(5));
    let before = fs.syncs();
    let tasks: Vec<_> = (0..32)
        .map(|w| {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                for b in 0..4 {
                    log.append(Topic::EnrichedEvents, vec![rec(None, 0, format!("{w}-{b}").as_bytes())])
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let syncs = fs.syncs() - before;
    assert!(syncs < 64, "128 appends queued behind 5 ms syncs must share syncs, got {syncs}");
    assert_eq!(log.read(Topic::EnrichedEvents, 0, 0, 1000).await.expect("read").len(), 128);
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_larger_than_the_pending_budget_still_complete() {
    let fs = MemFs::new(2);
    let options =
        EmbeddedOptions { max_pending_bytes: 1000, queue_capacity: 1, ..EmbeddedOptions::default() };
    let log = Arc::new(open_mem(&fs, options));
    let tasks: Vec<_> = (0..4)
        .map(|w| {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let batch = (0..20).map(|i| rec(None, i, &[w; 500])).collect();
                log.append(Topic::Actions, batch).await.expect("append")
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task").len(), 20);
    }
    assert_eq!(log.read(Topic::Actions, 0, 0, 100).await.expect("read").len(), 80);
}

/// Appends `n` one-record batches to `topic` partition 0 and returns their payloads.
async fn fill(log: &EmbeddedLog, topic: Topic, n: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..n {
        log.append(topic, vec![rec(None, i.into(), &[i; 40])]).await.expect("append");
        out.push(vec![i; 40]);
    }
    out
}

async fn payloads(log: &EmbeddedLog, topic: Topic) -> Vec<Vec<u8>> {
    log.read(topic, 0, 0, 10_000).await.expect("read").into_iter().map(|r| r.payload).collect()
}

/// Checks the state after a failed append: acknowledged records first, then at most a
/// prefix of the failed batch, each whole.
fn assert_acked_then_prefix_of(got: &[Vec<u8>], acked: &[Vec<u8>], failed: &[Vec<u8>]) {
    assert_eq!(&got[..acked.len()], acked, "acknowledged records are kept, in order");
    let extra = &got[acked.len()..];
    assert!(
        extra.len() <= failed.len() && extra == &failed[..extra.len()],
        "only a prefix of the failed batch may appear"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_sync_fails_the_batch_and_stops_the_partition_until_reopen() {
    for crash in [false, true] {
        for seed in 0..8 {
            let fs = MemFs::new(seed);
            let log = open_mem(&fs, small_segments(1024));
            let t = Topic::ModelOutputs;
            let acked = fill(&log, t, 30).await;
            fs.fail_sync(seed as u32 % 4);
            let failed: Vec<Vec<u8>> = (0..20u8).map(|i| vec![100 + i; 40]).collect();
            let batch = failed.iter().map(|p| rec(None, 0, p)).collect();
            log.append(t, batch).await.expect_err("the sync covering the batch failed");
            assert_eq!(payloads(&log, t).await, acked, "readers never see records of a failed append");
            let err =
                log.append(t, vec![rec(None, 0, b"later")]).await.expect_err("the partition is stopped");
            assert!(err.to_string().contains("reopen"), "{err}");
            log.append(Topic::Actions, vec![rec(None, 0, b"other")])
                .await
                .expect("other partitions still work");
            drop(log);
            if crash {
                fs.crash();
            }
            let log = open_mem(&fs, small_segments(1024));
            let got = payloads(&log, t).await;
            assert_acked_then_prefix_of(&got, &acked, &failed);
            let next = log.append(t, vec![rec(None, 0, b"after")]).await.expect("appends work after reopen");
            assert_eq!(next[0].offset, got.len() as u64, "offsets stay dense");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_fails_the_batch_and_leaves_no_torn_record() {
    for seed in 0..8 {
        let fs = MemFs::new(seed);
        let log = open_mem(&fs, small_segments(1024));
        let t = Topic::ConsolidatedAlerts;
        let acked = fill(&log, t, 25).await;
        fs.fail_write(seed as u32 % 3);
        let failed: Vec<Vec<u8>> = (0..30u8).map(|i| vec![200 + i % 50; 40]).collect();
        log.append(t, failed.iter().map(|p| rec(None, 0, p)).collect()).await.expect_err("a write failed");
        assert_eq!(payloads(&log, t).await, acked);
        drop(log);
        fs.crash();
        let log = open_mem(&fs, small_segments(1024));
        assert_acked_then_prefix_of(&payloads(&log, t).await, &acked, &failed);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_commit_keeps_the_last_durable_position() {
    let fs = MemFs::new(3);
    let log = open_mem(&fs, EmbeddedOptions::default());
    let t = Topic::Actions;
    fill(&log, t, 10).await;
    log.ack("g", t, 0, 3).await.expect("ack");
    fs.fail_sync(1);
    log.ack("g", t, 0, 7).await.expect_err("the directory sync failed");
    assert_eq!(log.committed("g", t, 0).await.expect("committed"), 3, "the failed commit is not reported");
    assert_eq!(log.fetch("g", t, 0, 1).await.expect("fetch")[0].offset, 3);
    drop(log);
    fs.crash();
    let log = open_mem(&fs, EmbeddedOptions::default());
    assert_eq!(
        log.committed("g", t, 0).await.expect("committed"),
        3,
        "an unsynced rename is lost in a crash"
    );
    log.ack("g", t, 0, 5).await.expect("ack");
    drop(log);
    fs.crash();
    let log = open_mem(&fs, EmbeddedOptions::default());
    assert_eq!(
        log.committed("g", t, 0).await.expect("committed"),
        5,
        "an acknowledged commit survives a crash"
    );
}
