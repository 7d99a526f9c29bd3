//! Typed errors: why a record was rejected, and why a decoder could not be built.

/// Why one record could not be decoded. The message names the field and the problem.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DecodeError {
    /// The record is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The record is JSON but not of the expected shape (e.g. not an object).
    #[error("unexpected shape: {0}")]
    Shape(String),
    /// A field the format requires is absent.
    #[error("missing field `{0}`")]
    MissingField(String),
    /// A field is present but its value is unusable.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// Field name as it appears in the source format.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The record does not follow the text format (syslog, CEF).
    #[error("malformed record: {0}")]
    Malformed(String),
    /// The record is larger than the configured limit.
    #[error("record of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes in the record (at least this many).
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The record is not valid UTF-8.
    #[error("invalid UTF-8 after {valid_up_to} bytes")]
    InvalidUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// The input could not be read further (truncated archive, I/O error).
    #[error("unreadable input: {0}")]
    Read(String),
}

impl DecodeError {
    /// A short stable label for metrics (`ward_decode_rejected_total{reason=…}`).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Json(_) => "json",
            Self::Shape(_) => "shape",
            Self::MissingField(_) => "missing_field",
            Self::InvalidField { .. } => "invalid_field",
            Self::Malformed(_) => "malformed",
            Self::TooLarge { .. } => "too_large",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::Read(_) => "read",
        }
    }

    /// Shorthand for [`DecodeError::InvalidField`].
    pub fn invalid(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::InvalidField { field: field.into(), reason: reason.to_string() }
    }

    /// Shorthand for [`DecodeError::MissingField`].
    pub fn missing(field: impl Into<String>) -> Self {
        Self::MissingField(field.into())
    }
}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        Self::Json(e.to_string())
    }
}

/// Why a decoder could not be set up (a bad mapping file, say). Fatal for the run.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The `json` decoder needs a mapping file to know what the fields mean.
    #[error("mapping file {path}: {reason}")]
    Mapping {
        /// The mapping file.
        path: String,
        /// What is wrong with it (with line/field where known).
        reason: String,
    },
    /// An option was given to a decoder that does not take it.
    #[error("{0}")]
    Option(String),
}
