//! Who is calling the `/api/*` routes: roles, the authenticated principal, the identity port
//! (users, sessions, API keys), the request authenticator and login rate limiting.
//!
//! A request carries either `Authorization: Bearer <api key>` or the session cookie
//! [`SESSION_COOKIE`] set by `POST /api/auth/login`. Either one resolves to a [`Principal`]:
//! a tenant, a subject and a [`Role`]. The tenant of every API answer comes from the principal,
//! never from the request.

pub mod authn;
pub mod login;
pub mod port;

use serde::Serialize;
use ward_model::TenantId;

pub use port::{IdentityError, IdentityStore, NewUser, generate_secret};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ward_session";

/// What a caller may do: the store's role (admin, analyst, responder, viewer). Permissions
/// come from the route × role matrix ([`crate::api::matrix`]).
pub use ward_store::Role;

/// How the caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A login session (cookie).
    Session,
    /// A bearer API key, by its id.
    ApiKey {
        /// The key's public id.
        id: String,
    },
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The tenant every answer is scoped to.
    pub tenant: TenantId,
    /// User name, or `apikey:<id>` for keys.
    pub subject: String,
    /// What it may do.
    pub role: Role,
    /// How it authenticated.
    pub credential: Credential,
}

impl Principal {
    /// The name recorded as the actor in audit records and timelines.
    pub fn actor(&self) -> &str {
        &self.subject
    }
}
