//! `ResponseRepo` over Ward's state store: response state (actions, approvals, settings,
//! playbook runs and their journal) lives in a file-backed [`MemoryRepo`] under the data
//! directory, and every audit entry is appended to the store's hash-chained audit log, where
//! `ward audit verify` and `GET /api/audit` see it.
//!
//! The store's own action/approval/run tables use random ids and a different status set; moving
//! the state there is the next step (see docs/response.md, "Persistence").

use std::path::Path;

use async_trait::async_trait;
use ward_model::TenantId;
use ward_store::{NewAuditRecord, Store};

use crate::model::{
    ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, AuditEntry, PlaybookRun, RunStatus,
    StepRecord,
};
use crate::repo::{MemoryRepo, RepoError, RepoResult, ResponseRepo};

/// Response state in a file, audit in the store's chain.
pub struct StoreRepo {
    state: MemoryRepo,
    store: Store,
}

impl StoreRepo {
    /// State in `state_file`; audit records appended to `store`.
    ///
    /// # Errors
    /// The state file exists but cannot be read.
    pub fn open(state_file: &Path, store: Store) -> RepoResult<Self> {
        Ok(Self { state: MemoryRepo::open_file(state_file)?, store })
    }
}

#[async_trait]
impl ResponseRepo for StoreRepo {
    async fn insert_action(&self, action: &ActionRecord) -> RepoResult<(ActionRecord, bool)> {
        self.state.insert_action(action).await
    }
    async fn update_action(&self, action: &ActionRecord) -> RepoResult<()> {
        self.state.update_action(action).await
    }
    async fn action(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ActionRecord>> {
        self.state.action(tenant, id).await
    }
    async fn actions(&self, tenant: &TenantId, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>> {
        self.state.actions(tenant, statuses).await
    }
    async fn active_actions(&self) -> RepoResult<Vec<ActionRecord>> {
        self.state.active_actions().await
    }
    async fn put_approval(&self, approval: &ApprovalRecord) -> RepoResult<()> {
        self.state.put_approval(approval).await
    }
    async fn approval(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ApprovalRecord>> {
        self.state.approval(tenant, id).await
    }
    async fn approvals(
        &self,
        tenant: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> RepoResult<Vec<ApprovalRecord>> {
        self.state.approvals(tenant, status).await
    }
    async fn pending_approvals(&self) -> RepoResult<Vec<ApprovalRecord>> {
        self.state.pending_approvals().await
    }
    async fn setting(&self, key: &str) -> RepoResult<Option<String>> {
        self.state.setting(key).await
    }
    async fn set_setting(&self, key: &str, value: &str) -> RepoResult<()> {
        self.state.set_setting(key, value).await
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
        self.state.put_run(run).await
    }
    async fn run(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<PlaybookRun>> {
        self.state.run(tenant, id).await
    }
    async fn runs_with_status(&self, status: RunStatus) -> RepoResult<Vec<PlaybookRun>> {
        self.state.runs_with_status(status).await
    }
    async fn journal_append(&self, tenant: &TenantId, step: &StepRecord) -> RepoResult<()> {
        self.state.journal_append(tenant, step).await
    }
    async fn journal(&self, tenant: &TenantId, run_id: &str) -> RepoResult<Vec<StepRecord>> {
        self.state.journal(tenant, run_id).await
    }
}
