//! Ward's state store port: everything Ward keeps besides the durable log — identity (users,
//! sessions, API keys, devices), alerts and incidents (links, comments, timeline, labels),
//! response state (actions, approvals, playbooks, durable playbook runs with an append-only
//! step journal, policies, the global kill switch), configuration
//! (connectors, notifications, settings, assets), the dead-letter list and a hash-chained,
//! append-only audit log.
//!
//! Two adapters over `sqlx` runtime queries: SQLite (embedded default, WAL) and PostgreSQL.
//! Each has versioned migrations (`migrations/sqlite`, `migrations/postgres`), applied on open.
//!
//! # Tenancy by construction
//! Per-tenant data is reached only through a [`TenantStore`], made by [`Store::tenant`]; every
//! statement it runs binds that tenant, and every table keys on `(tenant, id)`. Another tenant's
//! record is indistinguishable from a missing one ([`StoreError::NotFound`]). The few tenant-less
//! calls live on [`Store`]: listing/ensuring tenants, resolving a presented API key, session
//! token or device id to its tenant, and audit verification.
//!
//! ```no_run
//! # async fn demo() -> ward_store::Result<()> {
//! use ward_model::TenantId;
//! let store = ward_store::Store::open("sqlite::memory:").await?;
//! let acme = store.tenant(&TenantId::new("acme").expect("valid name"));
//! let page = acme.list_incidents(&Default::default(), Default::default(), None, 50).await?;
//! # Ok(()) }
//! ```

mod alerts;
mod audit;
mod config;
mod db;
mod error;
mod identity;
mod incident_ops;
mod incidents;
mod playbooks;
mod response;
mod tenants;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ward_model::TenantId;

pub use alerts::AlertFilter;
pub use audit::{AuditBroken, AuditFilter, AuditRecord, AuditSigning, AuditSummary, NewAuditRecord};
pub use config::{Asset, ConfigEntry, ConfigTable, Criticality, DeadLetter, DeadLetterFilter, NewAsset};
pub use error::{Result, StoreError};
pub use identity::{
    ApiKey, AuthMethod, CreatedApiKey, CreatedSession, Device, NewApiKey, Principal, Role, Session, User,
};
pub use incident_ops::{Comment, Label, TimelineEntry};
pub use incidents::{IncidentFilter, IncidentPatch, IncidentSort, SortField, SortOrder};
pub use playbooks::{Playbook, Policy};
pub use tenants::Tenant;

/// One page of a listing, with the cursor of the next page (`None` on the last page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Opaque cursor to pass back for the next page.
    pub next_cursor: Option<String>,
}

/// Which database a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (or memory).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The state store: a cheap-to-clone handle on a connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
    signing: Option<Arc<AuditSigning>>,
}

#[derive(Debug)]
struct Inner {
    pool: db::Pool,
    /// The PostgreSQL schema this store was opened in, if any.
    schema: Option<String>,
}

/// Direct access to the underlying pool, for tests and operator tooling that must bypass the
/// tenant-scoped API (e.g. proving that tampering with the audit table is detected).
#[derive(Clone, Copy, Debug)]
pub enum RawPool<'a> {
    /// The SQLite pool.
    Sqlite(&'a sqlx::SqlitePool),
    /// The PostgreSQL pool.
    Postgres(&'a sqlx::PgPool),
}

impl Store {
    /// Opens `sqlite://PATH`, `sqlite::memory:` or `postgres://…`, applying migrations.
    pub async fn open(url: &str) -> Result<Self> {
        Ok(Self::wrap(db::open(url).await?, None))
    }

    /// The embedded default: SQLite at `<dir>/state/ward.db` (directories created).
    pub async fn for_data_dir(dir: &Path) -> Result<Self> {
        Ok(Self::wrap(db::open_sqlite_file(&dir.join("state").join("ward.db")).await?, None))
    }

    /// Opens PostgreSQL with every connection confined to `schema` (created if missing;
    /// `[a-z0-9_]` only) — for isolating test runs or co-hosting installations.
    pub async fn open_postgres_in_schema(url: &str, schema: &str) -> Result<Self> {
        Ok(Self::wrap(db::open_postgres_in_schema(url, schema).await?, Some(schema.to_owned())))
    }

    fn wrap(pool: db::Pool, schema: Option<String>) -> Self {
        Self { inner: Arc::new(Inner { pool, schema }), signing: None }
    }

    /// The same store, signing audit checkpoints with `signing` (see [`AuditSigning`]).
    pub fn with_audit_signing(mut self, signing: AuditSigning) -> Self {
        self.signing = Some(Arc::new(signing));
        self
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.inner.pool {
            db::Pool::Sqlite(_) => Backend::Sqlite,
            db::Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The handle through which every read and write of `tenant`'s data goes.
    pub fn tenant(&self, tenant: &TenantId) -> TenantStore {
        TenantStore { store: self.clone(), tenant: tenant.clone() }
    }

    /// Escape hatch to the raw pool (bypasses tenancy; for tests and operator tooling only).
    pub fn raw_pool(&self) -> RawPool<'_> {
        match &self.inner.pool {
            db::Pool::Sqlite(p) => RawPool::Sqlite(p),
            db::Pool::Postgres(p) => RawPool::Postgres(p),
        }
    }

    /// Drops the PostgreSQL schema this store was opened in (with everything in it) and closes
    /// the pool. Fails for stores not opened with [`Store::open_postgres_in_schema`].
    pub async fn drop_schema(&self) -> Result<()> {
        let (db::Pool::Postgres(pool), Some(schema)) = (&self.inner.pool, &self.inner.schema) else {
            return Err(StoreError::invalid("schema", "this store was not opened in a PostgreSQL schema"));
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
            .execute(pool)
            .await?;
        pool.close().await;
        Ok(())
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        db::on_pool!(&self.inner.pool, p => p.close().await)
    }

    pub(crate) fn pool(&self) -> &db::Pool {
        &self.inner.pool
    }
}

/// A [`Store`] bound to one tenant: the only way to read or write per-tenant data.
#[derive(Clone, Debug)]
pub struct TenantStore {
    store: Store,
    tenant: TenantId,
}

impl TenantStore {
    /// The tenant this handle is bound to.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant
    }

    /// The store this handle belongs to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn pool(&self) -> &db::Pool {
        self.store.pool()
    }

    pub(crate) fn t(&self) -> &str {
        self.tenant.as_str()
    }
}
