//! Value types of the log port.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The log's topics, named as in the pipeline design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Accepted raw records, as received (the source of truth).
    RawEvents,
    /// Normalized, deduplicated, enriched events.
    EnrichedEvents,
    /// Detector outputs (rule matches, IOC hits, model scores).
    ModelOutputs,
    /// Fused alerts with provenance.
    ConsolidatedAlerts,
    /// Decided response actions.
    Actions,
    /// Notifications to humans and systems.
    Notifications,
    /// Results of executed actions.
    ActionStatus,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Self; 7] = [
        Self::RawEvents,
        Self::EnrichedEvents,
        Self::ModelOutputs,
        Self::ConsolidatedAlerts,
        Self::Actions,
        Self::Notifications,
        Self::ActionStatus,
    ];

    /// The topic's name (`raw_events`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RawEvents => "raw_events",
            Self::EnrichedEvents => "enriched_events",
            Self::ModelOutputs => "model_outputs",
            Self::ConsolidatedAlerts => "consolidated_alerts",
            Self::Actions => "actions",
            Self::Notifications => "notifications",
            Self::ActionStatus => "action_status",
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Topic {
    type Err = LogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| LogError::UnknownTopic(s.to_owned()))
    }
}

/// One record to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Entity key that picks the partition (source IP, host, tenant…); `None` → partition 0.
    pub key: Option<Vec<u8>>,
    /// Event time or append time, Unix milliseconds (used by age-based retention).
    pub timestamp_ms: i64,
    /// The record's bytes (JSON for Ward's own topics).
    pub payload: Vec<u8>,
}

/// Where an appended record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    /// Partition index.
    pub partition: u32,
    /// Offset within the partition, dense from 0.
    pub offset: u64,
}

/// A record read back from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// Partition index.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: u64,
    /// As appended.
    pub key: Option<Vec<u8>>,
    /// As appended.
    pub timestamp_ms: i64,
    /// As appended.
    pub payload: Vec<u8>,
}

/// What an acknowledged append survives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Written and fsync'd to local disk: survives process and machine crashes.
    Fsync,
    /// Acknowledged by the server, which persists it per its own storage settings (JetStream
    /// file storage: survives server restarts).
    ServerAck,
    /// Held in the server's memory only (Redis without AOF/RDB, as on this machine): survives
    /// Ward crashes but not a server restart.
    ServerMemory,
}

/// Counts for one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionStats {
    /// Topic name.
    pub topic: Topic,
    /// Partition index.
    pub partition: u32,
    /// First retained offset.
    pub first_offset: u64,
    /// Offset the next append will get.
    pub next_offset: u64,
    /// Bytes used (approximate for server adapters).
    pub bytes: u64,
}

/// How long a topic keeps records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
pub struct RetentionPolicy {
    /// Remove records older than this (by `timestamp_ms`); `None` keeps them.
    #[serde(default, with = "opt_secs")]
    pub max_age: Option<Duration>,
    /// Remove the oldest records once a partition holds more bytes than this.
    pub max_bytes: Option<u64>,
}

mod opt_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

/// Why a log operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// No topic of that name.
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    /// The partition does not exist for the topic.
    #[error("topic {topic} has no partition {partition}")]
    UnknownPartition {
        /// Topic.
        topic: Topic,
        /// Requested partition.
        partition: u32,
    },
    /// A record exceeds the adapter's limit.
    #[error("record of {size} bytes exceeds the log's {limit}-byte limit")]
    TooLarge {
        /// Record size.
        size: usize,
        /// Limit.
        limit: usize,
    },
    /// Local I/O failed.
    #[error("log I/O error on {path}: {source}")]
    Io {
        /// File involved.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Stored data is damaged where it cannot be repaired by truncating a torn tail.
    #[error("corrupt log data in {path} at byte {offset}: {reason}")]
    Corrupt {
        /// File involved.
        path: String,
        /// Byte offset.
        offset: u64,
        /// What check failed.
        reason: String,
    },
    /// The server adapter's connection or request failed.
    #[error("log server error: {0}")]
    Server(String),
    /// The log is closed or shutting down.
    #[error("log is closed")]
    Closed,
}

/// The partition a key maps to: XXH3 of the key modulo the partition count (stable across
/// versions and adapters, so replays land where the originals did).
pub fn partition_for(key: Option<&[u8]>, partitions: u32) -> u32 {
    match key {
        Some(k) if partitions > 1 => (xxhash_rust::xxh3::xxh3_64(k) % u64::from(partitions)) as u32,
        _ => 0,
    }
}

/// Partition count and retention of one topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicConfig {
    /// Number of partitions (≥ 1).
    pub partitions: u32,
    /// Retention.
    #[serde(flatten)]
    pub retention: RetentionPolicy,
}

impl Default for TopicConfig {
    fn default() -> Self {
        Self { partitions: 1, retention: RetentionPolicy::default() }
    }
}

/// The partitioning and retention of every topic: the same for every adapter.
#[derive(Clone, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct LogLayout {
    topics: std::collections::BTreeMap<Topic, TopicConfig>,
}

impl LogLayout {
    /// A layout where every topic has the defaults except those given.
    pub fn with(mut self, topic: Topic, config: TopicConfig) -> Self {
        self.topics.insert(topic, config);
        self
    }

    /// The configuration of a topic.
    pub fn topic(&self, topic: Topic) -> TopicConfig {
        let c = self.topics.get(&topic).copied().unwrap_or_default();
        TopicConfig { partitions: c.partitions.max(1), ..c }
    }

    /// The layout the conformance suite expects: `raw_events` with 4 partitions and
    /// `action_status` keeping one hour.
    pub fn conformance() -> Self {
        Self::default()
            .with(Topic::RawEvents, TopicConfig { partitions: 4, retention: RetentionPolicy::default() })
            .with(
                Topic::ActionStatus,
                TopicConfig {
                    partitions: 1,
                    retention: RetentionPolicy { max_age: Some(Duration::from_secs(3600)), max_bytes: None },
                },
            )
    }
}
