//! The tenant registry: the one table listed across tenants (administrators name tenants; the
//! pipeline registers the ones it sees).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use crate::Store;
use crate::db::{self, on_pool};
use crate::error::{Result, StoreError};

/// A registered tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Its name.
    pub id: TenantId,
    /// When it was first registered.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    created_at: i64,
}

impl TenantRow {
    fn into_tenant(self) -> Result<Tenant> {
        let id = TenantId::new(&self.id)
            .map_err(|e| StoreError::Corrupt { what: "tenants.id".to_owned(), reason: e.to_string() })?;
        Ok(Tenant { id, created_at: db::time(self.created_at) })
    }
}

impl Store {
    /// Every registered tenant, by name.
    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let rows: Vec<TenantRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, created_at FROM tenants ORDER BY id").fetch_all(p).await?
        });
        rows.into_iter().map(TenantRow::into_tenant).collect()
    }

    /// Registers `tenant` if it is not yet (idempotent) and returns it.
    pub async fn ensure_tenant(&self, tenant: &TenantId) -> Result<Tenant> {
        let row: TenantRow = on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(tenant.as_str())
                .bind(db::micros(db::now()))
                .execute(p)
                .await?;
            sqlx::query_as("SELECT id, created_at FROM tenants WHERE id = $1")
                .bind(tenant.as_str())
                .fetch_one(p)
                .await?
        });
        row.into_tenant()
    }
}
