//! Why the chain could not be built: each error names the file, line, column or key at fault.

use std::path::PathBuf;

/// A failure to build the enrichment chain from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    /// A MaxMind database that cannot be opened, is damaged or of the wrong type.
    #[error("geoip database {}: {reason}", path.display())]
    GeoIp {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// One or more threat-intel feed files failed to load.
    #[error("threat-intel feeds: {0}")]
    Ioc(#[from] ward_ioc::LoadErrors),
    /// The asset inventory has errors.
    #[error(transparent)]
    Assets(#[from] crate::assets::AssetError),
    /// The ATT&CK bundle cannot be read.
    #[error("att&ck bundle {}: {reason}", path.display())]
    Attack {
        /// The file (`<bundled>` for the built-in one).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Privacy keys or fields are unusable.
    #[error(transparent)]
    Privacy(#[from] crate::privacy::PrivacyError),
    /// A configuration value is out of range.
    #[error("[enrich] `{key}`: {reason}")]
    Config {
        /// Dotted key under `[enrich]`.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Several of the above, all reported at once.
    #[error("{} enrichment errors: {}", .0.len(), join(.0))]
    Many(Vec<EnrichError>),
}

fn join(errors: &[EnrichError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
