//! The durable log: Ward's source of truth.
//!
//! Accepted raw events, and every derived stream after them, are appended to named
//! [`Topic`]s split into partitions by an entity key. An append returns offsets only once the
//! batch is durable (fsync'd, or acknowledged by the server), so an acknowledged event is never
//! lost. Consumers read from an offset, or through a consumer group whose committed position
//! survives restarts; delivery is at-least-once.
//!
//! [`Log`] is the port. Adapters: `embedded` (segmented files, fsync), `nats` (JetStream),
//! `redis` (Streams). One conformance suite (module `conformance`, feature `conformance`) runs
//! against each.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod embedded;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "redis")]
pub mod redis;
mod types;

pub use types::{
    Durability, LogError, LogLayout, PartitionStats, Position, Record, RetentionPolicy, StoredRecord, Topic,
    TopicConfig, partition_for,
};

use async_trait::async_trait;

/// A durable, partitioned, append-only log with consumer groups.
#[async_trait]
pub trait Log: Send + Sync {
    /// Which durability an acknowledged append has with this adapter.
    fn durability(&self) -> Durability;

    /// Number of partitions of `topic` (fixed for the log's lifetime).
    fn partitions(&self, topic: Topic) -> u32;

    /// Appends a batch, each record to the partition its key hashes to ([`partition_for`]), and
    /// returns each record's position, in input order, only once the whole batch is durable.
    ///
    /// # Errors
    /// [`LogError`]; on error nothing of the batch may be assumed durable (records may still
    /// appear later: delivery is at-least-once, never at-most-once).
    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError>;

    /// Reads up to `max` records of one partition in offset order, starting at `from` (or at the
    /// first retained offset when `from` has been removed by retention).
    ///
    /// # Errors
    /// [`LogError`] for I/O or connection failures and unknown partitions.
    async fn read(
        &self,
        topic: Topic,
        partition: u32,
        from: u64,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError>;

    /// The next records for a consumer group: those after the group's committed offset (records
    /// fetched but never acknowledged are delivered again). The default reads from
    /// [`Log::committed`]; adapters with server-side groups (Redis) override it.
    ///
    /// # Errors
    /// As [`Log::read`].
    async fn fetch(
        &self,
        group: &str,
        topic: Topic,
        partition: u32,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        let from = self.committed(group, topic, partition).await?;
        self.read(topic, partition, from, max).await
    }

    /// Commits a consumer group's position: every offset below `next` is processed.
    /// Commits never move backwards; an older position is ignored.
    ///
    /// # Errors
    /// [`LogError`] when the position cannot be stored durably.
    async fn ack(&self, group: &str, topic: Topic, partition: u32, next: u64) -> Result<(), LogError>;

    /// The committed position of a consumer group (0 when it never committed).
    ///
    /// # Errors
    /// [`LogError`] for I/O or connection failures.
    async fn committed(&self, group: &str, topic: Topic, partition: u32) -> Result<u64, LogError>;

    /// Per-partition counts and sizes, for `ward log stats` and metrics.
    ///
    /// # Errors
    /// [`LogError`] for I/O or connection failures.
    async fn stats(&self, topic: Topic) -> Result<Vec<PartitionStats>, LogError>;

    /// Removes records that the topic's retention policy no longer keeps, as of `now_ms`
    /// (Unix milliseconds); returns how many were removed.
    ///
    /// # Errors
    /// [`LogError`] for I/O or connection failures.
    async fn apply_retention(&self, topic: Topic, now_ms: i64) -> Result<u64, LogError>;
}
