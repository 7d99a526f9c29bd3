//! `launch_decoy`: a Ward decoy TCP listener that answers with an SSH banner, records every
//! connection attempt through a `DecoySink` (which turns them into events) and is registered as
//! a sensor while it runs. Its inverse, `stop_decoy`, closes it and unregisters it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinHandle;
use ward_model::TenantId;

use super::{ActionError, ExecContext, Executor};
use crate::config::DecoyConfig;
use crate::model::{ActionKind, RiskClass};

const KIND: ActionKind = ActionKind::LaunchDecoy;
const BANNER: &[u8] = b"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n";

/// One connection attempt on a decoy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecoyHit {
    /// Owner of the decoy.
    pub tenant: TenantId,
    /// The sensor name (`decoy-<port>`).
    pub sensor: String,
    /// Who connected.
    pub peer: SocketAddr,
    /// The decoy's address.
    pub local: SocketAddr,
    /// When.
    pub at: DateTime<Utc>,
}

/// A running decoy, as registered with the sensor inventory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorInfo {
    /// Owner.
    pub tenant: TenantId,
    /// Name (`decoy-<port>`).
    pub name: String,
    /// Listening address.
    pub addr: SocketAddr,
}

/// Where decoy activity goes: hits become events; sensors appear in telemetry status.
pub trait DecoySink: Send + Sync {
    /// A connection attempt.
    fn hit(&self, hit: DecoyHit);
    /// A decoy started.
    fn register(&self, sensor: &SensorInfo);
    /// A decoy stopped.
    fn unregister(&self, sensor: &SensorInfo);
}

struct Running {
    sensor: SensorInfo,
    task: JoinHandle<()>,
}

/// Starts and stops decoys; the target is a port number (else the configured port is used).
pub struct DecoyManager {
    config: DecoyConfig,
    sink: Arc<dyn DecoySink>,
    running: Mutex<HashMap<String, Running>>,
}

impl DecoyManager {
    /// Decoys bound per `[respond.decoy]`, reporting to `sink`.
    pub fn new(config: DecoyConfig, sink: Arc<dyn DecoySink>) -> Self {
        Self { config, sink, running: Mutex::new(HashMap::new()) }
    }

    /// The address of the decoy started by `action_id`, if it runs.
    pub fn addr(&self, action_id: &str) -> Option<SocketAddr> {
        self.running.lock().ok()?.get(action_id).filter(|r| !r.task.is_finished()).map(|r| r.sensor.addr)
    }

    fn port(&self, target: &str) -> u16 {
        target.parse::<u16>().unwrap_or(self.config.port)
    }

    fn stop(&self, action_id: &str) -> Result<(), ActionError> {
        let removed = self
            .running
            .lock()
            .map_err(|_| ActionError::failed(KIND, "decoy registry poisoned"))?
            .remove(action_id);
        if let Some(r) = removed {
            r.task.abort();
            self.sink.unregister(&r.sensor);
        }
        Ok(())
    }
}

#[async_trait]
impl Executor for DecoyManager {
    fn kind(&self) -> ActionKind {
        KIND
    }
    fn risk(&self) -> RiskClass {
        RiskClass::Low
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(ActionKind::StopDecoy)
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        if target.len() > 256 {
            return Err(ActionError::BadTarget {
                kind: KIND,
                target: target.into(),
                reason: "too long".into(),
            });
        }
        Ok(())
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<serde_json::Value, ActionError> {
        if let Some(addr) = self.addr(&ctx.action_id) {
            return Ok(serde_json::json!({"addr": addr.to_string()}));
        }
        let bind = format!("{}:{}", self.config.bind, self.port(&ctx.target));
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| ActionError::failed(KIND, format!("binding decoy on {bind}: {e}")))?;
        let local = listener.local_addr().map_err(|e| ActionError::failed(KIND, e.to_string()))?;
        let sensor =
            SensorInfo { tenant: ctx.tenant.clone(), name: format!("decoy-{}", local.port()), addr: local };
        let sink = self.sink.clone();
        let (tenant, name) = (ctx.tenant.clone(), sensor.name.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, peer)) = listener.accept().await {
                metrics::counter!("ward_decoy_connections_total").increment(1);
                sink.hit(DecoyHit {
                    tenant: tenant.clone(),
                    sensor: name.clone(),
                    peer,
                    local,
                    at: Utc::now(),
                });
                tokio::spawn(async move {
                    // A banner then close: enough for scanners and brute-forcers to show themselves.
                    let _ = stream.write_all(BANNER).await;
                });
            }
        });
        self.sink.register(&sensor);
        self.running
            .lock()
            .map_err(|_| ActionError::failed(KIND, "decoy registry poisoned"))?
            .insert(ctx.action_id.clone(), Running { sensor, task });
        Ok(serde_json::json!({"addr": local.to_string()}))
    }
    async fn verify(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.addr(&ctx.action_id).is_some())
    }
    async fn undo(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<(), ActionError> {
        self.stop(&ctx.action_id)
    }
    async fn verify_undone(&self, ctx: &ExecContext, _: &serde_json::Value) -> Result<bool, ActionError> {
        Ok(self.addr(&ctx.action_id).is_none())
    }
}
