//! Playbooks (named definitions saved through the API) and versioned policies. Playbook runs and
//! their journal are response state (`response.rs`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::TenantId;

use crate::TenantStore;
use crate::db::{self, on_pool};
use crate::error::{Result, StoreError};
use crate::identity::tenant_of;

/// A named response playbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Playbook {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Unique name.
    pub name: String,
    /// Its definition (YAML or JSON text, parsed by the response engine).
    pub definition: String,
    /// Whether it runs.
    pub enabled: bool,
    /// Incremented on every update.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One version of a named policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Policy name.
    pub name: String,
    /// Version, from 1.
    pub version: i64,
    /// Policy text (Rego or another language the decide stage reads).
    pub body: String,
    /// Who saved it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

const PLAYBOOK_COLS: &str = "id, tenant, name, definition, enabled, version, created_at, updated_at";
/// Largest playbook definition or policy text.
const MAX_TEXT: usize = 1 << 20;

#[derive(sqlx::FromRow)]
struct PlaybookRow {
    id: String,
    tenant: String,
    name: String,
    definition: String,
    enabled: bool,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl PlaybookRow {
    fn into_playbook(self) -> Result<Playbook> {
        Ok(Playbook {
            tenant: tenant_of(&self.tenant)?,
            id: self.id,
            name: self.name,
            definition: self.definition,
            enabled: self.enabled,
            version: self.version,
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    name: String,
    version: i64,
    body: String,
    created_by: String,
    created_at: i64,
}

impl PolicyRow {
    fn into_policy(self) -> Policy {
        Policy {
            name: self.name,
            version: self.version,
            body: self.body,
            created_by: self.created_by,
            created_at: db::time(self.created_at),
        }
    }
}

fn check_name(field: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() || v.len() > 128 || v.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "must be 1-128 bytes of printable text"));
    }
    Ok(())
}

fn check_body(field: &str, v: &str) -> Result<()> {
    if v.len() > MAX_TEXT {
        return Err(StoreError::invalid(field, format!("longer than {MAX_TEXT} bytes")));
    }
    Ok(())
}

impl TenantStore {
    /// Creates a playbook (names are unique per tenant).
    pub async fn create_playbook(&self, name: &str, definition: &str, enabled: bool) -> Result<Playbook> {
        check_name("playbook name", name)?;
        check_body("definition", definition)?;
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        let res = on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO playbooks (tenant, id, name, definition, enabled, version, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, 1, $6, $6)")
                .bind(self.t()).bind(&id).bind(name).bind(definition).bind(enabled).bind(now).execute(p).await.map(|r| r.rows_affected())
        });
        match res {
            Err(e) if db::is_unique_violation(&e) => {
                Err(StoreError::conflict(format!("playbook `{name}` already exists")))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.playbook(&id).await,
        }
    }

    /// The playbook with `id`.
    pub async fn playbook(&self, id: &str) -> Result<Playbook> {
        let row: Option<PlaybookRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PLAYBOOK_COLS} FROM playbooks WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("playbook", id))?.into_playbook()
    }

    /// Every playbook, by name.
    pub async fn list_playbooks(&self) -> Result<Vec<Playbook>> {
        let rows: Vec<PlaybookRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {PLAYBOOK_COLS} FROM playbooks WHERE tenant = $1 ORDER BY name")))
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(PlaybookRow::into_playbook).collect()
    }

    /// Replaces a playbook's definition and enabled flag (bumps its version).
    pub async fn update_playbook(&self, id: &str, definition: &str, enabled: bool) -> Result<Playbook> {
        check_body("definition", definition)?;
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE playbooks SET definition = $3, enabled = $4, version = version + 1, updated_at = $5 \
                         WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(definition).bind(enabled).bind(db::micros(db::now()))
                .execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("playbook", id));
        }
        self.playbook(id).await
    }

    /// Deletes a playbook (runs keep their journal; they name the playbook they ran).
    pub async fn delete_playbook(&self, id: &str) -> Result<()> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("DELETE FROM playbooks WHERE tenant = $1 AND id = $2").bind(self.t()).bind(id).execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("playbook", id)) } else { Ok(()) }
    }

    /// Saves a new version of policy `name` (version = previous + 1).
    pub async fn put_policy(&self, name: &str, body: &str, actor: &str) -> Result<Policy> {
        check_name("policy name", name)?;
        check_name("actor", actor)?;
        check_body("policy", body)?;
        let now = db::micros(db::now());
        let version: i64 = on_pool!(self.pool(), p => {
            let mut tx = db::WritePool::begin_write(p).await?;
            let last: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policies WHERE tenant = $1 AND name = $2")
                .bind(self.t()).bind(name).fetch_one(&mut *tx).await?;
            let v = last.unwrap_or(0) + 1;
            sqlx::query("INSERT INTO policies (tenant, name, version, body, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(self.t()).bind(name).bind(v).bind(body).bind(actor).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
            v
        });
        Ok(Policy {
            name: name.to_owned(),
            version,
            body: body.to_owned(),
            created_by: actor.to_owned(),
            created_at: db::time(now),
        })
    }

    /// The latest version of policy `name` (or version `version`).
    pub async fn policy(&self, name: &str, version: Option<i64>) -> Result<Policy> {
        let row: Option<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies \
                            WHERE tenant = $1 AND name = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1")
                .bind(self.t()).bind(name).bind(version.unwrap_or(0)).fetch_optional(p).await?
        });
        Ok(row.ok_or_else(|| StoreError::not_found("policy", name))?.into_policy())
    }

    /// The latest version of every policy, by name.
    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows: Vec<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies p WHERE tenant = $1 \
                            AND version = (SELECT MAX(version) FROM policies q WHERE q.tenant = p.tenant AND q.name = p.name) \
                            ORDER BY name")
                .bind(self.t()).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(PolicyRow::into_policy).collect())
    }

    /// Every version of policy `name`, newest first.
    pub async fn policy_history(&self, name: &str) -> Result<Vec<Policy>> {
        let rows: Vec<PolicyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT name, version, body, created_by, created_at FROM policies \
                            WHERE tenant = $1 AND name = $2 ORDER BY version DESC")
                .bind(self.t()).bind(name).fetch_all(p).await?
        });
        Ok(rows.into_iter().map(PolicyRow::into_policy).collect())
    }
}
