//! Typed errors of the learning crate: each names the file, line, field or model involved.

use std::path::PathBuf;

/// Everything that can go wrong training, loading or scoring a model.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An input line could not be understood.
    #[error("{path}:{line}: {reason}")]
    Input {
        /// The file (or `-`).
        path: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// A saved model or metadata file is not valid JSON of the expected shape.
    #[error("{path}: invalid model file: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A model cannot be trained on what it was given.
    #[error("cannot train {kind} model: {reason}")]
    Training {
        /// Model kind.
        kind: String,
        /// Why.
        reason: String,
    },
    /// The model does not support the asked operation or input.
    #[error("{0}")]
    Unsupported(String),
    /// The registry has no such model or version.
    #[error("registry: {0}")]
    Registry(String),
    /// The neural backend failed.
    #[error("neural model: {0}")]
    Neural(String),
}

impl MlError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }

    /// A training error for `kind`.
    pub fn training(kind: &str, reason: impl Into<String>) -> Self {
        Self::Training { kind: kind.to_owned(), reason: reason.into() }
    }
}

/// Result alias for this crate.
pub type Result<T, E = MlError> = std::result::Result<T, E>;
