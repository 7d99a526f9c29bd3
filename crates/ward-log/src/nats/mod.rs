//! The NATS JetStream adapter (feature `nats`), for many processes sharing one log.
//!
//! # Layout on the server
//! One stream per topic-partition, `{prefix}-{topic}-{partition}`, file storage, limits
//! retention, capturing the single subject `{prefix}.{topic}.{partition}`. The prefix
//! namespaces one log (tests use a fresh prefix each). Streams are created (or their limits
//! updated to the layout's) by [`NatsLog::connect`].
//!
//! # Offsets
//! `offset = stream sequence − 1`. A stream only ever holds its one subject and messages are
//! never deleted one by one, only purged from the head, so sequences — and so offsets — are
//! dense from 0. Every append learns each record's offset from its own publish ack, so
//! concurrent appenders (in this process or others) get exact, unique offsets.
//!
//! # Records
//! The message payload is the record framed as `[version][timestamp_ms][key_len][key][payload]`
//! (see `frame`); keys are arbitrary bytes, which headers could not carry. A record whose
//! frame exceeds the server's `max_payload` (1 MiB by default) is refused with
//! [`LogError::TooLarge`].
//!
//! # Appends
//! A batch is published record by record without waiting (in input order, so one batch's
//! records keep their order within a partition), then every publish ack is awaited: `append`
//! returns only once the server has acknowledged the whole batch ([`Durability::ServerAck`]).
//! Batches over 1,000 records go out in windows of 1,000 (publish all, await all, next), and a
//! handle has at most 8,000 publishes awaiting acks, which bounds client memory.
//! A single nats-server writes acknowledged messages to its file store and fsyncs them on its
//! `sync_interval` (2 minutes by default); with a JetStream cluster (replicas ≥ 2) an ack means
//! a quorum holds the message.
//!
//! # Reads and consumer groups
//! `read` replays from any offset through an ephemeral pull consumer (no acks, memory state)
//! that starts at `DeliverByStartSequence = offset + 1` and is deleted afterwards; below the
//! first retained sequence JetStream starts at the head. A consumer group's committed position
//! lives in the `{prefix}-offsets` stream (see `offsets`), so it survives reconnects and server
//! restarts; `fetch` reads from it, which redelivers everything not yet acknowledged.
//!
//! # Retention
//! `max_age` is applied by `apply_retention` on record timestamps: it scans from the head to
//! the first record young enough and purges the stream below that sequence. `max_bytes` is the
//! stream's own `max_bytes` limit (discard old): the server drops the oldest messages as
//! appends go over it, so `apply_retention` has nothing left to remove for it.

mod frame;
mod names;
mod offsets;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{Context, ContextBuilder, PublishAckFuture};
use async_nats::jetstream::stream;
use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::Semaphore;

use self::frame::Origin;
use self::names::Names;
use self::offsets::Offsets;
use crate::{
    Durability, Log, LogError, LogLayout, PartitionStats, Position, Record, StoredRecord, Topic,
    partition_for,
};

/// Most records one `read` or `fetch` returns (a bound on memory per call).
pub const MAX_READ: usize = 10_000;
/// Records per pull request while reading.
const PULL_BATCH: usize = 1_000;
/// Records of one batch published before their acks are awaited.
const WINDOW: usize = 1_000;
/// Publishes awaiting their ack at once, over all appends of one handle: windows take their
/// permits all at once, so concurrent appends cannot deadlock on the client's ack permits.
const MAX_IN_FLIGHT: usize = 8 * WINDOW;
/// How long JetStream API requests and publish acks may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Ephemeral read consumers left behind by a crashed reader disappear after this.
const READER_IDLE: Duration = Duration::from_secs(60);

/// A [`Log`] on NATS JetStream.
#[derive(Clone, Debug)]
pub struct NatsLog {
    js: Context,
    names: Names,
    layout: LogLayout,
    offsets: Offsets,
    max_payload: usize,
    in_flight: Arc<Semaphore>,
}

/// Wraps a server-side failure with what was being done.
fn server(context: impl std::fmt::Display, error: impl std::fmt::Display) -> LogError {
    LogError::Server(format!("nats: {context}: {error}"))
}

impl NatsLog {
    /// Connects to `url` (e.g. `nats://127.0.0.1:4222`) and creates (or updates) the streams of
    /// every topic-partition of `layout` under `prefix`.
    ///
    /// # Errors
    /// [`LogError::Server`] when the prefix is not a plain token (ASCII letters, digits, `-`,
    /// `_`), the server is unreachable, JetStream is off, or a stream cannot be created.
    pub async fn connect(url: &str, prefix: &str, layout: LogLayout) -> Result<Self, LogError> {
        let names = Names::new(prefix)?;
        let client = async_nats::ConnectOptions::new()
            .name("ward-log")
            .connect(url)
            .await
            .map_err(|e| server(format!("connect to {url}"), e))?;
        let max_payload = client.server_info().max_payload;
        let js =
            ContextBuilder::new().timeout(REQUEST_TIMEOUT).max_ack_inflight(2 * MAX_IN_FLIGHT).build(client);
        let offsets = Offsets::open(js.clone(), names.offsets_stream(), names.offsets_filter()).await?;
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let log = Self { js, names, layout, offsets, max_payload, in_flight };
        for topic in Topic::ALL {
            for partition in 0..log.partitions(topic) {
                log.ensure_stream(topic, partition).await?;
            }
        }
        Ok(log)
    }

    /// Deletes every stream of this log (its records and committed positions): for tests and
    /// for tearing down a log on purpose.
    ///
    /// # Errors
    /// [`LogError::Server`] when a stream cannot be deleted.
    pub async fn delete_streams(&self) -> Result<(), LogError> {
        let mut streams = vec![self.names.offsets_stream()];
        for topic in Topic::ALL {
            streams.extend((0..self.partitions(topic)).map(|p| self.names.stream(topic, p)));
        }
        for name in streams {
            self.js.delete_stream(&name).await.map_err(|e| server(format!("delete stream {name}"), e))?;
        }
        Ok(())
    }

    async fn ensure_stream(&self, topic: Topic, partition: u32) -> Result<(), LogError> {
        let name = self.names.stream(topic, partition);
        let max_bytes = self.layout.topic(topic).retention.max_bytes;
        let config = stream::Config {
            name: name.clone(),
            subjects: vec![self.names.subject(topic, partition)],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            discard: stream::DiscardPolicy::Old,
            max_bytes: max_bytes.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)),
            num_replicas: 1,
            ..Default::default()
        };
        self.js
            .create_or_update_stream(config)
            .await
            .map_err(|e| server(format!("create stream {name}"), e))?;
        Ok(())
    }

    fn check(&self, topic: Topic, partition: u32) -> Result<(), LogError> {
        if partition < self.partitions(topic) {
            Ok(())
        } else {
            Err(LogError::UnknownPartition { topic, partition })
        }
    }

    async fn info(&self, topic: Topic, partition: u32) -> Result<stream::State, LogError> {
        let name = self.names.stream(topic, partition);
        let stream = self.js.get_stream(&name).await.map_err(|e| server(format!("stream {name}"), e))?;
        Ok(stream.cached_info().state.clone())
    }

    async fn publish(
        &self,
        topic: Topic,
        partition: u32,
        record: &Record,
    ) -> Result<PublishAckFuture, LogError> {
        let payload = frame::encode(record);
        if payload.len() > self.max_payload {
            return Err(LogError::TooLarge { size: payload.len(), limit: self.max_payload });
        }
        let subject = self.names.subject(topic, partition);
        self.js
            .publish(subject, payload.into())
            .await
            .map_err(|e| server(format!("publish to {topic}/{partition}"), e))
    }

    /// Publishes `records` concurrently and awaits every ack; the offsets come from the acks.
    async fn append_window(&self, topic: Topic, records: &[Record]) -> Result<Vec<Position>, LogError> {
        let count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let _permits = self.in_flight.acquire_many(count).await.map_err(|_| LogError::Closed)?;
        let n = self.partitions(topic);
        let mut partitions = Vec::with_capacity(records.len());
        let mut acks = Vec::with_capacity(records.len());
        for record in records {
            let partition = partition_for(record.key.as_deref(), n);
            acks.push(self.publish(topic, partition, record).await?.into_future());
            partitions.push(partition);
        }
        let acks =
            futures::future::try_join_all(acks).await.map_err(|e| server(format!("append to {topic}"), e))?;
        let positions = partitions.into_iter().zip(acks);
        Ok(positions
            .map(|(partition, ack)| Position { partition, offset: ack.sequence.saturating_sub(1) })
            .collect())
    }

    /// An ephemeral reader positioned at `offset`, with the number of records after it.
    async fn reader(
        &self,
        topic: Topic,
        partition: u32,
        offset: u64,
    ) -> Result<(PullConsumer, u64), LogError> {
        let config = pull::Config {
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: offset.saturating_add(1) },
            ack_policy: AckPolicy::None,
            inactive_threshold: READER_IDLE,
            memory_storage: true,
            ..Default::default()
        };
        let name = self.names.stream(topic, partition);
        let consumer: PullConsumer = self
            .js
            .create_consumer_on_stream(config, &name)
            .await
            .map_err(|e| server(format!("reader on {name}"), e))?;
        let pending = consumer.cached_info().num_pending;
        Ok((consumer, pending))
    }

    async fn pull(
        &self,
        consumer: &PullConsumer,
        origin: &Origin<'_>,
        want: usize,
        out: &mut Vec<StoredRecord>,
    ) -> Result<(), LogError> {
        let mut batch = consumer
            .fetch()
            .max_messages(want.min(PULL_BATCH))
            .messages()
            .await
            .map_err(|e| server(format!("read {}", origin.stream), e))?;
        while let Some(message) = batch.next().await {
            let message = message.map_err(|e| server(format!("read {}", origin.stream), e))?;
            let info = message.info().map_err(|e| server(format!("read {}", origin.stream), e))?;
            let at = Origin { offset: info.stream_sequence.saturating_sub(1), ..*origin };
            out.push(frame::decode(&message.payload, &at)?);
        }
        Ok(())
    }

    /// Purges the head of one partition up to the first record at or after `cutoff_ms`.
    async fn expire(&self, topic: Topic, partition: u32, cutoff_ms: i64) -> Result<u64, LogError> {
        let state = self.info(topic, partition).await?;
        let mut keep_from = state.first_sequence.max(1) - 1;
        while keep_from < state.last_sequence {
            let chunk = self.read(topic, partition, keep_from, PULL_BATCH).await?;
            match chunk.iter().find(|r| r.timestamp_ms >= cutoff_ms) {
                Some(young) => {
                    keep_from = young.offset;
                    break;
                }
                None if chunk.is_empty() => break,
                None => keep_from = chunk.last().map_or(keep_from, |r| r.offset + 1).min(state.last_sequence),
            }
        }
        if keep_from < state.first_sequence.max(1) {
            return Ok(0);
        }
        let name = self.names.stream(topic, partition);
        let stream = self.js.get_stream_no_info(&name).await.map_err(|e| server(&name, e))?;
        let purged =
            stream.purge().sequence(keep_from + 1).await.map_err(|e| server(format!("purge {name}"), e))?;
        Ok(purged.purged)
    }
}

#[async_trait]
impl Log for NatsLog {
    fn durability(&self) -> Durability {
        Durability::ServerAck
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
        let (consumer, pending) = self.reader(topic, partition, from).await?;
        let want = max.min(MAX_READ).min(usize::try_from(pending).unwrap_or(usize::MAX));
        let name = self.names.stream(topic, partition);
        let origin = Origin { stream: &name, partition, offset: 0 };
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            let before = out.len();
            self.pull(&consumer, &origin, want - out.len(), &mut out).await?;
            if out.len() == before {
                break;
            }
        }
        // A reader that cannot be deleted now expires on the server after READER_IDLE.
        let _ = self.js.delete_consumer_from_stream(&consumer.cached_info().name, &name).await;
        Ok(out)
    }

    async fn ack(&self, group: &str, topic: Topic, partition: u32, next: u64) -> Result<(), LogError> {
        self.check(topic, partition)?;
        self.offsets.commit(&self.names.offset_subject(group, topic, partition), next).await
    }

    async fn committed(&self, group: &str, topic: Topic, partition: u32) -> Result<u64, LogError> {
        self.check(topic, partition)?;
        self.offsets.committed(&self.names.offset_subject(group, topic, partition)).await
    }

    async fn stats(&self, topic: Topic) -> Result<Vec<PartitionStats>, LogError> {
        let mut out = Vec::new();
        for partition in 0..self.partitions(topic) {
            let state = self.info(topic, partition).await?;
            let next_offset = state.last_sequence;
            let first_offset = (state.first_sequence.max(1) - 1).min(next_offset);
            out.push(PartitionStats { topic, partition, first_offset, next_offset, bytes: state.bytes });
        }
        Ok(out)
    }

    async fn apply_retention(&self, topic: Topic, now_ms: i64) -> Result<u64, LogError> {
        let Some(max_age) = self.layout.topic(topic).retention.max_age else { return Ok(0) };
        let cutoff_ms = now_ms.saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX));
        let mut removed = 0;
        for partition in 0..self.partitions(topic) {
            removed += self.expire(topic, partition, cutoff_ms).await?;
        }
        Ok(removed)
    }
}
