//! Who may send: devices (with their sealed secrets) and tenants.
//!
//! [`DeviceStore`] and [`TenantStore`] are ports; [`file`] holds the file-backed adapters used in
//! the data directory until the state store takes them over.

pub mod file;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use crate::crypto::SigningKey;
use crate::master_key::KeyError;

/// A device id: 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

/// A device id that breaks the naming rule.
#[derive(Debug, thiserror::Error)]
#[error("invalid device id: use 1-64 characters from A-Z, a-z, 0-9, '-', '_'")]
pub struct InvalidDeviceId;

impl DeviceId {
    /// Validates a device id.
    ///
    /// # Errors
    /// [`InvalidDeviceId`] when it breaks the naming rule.
    pub fn parse(text: &str) -> Result<Self, InvalidDeviceId> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok { Ok(Self(text.to_owned())) } else { Err(InvalidDeviceId) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceId {
    type Error = InvalidDeviceId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registered sender. Its secret is not part of it: see [`DeviceCredential`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Device id (the `X-Device-ID` header).
    pub id: DeviceId,
    /// The tenant every event from this device belongs to.
    pub tenant: TenantId,
    /// Operator-chosen name.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// Disabled devices are refused.
    pub disabled: bool,
}

/// A device with the key that checks its signatures.
#[derive(Clone, Debug)]
pub struct DeviceCredential {
    /// The device.
    pub device: Device,
    /// HMAC key made from the device secret.
    pub key: SigningKey,
}

/// A freshly registered device and its secret, shown once.
#[derive(Debug)]
pub struct NewDevice {
    /// The device.
    pub device: Device,
    /// The secret, never stored in the clear.
    pub secret: SecretString,
}

/// A tenant as listed by `ward tenants list`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Tenant name.
    pub name: TenantId,
    /// When it was first named.
    pub created_at: DateTime<Utc>,
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the store failed.
    #[error("registry I/O error on {path}: {source}")]
    Io {
        /// File involved.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The stored data cannot be read.
    #[error("registry file {path} is damaged: {reason}")]
    Corrupt {
        /// File involved.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// No device with that id.
    #[error("no device {0}")]
    NotFound(String),
    /// A name that cannot be stored.
    #[error("invalid device name: use 1-128 characters without control characters")]
    InvalidName,
    /// Sealing or opening a secret failed, or no master key was given.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The operation needs the master key, which this store was opened without.
    #[error("this operation needs the master key")]
    NoMasterKey,
}

/// Devices and their sealed secrets.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// The device and its signing key, if registered.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read or the secret cannot be opened.
    async fn credential(&self, id: &DeviceId) -> Result<Option<DeviceCredential>, StoreError>;

    /// Registers a device with a fresh random secret.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be stored durably.
    async fn create(&self, tenant: &TenantId, name: &str) -> Result<NewDevice, StoreError>;

    /// Every device, in id order.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self) -> Result<Vec<Device>, StoreError>;

    /// Disables or re-enables a device; returns it as stored.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown id, or a storage failure.
    async fn set_disabled(&self, id: &DeviceId, disabled: bool) -> Result<Device, StoreError>;
}

/// The tenants Ward knows.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Records the tenant if it is new; returns whether it was created.
    ///
    /// # Errors
    /// [`StoreError`] when it cannot be stored durably.
    async fn ensure(&self, tenant: &TenantId) -> Result<bool, StoreError>;

    /// Every tenant, in name order.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot be read.
    async fn list(&self) -> Result<Vec<Tenant>, StoreError>;
}

/// Checks a device name: 1–128 characters, no control characters.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 128 && !name.chars().any(char::is_control)
}
