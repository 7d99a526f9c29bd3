//! Ward's streaming pipeline: the stage runtime over the durable log and the stages that turn
//! accepted raw records into triaged incidents.
//!
//! ```text
//! raw_events ──normalize (decode + Enricher, FeatureSource::observe)──▶ enriched_events ──detect (Sigma, correlation,
//! IOC, Detector plug-ins)──▶ model_outputs ──fuse──▶ consolidated_alerts ──incidents (group,
//! triage + FeatureSource::features)──▶ IncidentSink  (+ PipelineEvent broadcast)
//! ```
//!
//! Every stage is a consumer group over its input topic ([`runtime`]): fetch a batch, process,
//! make outputs durable (log appends, dead letters, sink writes), then acknowledge. Delivery is
//! at-least-once and every output has a deterministic id, so a crash and replay never duplicates
//! an alert or an incident. The contract is in `docs/pipeline.md`; [`testing`] checks it.

pub mod config;
pub mod deadletter;
pub mod detect;
pub mod features;
pub mod fuse;
pub mod incidents;
pub mod normalize;
pub mod pipeline;
pub mod runtime;
#[cfg(feature = "store")]
mod store_sink;
pub mod telemetry;
pub mod testing;
pub mod triage;

pub use config::{Fusion, IncidentsConfig, LlmConfig, PipelineConfig, TriageConfig};
pub use deadletter::{DeadLetter, DeadLetterError, DeadLetterSink, JsonlDeadLetters, MemoryDeadLetters};
pub use detect::{DetectionRules, Detector, DetectorFactory};
pub use features::{EntityFeatures, FeatureSource, FeatureSourceError};
pub use incidents::{Clock, IncidentSink, MemorySink, PipelineEvent, SinkError, SystemClock};
pub use normalize::{Enricher, NoopEnricher};
pub use pipeline::{BuildError, Pipeline, PipelineBuilder, PipelineHandle, RunReport, StageKind};
pub use runtime::{Batch, Output, PartitionRunner, Pass, Stage, StageError, StageSnapshot, StageStats, Step};
pub use triage::{BuiltinTriager, LlmTriager, Triager};
