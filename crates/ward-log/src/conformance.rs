//! The conformance suite every [`Log`] adapter must pass, run from each adapter's tests
//! against a real backend (files, NATS JetStream, Redis).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Log, LogLayout, Record, Topic, partition_for};

/// Makes logs for the suite.
#[async_trait]
pub trait Harness: Send {
    /// A new, empty log laid out as [`LogLayout::conformance`].
    async fn fresh(&mut self) -> Arc<dyn Log>;
    /// A new handle on the log last returned by `fresh`, as after a process restart (the
    /// previous handle has been dropped).
    async fn reopen(&mut self) -> Arc<dyn Log>;
}

/// Runs every check; panics with the name of the first that fails.
pub async fn run(h: &mut dyn Harness) {
    append_assigns_dense_offsets_in_order(h.fresh().await).await;
    keys_pick_partitions_deterministically(h.fresh().await).await;
    read_returns_records_as_appended(h.fresh().await).await;
    empty_batches_and_reads_past_the_end_are_empty(h.fresh().await).await;
    unknown_partitions_are_errors(h.fresh().await).await;
    consumer_groups_redeliver_until_acked(h.fresh().await).await;
    concurrent_appends_get_unique_offsets(h.fresh().await).await;
    stats_count_appended_records(h.fresh().await).await;
    retention_removes_only_old_records(h.fresh().await).await;
    data_and_commits_survive_reopen(h).await;
}

fn rec(key: Option<&str>, ts: i64, payload: &[u8]) -> Record {
    Record { key: key.map(|k| k.as_bytes().to_vec()), timestamp_ms: ts, payload: payload.to_vec() }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

async fn append_assigns_dense_offsets_in_order(log: Arc<dyn Log>) {
    let t = Topic::EnrichedEvents;
    let first = log.append(t, (0..5).map(|i| rec(None, i, &[i as u8])).collect()).await.expect("append");
    let second = log.append(t, (5..8).map(|i| rec(None, i, &[i as u8])).collect()).await.expect("append");
    let offsets: Vec<u64> = first.iter().chain(&second).map(|p| p.offset).collect();
    assert_eq!(offsets, (0..8).collect::<Vec<u64>>(), "offsets must be dense from 0, in input order");
    assert!(first.iter().all(|p| p.partition == 0));
}

async fn keys_pick_partitions_deterministically(log: Arc<dyn Log>) {
    let t = Topic::RawEvents;
    let n = log.partitions(t);
    assert_eq!(n, LogLayout::conformance().topic(t).partitions);
    let keys: Vec<String> = (0..40).map(|i| format!("10.0.0.{i}")).collect();
    let batch = keys.iter().map(|k| rec(Some(k), 1, k.as_bytes())).collect();
    let positions = log.append(t, batch).await.expect("append");
    let mut next: BTreeMap<u32, u64> = BTreeMap::new();
    for (k, p) in keys.iter().zip(&positions) {
        assert_eq!(p.partition, partition_for(Some(k.as_bytes()), n), "key {k}");
        let want = next.entry(p.partition).or_insert(0);
        assert_eq!(p.offset, *want, "offsets are dense per partition");
        *want += 1;
    }
    assert!(next.len() > 1, "40 keys should spread over several partitions");
    for (partition, count) in next {
        let got = log.read(t, partition, 0, 1000).await.expect("read");
        assert_eq!(got.len() as u64, count);
        assert!(got.iter().all(|r| partition_for(r.key.as_deref(), n) == partition));
    }
}

async fn read_returns_records_as_appended(log: Arc<dyn Log>) {
    let t = Topic::ModelOutputs;
    let mut big = vec![0u8; 64 * 1024];
    big.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
    let batch =
        vec![rec(Some("k"), 42, b"{\"a\":1}"), rec(None, -1, &[0xff, 0x00, 0xfe]), rec(None, 7, &big)];
    log.append(t, batch.clone()).await.expect("append");
    let got = log.read(t, 0, 0, 10).await.expect("read");
    assert_eq!(got.len(), 3);
    for (i, (r, want)) in got.iter().zip(&batch).enumerate() {
        assert_eq!(r.offset, i as u64);
        assert_eq!(r.partition, 0);
        assert_eq!(r.key, want.key, "key of record {i}");
        assert_eq!(r.timestamp_ms, want.timestamp_ms, "timestamp of record {i}");
        assert_eq!(r.payload, want.payload, "payload of record {i}");
    }
    let tail = log.read(t, 0, 1, 1).await.expect("read");
    assert_eq!(tail.len(), 1, "max is respected");
    assert_eq!(tail[0].offset, 1, "reads start at the requested offset");
}

async fn empty_batches_and_reads_past_the_end_are_empty(log: Arc<dyn Log>) {
    let t = Topic::Notifications;
    assert!(log.append(t, Vec::new()).await.expect("empty append").is_empty());
    log.append(t, vec![rec(None, 1, b"x")]).await.expect("append");
    assert!(log.read(t, 0, 1, 10).await.expect("read").is_empty());
    assert!(log.read(t, 0, 1000, 10).await.expect("read").is_empty());
}

async fn unknown_partitions_are_errors(log: Arc<dyn Log>) {
    let t = Topic::Actions;
    let n = log.partitions(t);
    assert!(log.read(t, n, 0, 1).await.is_err(), "reading partition {n} of {n} must fail");
}

async fn consumer_groups_redeliver_until_acked(log: Arc<dyn Log>) {
    let t = Topic::ConsolidatedAlerts;
    log.append(t, (0..10).map(|i| rec(None, i, &[i as u8])).collect()).await.expect("append");
    assert_eq!(log.committed("g1", t, 0).await.expect("committed"), 0);
    let a = log.fetch("g1", t, 0, 4).await.expect("fetch");
    assert_eq!(a.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    let again = log.fetch("g1", t, 0, 4).await.expect("fetch");
    assert_eq!(again.first().map(|r| r.offset), Some(0), "unacknowledged records are delivered again");
    log.ack("g1", t, 0, 4).await.expect("ack");
    assert_eq!(log.committed("g1", t, 0).await.expect("committed"), 4);
    let b = log.fetch("g1", t, 0, 100).await.expect("fetch");
    assert_eq!(b.iter().map(|r| r.offset).collect::<Vec<_>>(), (4..10).collect::<Vec<_>>());
    log.ack("g1", t, 0, 2).await.expect("stale ack is accepted");
    assert_eq!(log.committed("g1", t, 0).await.expect("committed"), 4, "commits never move backwards");
    let other = log.fetch("g2", t, 0, 1).await.expect("fetch");
    assert_eq!(other[0].offset, 0, "groups are independent");
    log.ack("g1", t, 0, 10).await.expect("ack");
    assert!(log.fetch("g1", t, 0, 10).await.expect("fetch").is_empty());
}

async fn concurrent_appends_get_unique_offsets(log: Arc<dyn Log>) {
    let t = Topic::EnrichedEvents;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut mine = Vec::new();
                for b in 0..5 {
                    let batch = (0..10).map(|i| rec(None, 0, format!("{w}-{b}-{i}").as_bytes())).collect();
                    mine.extend(log.append(t, batch).await.expect("append"));
                }
                mine
            })
        })
        .collect();
    let mut offsets = Vec::new();
    for task in tasks {
        offsets.extend(task.await.expect("task").into_iter().map(|p| p.offset));
    }
    offsets.sort_unstable();
    assert_eq!(
        offsets,
        (0..400).collect::<Vec<u64>>(),
        "400 appended records get offsets 0..400 exactly once"
    );
    let all = log.read(t, 0, 0, 1000).await.expect("read");
    assert_eq!(all.len(), 400);
}

async fn stats_count_appended_records(log: Arc<dyn Log>) {
    let t = Topic::Actions;
    log.append(t, (0..25).map(|i| rec(None, i, b"0123456789")).collect()).await.expect("append");
    let stats = log.stats(t).await.expect("stats");
    assert_eq!(stats.len() as u32, log.partitions(t));
    assert_eq!(stats[0].first_offset, 0);
    assert_eq!(stats[0].next_offset, 25);
    assert!(stats[0].bytes >= 250, "at least the payload bytes are counted");
}

async fn retention_removes_only_old_records(log: Arc<dyn Log>) {
    let t = Topic::ActionStatus;
    let now = now_ms();
    let day = 24 * 3600 * 1000;
    log.append(t, (0..100).map(|i| rec(None, now - 2 * day + i, b"old")).collect()).await.expect("append");
    log.append(t, (0..100).map(|i| rec(None, now + i, b"new")).collect()).await.expect("append");
    let removed = log.apply_retention(t, now).await.expect("retention");
    assert!(removed <= 100, "only records older than the retention age may go");
    let stats = log.stats(t).await.expect("stats");
    assert_eq!(stats[0].first_offset, removed, "removal is from the head");
    assert_eq!(stats[0].next_offset, 200);
    let left = log.read(t, 0, 0, 1000).await.expect("read");
    assert_eq!(left.len() as u64, 200 - removed);
    assert_eq!(left.first().map(|r| r.offset), Some(removed), "reads below the head start at the head");
    assert_eq!(left.iter().filter(|r| r.payload == b"new").count(), 100, "recent records are kept");
}

async fn data_and_commits_survive_reopen(h: &mut dyn Harness) {
    let t = Topic::RawEvents;
    let log = h.fresh().await;
    let positions = log
        .append(t, (0..20).map(|i| rec(Some(&i.to_string()), i, &[i as u8])).collect())
        .await
        .expect("append");
    let p = positions[0].partition;
    log.ack("g", t, p, 1).await.expect("ack");
    drop(log);
    let log = h.reopen().await;
    for (i, pos) in positions.iter().enumerate() {
        let got = log.read(t, pos.partition, pos.offset, 1).await.expect("read");
        assert_eq!(got[0].payload, vec![i as u8], "record {i} survives reopen");
    }
    assert_eq!(log.committed("g", t, p).await.expect("committed"), 1, "commits survive reopen");
    let more = log.append(t, vec![rec(Some("0"), 0, b"z")]).await.expect("append after reopen");
    let before = positions.iter().filter(|q| q.partition == more[0].partition).count() as u64;
    assert_eq!(more[0].offset, before, "offsets continue after reopen");
}
