//! Entities features are kept for: a kind (`source.ip`, `user.name`, `host.name`) and a value.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::FeatureError;

/// Longest entity value accepted, in bytes; longer values are rejected, not cut.
pub const MAX_VALUE_BYTES: usize = 256;

/// The kinds of entity features are kept for, named by the ECS field they come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKind {
    /// `source.ip`: a remote address (scanner, brute-forcer, beaconing host).
    #[serde(rename = "source.ip")]
    SourceIp,
    /// `user.name`: an account name (attempted or real).
    #[serde(rename = "user.name")]
    UserName,
    /// `host.name`: a monitored host.
    #[serde(rename = "host.name")]
    HostName,
}

impl EntityKind {
    /// Every kind, in a fixed order.
    pub const ALL: [Self; 3] = [Self::SourceIp, Self::UserName, Self::HostName];

    /// The ECS field name (`source.ip`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SourceIp => "source.ip",
            Self::UserName => "user.name",
            Self::HostName => "host.name",
        }
    }

    /// Checks and canonicalizes a value of this kind: IPs in their canonical text form, host
    /// names in lower case, user names as given.
    ///
    /// # Errors
    /// [`FeatureError::InvalidEntity`] for empty, too long or (for IPs) unparseable values.
    pub fn canonical(self, value: &str) -> Result<String, FeatureError> {
        let invalid = |reason| FeatureError::InvalidEntity {
            kind: self.as_str(),
            value: value.chars().take(64).collect(),
            reason,
        };
        if value.is_empty() {
            return Err(invalid("empty"));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(invalid("longer than 256 bytes"));
        }
        match self {
            Self::SourceIp => {
                value.parse::<IpAddr>().map(|ip| ip.to_string()).map_err(|_| invalid("not an IP address"))
            }
            Self::UserName => Ok(value.to_owned()),
            Self::HostName => Ok(value.to_ascii_lowercase()),
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = FeatureError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| FeatureError::UnknownKind(s.to_owned()))
    }
}

/// One entity: a kind and a canonical value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityKey {
    /// What kind of entity.
    pub kind: EntityKind,
    /// Its canonical value (see [`EntityKind::canonical`]).
    pub value: String,
}

impl EntityKey {
    /// Builds a key from a kind and a value, canonicalizing the value.
    ///
    /// # Errors
    /// The value is invalid for the kind.
    pub fn new(kind: EntityKind, value: &str) -> Result<Self, FeatureError> {
        Ok(Self { kind, value: kind.canonical(value)? })
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind, self.value)
    }
}
