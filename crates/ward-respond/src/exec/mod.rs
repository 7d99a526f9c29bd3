//! The actions port: one `Executor` per action kind, each declaring its inverse, risk class and
//! verification check. Executors change the world; the `Responder` decides whether they may.

mod decoy;
mod http;
mod nft;
mod notify;
mod ssh;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ward_model::TenantId;

pub use decoy::{DecoyHit, DecoyManager, DecoySink, SensorInfo};
pub use http::{EdrExecutor, IdentityExecutor};
pub use nft::NftBlocker;
pub use notify::{EmailExecutor, JiraExecutor, SignedWebhookExecutor, SlackExecutor, webhook_signature};
pub use ssh::SshKeyRotator;

use crate::model::{ActionKind, RiskClass};

/// Why an executor failed.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The target is not valid for this action (never retried).
    #[error("{kind}: invalid target {target:?}: {reason}")]
    BadTarget {
        /// Action.
        kind: ActionKind,
        /// Target given.
        target: String,
        /// Why.
        reason: String,
    },
    /// The connector behind the action is not configured (never retried).
    #[error("{0}: not configured (see [respond] in the configuration)")]
    Unconfigured(ActionKind),
    /// The action failed (retried with backoff).
    #[error("{kind}: {message}")]
    Failed {
        /// Action.
        kind: ActionKind,
        /// What went wrong, with the connector's answer.
        message: String,
    },
}

impl ActionError {
    /// Whether retrying can help.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }

    pub(crate) fn failed(kind: ActionKind, message: impl Into<String>) -> Self {
        Self::Failed { kind, message: message.into() }
    }
}

/// What an executor is told about one execution.
#[derive(Clone, Debug)]
pub struct ExecContext {
    /// Owner.
    pub tenant: TenantId,
    /// The action record's id (idempotency key).
    pub action_id: String,
    /// The action.
    pub kind: ActionKind,
    /// Its target.
    pub target: String,
    /// Time to live, for actions that expire.
    pub ttl: Option<Duration>,
    /// The incident, if any.
    pub incident_id: Option<String>,
    /// Human text for notifications (incident title, score, reasons).
    pub message: String,
}

/// One action's implementation.
#[async_trait]
pub trait Executor: Send + Sync {
    /// The action it implements.
    fn kind(&self) -> ActionKind;
    /// Its risk class.
    fn risk(&self) -> RiskClass;
    /// The action that undoes it (`None`: nothing to undo, e.g. a sent message).
    fn inverse(&self) -> Option<ActionKind>;
    /// Whether a rollback undoes it (by default: when it has an inverse).
    fn reversible(&self) -> bool {
        self.inverse().is_some()
    }
    /// Checks a target before anything runs.
    ///
    /// # Errors
    /// [`ActionError::BadTarget`].
    fn validate(&self, target: &str) -> Result<(), ActionError>;
    /// Does it; returns the state needed to verify and undo it.
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError>;
    /// Whether the effect is in place now.
    async fn verify(&self, ctx: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError>;
    /// Undoes it.
    async fn undo(&self, ctx: &ExecContext, state: &serde_json::Value) -> Result<(), ActionError>;
    /// Whether the effect is gone now.
    async fn verify_undone(&self, ctx: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError>;
}

/// Runs an executor backwards: `unblock_ip` is `block_ip` undone, and so on.
pub struct Inverted {
    kind: ActionKind,
    inner: Arc<dyn Executor>,
}

impl Inverted {
    /// `kind` implemented as `inner`'s undo.
    pub fn new(kind: ActionKind, inner: Arc<dyn Executor>) -> Self {
        Self { kind, inner }
    }
}

#[async_trait]
impl Executor for Inverted {
    fn kind(&self) -> ActionKind {
        self.kind
    }
    fn risk(&self) -> RiskClass {
        RiskClass::Medium
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(self.inner.kind())
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        self.inner.validate(target)
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let state = serde_json::json!({"target": ctx.target});
        self.inner.undo(ctx, &state).await?;
        Ok(state)
    }
    async fn verify(&self, ctx: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError> {
        self.inner.verify_undone(ctx, state).await
    }
    async fn undo(&self, ctx: &ExecContext, _state: &serde_json::Value) -> Result<(), ActionError> {
        self.inner.execute(ctx).await.map(|_| ())
    }
    async fn verify_undone(&self, ctx: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError> {
        self.inner.verify(ctx, state).await
    }
}

/// The executors available, by action.
#[derive(Clone, Default)]
pub struct Executors {
    by_kind: BTreeMap<ActionKind, Arc<dyn Executor>>,
}

impl Executors {
    /// None registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) the executor of its kind.
    pub fn register(&mut self, executor: Arc<dyn Executor>) -> &mut Self {
        self.by_kind.insert(executor.kind(), executor);
        self
    }

    /// Registers `executor` and its inverse kind as `Inverted`.
    pub fn register_with_inverse(&mut self, executor: Arc<dyn Executor>) -> &mut Self {
        if let Some(inverse) = executor.inverse() {
            self.by_kind.insert(inverse, Arc::new(Inverted::new(inverse, executor.clone())));
        }
        self.register(executor)
    }

    /// The executor of `kind`.
    pub fn get(&self, kind: ActionKind) -> Option<&Arc<dyn Executor>> {
        self.by_kind.get(&kind)
    }

    /// The kinds registered.
    pub fn kinds(&self) -> Vec<ActionKind> {
        self.by_kind.keys().copied().collect()
    }
}

/// Checks an identifier-like target (host id, user id): 1–128 chars of `[A-Za-z0-9._@:-]`.
pub(crate) fn validate_identifier(kind: ActionKind, target: &str) -> Result<(), ActionError> {
    let ok = !target.is_empty()
        && target.len() <= 128
        && target.chars().all(|c| c.is_ascii_alphanumeric() || "._@:-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ActionError::BadTarget {
            kind,
            target: target.to_owned(),
            reason: "expected 1-128 characters of [A-Za-z0-9._@:-]".into(),
        })
    }
}
