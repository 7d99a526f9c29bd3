//! Tests of the nats adapter: the conformance suite and JetStream-specific behaviour, against
//! the NATS server at `WARD_TEST_NATS_URL` (default `nats://127.0.0.1:4222`).
//!
//! When no server listens there the tests print "skipping: …" and pass, except under `CI=true`
//! where they fail: CI must start the server.

use async_trait::async_trait;
use ward_log::conformance;

use crate::server::{self, Connect, ServerHarness};
use ward_log::nats::NatsLog;
use ward_log::{Log, LogError, LogLayout, Record, RetentionPolicy, Topic, TopicConfig};

fn url() -> String {
    std::env::var("WARD_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

async fn reachable() -> bool {
    server::reachable("NATS", &url()).await
}

fn unique_prefix() -> String {
    server::unique_prefix("wt")
}

async fn open(prefix: &str, layout: LogLayout) -> NatsLog {
    NatsLog::connect(&url(), prefix, layout).await.expect("connect to NATS JetStream")
}

fn rec(ts: i64, payload: &[u8]) -> Record {
    Record { key: None, timestamp_ms: ts, payload: payload.to_vec() }
}

#[async_trait]
impl Connect for NatsLog {
    fn new_prefix() -> String {
        unique_prefix()
    }

    async fn open(prefix: &str, layout: LogLayout) -> Self {
        open(prefix, layout).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_passes_the_conformance_suite() {
    if !reachable().await {
        return;
    }
    let mut harness = ServerHarness::<NatsLog>::default();
    conformance::run(&mut harness).await;
    for log in harness.logs {
        log.delete_streams().await.expect("delete test streams");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_replays_from_a_sequence_after_reconnect() {
    if !reachable().await {
        return;
    }
    let prefix = unique_prefix();
    let layout = LogLayout::default();
    let first = open(&prefix, layout.clone()).await;
    let payloads: Vec<Vec<u8>> = (0..50u8).map(|i| vec![i; 100]).collect();
    first.append(Topic::Actions, payloads.iter().map(|p| rec(1, p)).collect()).await.expect("append");
    drop(first);

    let log = open(&prefix, layout).await;
    let replay = log.read(Topic::Actions, 0, 20, 1000).await.expect("replay from offset 20");
    assert_eq!(replay.iter().map(|r| r.offset).collect::<Vec<_>>(), (20..50).collect::<Vec<u64>>());
    assert!(replay.iter().all(|r| r.payload == payloads[r.offset as usize]), "payloads match their offsets");
    let middle = log.read(Topic::Actions, 0, 35, 5).await.expect("replay a window");
    assert_eq!(middle.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![35, 36, 37, 38, 39]);
    log.ack("g", Topic::Actions, 0, 45).await.expect("ack");
    let rest = log.fetch("g", Topic::Actions, 0, 100).await.expect("fetch after the commit");
    assert_eq!(rest.iter().map(|r| r.offset).collect::<Vec<_>>(), (45..50).collect::<Vec<u64>>());
    log.delete_streams().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_concurrent_commits_keep_the_highest() {
    if !reachable().await {
        return;
    }
    let prefix = unique_prefix();
    let log = open(&prefix, LogLayout::default()).await;
    let tasks: Vec<_> = (1..=40u64)
        .map(|next| {
            let log = log.clone();
            tokio::spawn(async move { log.ack("g", Topic::Notifications, 0, next).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("ack under contention");
    }
    assert_eq!(log.committed("g", Topic::Notifications, 0).await.expect("committed"), 40);
    assert_eq!(log.committed("other", Topic::Notifications, 0).await.expect("committed"), 0);
    log.delete_streams().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_max_bytes_bounds_a_partition_from_the_head() {
    if !reachable().await {
        return;
    }
    let prefix = unique_prefix();
    let limit = 32 * 1024;
    let retention = RetentionPolicy { max_age: None, max_bytes: Some(limit) };
    let layout = LogLayout::default().with(Topic::ModelOutputs, TopicConfig { partitions: 1, retention });
    let log = open(&prefix, layout).await;
    log.append(Topic::ModelOutputs, (0..100).map(|_| rec(1, &[7; 1024])).collect()).await.expect("append");
    let stats = log.stats(Topic::ModelOutputs).await.expect("stats");
    assert!(stats[0].bytes <= limit, "{} bytes kept over a {limit}-byte limit", stats[0].bytes);
    assert!(stats[0].first_offset > 0, "the oldest records went");
    assert_eq!(stats[0].next_offset, 100, "offsets are not reused");
    let head = log.read(Topic::ModelOutputs, 0, 0, 1).await.expect("read below the head");
    assert_eq!(head[0].offset, stats[0].first_offset, "reads below the head start at the head");
    log.delete_streams().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_refuses_records_over_the_server_payload_limit() {
    if !reachable().await {
        return;
    }
    let log = open(&unique_prefix(), LogLayout::default()).await;
    let err = log.append(Topic::Actions, vec![rec(1, &vec![0; 2 << 20])]).await.expect_err("2 MiB record");
    assert!(matches!(err, LogError::TooLarge { .. }), "{err}");
    assert!(log.read(Topic::Actions, 0, 0, 10).await.expect("read").is_empty(), "nothing was appended");
    log.delete_streams().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn nats_rejects_prefixes_that_are_not_plain_tokens() {
    let err = NatsLog::connect(&url(), "a.b", LogLayout::default()).await.expect_err("dotted prefix");
    assert!(err.to_string().contains("invalid log prefix"), "{err}");
}
