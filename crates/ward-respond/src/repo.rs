//! The persistence response needs, as a port: actions, approvals, settings (kill switch), the
//! audit chain and the playbook-run journal. [`MemoryRepo`] serves tests; [`StoreRepo`]
//! (crate::StoreRepo) keeps everything in Ward's state store (SQLite or PostgreSQL). Both pass
//! the one conformance suite in `tests/it/repo_conformance.rs`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use ward_model::TenantId;

use crate::model::{
    ActionKind, ActionRecord, ActionStatus, ApprovalRecord, ApprovalStatus, AuditEntry, PlaybookRun,
    RunStatus, StepRecord,
};

/// A storage failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("response store: {0}")]
pub struct RepoError(pub String);

/// Result of repo calls.
pub type RepoResult<T> = Result<T, RepoError>;

/// Storage port of the response stage. Every lookup is scoped to one tenant.
#[async_trait]
pub trait ResponseRepo: Send + Sync {
    /// Inserts an action unless one with its id exists; returns the stored one and whether it was new.
    async fn insert_action(&self, action: &ActionRecord) -> RepoResult<(ActionRecord, bool)>;
    /// Overwrites an existing action.
    async fn update_action(&self, action: &ActionRecord) -> RepoResult<()>;
    /// One action.
    async fn action(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ActionRecord>>;
    /// Actions of a tenant, newest first, optionally only those with one of `statuses`.
    async fn actions(&self, tenant: &TenantId, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>>;
    /// Actions of `kind` on `target`, newest first, only those with one of `statuses` unless it
    /// is empty (counting a repeat offender's earlier blocks). Adapters with an index override
    /// this scan of every action.
    async fn actions_on(
        &self,
        tenant: &TenantId,
        kind: ActionKind,
        target: &str,
        statuses: &[ActionStatus],
    ) -> RepoResult<Vec<ActionRecord>> {
        let all = self.actions(tenant, statuses).await?;
        Ok(all.into_iter().filter(|a| a.kind == kind && a.target == target).collect())
    }
    /// Active (executed/verified) actions of every tenant, for the reconciler.
    async fn active_actions(&self) -> RepoResult<Vec<ActionRecord>> {
        self.actions_with_status(&[ActionStatus::Executed, ActionStatus::Verified]).await
    }
    /// Actions of every tenant with one of `statuses` (the start-up sweep of interrupted ones).
    async fn actions_with_status(&self, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>>;
    /// Inserts or replaces an approval.
    async fn put_approval(&self, approval: &ApprovalRecord) -> RepoResult<()>;
    /// One approval.
    async fn approval(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ApprovalRecord>>;
    /// Approvals of a tenant, optionally only with `status`.
    async fn approvals(
        &self,
        tenant: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> RepoResult<Vec<ApprovalRecord>>;
    /// Pending approvals of every tenant, for expiry.
    async fn pending_approvals(&self) -> RepoResult<Vec<ApprovalRecord>>;
    /// A global setting (`respond.kill_switch`).
    async fn setting(&self, key: &str) -> RepoResult<Option<String>>;
    /// Sets a global setting.
    async fn set_setting(&self, key: &str, value: &str) -> RepoResult<()>;
    /// Appends to the audit chain.
    async fn audit(&self, entry: &AuditEntry) -> RepoResult<()>;
    /// Inserts or replaces a playbook run.
    async fn put_run(&self, run: &PlaybookRun) -> RepoResult<()>;
    /// One run.
    async fn run(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<PlaybookRun>>;
    /// Runs of every tenant with `status`, for resumption.
    async fn runs_with_status(&self, status: RunStatus) -> RepoResult<Vec<PlaybookRun>>;
    /// Appends a journal line.
    async fn journal_append(&self, tenant: &TenantId, step: &StepRecord) -> RepoResult<()>;
    /// A run's journal in append order.
    async fn journal(&self, tenant: &TenantId, run_id: &str) -> RepoResult<Vec<StepRecord>>;
}

#[derive(Default)]
struct Tables {
    actions: BTreeMap<(TenantId, String), ActionRecord>,
    approvals: BTreeMap<(TenantId, String), ApprovalRecord>,
    settings: BTreeMap<String, String>,
    audit: Vec<AuditEntry>,
    runs: BTreeMap<(TenantId, String), PlaybookRun>,
    journal: Vec<(TenantId, StepRecord)>,
}

/// In-memory `ResponseRepo` for tests. Survives a `Responder` restart as long as the same
/// `Arc` is kept, which is how tests simulate a process restart.
#[derive(Default)]
pub struct MemoryRepo {
    tables: Mutex<Tables>,
}

impl MemoryRepo {
    /// An empty repo.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every audit entry so far, in order.
    pub fn audit_entries(&self) -> Vec<AuditEntry> {
        self.lock().map(|t| t.audit.clone()).unwrap_or_default()
    }

    fn lock(&self) -> RepoResult<std::sync::MutexGuard<'_, Tables>> {
        self.tables.lock().map_err(|_| RepoError("memory repo lock poisoned".into()))
    }
}

fn key(tenant: &TenantId, id: &str) -> (TenantId, String) {
    (tenant.clone(), id.to_owned())
}

#[async_trait]
impl ResponseRepo for MemoryRepo {
    async fn insert_action(&self, action: &ActionRecord) -> RepoResult<(ActionRecord, bool)> {
        let mut t = self.lock()?;
        let k = key(&action.tenant, &action.id);
        if let Some(existing) = t.actions.get(&k) {
            return Ok((existing.clone(), false));
        }
        t.actions.insert(k, action.clone());
        Ok((action.clone(), true))
    }
    async fn update_action(&self, action: &ActionRecord) -> RepoResult<()> {
        let mut t = self.lock()?;
        let k = key(&action.tenant, &action.id);
        match t.actions.get_mut(&k) {
            Some(slot) => {
                *slot = action.clone();
                Ok(())
            }
            None => Err(RepoError(format!("updating action {}: not found", action.id))),
        }
    }
    async fn action(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ActionRecord>> {
        Ok(self.lock()?.actions.get(&key(tenant, id)).cloned())
    }
    async fn actions(&self, tenant: &TenantId, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>> {
        let t = self.lock()?;
        let mut out: Vec<ActionRecord> = t
            .actions
            .values()
            .filter(|a| &a.tenant == tenant && (statuses.is_empty() || statuses.contains(&a.status)))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }
    async fn actions_with_status(&self, statuses: &[ActionStatus]) -> RepoResult<Vec<ActionRecord>> {
        Ok(self.lock()?.actions.values().filter(|a| statuses.contains(&a.status)).cloned().collect())
    }
    async fn put_approval(&self, approval: &ApprovalRecord) -> RepoResult<()> {
        let mut t = self.lock()?;
        if !t.actions.contains_key(&key(&approval.tenant, &approval.action_id)) {
            return Err(RepoError(format!(
                "approval {}: action {} not found",
                approval.id, approval.action_id
            )));
        }
        t.approvals.insert(key(&approval.tenant, &approval.id), approval.clone());
        Ok(())
    }
    async fn approval(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<ApprovalRecord>> {
        Ok(self.lock()?.approvals.get(&key(tenant, id)).cloned())
    }
    async fn approvals(
        &self,
        tenant: &TenantId,
        status: Option<ApprovalStatus>,
    ) -> RepoResult<Vec<ApprovalRecord>> {
        let t = self.lock()?;
        Ok(t.approvals
            .values()
            .filter(|a| &a.tenant == tenant && status.is_none_or(|s| a.status == s))
            .cloned()
            .collect())
    }
    async fn pending_approvals(&self) -> RepoResult<Vec<ApprovalRecord>> {
        let t = self.lock()?;
        Ok(t.approvals.values().filter(|a| a.status == ApprovalStatus::Pending).cloned().collect())
    }
    async fn setting(&self, key: &str) -> RepoResult<Option<String>> {
        Ok(self.lock()?.settings.get(key).cloned())
    }
    async fn set_setting(&self, key: &str, value: &str) -> RepoResult<()> {
        let mut t = self.lock()?;
        t.settings.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
    async fn audit(&self, entry: &AuditEntry) -> RepoResult<()> {
        let mut t = self.lock()?;
        t.audit.push(entry.clone());
        Ok(())
    }
    async fn put_run(&self, run: &PlaybookRun) -> RepoResult<()> {
        let mut t = self.lock()?;
        t.runs.insert(key(&run.tenant, &run.id), run.clone());
        Ok(())
    }
    async fn run(&self, tenant: &TenantId, id: &str) -> RepoResult<Option<PlaybookRun>> {
        Ok(self.lock()?.runs.get(&key(tenant, id)).cloned())
    }
    async fn runs_with_status(&self, status: RunStatus) -> RepoResult<Vec<PlaybookRun>> {
        Ok(self.lock()?.runs.values().filter(|r| r.status == status).cloned().collect())
    }
    async fn journal_append(&self, tenant: &TenantId, step: &StepRecord) -> RepoResult<()> {
        let mut t = self.lock()?;
        t.journal.push((tenant.clone(), step.clone()));
        Ok(())
    }
    async fn journal(&self, tenant: &TenantId, run_id: &str) -> RepoResult<Vec<StepRecord>> {
        let t = self.lock()?;
        Ok(t.journal
            .iter()
            .filter(|(tn, s)| tn == tenant && s.run_id == run_id)
            .map(|(_, s)| s.clone())
            .collect())
    }
}
