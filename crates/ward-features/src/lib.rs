//! Ward's feature stores.
//!
//! **Online** ([`online`]): rolling-window features per entity (`source.ip`, `user.name`,
//! `host.name`) on event time over 1m, 10m and 1h windows — counts, rates, login outcomes,
//! distinct counts (HyperLogLog), inter-arrival statistics and credential entropy — behind the
//! [`OnlineStore`] port with an in-process adapter and a Redis adapter (feature `redis`).
//! [`Features`] is what the pipeline, detectors and the API call: `observe` events, `get`
//! feature vectors.
//!
//! **Offline** (`offline`, feature `offline`): enriched events and feature snapshots as Parquet
//! on a local directory or S3-compatible object storage, partitioned by tenant, date and
//! source, committed atomically and listed in a versioned manifest; point-in-time-correct
//! feature export for training.
//!
//! Feature names, windows and the Parquet schemas are documented in `docs/features.md`.

mod agg;
pub mod config;
pub mod entity;
mod error;
pub mod hll;
pub mod inputs;
pub mod online;
pub mod vector;
pub mod window;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "offline")]
pub mod offline;

pub use agg::{Bucket, FREQ_CAP, Freq, Snapshot, Summary, Tallies};
pub use config::{FeaturesConfig, OfflineConfig};
pub use entity::{EntityKey, EntityKind};
pub use error::FeatureError;
pub use online::{ApplyReport, Features, ObserveReport, OnlineStore};
pub use vector::{FeatureVector, feature_names};

impl FeatureError {
    /// Whether the error is the caller's (answer 400), not the store's (answer 503).
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Self::UnknownKind(_) | Self::InvalidEntity { .. } | Self::Tenant(_))
    }
}
