//! The manifest: which files are committed, per tenant, as immutable numbered versions.
//!
//! Version `N` lives at `_manifest/tenant=<t>/v<N, 20 digits>.json` and lists every committed
//! file. A commit reads the newest version and creates `N + 1` with a create-only put
//! (`PutMode::Create`: a hard link on a local directory, `If-None-Match: *` on S3); when
//! another writer created it first, the commit reads again and retries. A data file that no
//! manifest version lists (a writer died between the two puts) is invisible to readers.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use super::OfflineError;
use super::schema::SCHEMA_VERSION;

/// Attempts at creating the next version before giving up.
const COMMIT_ATTEMPTS: usize = 32;

/// One version of a tenant's manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema version of the files it lists.
    pub schema_version: u32,
    /// This version's number (0: nothing committed yet).
    pub version: u64,
    /// The tenant.
    pub tenant: String,
    /// Every committed file.
    pub files: Vec<FileEntry>,
}

/// One committed Parquet file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path below the store root (`events/tenant=…/date=…/source=…/part-….parquet`).
    pub path: String,
    /// `events` or `feature_snapshots`.
    pub dataset: String,
    /// Partition date, `YYYY-MM-DD` (UTC, of the rows' event time).
    pub date: String,
    /// Partition source (decoder name; `features` for snapshots).
    pub source: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Earliest row time (event time, or snapshot time).
    pub min_ts: DateTime<Utc>,
    /// Latest row time.
    pub max_ts: DateTime<Utc>,
}

fn dir(tenant: &TenantId) -> Path {
    Path::from(format!("_manifest/tenant={tenant}"))
}

fn version_path(tenant: &TenantId, version: u64) -> Path {
    Path::from(format!("_manifest/tenant={tenant}/v{version:020}.json"))
}

fn store_err(op: &'static str, path: &Path) -> impl Fn(object_store::Error) -> OfflineError {
    let path = path.to_string();
    move |e| OfflineError::Store { op, path: path.clone(), message: e.to_string() }
}

/// The newest version of `tenant`'s manifest (version 0, empty, when none exists).
///
/// # Errors
/// Listing or reading fails, or a manifest does not parse.
pub async fn latest(store: &dyn ObjectStore, tenant: &TenantId) -> Result<Manifest, OfflineError> {
    let prefix = dir(tenant);
    let metas: Vec<_> = store.list(Some(&prefix)).try_collect().await.map_err(store_err("list", &prefix))?;
    let newest = metas
        .iter()
        .filter_map(|m| m.location.filename()?.strip_prefix('v')?.strip_suffix(".json")?.parse::<u64>().ok())
        .max();
    let Some(version) = newest else {
        return Ok(Manifest {
            schema_version: SCHEMA_VERSION,
            version: 0,
            tenant: tenant.to_string(),
            files: vec![],
        });
    };
    let path = version_path(tenant, version);
    let data = store
        .get(&path)
        .await
        .map_err(store_err("get", &path))?
        .bytes()
        .await
        .map_err(store_err("read", &path))?;
    serde_json::from_slice(&data)
        .map_err(|e| OfflineError::Manifest { path: path.to_string(), message: e.to_string() })
}

/// Adds `files` to `tenant`'s manifest as a new version; returns that version.
///
/// # Errors
/// Store failures, or [`OfflineError::Conflict`] after [`COMMIT_ATTEMPTS`] lost races.
pub async fn commit(
    store: &dyn ObjectStore,
    tenant: &TenantId,
    files: &[FileEntry],
) -> Result<u64, OfflineError> {
    for _ in 0..COMMIT_ATTEMPTS {
        let mut m = latest(store, tenant).await?;
        m.version += 1;
        m.schema_version = SCHEMA_VERSION;
        m.files.extend_from_slice(files);
        let path = version_path(tenant, m.version);
        let body = serde_json::to_vec_pretty(&m).map_err(|e| OfflineError::Encode(e.to_string()))?;
        let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match store.put_opts(&path, PutPayload::from(body), opts).await {
            Ok(_) => return Ok(m.version),
            Err(object_store::Error::AlreadyExists { .. }) => continue,
            Err(e) => return Err(store_err("put", &path)(e)),
        }
    }
    Err(OfflineError::Conflict { tenant: tenant.to_string(), attempts: COMMIT_ATTEMPTS })
}
