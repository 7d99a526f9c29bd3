//! Playbooks: YAML documents that say what to do when an incident matches a trigger, executed
//! durably. Every step is journaled through the `ResponseRepo` (`started` → `completed` or
//! `failed`); a run picked up after a restart skips completed steps (re-using their journaled
//! outputs and condition branches) and re-enters the one that was in flight with the same
//! attempt number, whose actions are idempotent by (run, step, attempt). On failure, completed
//! action steps are rolled back in reverse order when `on_failure: rollback`.
//!
//! ```yaml
//! name: ssh-brute-force
//! trigger: { severity: high, rule_tags: [attack.t1110] }
//! on_failure: rollback
//! steps:
//!   - { id: facts, enrich: {} }
//!   - id: gate
//!     condition: { if: "score >= 0.7", then: [ { id: block, action: block_ip, target: "{{source.ip}}", ttl: 10m } ] }
//!   - { id: tell, notify: { channel: security, message: "blocked {{source.ip}}" }, timeout: 30s, retries: 2 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use ward_model::{AlertRecord, Incident, Severity, TenantId};

use crate::model::{ActionKind, ActionStatus, PlaybookRun, RunStatus, StepRecord, StepState};
use crate::repo::RepoError;
use crate::responder::{ActionRequest, Origin, RespondError, Responder};
use crate::{hash_id, parse_duration};

/// A playbook that failed validation, naming file, step and field.
#[derive(Debug, thiserror::Error)]
#[error("{file}: step {step:?}, field {field:?}: {message}")]
pub struct PlaybookError {
    /// The file (or `<inline>`).
    pub file: String,
    /// The step id (`-` for top-level fields).
    pub step: String,
    /// The field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// When a playbook runs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Trigger {
    /// Minimum incident severity.
    pub severity: Option<Severity>,
    /// Any of these rule tags on the incident's alerts.
    pub rule_tags: Vec<String>,
    /// Incident type: the field of its grouping key (`source.ip` for `source.ip=…`).
    pub incident_type: Option<String>,
}

/// A step as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepDef {
    /// Unique among siblings.
    pub id: String,
    /// Record the incident's facts in the run (no I/O).
    pub enrich: Option<serde_json::Value>,
    /// An action name.
    pub action: Option<String>,
    /// The action's target; `{{field}}` takes the incident's first value of an entity field.
    pub target: Option<String>,
    /// The action's TTL (`10m`).
    pub ttl: Option<String>,
    /// A notification.
    pub notify: Option<NotifyDef>,
    /// Ask a human to approve an action, and wait for the answer.
    pub wait_for_approval: Option<ApprovalDef>,
    /// Branch on the incident.
    pub condition: Option<ConditionDef>,
    /// Steps run concurrently.
    pub parallel: Option<Vec<StepDef>>,
    /// Per-attempt timeout (default 60s).
    pub timeout: Option<String>,
    /// Extra attempts after a failure (default 0).
    pub retries: Option<u32>,
}

/// `notify:`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyDef {
    /// Channel (Slack channel name).
    pub channel: String,
    /// Text with `{{field}}` placeholders.
    pub message: String,
}

/// `wait_for_approval:`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDef {
    /// The action to approve.
    pub action: String,
    /// Its target.
    pub target: String,
}

/// `condition:`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionDef {
    /// `score|severity|alert_count <op> value` with op one of `>= > <= < == !=`.
    #[serde(rename = "if")]
    pub test: String,
    /// Steps when true.
    #[serde(default)]
    pub then: Vec<StepDef>,
    /// Steps when false.
    #[serde(default, rename = "else")]
    pub otherwise: Vec<StepDef>,
}

/// What to do when a step fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Undo completed action steps in reverse order.
    #[default]
    Rollback,
    /// Leave them.
    Stop,
}

/// A playbook as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookDef {
    /// Unique name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// When it runs.
    #[serde(default)]
    pub trigger: Trigger,
    /// What to do on failure.
    #[serde(default)]
    pub on_failure: OnFailure,
    /// The steps.
    pub steps: Vec<StepDef>,
}

/// A validated playbook.
#[derive(Clone, Debug)]
pub struct Playbook {
    /// The definition.
    pub def: PlaybookDef,
    /// Content hash.
    pub hash: String,
    steps: Vec<Step>,
}

#[derive(Clone, Debug)]
enum StepKind {
    Enrich,
    Action { kind: ActionKind, target: String, ttl: Option<Duration>, approval: bool },
    Notify { channel: String, message: String },
    Condition { test: Condition, then: Vec<Step>, otherwise: Vec<Step> },
    Parallel(Vec<Step>),
}

#[derive(Clone, Debug)]
struct Step {
    id: String,
    kind: StepKind,
    timeout: Duration,
    retries: u32,
}

#[derive(Clone, Debug)]
struct Condition {
    lhs: String,
    op: String,
    rhs: String,
}

impl Playbook {
    /// Parses and validates YAML; `file` names the source in errors.
    ///
    /// # Errors
    /// The first problem, with file, step and field.
    pub fn parse(file: &str, text: &str) -> Result<Self, PlaybookError> {
        let err = |step: &str, field: &str, message: String| PlaybookError {
            file: file.to_owned(),
            step: step.to_owned(),
            field: field.to_owned(),
            message,
        };
        if text.len() > 1 << 20 {
            return Err(err("-", "-", "playbook larger than 1 MiB".into()));
        }
        let def: PlaybookDef = serde_saphyr::from_str(text).map_err(|e| err("-", "-", e.to_string()))?;
        if def.name.trim().is_empty() {
            return Err(err("-", "name", "must not be empty".into()));
        }
        if def.steps.is_empty() {
            return Err(err("-", "steps", "a playbook needs at least one step".into()));
        }
        let steps = validate_steps(&def.steps, &|s, f, m| err(s, f, m))?;
        Ok(Self { hash: hash_id(&[text]), def, steps })
    }

    /// Loads every `*.yml`/`*.yaml` of a folder.
    ///
    /// # Errors
    /// Unreadable files or the first invalid playbook.
    pub fn load_dir(dir: &Path) -> Result<Vec<Self>, PlaybookError> {
        let io = |p: &Path, e: std::io::Error| PlaybookError {
            file: p.display().to_string(),
            step: "-".into(),
            field: "-".into(),
            message: e.to_string(),
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| io(p, e))?;
                Self::parse(&p.display().to_string(), &text)
            })
            .collect()
    }

    /// Whether an incident (with its alerts) matches the trigger.
    pub fn matches(&self, incident: &Incident, alerts: &[AlertRecord]) -> bool {
        let t = &self.def.trigger;
        let severity = t.severity.is_none_or(|s| incident.severity >= s);
        let tags = t.rule_tags.is_empty()
            || alerts.iter().any(|a| a.tags.iter().any(|tag| t.rule_tags.contains(tag)));
        let kind =
            t.incident_type.as_ref().is_none_or(|k| incident.group_key.split('=').next() == Some(k.as_str()));
        severity && tags && kind
    }
}

type ErrFn<'a> = dyn Fn(&str, &str, String) -> PlaybookError + 'a;

fn validate_steps(defs: &[StepDef], err: &ErrFn<'_>) -> Result<Vec<Step>, PlaybookError> {
    let mut seen = std::collections::BTreeSet::new();
    defs.iter()
        .enumerate()
        .map(|(i, d)| {
            let id = if d.id.is_empty() { format!("#{}", i + 1) } else { d.id.clone() };
            if d.id.is_empty() {
                return Err(err(&id, "id", "every step needs an id".into()));
            }
            if !d.id.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)) {
                return Err(err(&id, "id", "use [A-Za-z0-9_-]".into()));
            }
            if !seen.insert(d.id.clone()) {
                return Err(err(&id, "id", "duplicate step id".into()));
            }
            validate_step(&id, d, err)
        })
        .collect()
}

fn validate_step(id: &str, d: &StepDef, err: &ErrFn<'_>) -> Result<Step, PlaybookError> {
    let set = [
        d.enrich.is_some(),
        d.action.is_some(),
        d.notify.is_some(),
        d.wait_for_approval.is_some(),
        d.condition.is_some(),
        d.parallel.is_some(),
    ];
    if set.iter().filter(|b| **b).count() != 1 {
        return Err(err(
            id,
            "-",
            "exactly one of enrich, action, notify, wait_for_approval, condition, parallel".into(),
        ));
    }
    let duration = |field: &str, v: &Option<String>| -> Result<Option<Duration>, PlaybookError> {
        v.as_deref().map(parse_duration).transpose().map_err(|m| err(id, field, m))
    };
    let timeout = duration("timeout", &d.timeout)?.unwrap_or(Duration::from_secs(60));
    let action =
        |field: &str, name: &str| name.parse::<ActionKind>().map_err(|e| err(id, field, e.to_string()));
    let kind = if d.enrich.is_some() {
        StepKind::Enrich
    } else if let Some(name) = &d.action {
        let target =
            d.target.clone().ok_or_else(|| err(id, "target", "an action step needs a target".into()))?;
        StepKind::Action {
            kind: action("action", name)?,
            target,
            ttl: duration("ttl", &d.ttl)?,
            approval: false,
        }
    } else if let Some(n) = &d.notify {
        StepKind::Notify { channel: n.channel.clone(), message: n.message.clone() }
    } else if let Some(w) = &d.wait_for_approval {
        StepKind::Action {
            kind: action("wait_for_approval.action", &w.action)?,
            target: w.target.clone(),
            ttl: None,
            approval: true,
        }
    } else if let Some(c) = &d.condition {
        let test = parse_condition(&c.test).map_err(|m| err(id, "condition.if", m))?;
        let then = validate_steps(&c.then, &|s, f, m| err(&format!("{id}/{s}"), f, m))?;
        let otherwise = validate_steps(&c.otherwise, &|s, f, m| err(&format!("{id}/{s}"), f, m))?;
        StepKind::Condition { test, then, otherwise }
    } else {
        let children = d.parallel.clone().unwrap_or_default();
        if children.is_empty() {
            return Err(err(id, "parallel", "needs at least one step".into()));
        }
        StepKind::Parallel(validate_steps(&children, &|s, f, m| err(&format!("{id}/{s}"), f, m))?)
    };
    Ok(Step { id: id.to_owned(), kind, timeout, retries: d.retries.unwrap_or(0).min(10) })
}

fn parse_condition(text: &str) -> Result<Condition, String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [lhs, op, rhs] = parts.as_slice() else {
        return Err(format!("{text:?}: expected `<score|severity|alert_count> <op> <value>`"));
    };
    if !["score", "severity", "alert_count"].contains(lhs) {
        return Err(format!("unknown variable {lhs:?} (score, severity, alert_count)"));
    }
    if ![">=", ">", "<=", "<", "==", "!="].contains(op) {
        return Err(format!("unknown operator {op:?}"));
    }
    let valid = if *lhs == "severity" { rhs.parse::<Severity>().is_ok() } else { rhs.parse::<f64>().is_ok() };
    if !valid {
        return Err(format!("{rhs:?} is not a valid value for {lhs}"));
    }
    Ok(Condition { lhs: (*lhs).into(), op: (*op).into(), rhs: (*rhs).into() })
}

fn eval_condition(c: &Condition, ctx: &serde_json::Value) -> bool {
    let (l, r) = if c.lhs == "severity" {
        let rank = |s: &str| s.parse::<Severity>().map(|s| s as u8 as f64).unwrap_or(-1.0);
        (rank(ctx["severity"].as_str().unwrap_or("")), rank(&c.rhs))
    } else {
        (ctx[c.lhs.as_str()].as_f64().unwrap_or(0.0), c.rhs.parse::<f64>().unwrap_or(0.0))
    };
    match c.op.as_str() {
        ">=" => l >= r,
        ">" => l > r,
        "<=" => l <= r,
        "<" => l < r,
        "==" => l == r,
        _ => l != r,
    }
}

/// Fills `{{field}}` placeholders from the run context (first value of an entity field, or
/// `incident.id`/`incident.title`); an unknown placeholder is an error.
fn render(template: &str, ctx: &serde_json::Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed placeholder in {template:?}"))?;
        let name = after[..end].trim();
        let value = match name {
            "incident.id" | "incident.title" => ctx["incident"][&name[9..]].as_str().map(str::to_owned),
            "score" => ctx["score"].as_f64().map(|s| format!("{s:.2}")),
            _ => ctx["entities"][name][0].as_str().map(str::to_owned),
        };
        out.push_str(&value.ok_or_else(|| format!("the incident has no {name}"))?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A step failure.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("step {step}: {message}")]
    Step { step: String, message: String },
    #[error(transparent)]
    Respond(#[from] RespondError),
}

impl From<RepoError> for StepError {
    fn from(e: RepoError) -> Self {
        Self::Respond(e.into())
    }
}

/// Runs playbooks durably on top of a `Responder`.
pub struct PlaybookRunner {
    responder: Arc<Responder>,
    playbooks: BTreeMap<String, Arc<Playbook>>,
    poll: Duration,
}

struct Journal {
    completed: BTreeMap<String, serde_json::Value>,
    attempts: BTreeMap<String, u32>,
}

impl PlaybookRunner {
    /// A runner for `playbooks` (by name).
    pub fn new(responder: Arc<Responder>, playbooks: Vec<Playbook>) -> Self {
        let playbooks = playbooks.into_iter().map(|p| (p.def.name.clone(), Arc::new(p))).collect();
        Self { responder, playbooks, poll: Duration::from_millis(200) }
    }

    /// The playbooks loaded.
    pub fn playbooks(&self) -> impl Iterator<Item = &Playbook> {
        self.playbooks.values().map(AsRef::as_ref)
    }

    /// Creates (once: the run id is deterministic) a run of `playbook` on an incident.
    ///
    /// # Errors
    /// Unknown playbook or store failure.
    pub async fn create_run(
        &self,
        playbook: &str,
        incident: &Incident,
        alerts: &[AlertRecord],
    ) -> Result<PlaybookRun, RespondError> {
        let pb = self
            .playbooks
            .get(playbook)
            .ok_or_else(|| RespondError::NotFound { what: "playbook", id: playbook.into() })?;
        let id = hash_id(&[incident.tenant.as_str(), playbook, &incident.id]);
        let repo = self.responder.repo();
        if let Some(existing) = repo.run(&incident.tenant, &id).await? {
            return Ok(existing);
        }
        let fused = crate::fusion::fuse(&crate::config::FusionWeights::default(), incident, alerts);
        let now = self.responder.now();
        let run = PlaybookRun {
            id,
            tenant: incident.tenant.clone(),
            playbook: playbook.into(),
            playbook_hash: pb.hash.clone(),
            incident_id: incident.id.clone(),
            context: serde_json::json!({
                "incident": {"id": incident.id, "title": incident.title},
                "score": incident.score.max(fused.score),
                "severity": incident.severity.as_str(),
                "alert_count": incident.alert_count,
                "entities": incident.entities,
            }),
            status: RunStatus::Running,
            reason: "started".into(),
            created_at: now,
            updated_at: now,
        };
        repo.put_run(&run).await?;
        self.responder
            .audit(
                &run.tenant,
                "playbook",
                "playbook.started",
                &run.id,
                serde_json::json!({"playbook": playbook, "incident_id": incident.id}),
            )
            .await?;
        Ok(run)
    }

    /// Creates runs of every playbook whose trigger matches.
    ///
    /// # Errors
    /// Store failure.
    pub async fn on_incident(
        &self,
        incident: &Incident,
        alerts: &[AlertRecord],
    ) -> Result<Vec<PlaybookRun>, RespondError> {
        let mut runs = Vec::new();
        for pb in self.playbooks.values().filter(|p| p.matches(incident, alerts)) {
            runs.push(self.create_run(&pb.def.name, incident, alerts).await?);
        }
        Ok(runs)
    }

    /// Runs still `running` in the store (to resume after a restart).
    ///
    /// # Errors
    /// Store failure.
    pub async fn unfinished(&self) -> Result<Vec<PlaybookRun>, RespondError> {
        Ok(self.responder.repo().runs_with_status(RunStatus::Running).await?)
    }

    /// Drives a run to its end from wherever its journal says it is.
    ///
    /// # Errors
    /// Store failure (step failures end the run as `failed`, not as an error).
    pub async fn drive(&self, tenant: &TenantId, run_id: &str) -> Result<PlaybookRun, RespondError> {
        let repo = self.responder.repo();
        let mut run = repo
            .run(tenant, run_id)
            .await?
            .ok_or_else(|| RespondError::NotFound { what: "playbook run", id: run_id.into() })?;
        if run.status != RunStatus::Running {
            return Ok(run);
        }
        let pb = self
            .playbooks
            .get(&run.playbook)
            .cloned()
            .ok_or_else(|| RespondError::NotFound { what: "playbook", id: run.playbook.clone() })?;
        let mut journal = Journal { completed: BTreeMap::new(), attempts: BTreeMap::new() };
        for rec in repo.journal(tenant, run_id).await? {
            match rec.state {
                StepState::Completed => {
                    journal.completed.insert(rec.step.clone(), rec.output);
                }
                StepState::Started => {
                    journal.attempts.insert(rec.step.clone(), rec.attempt);
                }
                _ => {}
            }
        }
        let journal = Arc::new(journal);
        let mut done_actions = Vec::new();
        let result = self.run_steps(&run, &pb.steps, "", journal, &mut done_actions).await;
        run.updated_at = self.responder.now();
        match result {
            Ok(()) => {
                run.status = RunStatus::Completed;
                run.reason = "completed".into();
            }
            Err(StepError::Respond(e)) => return Err(e),
            Err(StepError::Step { step, message }) => {
                let mut rolled = 0;
                if pb.def.on_failure == OnFailure::Rollback {
                    for (path, action_id) in done_actions.iter().rev() {
                        let actor = format!("playbook:{}", run.id);
                        if let Ok(r) = self.responder.rollback(tenant, action_id, &actor).await
                            && r.status == ActionStatus::RolledBack
                        {
                            rolled += 1;
                            self.journal(
                                &run,
                                path,
                                StepState::RolledBack,
                                0,
                                serde_json::json!({"action_id": action_id}),
                            )
                            .await?;
                        }
                    }
                }
                run.status = RunStatus::Failed;
                run.reason = format!("step {step} failed: {message}; rolled back {rolled} step(s)");
            }
        }
        repo.put_run(&run).await?;
        self.responder
            .audit(
                tenant,
                "playbook",
                &format!("playbook.{}", run.status),
                &run.id,
                serde_json::json!({"reason": run.reason}),
            )
            .await?;
        Ok(run)
    }

    fn run_steps<'a>(
        &'a self,
        run: &'a PlaybookRun,
        steps: &'a [Step],
        prefix: &'a str,
        journal: Arc<Journal>,
        done_actions: &'a mut Vec<(String, String)>,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            for step in steps {
                let path = format!("{prefix}{}", step.id);
                self.run_step(run, step, &path, journal.clone(), done_actions).await?;
            }
            Ok(())
        })
    }

    async fn run_step(
        &self,
        run: &PlaybookRun,
        step: &Step,
        path: &str,
        journal: Arc<Journal>,
        done_actions: &mut Vec<(String, String)>,
    ) -> Result<(), StepError> {
        match &step.kind {
            StepKind::Condition { test, then, otherwise } => {
                let branch = match journal.completed.get(path) {
                    Some(out) => out["branch"].as_str().unwrap_or("then").to_owned(),
                    None => {
                        let branch = if eval_condition(test, &run.context) { "then" } else { "else" };
                        self.journal(
                            run,
                            path,
                            StepState::Completed,
                            1,
                            serde_json::json!({"branch": branch}),
                        )
                        .await?;
                        branch.to_owned()
                    }
                };
                let steps = if branch == "then" { then } else { otherwise };
                self.run_steps(run, steps, &format!("{path}/{branch}/"), journal, done_actions).await
            }
            StepKind::Parallel(children) => {
                let prefix = format!("{path}/");
                let futures = children.iter().map(|child| {
                    let journal = journal.clone();
                    let prefix = prefix.clone();
                    async move {
                        let mut mine = Vec::new();
                        let path = format!("{prefix}{}", child.id);
                        let r = self.run_step(run, child, &path, journal, &mut mine).await;
                        (r, mine)
                    }
                });
                let results = Box::pin(futures::future::join_all(futures)).await;
                let mut first_error = None;
                for (r, mine) in results {
                    done_actions.extend(mine);
                    if let Err(e) = r {
                        first_error.get_or_insert(e);
                    }
                }
                match first_error {
                    Some(e) => Err(e),
                    None => {
                        if !journal.completed.contains_key(path) {
                            self.journal(run, path, StepState::Completed, 1, serde_json::json!({})).await?;
                        }
                        Ok(())
                    }
                }
            }
            _ => {
                if let Some(out) = journal.completed.get(path) {
                    if let Some(id) = out["action_id"].as_str() {
                        done_actions.push((path.to_owned(), id.to_owned()));
                    }
                    return Ok(());
                }
                let first = journal.attempts.get(path).copied().unwrap_or(1).max(1);
                let mut last = String::new();
                for attempt in first..=first + step.retries {
                    self.journal(run, path, StepState::Started, attempt, serde_json::Value::Null).await?;
                    let outcome =
                        tokio::time::timeout(step.timeout, self.leaf(run, step, path, attempt)).await;
                    match outcome {
                        Ok(Ok(output)) => {
                            self.journal(run, path, StepState::Completed, attempt, output.clone()).await?;
                            if let Some(id) = output["action_id"].as_str() {
                                done_actions.push((path.to_owned(), id.to_owned()));
                            }
                            return Ok(());
                        }
                        Ok(Err(StepError::Respond(e))) => return Err(e.into()),
                        Ok(Err(StepError::Step { message, .. })) => last = message,
                        Err(_) => last = format!("timed out after {:?}", step.timeout),
                    }
                }
                self.journal(
                    run,
                    path,
                    StepState::Failed,
                    first + step.retries,
                    serde_json::json!({"error": last}),
                )
                .await?;
                Err(StepError::Step { step: path.to_owned(), message: last })
            }
        }
    }

    /// One attempt of a leaf step (enrich, action, notify, wait_for_approval).
    async fn leaf(
        &self,
        run: &PlaybookRun,
        step: &Step,
        path: &str,
        attempt: u32,
    ) -> Result<serde_json::Value, StepError> {
        let fail = |message: String| StepError::Step { step: path.to_owned(), message };
        let (kind, target, ttl, approval, message) = match &step.kind {
            StepKind::Enrich => {
                let entities = run.context["entities"].as_object().map(|m| m.len()).unwrap_or(0);
                return Ok(
                    serde_json::json!({"entities": entities, "score": run.context["score"], "severity": run.context["severity"]}),
                );
            }
            StepKind::Action { kind, target, ttl, approval } => (
                *kind,
                render(target, &run.context).map_err(fail)?,
                *ttl,
                *approval,
                format!("playbook {} step {path}", run.playbook),
            ),
            StepKind::Notify { channel, message } => (
                ActionKind::Notify,
                channel.clone(),
                None,
                false,
                render(message, &run.context).map_err(fail)?,
            ),
            StepKind::Condition { .. } | StepKind::Parallel(_) => return Ok(serde_json::Value::Null),
        };
        let request = ActionRequest {
            tenant: run.tenant.clone(),
            kind,
            target,
            ttl,
            dry_run: false,
            origin: Origin::Playbook,
            requested_by: format!("playbook:{}", run.id),
            decision_id: Some(hash_id(&[&run.id, path, &attempt.to_string()])),
            incident_id: Some(run.incident_id.clone()),
            score: run.context["score"].as_f64().unwrap_or(0.0),
            criticality: None,
            severity: run.context["severity"].as_str().and_then(|s| s.parse().ok()),
            message: message.clone(),
            factors: Vec::new(),
            force_approval: approval,
        };
        let mut result = self.responder.request(&request).await?;
        if result.status == ActionStatus::Running {
            // Found `running` before we asked: left so by a process that stopped mid-execution.
            result = self.responder.resume_action(&run.tenant, &result.id, &message).await?;
        }
        loop {
            match result.status {
                ActionStatus::Verified | ActionStatus::Executed | ActionStatus::DryRun => {
                    return Ok(serde_json::json!({"action_id": result.id, "status": result.status}));
                }
                ActionStatus::PendingApproval | ActionStatus::Running => {
                    tokio::time::sleep(self.poll).await;
                    result = (&self.responder.action(&run.tenant, &result.id).await?).into();
                }
                other => return Err(fail(format!("action {} is {other}: {}", result.id, result.reason))),
            }
        }
    }

    async fn journal(
        &self,
        run: &PlaybookRun,
        step: &str,
        state: StepState,
        attempt: u32,
        output: serde_json::Value,
    ) -> Result<(), RepoError> {
        let rec = StepRecord {
            run_id: run.id.clone(),
            step: step.to_owned(),
            state,
            attempt,
            output,
            at: self.responder.now(),
        };
        self.responder.repo().journal_append(&run.tenant, &rec).await
    }
}
