//! The Redis Streams adapter (feature `redis`).
//!
//! # Durability: server memory only
//! **An acknowledged append is held in Redis memory, nothing more** ([`Durability::ServerMemory`]).
//! It survives Ward crashes and restarts, not a Redis restart — and the Redis run by Ward's CI
//! and development machines keeps nothing on disk (`--save "" --appendonly no`). Use this
//! adapter where losing the log with its server is acceptable (derived topics, caches of
//! replayable data, tests); keep `raw_events`, the source of truth, on the embedded log or
//! JetStream, or run Redis with `appendonly yes` + `appendfsync always` (the adapter reports
//! `ServerMemory` regardless: it cannot see the server's persistence settings).
//!
//! # Layout on the server
//! One stream per topic-partition at key `{prefix}:{topic}:{partition}`, and one hash
//! `{prefix}:{topic}:{partition}:commits` of committed consumer-group positions (field =
//! group, value = offset in decimal). Requires Redis ≥ 7.0 (`XADD` with `0-*`).
//!
//! # Offsets
//! Entry IDs are `0-(offset+1)`: every append is `XADD key 0-* …`, for which Redis takes the
//! millisecond part 0 and the next sequence number of the stream, atomically per command. So
//! offsets are dense from 0, concurrent appenders never collide, and each learns its record's
//! exact offset from the ID `XADD` returns. Trimming removes entries but never rewinds the
//! stream's last ID, so offsets continue after retention. Fields: `t` (timestamp, decimal),
//! `p` (payload), `k` (key, absent when the record has none).
//!
//! # Appends
//! A batch is sent as pipelines of up to 1,000 `XADD`s, in input order; `append` returns when
//! Redis has answered every one.
//!
//! # Consumer groups
//! A Ward consumer group is a Redis consumer group of the same name on the partition's stream;
//! this handle reads as the Redis consumer `ward` unless [`RedisLog::with_consumer`] names
//! another. `fetch` is one Lua script (`scripts::FETCH`): it creates the group at its committed
//! position if needed, claims all the group's pending entries (`XAUTOCLAIM`, so entries fetched
//! by a consumer that crashed or restarted under another name come back at once), returns them
//! first (`XREADGROUP … 0`), then new entries (`XREADGROUP … >`). `ack(next)` is another script
//! (`scripts::ACK`): it raises the committed position in the commits hash (never lowers it),
//! `XACK`s the group's pending entries below it, and moves the group's cursor up to it.
//!
//! # Retention
//! `max_age`: `apply_retention` scans from the head (`XRANGE`) to the first record whose
//! timestamp is young enough and trims below it (`XTRIM MINID`). `max_bytes`: when
//! `MEMORY USAGE` of the stream exceeds it, keeps the newest `len × max_bytes / bytes` entries
//! (`XTRIM MAXLEN`), an estimate at the granularity of Redis' memory accounting.

mod decode;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use self::decode::{KEY, PAYLOAD, TIMESTAMP};
use crate::{
    Durability, Log, LogError, LogLayout, PartitionStats, Position, Record, StoredRecord, Topic,
    partition_for,
};

/// Most records one `read` or `fetch` returns (a bound on memory per call).
pub const MAX_READ: usize = 10_000;
/// Records per pipeline while appending.
const WINDOW: usize = 1_000;
/// Entries per `XRANGE` while scanning for expired records.
const SCAN: usize = 1_000;
/// How long one command or pipeline may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// The Redis consumer name of a handle unless told otherwise.
const DEFAULT_CONSUMER: &str = "ward";

/// A [`Log`] on Redis Streams.
#[derive(Clone, Debug)]
pub struct RedisLog {
    conn: ConnectionManager,
    prefix: String,
    layout: LogLayout,
    consumer: String,
    scripts: Arc<Scripts>,
}

#[derive(Debug)]
struct Scripts {
    fetch: Script,
    ack: Script,
    stats: Script,
}

/// Wraps a server-side failure with what was being done.
fn server(context: impl std::fmt::Display, error: impl std::fmt::Display) -> LogError {
    LogError::Server(format!("redis: {context}: {error}"))
}

impl RedisLog {
    /// Connects to `url` (e.g. `redis://127.0.0.1:6379`) and checks the server is Redis ≥ 7.0;
    /// every key of the log starts with `{prefix}:`.
    ///
    /// # Errors
    /// [`LogError::Server`] when the prefix is empty, the server is unreachable or too old.
    pub async fn connect(url: &str, prefix: &str, layout: LogLayout) -> Result<Self, LogError> {
        if prefix.is_empty() {
            return Err(LogError::Server("redis: the log prefix must not be empty".to_owned()));
        }
        let client = redis::Client::open(url).map_err(|e| server(format!("url {url}"), e))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2);
        let mut conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|e| server(format!("connect to {url}"), e))?;
        check_version(&mut conn).await?;
        let scripts = Scripts {
            fetch: Script::new(scripts::FETCH),
            ack: Script::new(scripts::ACK),
            stats: Script::new(scripts::STATS),
        };
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            layout,
            consumer: DEFAULT_CONSUMER.to_owned(),
            scripts: Arc::new(scripts),
        })
    }

    /// The same log, reading consumer groups as the Redis consumer `name` (visible in
    /// `XINFO CONSUMERS`); positions are per group, whatever the consumer.
    #[must_use]
    pub fn with_consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = name.into();
        self
    }

    /// Deletes every key of this log (records, groups, commits): for tests and for tearing
    /// down a log on purpose.
    ///
    /// # Errors
    /// [`LogError::Server`] when the command fails.
    pub async fn delete_keys(&self) -> Result<(), LogError> {
        let mut cmd = redis::cmd("DEL");
        for topic in Topic::ALL {
            for partition in 0..self.partitions(topic) {
                cmd.arg(self.key(topic, partition)).arg(self.commits_key(topic, partition));
            }
        }
        cmd.query_async::<()>(&mut self.conn.clone()).await.map_err(|e| server("delete keys", e))
    }

    /// The stream key of a topic-partition: `{prefix}:{topic}:{partition}`.
    pub fn key(&self, topic: Topic, partition: u32) -> String {
        format!("{}:{topic}:{partition}", self.prefix)
    }

    fn commits_key(&self, topic: Topic, partition: u32) -> String {
        format!("{}:{topic}:{partition}:commits", self.prefix)
    }

    fn check(&self, topic: Topic, partition: u32) -> Result<(), LogError> {
        if partition < self.partitions(topic) {
            Ok(())
        } else {
            Err(LogError::UnknownPartition { topic, partition })
        }
    }

    /// `[first_offset, next_offset, bytes]` of one partition.
    async fn counts(&self, topic: Topic, partition: u32) -> Result<(u64, u64, u64), LogError> {
        let key = self.key(topic, partition);
        let invocation = self.scripts.stats.key(&key);
        invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| server(format!("stats of {key}"), e))
    }

    /// Trims the head of one partition up to the first record at or after `cutoff_ms`.
    async fn expire(&self, topic: Topic, partition: u32, cutoff_ms: i64) -> Result<u64, LogError> {
        let mut keep_from = 0;
        loop {
            let chunk = self.read(topic, partition, keep_from, SCAN).await?;
            match (chunk.iter().find(|r| r.timestamp_ms >= cutoff_ms), chunk.last()) {
                (Some(young), _) => {
                    keep_from = young.offset;
                    break;
                }
                (None, Some(last)) => keep_from = last.offset + 1,
                (None, None) => break,
            }
        }
        if keep_from == 0 {
            return Ok(0);
        }
        self.trim(topic, partition, &["MINID", &format!("0-{}", keep_from + 1)]).await
    }

    /// Trims the oldest entries of one partition until its memory is about `max_bytes`.
    async fn shrink(&self, topic: Topic, partition: u32, max_bytes: u64) -> Result<u64, LogError> {
        let (first, next, bytes) = self.counts(topic, partition).await?;
        if bytes <= max_bytes {
            return Ok(0);
        }
        let keep = u128::from(next.saturating_sub(first)) * u128::from(max_bytes) / u128::from(bytes);
        self.trim(topic, partition, &["MAXLEN", &keep.to_string()]).await
    }

    /// One pipeline of `XADD`s; the offsets come from the IDs Redis assigned.
    async fn append_window(&self, topic: Topic, records: &[Record]) -> Result<Vec<Position>, LogError> {
        let n = self.partitions(topic);
        let mut pipe = redis::pipe();
        let mut partitions = Vec::with_capacity(records.len());
        for record in records {
            let partition = partition_for(record.key.as_deref(), n);
            let cmd = pipe.cmd("XADD").arg(self.key(topic, partition)).arg("0-*");
            cmd.arg(TIMESTAMP).arg(record.timestamp_ms).arg(PAYLOAD).arg(&record.payload);
            if let Some(key) = &record.key {
                cmd.arg(KEY).arg(key);
            }
            partitions.push(partition);
        }
        let ids: Vec<String> = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| server(format!("append to {topic}"), e))?;
        let at = |(partition, id): (u32, &String)| {
            Ok(Position { partition, offset: decode::offset_of(id, &self.key(topic, partition))? })
        };
        partitions.into_iter().zip(&ids).map(at).collect()
    }

    async fn trim(&self, topic: Topic, partition: u32, how: &[&str]) -> Result<u64, LogError> {
        let key = self.key(topic, partition);
        let mut cmd = redis::cmd("XTRIM");
        cmd.arg(&key).arg(how);
        cmd.query_async(&mut self.conn.clone()).await.map_err(|e| server(format!("trim {key}"), e))
    }
}

async fn check_version(conn: &mut ConnectionManager) -> Result<(), LogError> {
    let info: String =
        redis::cmd("INFO").arg("server").query_async(conn).await.map_err(|e| server("INFO server", e))?;
    let version = info.lines().find_map(|l| l.strip_prefix("redis_version:")).unwrap_or("unknown").trim();
    let major = version.split('.').next().and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(m) if m >= 7 => Ok(()),
        _ => Err(LogError::Server(format!(
            "redis: server version {version}; the log needs Redis 7.0 or newer"
        ))),
    }
}

#[async_trait]
impl Log for RedisLog {
    fn durability(&self) -> Durability {
        Durability::ServerMemory
    }

    fn partitions(&self, topic: Topic) -> u32 {
        self.layout.topic(topic).partitions
    }

    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError> {
        let mut positions = Vec::with_capacity(batch.len());
        for window in batch.chunks(WINDOW) {
            positions.extend(self.append_window(topic, window).await?);
        }
        Ok(positions)
    }

    async fn read(
        &self,
        topic: Topic,
        partition: u32,
        from: u64,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        self.check(topic, partition)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let key = self.key(topic, partition);
        let mut cmd = redis::cmd("XRANGE");
        cmd.arg(&key)
            .arg(format!("0-{}", from.saturating_add(1)))
            .arg("+")
            .arg("COUNT")
            .arg(max.min(MAX_READ));
        let reply: Value =
            cmd.query_async(&mut self.conn.clone()).await.map_err(|e| server(format!("read {key}"), e))?;
        decode::entries(reply, &key, partition)
    }

    async fn fetch(
        &self,
        group: &str,
        topic: Topic,
        partition: u32,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        self.check(topic, partition)?;
        if max == 0 {
            return Ok(Vec::new());
        }
        let key = self.key(topic, partition);
        let mut invocation = self.scripts.fetch.key(&key);
        invocation
            .key(self.commits_key(topic, partition))
            .arg(group)
            .arg(&self.consumer)
            .arg(max.min(MAX_READ));
        let reply: Value = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| server(format!("fetch {group} from {key}"), e))?;
        decode::entries(reply, &key, partition)
    }

    async fn ack(&self, group: &str, topic: Topic, partition: u32, next: u64) -> Result<(), LogError> {
        self.check(topic, partition)?;
        let key = self.key(topic, partition);
        let mut invocation = self.scripts.ack.key(&key);
        invocation.key(self.commits_key(topic, partition)).arg(group).arg(next);
        let _committed: u64 = invocation
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| server(format!("ack {group} on {key}"), e))?;
        Ok(())
    }

    async fn committed(&self, group: &str, topic: Topic, partition: u32) -> Result<u64, LogError> {
        self.check(topic, partition)?;
        let key = self.commits_key(topic, partition);
        let mut cmd = redis::cmd("HGET");
        cmd.arg(&key).arg(group);
        let value: Option<u64> =
            cmd.query_async(&mut self.conn.clone()).await.map_err(|e| server(format!("read {key}"), e))?;
        Ok(value.unwrap_or(0))
    }

    async fn stats(&self, topic: Topic) -> Result<Vec<PartitionStats>, LogError> {
        let mut out = Vec::new();
        for partition in 0..self.partitions(topic) {
            let (first_offset, next_offset, bytes) = self.counts(topic, partition).await?;
            out.push(PartitionStats { topic, partition, first_offset, next_offset, bytes });
        }
        Ok(out)
    }

    async fn apply_retention(&self, topic: Topic, now_ms: i64) -> Result<u64, LogError> {
        let policy = self.layout.topic(topic).retention;
        let mut removed = 0;
        for partition in 0..self.partitions(topic) {
            if let Some(age) = policy.max_age {
                let cutoff_ms = now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
                removed += self.expire(topic, partition, cutoff_ms).await?;
            }
            if let Some(max_bytes) = policy.max_bytes {
                removed += self.shrink(topic, partition, max_bytes).await?;
            }
        }
        Ok(removed)
    }
}
