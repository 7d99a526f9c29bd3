//! `devices.json`: registered devices with their secrets sealed by the master key.
//!
//! A server keeps a parsed copy and re-reads the file whenever it was replaced (checked with one
//! `stat` per lookup), so devices added or disabled by `ward devices` take effect at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use super::{Stamp, blocking, lock, read_json, stamp, write_json_atomic};
use crate::crypto::{SigningKey, hex, random_bytes};
use crate::master_key::{KeyError, MasterKey};
use crate::registry::{Device, DeviceCredential, DeviceId, DeviceStore, NewDevice, StoreError, valid_name};

#[derive(Clone, Serialize, Deserialize)]
struct StoredDevice {
    #[serde(flatten)]
    device: Device,
    /// Sealed secret (see [`MasterKey::seal`]); the device id is the associated data.
    secret: String,
}

#[derive(Default, Serialize, Deserialize)]
struct DevicesFile {
    version: u32,
    devices: Vec<StoredDevice>,
}

type Snapshot = Arc<HashMap<DeviceId, StoredDevice>>;

#[derive(Default)]
struct Cached {
    stamp: Option<Stamp>,
    devices: Snapshot,
}

/// Devices kept in `<dir>/devices.json`.
pub struct FileDeviceStore {
    path: PathBuf,
    lock_path: PathBuf,
    key: Option<Arc<MasterKey>>,
    cache: RwLock<Cached>,
}

impl FileDeviceStore {
    /// The store in directory `dir`. Without a master key it can list and disable devices but
    /// neither create them nor check signatures.
    pub fn new(dir: &Path, key: Option<Arc<MasterKey>>) -> Self {
        Self {
            path: dir.join("devices.json"),
            lock_path: dir.join("devices.lock"),
            key,
            cache: RwLock::new(Cached::default()),
        }
    }

    /// The current devices, re-read when the file changed since the last look.
    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let now = stamp(&self.path)?;
        if let Ok(cache) = self.cache.read()
            && cache.stamp == now
            && now.is_some()
        {
            return Ok(Arc::clone(&cache.devices));
        }
        let file: DevicesFile = read_json(&self.path)?;
        let devices: Snapshot =
            Arc::new(file.devices.into_iter().map(|d| (d.device.id.clone(), d)).collect());
        if let Ok(mut cache) = self.cache.write() {
            *cache = Cached { stamp: now, devices: Arc::clone(&devices) };
        }
        Ok(devices)
    }

    fn master_key(&self) -> Result<Arc<MasterKey>, StoreError> {
        self.key.clone().ok_or(StoreError::NoMasterKey)
    }

    /// Locks the file, applies `f` to its fresh contents and writes the result back.
    async fn modify<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DevicesFile) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (path, lock_path) = (self.path.clone(), self.lock_path.clone());
        blocking(move || {
            let _guard = lock(&lock_path)?;
            let mut file: DevicesFile = read_json(&path)?;
            let out = f(&mut file)?;
            file.version = 1;
            write_json_atomic(&path, &file)?;
            Ok(out)
        })
        .await
    }
}

/// A new device id (`dev-` and 24 hex digits) and secret (64 hex digits).
fn fresh_identity() -> Result<(DeviceId, SecretString), StoreError> {
    let random = |_| StoreError::Key(KeyError::Crypto("random"));
    let id = format!("dev-{}", hex(&random_bytes::<12>().map_err(random)?));
    let secret = SecretString::from(hex(&random_bytes::<32>().map_err(random)?));
    Ok((DeviceId(id), secret))
}

#[async_trait]
impl DeviceStore for FileDeviceStore {
    async fn credential(&self, id: &DeviceId) -> Result<Option<DeviceCredential>, StoreError> {
        let Some(stored) = self.snapshot()?.get(id).cloned() else { return Ok(None) };
        let secret = self.master_key()?.open(&stored.secret, id.as_str())?;
        let key = SigningKey::new(secret.expose_secret().as_bytes());
        Ok(Some(DeviceCredential { device: stored.device, key }))
    }

    async fn create(&self, tenant: &TenantId, name: &str) -> Result<NewDevice, StoreError> {
        if !valid_name(name) {
            return Err(StoreError::InvalidName);
        }
        let key = self.master_key()?;
        let (id, secret) = fresh_identity()?;
        let sealed = key.seal(secret.expose_secret().as_bytes(), id.as_str())?;
        let device = Device {
            id,
            tenant: tenant.clone(),
            name: name.to_owned(),
            created_at: chrono::Utc::now(),
            disabled: false,
        };
        let stored = StoredDevice { device: device.clone(), secret: sealed };
        self.modify(move |file| {
            file.devices.push(stored);
            Ok(())
        })
        .await?;
        Ok(NewDevice { device, secret })
    }

    async fn list(&self) -> Result<Vec<Device>, StoreError> {
        let mut devices: Vec<Device> = self.snapshot()?.values().map(|d| d.device.clone()).collect();
        devices.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(devices)
    }

    async fn set_disabled(&self, id: &DeviceId, disabled: bool) -> Result<Device, StoreError> {
        let id = id.clone();
        self.modify(move |file| {
            let stored = file.devices.iter_mut().find(|d| d.device.id == id);
            let stored = stored.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
            stored.device.disabled = disabled;
            Ok(stored.device.clone())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> FileDeviceStore {
        FileDeviceStore::new(dir, Some(Arc::new(MasterKey::from_bytes(&[3u8; 32]).unwrap())))
    }

    #[tokio::test]
    async fn secrets_are_sealed_on_disk_and_open_for_signing() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let new = s.create(&TenantId::new("acme").unwrap(), "sensor 1").await.unwrap();
        let on_disk = std::fs::read_to_string(dir.path().join("devices.json")).unwrap();
        assert!(!on_disk.contains(new.secret.expose_secret()), "secret stored in the clear");
        let cred = s.credential(&new.device.id).await.unwrap().unwrap();
        let expected = SigningKey::new(new.secret.expose_secret().as_bytes()).sign_hex(b"m");
        assert!(cred.key.verify_hex(b"m", &expected));
        assert_eq!(cred.device.tenant.as_str(), "acme");
    }

    #[tokio::test]
    async fn a_second_store_sees_changes_made_by_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, reader) = (store(dir.path()), store(dir.path()));
        let id = writer.create(&TenantId::default(), "a").await.unwrap().device.id;
        assert!(!reader.credential(&id).await.unwrap().unwrap().device.disabled);
        writer.set_disabled(&id, true).await.unwrap();
        assert!(reader.credential(&id).await.unwrap().unwrap().device.disabled);
        let missing = DeviceId::parse("nope").unwrap();
        assert!(matches!(writer.set_disabled(&missing, true).await, Err(StoreError::NotFound(_))));
    }

    #[tokio::test]
    async fn without_the_master_key_devices_list_but_do_not_authenticate() {
        let dir = tempfile::tempdir().unwrap();
        let id = store(dir.path()).create(&TenantId::default(), "a").await.unwrap().device.id;
        let keyless = FileDeviceStore::new(dir.path(), None);
        assert_eq!(keyless.list().await.unwrap().len(), 1);
        assert!(matches!(keyless.credential(&id).await, Err(StoreError::NoMasterKey)));
    }
}
