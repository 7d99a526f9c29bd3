//! Sigma detection rules and streaming correlations as a [`Detector`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use ward_model::{AlertRecord, Entities, Event, Severity, SignalKind, TenantId, add_entity};
use ward_rules::correlate::{
    CorrelateError, CorrelationAlert, Correlator, CorrelatorConfig, Observed, kind_name,
};
use ward_rules::{Alert, Engine, Pipeline, PipelineError, Rejection, RuleSet, Scratch};

use super::{Detector, entities_of};
use crate::runtime::Pass;
use crate::telemetry;

/// Compiled detection rules plus the rule set correlations are planned from; shared by every
/// partition's [`SigmaDetector`].
pub struct DetectionRules {
    set: Arc<RuleSet>,
    engine: Arc<Engine>,
    correlator: CorrelatorConfig,
}

impl DetectionRules {
    /// Rules already loaded and compiled (as `ward hunt` does).
    pub fn new(set: RuleSet, engine: Engine, lateness: Duration) -> Self {
        let correlator = CorrelatorConfig { allowed_lateness: lateness, ..CorrelatorConfig::default() };
        Self { set: Arc::new(set), engine: Arc::new(engine), correlator }
    }

    /// Loads the rule files under `paths` and compiles them for `pipelines` (shipped names such
    /// as `windows`, or pipeline files; all shipped pipelines when empty). Returns every rule that
    /// was not loaded, with file, line and reason.
    ///
    /// # Errors
    /// An unreadable or invalid pipeline.
    pub fn load(
        paths: &[PathBuf],
        pipelines: &[String],
        lateness: Duration,
    ) -> Result<(Self, Vec<Rejection>), RulesError> {
        let pipeline = pipeline(pipelines)?;
        let (set, mut problems) = RuleSet::load(paths);
        let (engine, compile) = Engine::compile(&set, &pipeline);
        problems.extend(compile);
        Ok((Self::new(set, engine, lateness), problems))
    }

    /// Detection rules compiled plus correlation rules planned.
    pub fn loaded(&self) -> usize {
        self.engine.stats().rules + self.set.correlations().len()
    }

    /// A detector for one partition, naming `entity_fields` in its alerts.
    ///
    /// # Errors
    /// [`CorrelateError::ZeroBudget`] when the correlation budget is unusable.
    pub fn detector(&self, entity_fields: Arc<[String]>) -> Result<SigmaDetector, CorrelateError> {
        let (correlator, _rejected_at_load) = Correlator::new(&self.set, &self.correlator)?;
        Ok(SigmaDetector {
            engine: Arc::clone(&self.engine),
            correlator,
            scratch: Scratch::default(),
            base: Vec::new(),
            fired: Vec::new(),
            fields: entity_fields,
            newest: None,
        })
    }

    /// Correlations the correlator refuses to run (reported once at load).
    pub fn correlation_problems(&self) -> Vec<CorrelateError> {
        Correlator::new(&self.set, &self.correlator).map(|(_, e)| e).unwrap_or_else(|e| vec![e])
    }
}

/// A logsource pipeline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The pipeline is invalid.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The pipeline file cannot be read.
    #[error("cannot read pipeline {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

fn pipeline(names: &[String]) -> Result<Pipeline, RulesError> {
    if names.is_empty() {
        return Ok(Pipeline::builtin()?);
    }
    let mut all = Pipeline::default();
    for name in names {
        let one = match Pipeline::builtin_named(name) {
            Some(builtin) => builtin?,
            None => {
                let text = std::fs::read_to_string(name)
                    .map_err(|source| RulesError::Read { path: name.clone(), source })?;
                Pipeline::from_yaml(name, &text)?
            }
        };
        all = all.merge(one);
    }
    Ok(all)
}

/// Sigma matching and correlation state for one partition.
pub struct SigmaDetector {
    engine: Arc<Engine>,
    correlator: Correlator,
    scratch: Scratch,
    base: Vec<Alert>,
    fired: Vec<CorrelationAlert>,
    fields: Arc<[String]>,
    /// Time, tenant and source of the newest event seen (for idle watermark advances).
    newest: Option<(chrono::DateTime<chrono::Utc>, TenantId, String)>,
}

impl Detector for SigmaDetector {
    fn name(&self) -> &'static str {
        "sigma"
    }

    fn detect(&mut self, event: &Event, pass: Pass, out: &mut Vec<AlertRecord>) {
        self.base.clear();
        self.engine.matches_with(event, &mut self.scratch, &mut self.base);
        let mut late = 0;
        for alert in &self.base {
            let rule = alert.rule.id.as_str();
            if self.correlator.wants(rule)
                && let Observed::Late { .. } = self.correlator.observe(rule, event, &mut self.fired)
            {
                late += 1;
            }
            if pass == Pass::Live && self.correlator.standalone(rule) {
                out.push(sigma_record(alert, event, &self.fields));
            }
        }
        if late > 0 {
            telemetry::late_matches(late);
        }
        let t = event.timestamp();
        if self.newest.as_ref().is_none_or(|(n, ..)| t > *n) {
            self.newest = Some((t, tenant_of(event), event.source().to_owned()));
        }
        for c in self.fired.drain(..) {
            out.push(correlation_record(&c, &tenant_of(event), event.source()));
        }
    }

    /// Moves the correlation watermark up to the newest event seen: with no more input, every
    /// match seen so far is applied (windows still open stay open).
    fn idle(&mut self, out: &mut Vec<AlertRecord>) {
        let Some((t, tenant, source)) = &self.newest else { return };
        if self.correlator.is_empty() || self.correlator.watermark().is_some_and(|w| w >= *t) {
            return;
        }
        self.correlator.advance_watermark(*t, &mut self.fired);
        for c in self.fired.drain(..) {
            out.push(correlation_record(&c, tenant, source));
        }
    }
}

/// The severity of a Sigma level.
fn severity(level: ward_rules::ast::Level) -> Severity {
    level.as_str().parse().unwrap_or_default()
}

fn tenant_of(event: &Event) -> TenantId {
    TenantId::new(event.tenant()).unwrap_or_default()
}

/// A single-event rule match as an alert record.
pub(super) fn sigma_record(alert: &Alert, event: &Event, fields: &[String]) -> AlertRecord {
    let level = severity(alert.rule.level);
    AlertRecord {
        id: alert.id.to_string(),
        tenant: tenant_of(event),
        kind: SignalKind::Sigma,
        rule_id: alert.rule.id.clone(),
        rule_title: alert.rule.title.clone(),
        level,
        score: level.base_score(),
        timestamp: alert.timestamp,
        event_ids: alert.event_ids.iter().map(ToString::to_string).collect(),
        tags: alert.rule.tags.clone(),
        techniques: alert.rule.techniques.clone(),
        entities: entities_of(event, fields),
        source: event.source().to_owned(),
        details: json!({ "matched": alert.matched }),
    }
}

/// A correlation match as an alert record; its entities are the group-by values.
fn correlation_record(c: &CorrelationAlert, tenant: &TenantId, source: &str) -> AlertRecord {
    let level = severity(c.rule.level);
    let mut entities = Entities::new();
    for (field, value) in &c.group {
        add_entity(&mut entities, field, value);
    }
    AlertRecord {
        id: c.id.to_string(),
        tenant: TenantId::new(&c.tenant).unwrap_or_else(|_| tenant.clone()),
        kind: SignalKind::Correlation,
        rule_id: c.rule.id.clone(),
        rule_title: c.rule.title.clone(),
        level,
        score: level.base_score(),
        timestamp: c.timestamp,
        event_ids: c.event_ids.iter().map(ToString::to_string).collect(),
        tags: c.rule.tags.clone(),
        techniques: c.rule.techniques.clone(),
        entities,
        source: source.to_owned(),
        details: json!({
            "correlation_type": kind_name(c.kind),
            "group": c.group,
            "value": c.value,
            "matches": c.matches,
            "first": c.first,
            "last": c.last,
            "window_start": c.window_start,
            "window_end": c.window_end,
        }),
    }
}
