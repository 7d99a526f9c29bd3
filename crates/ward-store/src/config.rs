//! Configuration kept in the store (connectors, notification channels, settings: key → JSON),
//! the asset inventory (criticality feeds triage and response policy) and the dead-letter list
//! (what could not be processed, kept and countable).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use crate::db::{self, Param, Where, bind_params, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;
use crate::{Page, TenantStore};

/// Which key → JSON table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigTable {
    /// Response connectors (firewall, EDR, identity provider …).
    Connectors,
    /// Notification channels (webhook, email, chat …).
    Notifications,
    /// Tenant settings.
    Settings,
}

impl ConfigTable {
    fn table(self) -> &'static str {
        match self {
            Self::Connectors => "connectors",
            Self::Notifications => "notifications",
            Self::Settings => "settings",
        }
    }
}

/// One key → JSON entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: serde_json::Value,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

ward_model::name_enum!(
    /// How much an asset matters.
    Criticality, "criticality" {
        /// Lab, test.
        Low = "low",
        /// Ordinary.
        Medium = "medium",
        /// Important.
        High = "high",
        /// Crown jewels.
        Critical = "critical",
    }
);

/// An inventoried asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Owner tenant.
    pub tenant: TenantId,
    /// Unique name (host name).
    pub name: String,
    /// Address or network (`10.0.0.5`, `10.1.0.0/16`).
    pub ip_or_cidr: Option<String>,
    /// Responsible person or team.
    pub owner: Option<String>,
    /// Criticality.
    pub criticality: Criticality,
    /// Free tags.
    pub tags: Vec<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What to save an asset with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAsset {
    /// Unique name.
    pub name: String,
    /// Address or network.
    pub ip_or_cidr: Option<String>,
    /// Owner.
    pub owner: Option<String>,
    /// Criticality.
    pub criticality: Criticality,
    /// Tags.
    pub tags: Vec<String>,
}

/// Something that could not be processed, kept for inspection and replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Sequence id.
    pub id: i64,
    /// Owner.
    pub tenant: TenantId,
    /// Stage or decoder (`decode:cowrie`, `respond`, …).
    pub source: String,
    /// Why.
    pub reason: String,
    /// Where (log offset, file:line, action id).
    pub location: String,
    /// The input (at most 1 MiB kept).
    pub payload: Vec<u8>,
    /// Whether `payload` was cut at 1 MiB.
    pub truncated: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// Which dead letters to list or count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterFilter {
    /// Only from this source.
    pub source: Option<String>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
}

/// Largest kept dead-letter payload and config value.
const MAX_PAYLOAD: usize = 1 << 20;

#[derive(sqlx::FromRow)]
struct EntryRow {
    key: String,
    value: String,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct AssetRow {
    tenant: String,
    name: String,
    ip_or_cidr: Option<String>,
    owner: Option<String>,
    criticality: String,
    tags: String,
    updated_at: i64,
}

impl AssetRow {
    fn into_asset(self) -> Result<Asset> {
        Ok(Asset {
            tenant: tenant_of(&self.tenant)?,
            criticality: db::parse_name("assets.criticality", &self.criticality)?,
            tags: db::from_json("assets.tags", &self.tags)?,
            name: self.name,
            ip_or_cidr: self.ip_or_cidr,
            owner: self.owner,
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeadRow {
    id: i64,
    tenant: String,
    source: String,
    reason: String,
    location: String,
    payload: Vec<u8>,
    truncated: bool,
    at: i64,
}

impl DeadRow {
    fn into_dead(self) -> Result<DeadLetter> {
        Ok(DeadLetter {
            tenant: tenant_of(&self.tenant)?,
            id: self.id,
            source: self.source,
            reason: self.reason,
            location: self.location,
            payload: self.payload,
            truncated: self.truncated,
            at: db::time(self.at),
        })
    }
}

fn check_key(field: &str, key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 256 || key.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "must be 1-256 bytes of printable text"));
    }
    Ok(())
}

fn dead_where(tenant: &str, filter: &DeadLetterFilter) -> Where {
    let mut w = Where::tenant("tenant", tenant);
    if let Some(s) = &filter.source {
        w.push("source = {}", Param::Text(s.clone()));
    }
    if let Some(t) = filter.from {
        w.push("at >= {}", Param::I64(db::micros(t)));
    }
    w
}

impl TenantStore {
    /// Sets `key` in a configuration table.
    pub async fn put_config(
        &self,
        table: ConfigTable,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<ConfigEntry> {
        check_key("key", key)?;
        let text = db::to_json(value)?;
        if text.len() > MAX_PAYLOAD {
            return Err(StoreError::invalid("value", format!("longer than {MAX_PAYLOAD} bytes")));
        }
        let now = db::micros(db::now());
        let sql = format!(
            "INSERT INTO {} (tenant, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            table.table()
        );
        on_pool!(self.pool(), p => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.t()).bind(key).bind(&text).bind(now).execute(p).await?;
        });
        Ok(ConfigEntry { key: key.to_owned(), value: value.clone(), updated_at: db::time(now) })
    }

    /// The value of `key`, if set.
    pub async fn config(&self, table: ConfigTable, key: &str) -> Result<Option<ConfigEntry>> {
        let sql =
            format!("SELECT key, value, updated_at FROM {} WHERE tenant = $1 AND key = $2", table.table());
        let row: Option<EntryRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.t()).bind(key).fetch_optional(p).await?
        });
        row.map(|r| entry(table, r)).transpose()
    }

    /// Every entry of a table, by key.
    pub async fn list_config(&self, table: ConfigTable) -> Result<Vec<ConfigEntry>> {
        let sql =
            format!("SELECT key, value, updated_at FROM {} WHERE tenant = $1 ORDER BY key", table.table());
        let rows: Vec<EntryRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(|r| entry(table, r)).collect()
    }

    /// Removes `key`; `NotFound` when it was not set.
    pub async fn delete_config(&self, table: ConfigTable, key: &str) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE tenant = $1 AND key = $2", table.table());
        let n = on_pool!(self.pool(), p => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.t()).bind(key).execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("config key", key)) } else { Ok(()) }
    }

    /// Creates or replaces the asset named `asset.name`.
    pub async fn put_asset(&self, asset: &NewAsset) -> Result<Asset> {
        check_key("asset name", &asset.name)?;
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            sqlx::query(
                "INSERT INTO assets (tenant, name, ip_or_cidr, owner, criticality, tags, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant, name) DO UPDATE SET ip_or_cidr = excluded.ip_or_cidr, owner = excluded.owner, \
                 criticality = excluded.criticality, tags = excluded.tags, updated_at = excluded.updated_at")
                .bind(self.t()).bind(&asset.name).bind(&asset.ip_or_cidr).bind(&asset.owner)
                .bind(asset.criticality.as_str()).bind(db::to_json(&asset.tags)?).bind(now)
                .execute(p).await?;
        });
        self.asset(&asset.name).await
    }

    /// The asset named `name`.
    pub async fn asset(&self, name: &str) -> Result<Asset> {
        let row: Option<AssetRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT tenant, name, ip_or_cidr, owner, criticality, tags, updated_at FROM assets WHERE tenant = $1 AND name = $2")
                .bind(self.t()).bind(name).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("asset", name))?.into_asset()
    }

    /// Every asset, by name.
    pub async fn list_assets(&self) -> Result<Vec<Asset>> {
        let rows: Vec<AssetRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT tenant, name, ip_or_cidr, owner, criticality, tags, updated_at FROM assets WHERE tenant = $1 ORDER BY name")
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(AssetRow::into_asset).collect()
    }

    /// Removes an asset.
    pub async fn delete_asset(&self, name: &str) -> Result<()> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM assets WHERE tenant = $1 AND name = $2").bind(self.t()).bind(name).execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("asset", name)) } else { Ok(()) }
    }

    /// Keeps something that could not be processed; payloads over 1 MiB are cut (and flagged).
    pub async fn add_deadletter(
        &self,
        source: &str,
        reason: &str,
        location: &str,
        payload: &[u8],
    ) -> Result<DeadLetter> {
        check_key("source", source)?;
        let reason: String = reason.chars().take(4096).collect();
        let location: String = location.chars().take(1024).collect();
        let truncated = payload.len() > MAX_PAYLOAD;
        let kept = &payload[..payload.len().min(MAX_PAYLOAD)];
        let now = db::micros(db::now());
        let id: i64 = on_pool!(self.pool(), p => {
            sqlx::query_scalar("INSERT INTO deadletter (tenant, source, reason, location, payload, truncated, at) \
                                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(self.t()).bind(source).bind(&reason).bind(&location).bind(kept).bind(truncated).bind(now)
                .fetch_one(p).await?
        });
        Ok(DeadLetter {
            id,
            tenant: self.tenant_id().clone(),
            source: source.to_owned(),
            reason,
            location,
            payload: kept.to_vec(),
            truncated,
            at: db::time(now),
        })
    }

    /// Dead letters matching `filter`, newest first.
    pub async fn list_deadletter(
        &self,
        filter: &DeadLetterFilter,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<DeadLetter>> {
        let mut w = dead_where(self.t(), filter);
        if let Some(c) = cursor {
            let id: i64 = db::decode_cursor(c)?;
            w.push("id < {}", Param::I64(id));
        }
        let limit = db::clamp_limit(limit);
        let lim = w.next(Param::I64(limit + 1));
        let sql = format!(
            "SELECT id, tenant, source, reason, location, payload, truncated, at FROM deadletter {} ORDER BY id DESC LIMIT {lim}",
            w.sql()
        );
        let rows: Vec<DeadRow> = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), w.params).fetch_all(p).await?
        });
        let mut items = rows.into_iter().map(DeadRow::into_dead).collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|d| db::encode_cursor(&d.id)).transpose()?
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// How many dead letters match `filter`.
    pub async fn count_deadletter(&self, filter: &DeadLetterFilter) -> Result<u64> {
        let w = dead_where(self.t(), filter);
        let sql = format!("SELECT COUNT(*) FROM deadletter {}", w.sql());
        let n: i64 = on_pool!(self.pool(), p => {
            bind_params!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)), w.params).fetch_one(p).await?
        });
        Ok(u64::try_from(n).unwrap_or_default())
    }
}

fn entry(table: ConfigTable, r: EntryRow) -> Result<ConfigEntry> {
    Ok(ConfigEntry {
        value: db::from_json(&format!("{}.value", table.table()), &r.value)?,
        key: r.key,
        updated_at: db::time(r.updated_at),
    })
}
