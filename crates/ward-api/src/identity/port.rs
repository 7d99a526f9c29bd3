//! The identity port: users (argon2id passwords), login sessions and API keys, as the API
//! needs them. The state store implements it (see [`crate::backend`]); the API never sees a
//! password hash or a stored key, only yes/no answers and freshly minted secrets shown once.
//! Records are the store's own types (`ward_store::User`, `ApiKey`, `CreatedApiKey`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use ward_model::TenantId;
use ward_store::{ApiKey, CreatedApiKey, CreatedSession, User};

use super::{Principal, Role};

/// A created user and its password, shown once.
#[derive(Debug)]
pub struct NewUser {
    /// The user.
    pub user: User,
    /// The password (the given one, or a generated one).
    pub password: SecretString,
}

/// Why an identity operation failed.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A user or key by that name/id already exists.
    #[error("{0}")]
    Duplicate(String),
    /// An argument is invalid (empty name, weak password, …).
    #[error("{0}")]
    Invalid(String),
    /// The store failed; the message names what and where, never a secret.
    #[error("identity store: {0}")]
    Backend(String),
}

/// Users, sessions and API keys.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// The user, when `password` is theirs and the user is enabled (the store spends the same
    /// work on unknown names, so timing does not reveal them).
    async fn check_password(
        &self,
        tenant: &TenantId,
        name: &str,
        password: &SecretString,
    ) -> Result<Option<User>, IdentityError>;

    /// Starts a session for `user` lasting `ttl`.
    async fn create_session(
        &self,
        user: &User,
        ttl: chrono::Duration,
    ) -> Result<CreatedSession, IdentityError>;

    /// The caller of a live (unexpired, not ended, user enabled) session of `tenant`.
    async fn session(&self, tenant: &TenantId, token: &str) -> Result<Option<Principal>, IdentityError>;

    /// Ends a session (no error when it is already gone).
    async fn end_session(&self, tenant: &TenantId, token: &str) -> Result<(), IdentityError>;

    /// The caller of a usable (unrevoked, unexpired) API key, from the bearer text.
    async fn api_key(&self, key: &str) -> Result<Option<Principal>, IdentityError>;

    /// Creates a user (and the tenant, if new); with no `password`, a strong one is generated.
    async fn create_user(
        &self,
        tenant: &TenantId,
        name: &str,
        role: Role,
        password: Option<SecretString>,
    ) -> Result<NewUser, IdentityError>;

    /// The tenant's users, by name.
    async fn users(&self, tenant: &TenantId) -> Result<Vec<User>, IdentityError>;

    /// Creates an API key (and the tenant, if new).
    async fn create_api_key(
        &self,
        tenant: &TenantId,
        role: Role,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiKey, IdentityError>;

    /// The tenant's API keys, newest first.
    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, IdentityError>;

    /// Revokes a key of `tenant`; `false` when the tenant has no such key.
    async fn revoke_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, IdentityError>;
}

/// `bytes` random bytes from the OS source as lowercase hex: generated passwords.
///
/// # Errors
/// [`IdentityError::Backend`] when the random source fails.
pub fn generate_secret(bytes: usize) -> Result<String, IdentityError> {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).map_err(|_| IdentityError::Backend("random source failed".into()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
