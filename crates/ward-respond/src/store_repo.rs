//! `ResponseRepo` over Ward's state store: actions, approvals, playbook runs and their
//! append-only step journal live in the store's tables (SQLite or PostgreSQL, tenant on every
//! row), the kill switch in its global settings, and every audit entry is appended to its
//! hash-chained audit log, where `ward audit verify` and `GET /api/audit` see it. `ward serve`
//! and the `ward actions|approvals|killswitch` commands share this state through the store.

use async_trait::async_trait;
use ward_model::TenantId;
use ward_store::{NewAuditRecord, Store, StoreError};

use crate::model::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, AuditEntry, PlaybookRun,
    RunStatus, StepRecord,
};
use crate::repo::{RepoError, RepoResult, ResponseRepo};

/// Response state and audit in the state store.
#[derive(Clone, Debug)]
pub struct StoreRepo {
    store: Store,
}

impl StoreRepo {
    /// Response state kept in `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// A store failure with what was being done.
fn err(doing: &str) -> impl FnOnce(StoreError) -> RepoError + '_ {
    move |e| RepoError(format!("{doing}: {e}"))
}

#[async_trait]
impl ResponseRepo for StoreRepo {
    async fn insert_action(&self, action: &ActionRecord) -> RepoResult<(ActionRecord, bool)> {
        self.store.tenant(&action.tenant).insert_action(action).await.map_err(err("inserting action"))
    }
    async fn update_action(&self, action: &ActionRecord) -> RepoResult<()> {
        self.store.tenant(&action.tenant).update_action(action).await.map_err(err("updating action"))
    }
    async fn action(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ActionRecord>> {
        self.store.tenant(tenant).action(id).await.map_err(err("reading action"))
    }
    async fn actions(&self, tenant: &TenantId, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>> {
        self.store.tenant(tenant).list_actions(statuses).await.map_err(err("listing actions"))
    }
    async fn actions_on(
        &self,
        tenant: &TenantId,
        kind: ActionKind,
        target: &str,
        statuses: &[ActionStatus],
    ) -> RepoResult<Vec<ActionRecord>> {
        self.store
            .tenant(tenant)
            .list_actions_on(kind, target, statuses)
            .await
            .map_err(err("listing actions"))
    }
    async fn actions_with_status(&self, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>> {
        self.store.actions_with_status(statuses).await.map_err(err("listing actions by status"))
    }
    async fn put_approval(&self, approval: &ApprovalRecord) -> RepoResult<()> {
        self.store.tenant(&approval.tenant).put_approval(approval).await.map_err(err("writing approval"))
    }
    async fn approval(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ApprovalRecord>> {
        self.store.tenant(tenant).approval(id).await.map_err(err("reading approval"))
    }
    async fn approvals(
        &self,
        tenant: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> RepoResult<Vec<ApprovalRecord>> {
        self.store.tenant(tenant).list_approvals(status).await.map_err(err("listing approvals"))
    }
    async fn pending_approvals(&self) -> RepoResult<Vec<ApprovalRecord>> {
        self.store.pending_approvals().await.map_err(err("listing pending approvals"))
    }
    async fn setting(&self, key: &str) -> RepoResult<Option<String>> {
        self.store.global_setting(key).await.map_err(err("reading setting"))
    }
    async fn set_setting(&self, key: &str, value: &str) -> RepoResult<()> {
        self.store.set_global_setting(key, value).await.map_err(err("writing setting"))
    }
    async fn audit(&self, entry: &AuditEntry) -> RepoResult<()> {
        let record = NewAuditRecord {
            actor: entry.actor.clone(),
            action: format!("respond.{}", entry.event),
            target: entry.subject.clone(),
            details: entry.detail.clone(),
        };
        self.store
            .tenant(&entry.tenant)
            .append_audit(&record)
            .await
            .map(|_| ())
            .map_err(|e| RepoError(format!("appending audit {}: {e}", entry.event)))
    }
    async fn put_run(&self, run: &PlaybookRun) -> RepoResult<()> {
        self.store.tenant(&run.tenant).put_run(run).await.map_err(err("writing playbook run"))
    }
    async fn run(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<PlaybookRun>> {
        self.store.tenant(tenant).run(id).await.map_err(err("reading playbook run"))
    }
    async fn runs_with_status(&self, status: RunStatus) -> RepoResult<Vec<PlaybookRun>> {
        self.store.runs_with_status(status).await.map_err(err("listing playbook runs"))
    }
    async fn journal_append(&self, tenant: &TenantId, step: &StepRecord) -> RepoResult<()> {
        self.store.tenant(tenant).journal_append(step).await.map_err(err("appending to the playbook journal"))
    }
    async fn journal(&self, tenant: &TenantId, run_id: &str) -> RepoResult<Vec<StepRecord>> {
        self.store.tenant(tenant).journal(run_id).await.map_err(err("reading the playbook journal"))
    }
}
