//! The API's ports over the state store (`ward_store::Store`, SQLite or PostgreSQL): one
//! adapter, [`StoreBackend`], that implements [`IdentityStore`], [`IncidentStore`] and
//! [`AuditLog`] by calling the store's tenant-scoped handle (`store.tenant(&t)`), so every
//! query the API makes is bound to the caller's tenant by construction.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use ward_model::{AlertRecord, Incident, IncidentStatus, TenantId};
use ward_store::{
    AlertFilter, ApiKey, AuditFilter, AuthMethod, CreatedApiKey, CreatedSession, IncidentFilter,
    NewAuditRecord, SortField, SortOrder, Store, StoreError, User,
};

use crate::api::port::{
    AlertQuery, AuditEntry, AuditLog, AuditQuery, AuditRecord, Comment, Disposition, IncidentPatch,
    IncidentQuery, IncidentSort, IncidentStore, Label, Page, PortError, TimelineEntry,
};
use crate::api::{ApiPorts, DeadLetterReader, PipelineStats};
use crate::identity::{Credential, IdentityError, IdentityStore, NewUser, Principal, Role, generate_secret};
use crate::stream::StreamHub;

/// The API's ports implemented by the state store.
#[derive(Clone, Debug)]
pub struct StoreBackend {
    store: Store,
}

impl StoreBackend {
    /// An adapter over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The store it uses.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Everything the `/api/*` routes need, with this store behind identity, incidents and
    /// the audit log: pass the result to [`crate::AppState::with_api`].
    pub fn api_ports(
        &self,
        dead_letters: Arc<dyn DeadLetterReader>,
        hub: StreamHub,
        stats: Arc<PipelineStats>,
    ) -> ApiPorts {
        ApiPorts {
            identity: Arc::new(self.clone()),
            incidents: Arc::new(self.clone()),
            audit: Arc::new(self.clone()),
            dead_letters,
            hub,
            stats,
            enrichment: None,
            features: None,
            assets: None,
            response: None,
            playbooks: None,
        }
    }

    /// The asset port over this store; `live` (the tenant the enrichment chain serves and its
    /// inventory) is hot-swapped when that tenant's inventory is replaced. Pass it to
    /// [`ApiPorts::with_assets`].
    pub fn assets(
        &self,
        live: Option<(TenantId, Arc<ward_enrich::AssetInventory>)>,
    ) -> crate::api::StoreAssets {
        crate::api::StoreAssets::new(self.store.clone(), live)
    }
}

fn port(e: StoreError) -> PortError {
    match e {
        StoreError::NotFound { what, id } => PortError::NotFound(format!("{what} {id}")),
        StoreError::InvalidTransition(t) => PortError::InvalidTransition(t),
        StoreError::Conflict { reason } => PortError::Conflict(reason),
        StoreError::Invalid { field, reason } => PortError::Invalid(format!("{field}: {reason}")),
        other => PortError::Backend(other.to_string()),
    }
}

fn ident(e: StoreError) -> IdentityError {
    match e {
        StoreError::Conflict { reason } => IdentityError::Duplicate(reason),
        StoreError::Invalid { field, reason } => IdentityError::Invalid(format!("{field}: {reason}")),
        other => IdentityError::Backend(other.to_string()),
    }
}

fn principal(p: ward_store::Principal) -> Principal {
    let (subject, credential) = match p.method {
        AuthMethod::Session { .. } => (p.name, Credential::Session),
        AuthMethod::ApiKey { key_id } => (format!("apikey:{key_id}"), Credential::ApiKey { id: key_id }),
    };
    Principal { tenant: p.tenant, subject, role: p.role, credential }
}

fn limit(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[async_trait]
impl IdentityStore for StoreBackend {
    async fn check_password(
        &self,
        tenant: &TenantId,
        name: &str,
        password: &SecretString,
    ) -> Result<Option<User>, IdentityError> {
        self.store.tenant(tenant).authenticate(name, password.expose_secret()).await.map_err(ident)
    }

    async fn create_session(
        &self,
        user: &User,
        ttl: chrono::Duration,
    ) -> Result<CreatedSession, IdentityError> {
        let expires = Utc::now() + ttl;
        self.store.tenant(&user.tenant).create_session(&user.id, expires).await.map_err(ident)
    }

    async fn session(&self, tenant: &TenantId, token: &str) -> Result<Option<Principal>, IdentityError> {
        let found = self.store.resolve_session(token).await.map_err(ident)?;
        Ok(found.filter(|p| &p.tenant == tenant).map(principal))
    }

    async fn end_session(&self, tenant: &TenantId, token: &str) -> Result<(), IdentityError> {
        self.store.tenant(tenant).revoke_session_token(token).await.map_err(ident)
    }

    async fn api_key(&self, key: &str) -> Result<Option<Principal>, IdentityError> {
        Ok(self.store.resolve_api_key(key).await.map_err(ident)?.map(principal))
    }

    async fn create_user(
        &self,
        tenant: &TenantId,
        name: &str,
        role: Role,
        password: Option<SecretString>,
    ) -> Result<NewUser, IdentityError> {
        let password = match password {
            Some(p) => p,
            None => SecretString::from(generate_secret(16)?),
        };
        self.store.ensure_tenant(tenant).await.map_err(ident)?;
        let user = self
            .store
            .tenant(tenant)
            .create_user(name, role, Some(password.expose_secret()))
            .await
            .map_err(ident)?;
        Ok(NewUser { user, password })
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<User>, IdentityError> {
        self.store.tenant(tenant).list_users().await.map_err(ident)
    }

    async fn create_api_key(
        &self,
        tenant: &TenantId,
        role: Role,
        name: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedApiKey, IdentityError> {
        self.store.ensure_tenant(tenant).await.map_err(ident)?;
        let name = if name.is_empty() { format!("{role} key") } else { name.to_owned() };
        let new =
            ward_store::NewApiKey { name, user_id: None, role: Some(role), scopes: Vec::new(), expires_at };
        self.store.tenant(tenant).create_api_key(&new).await.map_err(ident)
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, IdentityError> {
        self.store.tenant(tenant).list_api_keys().await.map_err(ident)
    }

    async fn revoke_api_key(&self, tenant: &TenantId, id: &str) -> Result<bool, IdentityError> {
        match self.store.tenant(tenant).revoke_api_key(id).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(ident(e)),
        }
    }
}

fn sort(s: IncidentSort) -> ward_store::IncidentSort {
    let (field, order) = match s {
        IncidentSort::UpdatedDesc => (SortField::UpdatedAt, SortOrder::Desc),
        IncidentSort::CreatedDesc => (SortField::CreatedAt, SortOrder::Desc),
        IncidentSort::CreatedAsc => (SortField::CreatedAt, SortOrder::Asc),
        IncidentSort::ScoreDesc => (SortField::Score, SortOrder::Desc),
        IncidentSort::SeverityDesc => (SortField::Severity, SortOrder::Desc),
    };
    ward_store::IncidentSort { field, order }
}

/// Open statuses, for counting open incidents.
const OPEN: [IncidentStatus; 4] =
    [IncidentStatus::New, IncidentStatus::Triaging, IncidentStatus::Triaged, IncidentStatus::InProgress];

#[async_trait]
impl IncidentStore for StoreBackend {
    async fn list_incidents(
        &self,
        tenant: &TenantId,
        q: &IncidentQuery,
    ) -> Result<Page<Incident>, PortError> {
        let filter = IncidentFilter {
            statuses: q.status.clone(),
            severities: q.severity.clone(),
            min_severity: None,
            min_score: q.min_score,
            assignee: q.assignee.clone(),
            entity: q.entity.clone(),
            text: q.q.clone(),
            from: q.from,
            to: q.to,
        };
        let t = self.store.tenant(tenant);
        t.list_incidents(&filter, sort(q.sort), q.cursor.as_deref(), limit(q.limit)).await.map_err(port)
    }

    async fn incident(&self, tenant: &TenantId, id: &str) -> Result<Option<Incident>, PortError> {
        match self.store.tenant(tenant).incident(id).await {
            Ok(i) => Ok(Some(i)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(port(e)),
        }
    }

    async fn patch_incident(
        &self,
        tenant: &TenantId,
        id: &str,
        patch: &IncidentPatch,
        actor: &str,
    ) -> Result<Incident, PortError> {
        let assignee = patch.assignee.as_ref().map(|a| Some(a.clone()).filter(|a| !a.is_empty()));
        let p = ward_store::IncidentPatch { status: patch.status, assignee, severity: patch.severity };
        self.store.tenant(tenant).update_incident(id, &p, actor).await.map_err(port)
    }

    async fn add_comment(
        &self,
        tenant: &TenantId,
        id: &str,
        author: &str,
        body: &str,
    ) -> Result<Comment, PortError> {
        self.store.tenant(tenant).add_comment(id, author, body).await.map_err(port)
    }

    async fn comments(&self, tenant: &TenantId, id: &str) -> Result<Vec<Comment>, PortError> {
        self.store.tenant(tenant).list_comments(id).await.map_err(port)
    }

    async fn timeline(&self, tenant: &TenantId, id: &str) -> Result<Vec<TimelineEntry>, PortError> {
        self.store.tenant(tenant).list_timeline(id).await.map_err(port)
    }

    async fn merge(
        &self,
        tenant: &TenantId,
        into: &str,
        others: &[String],
        actor: &str,
    ) -> Result<Incident, PortError> {
        self.store.tenant(tenant).merge_incidents(into, others, actor).await.map_err(port)
    }

    async fn split(
        &self,
        tenant: &TenantId,
        id: &str,
        alert_ids: &[String],
        actor: &str,
    ) -> Result<Incident, PortError> {
        self.store.tenant(tenant).split_incident(id, alert_ids, actor).await.map_err(port)
    }

    async fn add_label(
        &self,
        tenant: &TenantId,
        id: &str,
        d: &Disposition,
        actor: &str,
    ) -> Result<Label, PortError> {
        let t = self.store.tenant(tenant);
        let label = t.add_label(id, d.verdict.as_str(), actor).await.map_err(port)?;
        if !d.note.trim().is_empty() {
            let body = format!("disposition {}: {}", d.verdict, d.note.trim());
            t.add_comment(id, actor, &body).await.map_err(port)?;
        }
        Ok(label)
    }

    async fn list_alerts(&self, tenant: &TenantId, q: &AlertQuery) -> Result<Page<AlertRecord>, PortError> {
        let filter = AlertFilter {
            from: q.from,
            to: q.to,
            rule_id: q.rule_id.clone(),
            kind: None,
            level: None,
            min_level: q.min_level,
            incident_id: q.incident.clone(),
        };
        self.store
            .tenant(tenant)
            .list_alerts(&filter, q.cursor.as_deref(), limit(q.limit))
            .await
            .map_err(port)
    }

    async fn alert(&self, tenant: &TenantId, id: &str) -> Result<Option<AlertRecord>, PortError> {
        match self.store.tenant(tenant).alert(id).await {
            Ok(a) => Ok(Some(a)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(port(e)),
        }
    }

    async fn open_incidents(&self, tenant: &TenantId) -> Result<u64, PortError> {
        let filter = IncidentFilter { statuses: OPEN.to_vec(), ..IncidentFilter::default() };
        let (t, mut cursor, mut count) = (self.store.tenant(tenant), None::<String>, 0u64);
        // The store has no count query yet: page through ids, 1000 at a time.
        loop {
            let page = t
                .list_incidents(&filter, ward_store::IncidentSort::default(), cursor.as_deref(), 1000)
                .await
                .map_err(port)?;
            count += page.items.len() as u64;
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(count),
            }
        }
    }
}

#[async_trait]
impl AuditLog for StoreBackend {
    async fn append(&self, tenant: &TenantId, entry: AuditEntry) -> Result<(), PortError> {
        let new = NewAuditRecord {
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            details: entry.detail,
        };
        self.store.tenant(tenant).append_audit(&new).await.map(drop).map_err(port)
    }

    async fn records(&self, tenant: &TenantId, q: &AuditQuery) -> Result<Page<AuditRecord>, PortError> {
        let filter = AuditFilter { actor: q.actor.clone(), action: q.action.clone(), from: None, to: None };
        self.store.tenant(tenant).list_audit(&filter, q.cursor.as_deref(), limit(q.limit)).await.map_err(port)
    }
}
