//! HTTP connectors: EDR host containment (CrowdStrike-style: OAuth2 client credentials, then
//! `POST /devices/entities/devices-actions/v2?action_name=contain|lift_containment`) and identity
//! (SCIM 2.0 `PATCH /Users/{id}` with `active`). Every request is counted in
//! `ward_connector_requests_total{connector,status}`.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Method;
use tokio::sync::Mutex;

use super::{ActionError, ExecContext, Executor, validate_identifier};
use crate::config::{EdrConfig, IdentityConfig};
use crate::model::{ActionKind, RiskClass};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BODY: usize = 1 << 20;

/// A named HTTP client that counts its requests.
#[derive(Clone)]
pub(crate) struct Connector {
    pub(crate) name: &'static str,
    pub(crate) client: reqwest::Client,
}

impl Connector {
    pub(crate) fn new(name: &'static str) -> Self {
        let client = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().unwrap_or_default();
        Self { name, client }
    }

    /// Sends and returns (status, JSON body or `null`); non-2xx is an error naming the status.
    pub(crate) async fn send(
        &self,
        kind: ActionKind,
        request: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, ActionError> {
        let result = request.send().await;
        let status_label = match &result {
            Ok(r) if r.status().is_success() => "ok",
            Ok(_) => "error",
            Err(_) => "unreachable",
        };
        metrics::counter!("ward_connector_requests_total", "connector" => self.name, "status" => status_label)
            .increment(1);
        let response = result.map_err(|e| ActionError::failed(kind, format!("{}: {e}", self.name)))?;
        let status = response.status();
        let bytes =
            response.bytes().await.map_err(|e| ActionError::failed(kind, format!("{}: {e}", self.name)))?;
        let body = &bytes[..bytes.len().min(MAX_BODY)];
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(ActionError::failed(kind, format!("{} answered {status}: {text}", self.name)));
        }
        Ok(serde_json::from_slice(body).unwrap_or(serde_json::Value::Null))
    }
}

/// `isolate_host` through a CrowdStrike-style EDR API; the target is the device id.
pub struct EdrExecutor {
    config: Option<EdrConfig>,
    http: Connector,
    token: Mutex<Option<(String, Instant)>>,
}

impl EdrExecutor {
    /// From `[respond.edr]` (`None`: every call fails as unconfigured).
    pub fn new(config: Option<EdrConfig>) -> Self {
        Self { config, http: Connector::new("edr"), token: Mutex::new(None) }
    }

    fn config(&self) -> Result<&EdrConfig, ActionError> {
        self.config.as_ref().ok_or(ActionError::Unconfigured(ActionKind::IsolateHost))
    }

    async fn token(&self) -> Result<String, ActionError> {
        let mut slot = self.token.lock().await;
        if let Some((token, until)) = slot.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let cfg = self.config()?;
        let form = format!(
            "client_id={}&client_secret={}",
            urlencode(&cfg.client_id),
            urlencode(&cfg.client_secret)
        );
        let req = self
            .http
            .client
            .post(format!("{}/oauth2/token", cfg.url.trim_end_matches('/')))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        let body = self.http.send(ActionKind::IsolateHost, req).await?;
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| {
                ActionError::failed(ActionKind::IsolateHost, "edr token answer has no access_token")
            })?
            .to_owned();
        let life = body["expires_in"].as_u64().unwrap_or(1800).saturating_sub(60).max(1);
        *slot = Some((token.clone(), Instant::now() + Duration::from_secs(life)));
        Ok(token)
    }

    async fn device_action(&self, name: &str, device: &str) -> Result<(), ActionError> {
        let cfg = self.config()?;
        let token = self.token().await?;
        let url = format!(
            "{}/devices/entities/devices-actions/v2?action_name={name}",
            cfg.url.trim_end_matches('/')
        );
        let req = self
            .http
            .client
            .post(url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(serde_json::json!({"ids": [device]}).to_string());
        let body = self.http.send(ActionKind::IsolateHost, req).await?;
        match body["errors"].as_array() {
            Some(errors) if !errors.is_empty() => Err(ActionError::failed(
                ActionKind::IsolateHost,
                format!("edr {name}: {}", serde_json::Value::from(errors.clone())),
            )),
            _ => Ok(()),
        }
    }

    async fn status(&self, device: &str) -> Result<String, ActionError> {
        let cfg = self.config()?;
        let token = self.token().await?;
        let url = format!(
            "{}/devices/entities/devices/v2?ids={}",
            cfg.url.trim_end_matches('/'),
            urlencode(device)
        );
        let body =
            self.http.send(ActionKind::IsolateHost, self.http.client.get(url).bearer_auth(token)).await?;
        Ok(body["resources"][0]["status"].as_str().unwrap_or("unknown").to_owned())
    }
}

#[async_trait]
impl Executor for EdrExecutor {
    fn kind(&self) -> ActionKind {
        ActionKind::IsolateHost
    }
    fn risk(&self) -> RiskClass {
        RiskClass::High
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(ActionKind::ReleaseHost)
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        validate_identifier(ActionKind::IsolateHost, target)
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        self.device_action("contain", &ctx.target).await?;
        Ok(serde_json::json!({"device_id": ctx.target}))
    }
    async fn verify(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.status(&ctx.target).await? == "contained")
    }
    async fn undo(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<(), ActionError> {
        self.device_action("lift_containment", &ctx.target).await
    }
    async fn verify_undone(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.status(&ctx.target).await? == "normal")
    }
}

/// `disable_user` through a SCIM 2.0 identity API; the target is the SCIM user id.
pub struct IdentityExecutor {
    config: Option<IdentityConfig>,
    http: Connector,
}

impl IdentityExecutor {
    /// From `[respond.identity]` (`None`: every call fails as unconfigured).
    pub fn new(config: Option<IdentityConfig>) -> Self {
        Self { config, http: Connector::new("identity") }
    }

    fn config(&self) -> Result<&IdentityConfig, ActionError> {
        self.config.as_ref().ok_or(ActionError::Unconfigured(ActionKind::DisableUser))
    }

    async fn set_active(&self, user: &str, active: bool) -> Result<(), ActionError> {
        let cfg = self.config()?;
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": active}],
        });
        let req = self
            .http
            .client
            .patch(format!("{}/Users/{}", cfg.url.trim_end_matches('/'), urlencode(user)))
            .bearer_auth(&cfg.token)
            .header("content-type", "application/scim+json")
            .body(body.to_string());
        self.http.send(ActionKind::DisableUser, req).await.map(|_| ())
    }

    async fn active(&self, user: &str) -> Result<Option<bool>, ActionError> {
        let cfg = self.config()?;
        let url = format!("{}/Users/{}", cfg.url.trim_end_matches('/'), urlencode(user));
        let req = self.http.client.request(Method::GET, url).bearer_auth(&cfg.token);
        Ok(self.http.send(ActionKind::DisableUser, req).await?["active"].as_bool())
    }
}

#[async_trait]
impl Executor for IdentityExecutor {
    fn kind(&self) -> ActionKind {
        ActionKind::DisableUser
    }
    fn risk(&self) -> RiskClass {
        RiskClass::High
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(ActionKind::EnableUser)
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        validate_identifier(ActionKind::DisableUser, target)
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        self.set_active(&ctx.target, false).await?;
        Ok(serde_json::json!({"user_id": ctx.target}))
    }
    async fn verify(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.active(&ctx.target).await? == Some(false))
    }
    async fn undo(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<(), ActionError> {
        self.set_active(&ctx.target, true).await
    }
    async fn verify_undone(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.active(&ctx.target).await? == Some(true))
    }
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
