//! The store's error type: one enum so callers (the API maps it to HTTP codes) can tell "not
//! found" from "conflict" from "the database is down".

/// Result of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record in this tenant (also what another tenant's record looks like).
    #[error("{what} `{id}` not found")]
    NotFound {
        /// Kind of record (`incident`, `alert`, `user`, …).
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The change clashes with the current state (duplicate name, decided approval, …).
    #[error("conflict: {reason}")]
    Conflict {
        /// What clashes.
        reason: String,
    },
    /// An incident status change the lifecycle forbids.
    #[error(transparent)]
    InvalidTransition(#[from] ward_model::InvalidTransition),
    /// A value given by the caller is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field or parameter.
        field: String,
        /// Why.
        reason: String,
    },
    /// A stored value cannot be read back (a column holds something this version cannot parse).
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// Where.
        what: String,
        /// Why.
        reason: String,
    },
    /// Hashing or random generation failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// A file-system operation failed (creating the data directory).
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The database failed or is unreachable.
    #[error("database: {0}")]
    Backend(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `what` with `id`.
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound { what, id: id.into() }
    }

    /// A [`StoreError::Invalid`] for `field`.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid { field: field.to_owned(), reason: reason.into() }
    }

    /// A [`StoreError::Conflict`].
    pub fn conflict(reason: impl Into<String>) -> Self {
        Self::Conflict { reason: reason.into() }
    }
}
