//! Tests of the redis adapter: the conformance suite and Streams-specific behaviour, against
//! the Redis server at `WARD_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).
//!
//! When no server listens there the tests print "skipping: …" and pass, except under `CI=true`
//! where they fail: CI must start the server.

use async_trait::async_trait;
use ward_log::conformance;

use crate::server::{self, Connect, ServerHarness};
use ward_log::redis::RedisLog;
use ward_log::{Durability, Log, LogLayout, Record, RetentionPolicy, Topic, TopicConfig};

fn url() -> String {
    std::env::var("WARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

async fn reachable() -> bool {
    server::reachable("Redis", &url()).await
}

fn unique_prefix() -> String {
    server::unique_prefix("wardtest:")
}

async fn open(prefix: &str, layout: LogLayout) -> RedisLog {
    RedisLog::connect(&url(), prefix, layout).await.expect("connect to Redis")
}

fn rec(ts: i64, payload: &[u8]) -> Record {
    Record { key: None, timestamp_ms: ts, payload: payload.to_vec() }
}

/// A raw connection, to look at what the adapter left on the server.
async fn raw() -> ::redis::aio::MultiplexedConnection {
    let client = ::redis::Client::open(url()).expect("url");
    client.get_multiplexed_async_connection().await.expect("raw connection")
}

/// The `XPENDING` summary of a group: count, lowest and highest ID, (consumer, count) pairs.
type Pending = (u64, Option<String>, Option<String>, Option<Vec<(String, String)>>);

async fn xpending(key: &str, group: &str) -> Pending {
    ::redis::cmd("XPENDING").arg(key).arg(group).query_async(&mut raw().await).await.expect("xpending")
}

#[async_trait]
impl Connect for RedisLog {
    fn new_prefix() -> String {
        unique_prefix()
    }

    async fn open(prefix: &str, layout: LogLayout) -> Self {
        open(prefix, layout).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_passes_the_conformance_suite() {
    if !reachable().await {
        return;
    }
    let mut harness = ServerHarness::<RedisLog>::default();
    conformance::run(&mut harness).await;
    for log in harness.logs {
        log.delete_keys().await.expect("delete test keys");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_says_it_keeps_records_in_memory_only() {
    if !reachable().await {
        return;
    }
    assert_eq!(open(&unique_prefix(), LogLayout::default()).await.durability(), Durability::ServerMemory);
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_offsets_are_stream_ids() {
    if !reachable().await {
        return;
    }
    let log = open(&unique_prefix(), LogLayout::default()).await;
    log.append(Topic::Actions, (0..3).map(|i| rec(i, b"x")).collect()).await.expect("append");
    let ids: Vec<(String, Vec<(String, String)>)> = ::redis::cmd("XRANGE")
        .arg(log.key(Topic::Actions, 0))
        .arg("-")
        .arg("+")
        .query_async(&mut raw().await)
        .await
        .expect("xrange");
    let ids: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, vec!["0-1", "0-2", "0-3"], "offset n is entry 0-(n+1)");
    log.delete_keys().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_pending_entries_come_back_to_a_new_consumer() {
    if !reachable().await {
        return;
    }
    let prefix = unique_prefix();
    let t = Topic::ConsolidatedAlerts;
    let first = open(&prefix, LogLayout::default()).await.with_consumer("worker-a");
    first.append(t, (0..10).map(|i| rec(i, &[i as u8])).collect()).await.expect("append");
    let taken = first.fetch("triage", t, 0, 5).await.expect("fetch");
    assert_eq!(taken.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    let key = first.key(t, 0);
    drop(first); // worker-a dies without acknowledging

    let second = open(&prefix, LogLayout::default()).await.with_consumer("worker-b");
    let again = second.fetch("triage", t, 0, 8).await.expect("fetch");
    assert_eq!(
        again.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..8).collect::<Vec<u64>>(),
        "pending first"
    );
    assert_eq!(again[3].payload, vec![3]);
    let pending = xpending(&key, "triage").await;
    assert_eq!(pending.0, 8, "eight entries are pending");
    assert_eq!(pending.3, Some(vec![("worker-b".to_owned(), "8".to_owned())]), "all claimed by worker-b");

    second.ack("triage", t, 0, 8).await.expect("ack");
    let pending = xpending(&key, "triage").await;
    assert_eq!(pending.0, 0, "XACKed on commit");
    let rest = second.fetch("triage", t, 0, 10).await.expect("fetch");
    assert_eq!(rest.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![8, 9]);
    second.delete_keys().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_commit_ahead_of_delivery_moves_the_group() {
    if !reachable().await {
        return;
    }
    let log = open(&unique_prefix(), LogLayout::default()).await;
    let t = Topic::Notifications;
    log.append(t, (0..10).map(|i| rec(i, b"n")).collect()).await.expect("append");
    log.fetch("g", t, 0, 2).await.expect("group exists, cursor at 2");
    log.ack("g", t, 0, 7).await.expect("commit past what was fetched");
    let got = log.fetch("g", t, 0, 10).await.expect("fetch");
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![7, 8, 9]);
    log.ack("new", t, 0, 9).await.expect("commit for a group that never fetched");
    assert_eq!(log.fetch("new", t, 0, 10).await.expect("fetch")[0].offset, 9);
    log.delete_keys().await.expect("cleanup");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_max_bytes_trims_the_head() {
    if !reachable().await {
        return;
    }
    let limit = 64 * 1024;
    let retention = RetentionPolicy { max_age: None, max_bytes: Some(limit) };
    let layout = LogLayout::default().with(Topic::ModelOutputs, TopicConfig { partitions: 1, retention });
    let log = open(&unique_prefix(), layout).await;
    log.append(Topic::ModelOutputs, (0..500).map(|_| rec(1, &[7; 1024])).collect()).await.expect("append");
    let removed = log.apply_retention(Topic::ModelOutputs, 0).await.expect("retention");
    let stats = log.stats(Topic::ModelOutputs).await.expect("stats");
    assert!(removed > 0, "over the limit, something goes");
    assert_eq!(stats[0].first_offset, removed, "removal is from the head");
    assert_eq!(stats[0].next_offset, 500);
    assert!(stats[0].bytes <= limit + limit / 4, "{} bytes left for a {limit}-byte limit", stats[0].bytes);
    log.delete_keys().await.expect("cleanup");
}
