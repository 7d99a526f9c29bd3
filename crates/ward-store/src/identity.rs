//! Identity: users (argon2id passwords, roles), sessions (random tokens stored as SHA-256),
//! API keys (`wk_<id>_<secret>`, secret stored as SHA-256, compared in constant time) and
//! ingest devices (secret kept as an encrypted blob the caller seals).

use std::fmt;
use std::str::FromStr;

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_model::{TenantId, UnknownName};

use crate::db::{self, on_pool};
use crate::error::{Result, StoreError};
use crate::{Store, TenantStore};

/// What a user or key may do; checked by the API on every route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, keys and configuration.
    Admin,
    /// Reads and works incidents.
    Analyst,
    /// Analyst rights plus approving and running response actions.
    Responder,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Self::Admin, Self::Analyst, Self::Responder, Self::Viewer];

    /// The lowercase name used in JSON, SQL and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Analyst => "analyst",
            Self::Responder => "responder",
            Self::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownName {
            what: "role",
            value: s.to_owned(),
            expected: "admin, analyst, responder, viewer",
        })
    }
}

/// A person who logs in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Random id.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Login name, unique in the tenant.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Whether a password is set (users without one cannot log in with a password).
    pub has_password: bool,
    /// Disabled users cannot log in and their sessions and keys stop working.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A login session (the token itself is only ever returned once, by [`TenantStore::create_session`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Random id (not the token).
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// The user.
    pub user_id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// After this the token is refused.
    pub expires_at: DateTime<Utc>,
    /// Set when logged out or revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new session and its bearer token (shown once; only its SHA-256 is stored).
#[derive(Clone, Debug)]
pub struct CreatedSession {
    /// The session.
    pub session: Session,
    /// The token to put in the cookie.
    pub token: String,
}

/// An API key's metadata (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Public id (the `<id>` in `wk_<id>_<secret>`).
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Human label.
    pub name: String,
    /// The user it acts for, if any.
    pub user_id: Option<String>,
    /// Role it grants.
    pub role: Role,
    /// Extra scopes (free-form, checked by the API).
    pub scopes: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// After this the key is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set when revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last successful use (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What to create an API key with.
#[derive(Clone, Debug, Default)]
pub struct NewApiKey {
    /// Human label.
    pub name: String,
    /// The user it acts for, if any.
    pub user_id: Option<String>,
    /// Role it grants (`None` = viewer).
    pub role: Option<Role>,
    /// Extra scopes.
    pub scopes: Vec<String>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new key and its plaintext (shown once).
#[derive(Clone, Debug)]
pub struct CreatedApiKey {
    /// The key's metadata.
    pub key: ApiKey,
    /// `wk_<id>_<secret>`, to hand to the client.
    pub plaintext: String,
}

/// An ingest device (sensor, agent) and its sealed HMAC secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The `X-Device-ID` it signs with.
    pub id: String,
    /// Owner.
    pub tenant: TenantId,
    /// Human name.
    pub name: String,
    /// The secret, encrypted by the caller (the store never sees it in clear).
    #[serde(skip)]
    pub secret: Vec<u8>,
    /// Disabled devices are refused.
    pub disabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// How a request proved who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AuthMethod {
    /// A session cookie.
    Session {
        /// The session id.
        session_id: String,
    },
    /// A bearer API key.
    ApiKey {
        /// The key id.
        key_id: String,
    },
}

/// Who is calling, resolved from a session token or API key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    /// The tenant everything they do is confined to.
    pub tenant: TenantId,
    /// The user, if a user (sessions always; keys when created for one).
    pub user_id: Option<String>,
    /// User name or key name, for audit records.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scopes (API keys only).
    pub scopes: Vec<String>,
    /// How they authenticated.
    pub method: AuthMethod,
}

const USER_COLS: &str = "id, tenant, name, role, password_hash, disabled, created_at, updated_at";
const KEY_COLS: &str =
    "id, tenant, name, user_id, role, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at";
const MAX_PASSWORD: usize = 1024;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    tenant: String,
    name: String,
    role: String,
    password_hash: Option<String>,
    disabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            tenant: tenant_of(&self.tenant)?,
            role: db::parse_name("users.role", &self.role)?,
            has_password: self.password_hash.is_some(),
            id: self.id,
            name: self.name,
            disabled: self.disabled,
            created_at: db::time(self.created_at),
            updated_at: db::time(self.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    tenant: String,
    user_id: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl SessionRow {
    fn into_session(self) -> Result<Session> {
        Ok(Session {
            tenant: tenant_of(&self.tenant)?,
            id: self.id,
            user_id: self.user_id,
            created_at: db::time(self.created_at),
            expires_at: db::time(self.expires_at),
            revoked_at: db::opt_time(self.revoked_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    tenant: String,
    name: String,
    user_id: Option<String>,
    role: String,
    scopes: String,
    secret_hash: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl KeyRow {
    fn into_key(self) -> Result<ApiKey> {
        Ok(ApiKey {
            tenant: tenant_of(&self.tenant)?,
            role: db::parse_name("api_keys.role", &self.role)?,
            scopes: db::from_json("api_keys.scopes", &self.scopes)?,
            id: self.id,
            name: self.name,
            user_id: self.user_id,
            created_at: db::time(self.created_at),
            expires_at: db::opt_time(self.expires_at),
            revoked_at: db::opt_time(self.revoked_at),
            last_used_at: db::opt_time(self.last_used_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    tenant: String,
    name: String,
    secret: Vec<u8>,
    disabled: bool,
    created_at: i64,
}

impl DeviceRow {
    fn into_device(self) -> Result<Device> {
        Ok(Device {
            tenant: tenant_of(&self.tenant)?,
            id: self.id,
            name: self.name,
            secret: self.secret,
            disabled: self.disabled,
            created_at: db::time(self.created_at),
        })
    }
}

/// Parses a stored tenant column.
pub(crate) fn tenant_of(s: &str) -> Result<TenantId> {
    TenantId::new(s)
        .map_err(|e| StoreError::Corrupt { what: "tenant column".to_owned(), reason: e.to_string() })
}

fn check_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, format!("must be 1-{max} bytes of printable text")));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 || password.len() > MAX_PASSWORD {
        return Err(StoreError::invalid("password", format!("must be 8 characters to {MAX_PASSWORD} bytes")));
    }
    Ok(())
}

/// argon2id hash (PHC string) of a password, computed off the async threads.
async fn hash_password(password: &str) -> Result<String> {
    let salt = db::random_bytes::<16>()?;
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password_with_salt(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Crypto(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| StoreError::Crypto(format!("argon2 task: {e}")))?
}

/// Whether `password` matches the PHC string `hash` (false for unparseable hashes).
async fn verify_password(password: &str, hash: &str) -> Result<bool> {
    let (pw, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        Argon2::default().verify_password(pw.as_bytes(), hash.as_str()).is_ok()
    })
    .await
    .map_err(|e| StoreError::Crypto(format!("argon2 task: {e}")))
}

impl TenantStore {
    /// Creates a user (`password` optional: such users authenticate only by API key).
    pub async fn create_user(&self, name: &str, role: Role, password: Option<&str>) -> Result<User> {
        check_text("user name", name, 128)?;
        let hash = match password {
            Some(pw) => {
                check_password(pw)?;
                Some(hash_password(pw).await?)
            }
            None => None,
        };
        let (id, now) = (db::new_id()?, db::micros(db::now()));
        let res = on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO users (tenant, id, name, role, password_hash, disabled, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)")
                .bind(self.t()).bind(&id).bind(name).bind(role.as_str()).bind(&hash).bind(false).bind(now)
                .execute(p).await.map(|r| r.rows_affected())
        });
        match res {
            Err(e) if db::is_unique_violation(&e) => {
                Err(StoreError::conflict(format!("user `{name}` already exists")))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.user(&id).await,
        }
    }

    /// The user with `id`.
    pub async fn user(&self, id: &str) -> Result<User> {
        let row: Option<UserRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLS} FROM users WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("user", id))?.into_user()
    }

    /// The user named `name`, if any.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        self.user_row_by_name(name).await?.map(UserRow::into_user).transpose()
    }

    async fn user_row_by_name(&self, name: &str) -> Result<Option<UserRow>> {
        Ok(on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLS} FROM users WHERE tenant = $1 AND name = $2")))
                .bind(self.t()).bind(name).fetch_optional(p).await?
        }))
    }

    /// Every user of the tenant, by name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLS} FROM users WHERE tenant = $1 ORDER BY name")))
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// Checks a name and password; `None` when unknown, disabled, password-less or wrong.
    pub async fn authenticate(&self, name: &str, password: &str) -> Result<Option<User>> {
        if password.len() > MAX_PASSWORD || name.len() > 128 {
            return Ok(None);
        }
        let row = self.user_row_by_name(name).await?;
        let Some(hash) = row.as_ref().and_then(|r| r.password_hash.clone()) else {
            // Spend the same work as a verification, so timing does not reveal unknown names.
            hash_password(password).await?;
            return Ok(None);
        };
        match row {
            Some(r) if verify_password(password, &hash).await? && !r.disabled => Ok(Some(r.into_user()?)),
            _ => Ok(None),
        }
    }

    /// Sets a new password.
    pub async fn set_password(&self, user_id: &str, password: &str) -> Result<User> {
        check_password(password)?;
        let hash = hash_password(password).await?;
        self.update_user(user_id, "password_hash = $3", UserField::Text(hash)).await
    }

    /// Changes a user's role.
    pub async fn set_role(&self, user_id: &str, role: Role) -> Result<User> {
        self.update_user(user_id, "role = $3", UserField::Text(role.as_str().to_owned())).await
    }

    /// Disables (or re-enables) a user; a disabled user's sessions and keys stop resolving.
    pub async fn set_user_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.update_user(user_id, "disabled = $3", UserField::Bool(disabled)).await
    }

    async fn update_user(&self, user_id: &str, set: &str, value: UserField) -> Result<User> {
        let sql = format!("UPDATE users SET {set}, updated_at = $4 WHERE tenant = $1 AND id = $2");
        let now = db::micros(db::now());
        let n = on_pool!(self.pool(), p => {
            let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.t()).bind(user_id);
            let q = match value { UserField::Text(s) => q.bind(s), UserField::Bool(b) => q.bind(b) };
            q.bind(now).execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("user", user_id));
        }
        self.user(user_id).await
    }

    /// Opens a session for a user until `expires_at`; returns the token once.
    pub async fn create_session(&self, user_id: &str, expires_at: DateTime<Utc>) -> Result<CreatedSession> {
        let user = self.user(user_id).await?;
        if user.disabled {
            return Err(StoreError::conflict(format!("user `{}` is disabled", user.name)));
        }
        let token = db::hex(&db::random_bytes::<32>()?);
        let (id, now) = (db::new_id()?, db::now());
        on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO sessions (token_hash, id, tenant, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(db::sha256_hex(token.as_bytes())).bind(&id).bind(self.t()).bind(user_id)
                .bind(db::micros(now)).bind(db::micros(expires_at))
                .execute(p).await?;
        });
        let session = Session {
            id,
            tenant: self.tenant_id().clone(),
            user_id: user_id.to_owned(),
            created_at: now,
            expires_at: db::time(db::micros(expires_at)),
            revoked_at: None,
        };
        Ok(CreatedSession { session, token })
    }

    /// The sessions of a user, newest first.
    pub async fn list_sessions(&self, user_id: &str) -> Result<Vec<Session>> {
        let rows: Vec<SessionRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, tenant, user_id, created_at, expires_at, revoked_at FROM sessions \
                            WHERE tenant = $1 AND user_id = $2 ORDER BY created_at DESC, id")
                .bind(self.t()).bind(user_id).fetch_all(p).await?
        });
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    /// Revokes a session by id.
    pub async fn revoke_session(&self, session_id: &str) -> Result<()> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE sessions SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(session_id).bind(db::micros(db::now())).execute(p).await?.rows_affected()
        });
        if n == 0 { Err(StoreError::not_found("session", session_id)) } else { Ok(()) }
    }

    /// Revokes the session a token belongs to (logout); unknown tokens are not an error.
    pub async fn revoke_session_token(&self, token: &str) -> Result<()> {
        on_pool!(self.pool(), p => {
            sqlx::query("UPDATE sessions SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant = $1 AND token_hash = $2")
                .bind(self.t()).bind(db::sha256_hex(token.as_bytes())).bind(db::micros(db::now())).execute(p).await?;
        });
        Ok(())
    }

    /// Creates an API key; the plaintext is in the result and nowhere else.
    pub async fn create_api_key(&self, new: &NewApiKey) -> Result<CreatedApiKey> {
        check_text("api key name", &new.name, 128)?;
        if let Some(uid) = &new.user_id {
            self.user(uid).await?;
        }
        for s in &new.scopes {
            check_text("scope", s, 128)?;
        }
        let id = db::hex(&db::random_bytes::<8>()?);
        let secret = db::hex(&db::random_bytes::<32>()?);
        let role = new.role.unwrap_or(Role::Viewer);
        let now = db::micros(db::now());
        on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO api_keys (id, tenant, name, user_id, role, scopes, secret_hash, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(&id).bind(self.t()).bind(&new.name).bind(&new.user_id).bind(role.as_str())
                .bind(db::to_json(&new.scopes)?).bind(db::sha256_hex(secret.as_bytes())).bind(now)
                .bind(new.expires_at.map(db::micros))
                .execute(p).await?;
        });
        let key = self.api_key(&id).await?;
        Ok(CreatedApiKey { plaintext: format!("wk_{id}_{secret}"), key })
    }

    /// The key with public id `id`.
    pub async fn api_key(&self, id: &str) -> Result<ApiKey> {
        let row: Option<KeyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLS} FROM api_keys WHERE tenant = $1 AND id = $2")))
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("api key", id))?.into_key()
    }

    /// Every key of the tenant, newest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows: Vec<KeyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLS} FROM api_keys WHERE tenant = $1 ORDER BY created_at DESC, id")))
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(KeyRow::into_key).collect()
    }

    /// Revokes a key (idempotent).
    pub async fn revoke_api_key(&self, id: &str) -> Result<ApiKey> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(db::micros(db::now())).execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("api key", id));
        }
        self.api_key(id).await
    }

    /// Registers an ingest device with its sealed secret.
    pub async fn create_device(&self, id: &str, name: &str, sealed_secret: &[u8]) -> Result<Device> {
        check_text("device id", id, 128)?;
        check_text("device name", name, 256)?;
        let res = on_pool!(self.pool(), p => {
            sqlx::query("INSERT INTO devices (id, tenant, name, secret, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id).bind(self.t()).bind(name).bind(sealed_secret).bind(false).bind(db::micros(db::now()))
                .execute(p).await.map(|r| r.rows_affected())
        });
        match res {
            Err(e) if db::is_unique_violation(&e) => {
                Err(StoreError::conflict(format!("device `{id}` already exists")))
            }
            Err(e) => Err(e.into()),
            Ok(_) => self.device(id).await,
        }
    }

    /// The device with `id`.
    pub async fn device(&self, id: &str) -> Result<Device> {
        let row: Option<DeviceRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, tenant, name, secret, disabled, created_at FROM devices WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).fetch_optional(p).await?
        });
        row.ok_or_else(|| StoreError::not_found("device", id))?.into_device()
    }

    /// Every device of the tenant, by name.
    pub async fn list_devices(&self) -> Result<Vec<Device>> {
        let rows: Vec<DeviceRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, tenant, name, secret, disabled, created_at FROM devices WHERE tenant = $1 ORDER BY name, id")
                .bind(self.t()).fetch_all(p).await?
        });
        rows.into_iter().map(DeviceRow::into_device).collect()
    }

    /// Disables (or re-enables) a device.
    pub async fn set_device_disabled(&self, id: &str, disabled: bool) -> Result<Device> {
        let n = on_pool!(self.pool(), p => {
            sqlx::query("UPDATE devices SET disabled = $3 WHERE tenant = $1 AND id = $2")
                .bind(self.t()).bind(id).bind(disabled).execute(p).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::not_found("device", id));
        }
        self.device(id).await
    }
}

enum UserField {
    Text(String),
    Bool(bool),
}

impl Store {
    /// Resolves a session token to its principal: `None` when unknown, expired, revoked or the
    /// user is disabled.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<Principal>> {
        if token.len() > 256 {
            return Ok(None);
        }
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
            tenant: String,
            user_id: String,
            name: String,
            role: String,
        }
        let row: Option<Row> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT s.id, s.tenant, s.user_id, u.name, u.role FROM sessions s \
                            JOIN users u ON u.tenant = s.tenant AND u.id = s.user_id \
                            WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled = $3")
                .bind(db::sha256_hex(token.as_bytes())).bind(db::micros(db::now())).bind(false)
                .fetch_optional(p).await?
        });
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Principal {
            tenant: tenant_of(&r.tenant)?,
            user_id: Some(r.user_id),
            name: r.name,
            role: db::parse_name("users.role", &r.role)?,
            scopes: Vec::new(),
            method: AuthMethod::Session { session_id: r.id },
        }))
    }

    /// Resolves a presented `wk_<id>_<secret>` key to its principal: `None` when malformed,
    /// unknown, wrong, expired, revoked or its user is disabled. Records the use.
    pub async fn resolve_api_key(&self, presented: &str) -> Result<Option<Principal>> {
        let Some((id, secret)) = parse_key(presented) else { return Ok(None) };
        let row: Option<KeyRow> = on_pool!(self.pool(), p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLS} FROM api_keys WHERE id = $1")))
                .bind(id).fetch_optional(p).await?
        });
        let Some(row) = row else { return Ok(None) };
        let presented_hash = db::sha256_hex(secret.as_bytes());
        if aws_lc_rs::constant_time::verify_slices_are_equal(
            presented_hash.as_bytes(),
            row.secret_hash.as_bytes(),
        )
        .is_err()
        {
            return Ok(None);
        }
        let now = db::now();
        let key = row.into_key()?;
        if key.revoked_at.is_some() || key.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let name = match &key.user_id {
            Some(uid) => match self.tenant(&key.tenant).user(uid).await {
                Ok(u) if !u.disabled => u.name,
                Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            },
            None => key.name.clone(),
        };
        self.touch_api_key(&key, now).await?;
        Ok(Some(Principal {
            tenant: key.tenant,
            user_id: key.user_id,
            name,
            role: key.role,
            scopes: key.scopes,
            method: AuthMethod::ApiKey { key_id: key.id },
        }))
    }

    async fn touch_api_key(&self, key: &ApiKey, now: DateTime<Utc>) -> Result<()> {
        if key.last_used_at.is_some_and(|t| (now - t).num_seconds() < 60) {
            return Ok(());
        }
        on_pool!(self.pool(), p => {
            sqlx::query("UPDATE api_keys SET last_used_at = $3 WHERE tenant = $1 AND id = $2")
                .bind(key.tenant.as_str()).bind(&key.id).bind(db::micros(now)).execute(p).await?;
        });
        Ok(())
    }

    /// The device with `id`, whatever its tenant (ingest knows only the `X-Device-ID`).
    pub async fn resolve_device(&self, id: &str) -> Result<Option<Device>> {
        if id.len() > 128 {
            return Ok(None);
        }
        let row: Option<DeviceRow> = on_pool!(self.pool(), p => {
            sqlx::query_as("SELECT id, tenant, name, secret, disabled, created_at FROM devices WHERE id = $1")
                .bind(id).fetch_optional(p).await?
        });
        row.map(DeviceRow::into_device).transpose()
    }
}

/// Splits `wk_<16 hex>_<64 hex>` into id and secret.
fn parse_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("wk_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(id, 16) && hex(secret, 64)).then_some((id, secret))
}
