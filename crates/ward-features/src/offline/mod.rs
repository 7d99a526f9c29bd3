//! The offline store: enriched events and feature snapshots as Parquet files on object
//! storage, for training and backtests.
//!
//! The port is [`object_store::ObjectStore`]; the two adapters are a local directory
//! ([`OfflineStore::local`], `file:///dir`: each file written to a temporary name and renamed)
//! and S3-compatible storage ([`OfflineStore::s3`], `s3://bucket/prefix`: each file one PUT of
//! the complete object). Files are partitioned
//! `<dataset>/tenant=<t>/date=<YYYY-MM-DD>/source=<s>/part-<uuid>.parquet` and become visible
//! only when a [`manifest`] version lists them.

pub mod manifest;
pub mod schema;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use secrecy::ExposeSecret;
use ward_model::{Event, TenantId};

use self::manifest::{FileEntry, Manifest};
use crate::config::OfflineConfig;
use crate::entity::EntityKey;
use crate::online::memory::MemoryStore;
use crate::online::{Features, OnlineStore};
use crate::vector::FeatureVector;
use crate::window::WINDOWS;

/// Dataset of enriched events.
pub const EVENTS: &str = "events";
/// Dataset of feature snapshots.
pub const SNAPSHOTS: &str = "feature_snapshots";

/// Why an offline-store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// The `[offline]` configuration is unusable.
    #[error("offline: {0}")]
    Config(String),
    /// The object store failed.
    #[error("offline store {op} {path}: {message}")]
    Store {
        /// The operation.
        op: &'static str,
        /// The object path.
        path: String,
        /// The store's message.
        message: String,
    },
    /// Encoding to Arrow/Parquet/JSON failed.
    #[error("encoding: {0}")]
    Encode(String),
    /// A Parquet file or one of its rows does not read back.
    #[error("reading {path}{}: {message}", row.map(|r| format!(" row {r}")).unwrap_or_default())]
    Decode {
        /// The file.
        path: String,
        /// The 0-based row, when one row is at fault.
        row: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A manifest version does not parse.
    #[error("manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Other writers kept committing first.
    #[error("manifest of tenant {tenant}: lost {attempts} commit races in a row")]
    Conflict {
        /// The tenant.
        tenant: String,
        /// Attempts made.
        attempts: usize,
    },
    /// Recomputing features failed.
    #[error(transparent)]
    Features(#[from] crate::FeatureError),
}

/// What a write committed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommitReport {
    /// Files written and committed.
    pub files: Vec<FileEntry>,
    /// Manifest version created, per tenant.
    pub versions: BTreeMap<String, u64>,
}

/// A point-in-time feature export.
#[derive(Clone, Debug)]
pub struct Export {
    /// The Parquet file (schema [`schema::snapshots_schema`]).
    pub parquet: Vec<u8>,
    /// Rows (entities) in it.
    pub rows: usize,
    /// Events replayed to compute them (after de-duplication by event id).
    pub events: usize,
}

/// Parquet history on object storage.
#[derive(Clone, Debug)]
pub struct OfflineStore {
    store: Arc<dyn ObjectStore>,
    adapter: &'static str,
}

impl OfflineStore {
    /// The local-directory adapter, rooted at `dir` (created if missing).
    ///
    /// # Errors
    /// The directory cannot be created or opened.
    pub fn local(dir: &std::path::Path) -> Result<Self, OfflineError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| OfflineError::Config(format!("creating {}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| OfflineError::Config(e.to_string()))?;
        Ok(Self { store: Arc::new(fs), adapter: "local" })
    }

    /// The S3 adapter for `bucket`, under `prefix` (may be empty), with the endpoint, region
    /// and credentials of `config`.
    ///
    /// # Errors
    /// An unusable configuration.
    pub fn s3(bucket: &str, prefix: &str, config: &OfflineConfig) -> Result<Self, OfflineError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(config.region.as_deref().unwrap_or("us-east-1"))
            .with_allow_http(config.allow_http);
        if let Some(endpoint) = &config.endpoint {
            b = b.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret.expose_secret());
        }
        let s3 = b.build().map_err(|e| OfflineError::Config(e.to_string()))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, prefix)) };
        Ok(Self { store, adapter: "s3" })
    }

    /// Opens the adapter `[offline] url` names (`file:///dir` or `s3://bucket/prefix`).
    ///
    /// # Errors
    /// No URL, an unknown scheme, or an unusable configuration.
    pub fn open(config: &OfflineConfig) -> Result<Self, OfflineError> {
        let url =
            config.url.as_deref().ok_or_else(|| OfflineError::Config("offline.url is not set".into()))?;
        if let Some(path) = url.strip_prefix("file://") {
            return Self::local(std::path::Path::new(path));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            return Self::s3(bucket, prefix, config);
        }
        Err(OfflineError::Config(format!("offline.url {url:?} is not file:///… or s3://…")))
    }

    /// The adapter's name (`local`, `s3`).
    pub fn adapter(&self) -> &'static str {
        self.adapter
    }

    /// The underlying object store (for tests and tools).
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Writes events (any tenants) as one file per tenant, date and source, then commits each
    /// tenant's files in one manifest version.
    ///
    /// # Errors
    /// Encoding or store failures; files written before a failure stay uncommitted (invisible).
    pub async fn write_events(&self, events: &[Event]) -> Result<CommitReport, OfflineError> {
        let mut groups: BTreeMap<(String, String, String), Vec<&Event>> = BTreeMap::new();
        for e in events {
            let key = (
                e.tenant().to_owned(),
                e.timestamp().format("%Y-%m-%d").to_string(),
                partition_value(e.source()),
            );
            groups.entry(key).or_default().push(e);
        }
        let mut files: BTreeMap<String, Vec<FileEntry>> = BTreeMap::new();
        for ((tenant, date, source), rows) in groups {
            let batch = schema::events_batch(&rows)?;
            let times = rows.iter().map(|e| e.timestamp());
            let (min_ts, max_ts) = (times.clone().min().unwrap_or_default(), times.max().unwrap_or_default());
            let entry = self.put_file(EVENTS, &tenant, &date, &source, &batch, (min_ts, max_ts)).await?;
            files.entry(tenant).or_default().push(entry);
        }
        self.commit(files).await
    }

    /// Writes feature vectors (any tenants) as snapshot files partitioned by the vectors' date,
    /// then commits them.
    ///
    /// # Errors
    /// Encoding or store failures.
    pub async fn write_snapshots(&self, vectors: &[FeatureVector]) -> Result<CommitReport, OfflineError> {
        let mut groups: BTreeMap<(String, String), Vec<FeatureVector>> = BTreeMap::new();
        for v in vectors {
            groups
                .entry((v.tenant.to_string(), v.at.format("%Y-%m-%d").to_string()))
                .or_default()
                .push(v.clone());
        }
        let mut files: BTreeMap<String, Vec<FileEntry>> = BTreeMap::new();
        for ((tenant, date), rows) in groups {
            let batch = schema::snapshots_batch(&rows)?;
            let (min_ts, max_ts) = (
                rows.iter().map(|v| v.at).min().unwrap_or_default(),
                rows.iter().map(|v| v.at).max().unwrap_or_default(),
            );
            let entry =
                self.put_file(SNAPSHOTS, &tenant, &date, "features", &batch, (min_ts, max_ts)).await?;
            files.entry(tenant).or_default().push(entry);
        }
        self.commit(files).await
    }

    async fn put_file(
        &self,
        dataset: &str,
        tenant: &str,
        date: &str,
        source: &str,
        batch: &arrow_array::RecordBatch,
        (min_ts, max_ts): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<FileEntry, OfflineError> {
        let bytes = schema::to_parquet(batch, dataset)?;
        let path = format!(
            "{dataset}/tenant={tenant}/date={date}/source={source}/part-{}.parquet",
            uuid::Uuid::new_v4()
        );
        let location = Path::from(path.as_str());
        let size = bytes.len() as u64;
        self.store.put(&location, PutPayload::from(bytes)).await.map_err(|e| OfflineError::Store {
            op: "put",
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(FileEntry {
            path,
            dataset: dataset.to_owned(),
            date: date.to_owned(),
            source: source.to_owned(),
            rows: batch.num_rows() as u64,
            bytes: size,
            min_ts,
            max_ts,
        })
    }

    async fn commit(&self, files: BTreeMap<String, Vec<FileEntry>>) -> Result<CommitReport, OfflineError> {
        let mut report = CommitReport::default();
        for (tenant, entries) in files {
            let t = TenantId::new(&tenant).map_err(|e| OfflineError::Config(e.to_string()))?;
            let version = manifest::commit(self.store.as_ref(), &t, &entries).await?;
            report.versions.insert(tenant, version);
            report.files.extend(entries);
        }
        Ok(report)
    }

    /// The newest manifest version of `tenant`.
    ///
    /// # Errors
    /// Store failures or an unreadable manifest.
    pub async fn manifest(&self, tenant: &TenantId) -> Result<Manifest, OfflineError> {
        manifest::latest(self.store.as_ref(), tenant).await
    }

    /// Reads a committed file's bytes.
    ///
    /// # Errors
    /// Store failures.
    pub async fn read_file(&self, path: &str) -> Result<bytes::Bytes, OfflineError> {
        let location = Path::from(path);
        let err = |op| {
            move |e: object_store::Error| OfflineError::Store {
                op,
                path: path.to_owned(),
                message: e.to_string(),
            }
        };
        self.store.get(&location).await.map_err(err("get"))?.bytes().await.map_err(err("read"))
    }

    /// The committed events of `tenant` with event time in `[from, until]`, de-duplicated by
    /// event id and sorted by (time, id).
    ///
    /// # Errors
    /// Store failures or unreadable files.
    pub async fn read_events(
        &self,
        tenant: &TenantId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Event>, OfflineError> {
        let m = self.manifest(tenant).await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for f in m.files.iter().filter(|f| f.dataset == EVENTS && f.max_ts >= from && f.min_ts <= until) {
            let data = self.read_file(&f.path).await?;
            for e in schema::read_events(&f.path, data, from.timestamp_micros(), until.timestamp_micros())? {
                if e.tenant() == tenant.as_str() && seen.insert(e.id()) {
                    out.push(e);
                }
            }
        }
        out.sort_by_key(|e| (e.timestamp(), e.id()));
        Ok(out)
    }

    /// Point-in-time-correct features of `tenant`'s entities at `at` (all entities active in
    /// the longest window, or only `entities`), as a Parquet file.
    ///
    /// Only committed events with event time ≤ `at` are used — including ones committed later
    /// than `at` (late arrivals) and excluding ones committed earlier but stamped after `at`.
    /// They are replayed in event-time order (from [`LOOKBACK`] before `at`, so inter-arrival
    /// gaps at the window's start are known) through the in-process store, and each row is
    /// that store's [`FeatureVector`] at `at`.
    ///
    /// # Errors
    /// Store failures or unreadable files.
    pub async fn export_features(
        &self,
        tenant: &TenantId,
        at: DateTime<Utc>,
        entities: Option<&[EntityKey]>,
    ) -> Result<Export, OfflineError> {
        let events = self.read_events(tenant, at - LOOKBACK, at).await?;
        // At most three entities per event; the bound is per shard, so allow every entity in one.
        let memory = Arc::new(MemoryStore::new(events.len().saturating_mul(3 * 16).max(1024)));
        let features = Features::new(Arc::clone(&memory) as Arc<dyn OnlineStore>);
        for chunk in events.chunks(1024) {
            features.observe_batch(tenant, chunk).await?;
        }
        let wanted: Vec<EntityKey> = match entities {
            Some(list) => list.to_vec(),
            None => memory.entities(tenant),
        };
        let longest = WINDOWS.last().map_or("1h", |w| w.name);
        let mut vectors = Vec::with_capacity(wanted.len());
        for e in wanted {
            let v = features.get(tenant, e.kind, &e.value, at).await?;
            if entities.is_some() || v.value(&format!("events_{longest}")) > 0.0 {
                vectors.push(v);
            }
        }
        let batch = schema::snapshots_batch(&vectors)?;
        Ok(Export {
            parquet: schema::to_parquet(&batch, "feature_export")?,
            rows: vectors.len(),
            events: events.len(),
        })
    }
}

/// How far before `at` an export reads events: twice the longest window.
pub const LOOKBACK: Duration = Duration::hours(2);

/// A partition value safe in a path: `[a-z0-9_-]`, at most 64 characters, others as `_`.
fn partition_value(text: &str) -> String {
    let v: String = text
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    if v.is_empty() { "unknown".into() } else { v }
}
