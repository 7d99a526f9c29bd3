//! `tenants.json`: the tenants named so far.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use super::{blocking, lock, read_json, write_json_atomic};
use crate::registry::{StoreError, Tenant, TenantStore};

#[derive(Default, Serialize, Deserialize)]
struct TenantsFile {
    version: u32,
    tenants: Vec<Tenant>,
}

/// Tenants kept in `<dir>/tenants.json`.
#[derive(Clone, Debug)]
pub struct FileTenantStore {
    path: PathBuf,
    lock_path: PathBuf,
}

impl FileTenantStore {
    /// The store in directory `dir` (created on first write).
    pub fn new(dir: &Path) -> Self {
        Self { path: dir.join("tenants.json"), lock_path: dir.join("tenants.lock") }
    }
}

#[async_trait]
impl TenantStore for FileTenantStore {
    async fn ensure(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let (path, lock_path, tenant) = (self.path.clone(), self.lock_path.clone(), tenant.clone());
        blocking(move || {
            let _guard = lock(&lock_path)?;
            let mut file: TenantsFile = read_json(&path)?;
            if file.tenants.iter().any(|t| t.name == tenant) {
                return Ok(false);
            }
            file.version = 1;
            file.tenants.push(Tenant { name: tenant, created_at: chrono::Utc::now() });
            file.tenants.sort_by(|a, b| a.name.cmp(&b.name));
            write_json_atomic(&path, &file)?;
            Ok(true)
        })
        .await
    }

    async fn list(&self) -> Result<Vec<Tenant>, StoreError> {
        let path = self.path.clone();
        blocking(move || Ok(read_json::<TenantsFile>(&path)?.tenants)).await
    }
}
