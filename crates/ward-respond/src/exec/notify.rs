//! Notification actions: Slack-compatible webhook (`notify`), Jira REST issue
//! (`create_ticket`), generic HMAC-signed webhook (`webhook`) and SMTP e-mail (`email`).
//! They have no inverse: a sent message cannot be unsent, so rollback is a recorded no-op.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::http::Connector;
use super::{ActionError, ExecContext, Executor};
use crate::config::{JiraConfig, SignedWebhookConfig, SmtpConfig};
use crate::model::{ActionKind, RiskClass};

fn validate_text(kind: ActionKind, target: &str) -> Result<(), ActionError> {
    if target.is_empty() || target.len() > 256 || target.chars().any(char::is_control) {
        return Err(ActionError::BadTarget {
            kind,
            target: target.into(),
            reason: "expected 1-256 printable characters".into(),
        });
    }
    Ok(())
}

fn delivered(state: &serde_json::Value) -> bool {
    state["delivered"].as_bool() == Some(true)
}

/// Implements [`Executor`] for a notification: low risk, a short printable target, no inverse,
/// verified by the `delivered` flag of its state, and nothing to undo (a rollback is a no-op).
/// The type's own `deliver` does the sending.
macro_rules! notification_executor {
    ($executor:ty, $kind:expr) => {
        #[async_trait]
        impl Executor for $executor {
            fn kind(&self) -> ActionKind {
                $kind
            }
            fn risk(&self) -> RiskClass {
                RiskClass::Low
            }
            fn validate(&self, target: &str) -> Result<(), ActionError> {
                validate_text($kind, target)
            }
            async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
                self.deliver(ctx).await
            }
            fn inverse(&self) -> Option<ActionKind> {
                None
            }
            async fn verify(&self, _: &ExecContext, state: &serde_json::Value) -> Result<bool, ActionError> {
                Ok(delivered(state))
            }
            async fn undo(&self, _: &ExecContext, _: &serde_json::Value) -> Result<(), ActionError> {
                Ok(())
            }
            async fn verify_undone(
                &self,
                _: &ExecContext,
                _: &serde_json::Value,
            ) -> Result<bool, ActionError> {
                Ok(true)
            }
        }
    };
}

/// `notify`: posts `{"text","channel"}` to a Slack-compatible incoming webhook; target = channel.
pub struct SlackExecutor {
    url: Option<String>,
    http: Connector,
}

impl SlackExecutor {
    /// From `respond.notify.slack_url`.
    pub fn new(url: Option<String>) -> Self {
        Self { url, http: Connector::new("slack") }
    }

    /// Sends it; the state it returns is what `verify` reads.
    async fn deliver(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let url = self.url.as_ref().ok_or(ActionError::Unconfigured(ActionKind::Notify))?;
        let body = serde_json::json!({"channel": ctx.target, "text": ctx.message});
        let req =
            self.http.client.post(url).header("content-type", "application/json").body(body.to_string());
        self.http.send(ActionKind::Notify, req).await?;
        Ok(serde_json::json!({"delivered": true, "channel": ctx.target}))
    }
}

notification_executor!(SlackExecutor, ActionKind::Notify);

/// `create_ticket`: `POST /rest/api/2/issue` (basic auth); target = summary prefix.
pub struct JiraExecutor {
    config: Option<JiraConfig>,
    http: Connector,
}

impl JiraExecutor {
    /// From `[respond.notify.jira]`.
    pub fn new(config: Option<JiraConfig>) -> Self {
        Self { config, http: Connector::new("jira") }
    }

    /// Sends it; the state it returns is what `verify` reads.
    async fn deliver(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let cfg = self.config.as_ref().ok_or(ActionError::Unconfigured(ActionKind::CreateTicket))?;
        let body = serde_json::json!({"fields": {
            "project": {"key": cfg.project},
            "summary": format!("[ward] {}", ctx.target),
            "description": ctx.message,
            "issuetype": {"name": "Task"},
            "labels": ["ward", format!("ward-action-{}", ctx.action_id)],
        }});
        let req = self
            .http
            .client
            .post(format!("{}/rest/api/2/issue", cfg.url.trim_end_matches('/')))
            .basic_auth(&cfg.user, Some(&cfg.token))
            .header("content-type", "application/json")
            .body(body.to_string());
        let answer = self.http.send(ActionKind::CreateTicket, req).await?;
        let key = answer["key"]
            .as_str()
            .ok_or_else(|| ActionError::failed(ActionKind::CreateTicket, "jira answer has no issue key"))?;
        Ok(serde_json::json!({"delivered": true, "issue": key}))
    }
}

notification_executor!(JiraExecutor, ActionKind::CreateTicket);

/// `webhook`: posts a JSON document signed with HMAC-SHA256 over `"{ts}.{body}"`
/// (`X-Ward-Timestamp`, `X-Ward-Signature: sha256=<hex>`); target = event name.
pub struct SignedWebhookExecutor {
    config: Option<SignedWebhookConfig>,
    http: Connector,
}

impl SignedWebhookExecutor {
    /// From `[respond.notify.webhook]`.
    pub fn new(config: Option<SignedWebhookConfig>) -> Self {
        Self { config, http: Connector::new("webhook") }
    }

    /// Sends it; the state it returns is what `verify` reads.
    async fn deliver(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let cfg = self.config.as_ref().ok_or(ActionError::Unconfigured(ActionKind::Webhook))?;
        let ts = chrono::Utc::now().timestamp();
        let body = serde_json::json!({
            "event": ctx.target, "tenant": ctx.tenant, "action_id": ctx.action_id,
            "incident_id": ctx.incident_id, "message": ctx.message, "ts": ts,
        })
        .to_string();
        let signature = webhook_signature(cfg.secret.as_bytes(), ts, &body);
        let req = self
            .http
            .client
            .post(&cfg.url)
            .header("content-type", "application/json")
            .header("x-ward-timestamp", ts.to_string())
            .header("x-ward-signature", format!("sha256={signature}"))
            .body(body);
        self.http.send(ActionKind::Webhook, req).await?;
        Ok(serde_json::json!({"delivered": true}))
    }
}

/// The signature a receiver recomputes: lowercase hex HMAC-SHA256(secret, `ts + "." + body`).
pub fn webhook_signature(secret: &[u8], ts: i64, body: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, format!("{ts}.{body}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

notification_executor!(SignedWebhookExecutor, ActionKind::Webhook);

/// `email`: a minimal SMTP client (EHLO, MAIL, RCPT, DATA) for a relay on a trusted network;
/// target = subject.
pub struct EmailExecutor {
    config: Option<SmtpConfig>,
}

impl EmailExecutor {
    /// From `[respond.notify.email]`.
    pub fn new(config: Option<SmtpConfig>) -> Self {
        Self { config }
    }

    async fn send(&self, cfg: &SmtpConfig, subject: &str, body: &str) -> Result<String, String> {
        let stream = tokio::net::TcpStream::connect(&cfg.server)
            .await
            .map_err(|e| format!("connecting {}: {e}", cfg.server))?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        expect(&mut read, 220).await?;
        let mut command = async |line: String, code: u16| -> Result<String, String> {
            write.write_all(format!("{line}\r\n").as_bytes()).await.map_err(|e| e.to_string())?;
            expect(&mut read, code).await
        };
        command("EHLO ward".into(), 250).await?;
        command(format!("MAIL FROM:<{}>", cfg.from), 250).await?;
        for to in &cfg.to {
            command(format!("RCPT TO:<{to}>"), 250).await?;
        }
        command("DATA".into(), 354).await?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
        let wrapped: Vec<&str> =
            encoded.as_bytes().chunks(76).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        let message = format!(
            "From: <{}>\r\nTo: {}\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n.",
            cfg.from,
            cfg.to.iter().map(|t| format!("<{t}>")).collect::<Vec<_>>().join(", "),
            subject.replace(['\r', '\n'], " "),
            wrapped.join("\r\n"),
        );
        let queued = command(message, 250).await?;
        let _ = command("QUIT".into(), 221).await;
        Ok(queued)
    }

    /// Sends it; the state it returns is what `verify` reads.
    async fn deliver(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        let cfg = self.config.as_ref().ok_or(ActionError::Unconfigured(ActionKind::Email))?;
        let result = self.send(cfg, &ctx.target, &ctx.message).await;
        metrics::counter!("ward_connector_requests_total", "connector" => "smtp", "status" => if result.is_ok() { "ok" } else { "error" }).increment(1);
        let queued = result.map_err(|e| ActionError::failed(ActionKind::Email, e))?;
        Ok(serde_json::json!({"delivered": true, "server_reply": queued}))
    }
}

/// Reads one (possibly multi-line) SMTP reply and checks its code.
async fn expect<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R, code: u16) -> Result<String, String> {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), read.read_line(&mut line))
            .await
            .map_err(|_| "smtp server timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("smtp server closed the connection (expected {code})"));
        }
        reply.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            break;
        }
    }
    if reply.get(..3) == Some(code.to_string().as_str()) {
        Ok(reply.trim().to_owned())
    } else {
        Err(format!("smtp: expected {code}, got {:?}", reply.trim()))
    }
}

notification_executor!(EmailExecutor, ActionKind::Email);
