//! Learned detection for Ward: models that catch what no rule names.
//!
//! - [`drain`]: a streaming Drain-style log template miner (free text → template id +
//!   parameters) with a persisted template store; [`logparse`] scores it against the loghub
//!   structured-CSV oracle.
//! - [`sequence`]: per-session key-sequence anomaly models trained on normal sessions only —
//!   DeepLog-style n-gram next-key (top-g), a count-vector PCA model, and (feature `neural`)
//!   a GRU next-key model on CPU with candle.
//! - [`iforest`] (unsupervised, updateable), [`forest`] (supervised random forest) and
//!   [`tabular`] (CSV / NSL-KDD encoding) for numeric features and flows.
//! - [`dga`]: a character n-gram logistic-regression classifier for DNS names.
//! - [`model`]: one enum over every kind, saved as JSON, with explained scores;
//!   [`registry`] keeps versions on disk with metadata and shadow/active mode;
//!   [`drift`] watches score and feature distributions (PSI, Page-Hinkley);
//!   [`detector`] lets the pipeline's `detect` stage run models on events.
//!
//! No I/O beyond reading the files a caller names and the registry directory it is given.

pub mod csv;
pub mod detector;
pub mod dga;
pub mod drain;
pub mod drift;
pub mod error;
pub mod eval;
pub mod forest;
pub mod iforest;
pub mod labels;
pub mod linalg;
pub mod logparse;
pub mod metrics;
pub mod model;
pub mod registry;
pub mod rng;
pub mod sequence;
pub mod tabular;

pub use error::MlError;
pub use metrics::Metrics;
pub use model::{Model, ModelKind, ScoreLine};
