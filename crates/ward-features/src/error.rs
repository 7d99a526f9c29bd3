//! Typed errors of the feature stores, saying what failed and where.

/// Why a feature-store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// An entity kind that is not one of the documented kinds.
    #[error("unknown entity kind {0:?}: use source.ip, user.name or host.name")]
    UnknownKind(String),
    /// An entity value that is empty, too long or malformed for its kind.
    #[error("invalid {kind} value {value:?}: {reason}")]
    InvalidEntity {
        /// The entity kind.
        kind: &'static str,
        /// The rejected value (cut to 64 characters).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An invalid tenant name.
    #[error(transparent)]
    Tenant(#[from] ward_model::InvalidTenant),
    /// The online store URL names no adapter this build has.
    #[error("features.online: {0}")]
    Config(String),
    /// The Redis server failed or answered something unexpected.
    #[error("redis {op}: {message}")]
    Redis {
        /// The operation that failed.
        op: &'static str,
        /// The server's or client's message.
        message: String,
    },
}
