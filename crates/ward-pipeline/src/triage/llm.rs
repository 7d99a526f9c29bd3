//! Triage by an OpenAI-compatible chat model (`POST {base_url}/v1/chat/completions`). The
//! incident is summarized without raw events, personal values are pseudonymized by a
//! [`Redactor`], the answer must be one strict JSON object, and any failure falls back to the
//! built-in triager.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use ward_model::{Factor, Triage, Verdict};

use super::builtin::BuiltinTriager;
use super::redact::{Redactor, class_of};
use super::{TriageInput, Triager};
use crate::config::LlmConfig;
use crate::telemetry;

const SYSTEM_PROMPT: &str = "You are a SOC analyst triaging a security incident. Personal data is \
pseudonymized (ip_1, user_1, host_1, …). Answer with one JSON object only: {\"verdict\": one of \
\"true_positive\", \"likely_true_positive\", \"suspicious\", \"likely_false_positive\", \
\"false_positive\"; \"confidence\": number between 0 and 1; \"reasons\": array of 1 to 10 objects \
{\"name\": short snake_case string, \"weight\": number between -1 and 1, \"detail\": string}}.";

/// Why the model's answer was not used.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The HTTP client could not be built.
    #[error("llm client: {0}")]
    Client(String),
    /// The request failed or timed out.
    #[error("llm request failed: {0}")]
    Request(String),
    /// The endpoint answered with a non-success status.
    #[error("llm endpoint answered HTTP {0}")]
    Status(u16),
    /// The answer exceeded the size limit.
    #[error("llm answer larger than {0} bytes")]
    TooLarge(usize),
    /// The answer is not the JSON shape asked for.
    #[error("llm answer invalid: {0}")]
    Invalid(String),
}

impl LlmError {
    fn label(&self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Request(_) => "request",
            Self::Status(_) => "status",
            Self::TooLarge(_) => "too_large",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// The model's verdict, parsed strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    verdict: String,
    confidence: f64,
    reasons: Vec<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    name: String,
    weight: f64,
    detail: String,
}

/// Triage through an LLM endpoint with the built-in triager as fallback.
pub struct LlmTriager {
    client: reqwest::Client,
    config: LlmConfig,
}

impl LlmTriager {
    /// A triager for the endpoint in `config`.
    ///
    /// # Errors
    /// [`LlmError::Client`] when the HTTP client cannot be built.
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs.max(1)))
            .build()
            .map_err(|e| LlmError::Client(e.to_string()))?;
        Ok(Self { client, config })
    }

    /// The request body for `input` (exposed so tests can check nothing personal leaves),
    /// and the mapping to restore the answer.
    pub fn request_body(&self, input: TriageInput<'_>) -> (Value, Redactor) {
        let mut r = Redactor::new();
        let summary = summary(input, &mut r);
        let body = json!({
            "model": self.config.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": summary.to_string()},
            ],
        });
        (body, r)
    }

    /// Calls the model; the answer's verdict, confidence and reasons.
    ///
    /// # Errors
    /// [`LlmError`] for every way the call or the answer can fail.
    pub async fn ask(&self, input: TriageInput<'_>) -> Result<(Verdict, f64, Vec<Factor>), LlmError> {
        let (body, redactor) = self.request_body(input);
        let url = format!("{}/v1/chat/completions", self.config.base_url.trim_end_matches('/'));
        let mut req = self.client.post(url).json(&body);
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let mut resp = req.send().await.map_err(|e| LlmError::Request(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(LlmError::Status(resp.status().as_u16()));
        }
        let limit = self.config.max_response_bytes;
        let mut bytes = Vec::new();
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| LlmError::Request(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(LlmError::TooLarge(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        parse_answer(&bytes, &redactor)
    }
}

#[async_trait]
impl Triager for LlmTriager {
    async fn triage(&self, input: TriageInput<'_>) -> Triage {
        let started = Instant::now();
        let builtin = BuiltinTriager::assess(input);
        match self.ask(input).await {
            Ok((verdict, confidence, reasoning)) => {
                telemetry::triage("llm", started.elapsed());
                Triage {
                    verdict,
                    confidence,
                    reasoning,
                    iocs: builtin.iocs,
                    recommended_actions: builtin.recommended_actions,
                    triager: format!("llm:{}", self.config.model),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "llm triage failed; using the built-in triager");
                telemetry::triage_fallback(e.label());
                telemetry::triage("builtin", started.elapsed());
                builtin
            }
        }
    }
}

/// The incident as the model sees it: aggregates, rules and pseudonymized entities only.
fn summary(input: TriageInput<'_>, r: &mut Redactor) -> Value {
    let inc = input.incident;
    let mut entities = serde_json::Map::new();
    for (field, values) in &inc.entities {
        let shown: Vec<String> = match class_of(field) {
            Some(class) => values.iter().map(|v| r.token(class, v)).collect(),
            None => values.iter().map(|v| r.text(v)).collect(),
        };
        entities.insert(field.clone(), json!(shown));
    }
    let alerts: Vec<Value> = input
        .alerts
        .iter()
        .take(50)
        .map(|a| {
            json!({
                "rule": r.text(&a.rule_title),
                "kind": a.kind,
                "level": a.level,
                "score": a.score,
                "techniques": a.techniques,
                "source": a.source,
                "time": a.timestamp,
            })
        })
        .collect();
    let prior: Vec<Value> = input
        .prior
        .iter()
        .map(|p| {
            let v = match class_of(&p.field) {
                Some(c) => r.token(c, &p.value),
                None => r.text(&p.value),
            };
            json!({"field": p.field, "value": v, "earlier_incidents": p.incidents})
        })
        .collect();
    json!({
        "title": r.text(&inc.title),
        "severity": inc.severity,
        "score": inc.score,
        "alert_count": inc.alert_count,
        "first_seen": inc.first_seen,
        "last_seen": inc.last_seen,
        "entities": entities,
        "alerts": alerts,
        "prior_sightings": prior,
    })
}

/// Parses a chat-completions answer whose message content is the strict verdict object.
fn parse_answer(bytes: &[u8], r: &Redactor) -> Result<(Verdict, f64, Vec<Factor>), LlmError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| LlmError::Invalid(format!("not JSON: {e}")))?;
    let content = doc
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| LlmError::Invalid("no choices[0].message.content".into()))?;
    let answer: Answer = serde_json::from_str(content.trim())
        .map_err(|e| LlmError::Invalid(format!("content is not the verdict object: {e}")))?;
    let verdict: Verdict = answer.verdict.parse().map_err(|e| LlmError::Invalid(format!("{e}")))?;
    if !(0.0..=1.0).contains(&answer.confidence) {
        return Err(LlmError::Invalid(format!("confidence {} outside [0, 1]", answer.confidence)));
    }
    if answer.reasons.is_empty() || answer.reasons.len() > 10 {
        return Err(LlmError::Invalid(format!("{} reasons (expected 1 to 10)", answer.reasons.len())));
    }
    let mut factors = Vec::with_capacity(answer.reasons.len());
    for (i, reason) in answer.reasons.into_iter().enumerate() {
        if !(-1.0..=1.0).contains(&reason.weight) || reason.name.len() > 64 || reason.detail.len() > 2000 {
            return Err(LlmError::Invalid(format!("reason {i} out of bounds")));
        }
        factors.push(Factor { name: reason.name, weight: reason.weight, detail: r.restore(&reason.detail) });
    }
    Ok((verdict, answer.confidence, factors))
}
