//! Test doubles and request builders for the router tests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use secrecy::SecretString;
use tokio::sync::Notify;
use tower::ServiceExt;
use ward_api::config::WebhookConfig;
use ward_api::deadletter::FileDeadLetters;
use ward_api::registry::file::{FileDeviceStore, FileTenantStore};
use ward_api::registry::{DeviceStore, TenantStore};
use ward_api::signing::{sign_request, sign_with_nonce};
use ward_api::{AppState, MasterKey, Ports, Settings, SystemClock, router};
use ward_log::{
    Durability, Log, LogError, PartitionStats, Position, Record, StoredRecord, Topic, partition_for,
};
use ward_model::TenantId;

/// An in-memory log: every topic has `partitions` partitions of `Vec<Record>`.
pub struct MemLog {
    partitions: u32,
    data: Mutex<Vec<Vec<Record>>>,
}

impl MemLog {
    pub fn new(partitions: u32) -> Self {
        Self { partitions, data: Mutex::new(vec![Vec::new(); partitions as usize]) }
    }

    /// Every `raw_events` payload, parsed, partition by partition.
    pub fn raw_events(&self) -> Vec<serde_json::Value> {
        let data = self.data.lock().unwrap();
        data.iter().flatten().map(|r| serde_json::from_slice(&r.payload).unwrap()).collect()
    }

    pub fn keys(&self) -> Vec<String> {
        let data = self.data.lock().unwrap();
        data.iter().flatten().map(|r| String::from_utf8(r.key.clone().unwrap()).unwrap()).collect()
    }
}

#[async_trait]
impl Log for MemLog {
    fn durability(&self) -> Durability {
        Durability::Fsync
    }
    fn partitions(&self, _: Topic) -> u32 {
        self.partitions
    }
    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError> {
        assert_eq!(topic, Topic::RawEvents, "the API writes raw_events only");
        let mut data = self.data.lock().unwrap();
        let mut out = Vec::with_capacity(batch.len());
        for r in batch {
            let partition = partition_for(r.key.as_deref(), self.partitions);
            let p = &mut data[partition as usize];
            out.push(Position { partition, offset: p.len() as u64 });
            p.push(r);
        }
        Ok(out)
    }
    async fn read(
        &self,
        _: Topic,
        partition: u32,
        from: u64,
        max: usize,
    ) -> Result<Vec<StoredRecord>, LogError> {
        let data = self.data.lock().unwrap();
        let part = &data[partition as usize];
        let rows = part.iter().enumerate().skip(from as usize).take(max);
        Ok(rows
            .map(|(i, r)| StoredRecord {
                partition,
                offset: i as u64,
                key: r.key.clone(),
                timestamp_ms: r.timestamp_ms,
                payload: r.payload.clone(),
            })
            .collect())
    }
    async fn fetch(&self, _: &str, t: Topic, p: u32, max: usize) -> Result<Vec<StoredRecord>, LogError> {
        self.read(t, p, 0, max).await
    }
    async fn ack(&self, _: &str, _: Topic, _: u32, _: u64) -> Result<(), LogError> {
        Ok(())
    }
    async fn committed(&self, _: &str, _: Topic, _: u32) -> Result<u64, LogError> {
        Ok(0)
    }
    async fn stats(&self, topic: Topic) -> Result<Vec<PartitionStats>, LogError> {
        let data = self.data.lock().unwrap();
        let stats = data.iter().enumerate().map(|(i, p)| PartitionStats {
            topic,
            partition: i as u32,
            first_offset: 0,
            next_offset: if topic == Topic::RawEvents { p.len() as u64 } else { 0 },
            bytes: if topic == Topic::RawEvents { p.iter().map(|r| r.payload.len() as u64).sum() } else { 0 },
        });
        Ok(stats.collect())
    }
    async fn apply_retention(&self, _: Topic, _: i64) -> Result<u64, LogError> {
        Ok(0)
    }
}

/// A fault-injecting wrapper: appends wait until released, or fail.
pub struct FaultyLog {
    pub inner: Arc<MemLog>,
    pub entered: Notify,
    pub release: Notify,
    pub hold: bool,
    pub fail: bool,
}

#[async_trait]
impl Log for FaultyLog {
    fn durability(&self) -> Durability {
        self.inner.durability()
    }
    fn partitions(&self, t: Topic) -> u32 {
        self.inner.partitions(t)
    }
    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError> {
        self.entered.notify_one();
        if self.hold {
            self.release.notified().await;
        }
        if self.fail {
            return Err(LogError::Server("injected failure".into()));
        }
        self.inner.append(topic, batch).await
    }
    async fn read(&self, t: Topic, p: u32, from: u64, max: usize) -> Result<Vec<StoredRecord>, LogError> {
        self.inner.read(t, p, from, max).await
    }
    async fn fetch(&self, g: &str, t: Topic, p: u32, max: usize) -> Result<Vec<StoredRecord>, LogError> {
        self.inner.fetch(g, t, p, max).await
    }
    async fn ack(&self, g: &str, t: Topic, p: u32, next: u64) -> Result<(), LogError> {
        self.inner.ack(g, t, p, next).await
    }
    async fn committed(&self, g: &str, t: Topic, p: u32) -> Result<u64, LogError> {
        self.inner.committed(g, t, p).await
    }
    async fn stats(&self, t: Topic) -> Result<Vec<PartitionStats>, LogError> {
        if self.fail {
            return Err(LogError::Server("injected failure".into()));
        }
        self.inner.stats(t).await
    }
    async fn apply_retention(&self, t: Topic, now: i64) -> Result<u64, LogError> {
        self.inner.apply_retention(t, now).await
    }
}

pub const WEBHOOK_SECRET: &str = "webhook-shared-secret-0123456789";

/// A router over a log, with a fresh data directory holding the registry and dead letters.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub app: Router,
    pub devices: Arc<FileDeviceStore>,
}

/// A device's credentials.
pub struct Dev {
    pub id: String,
    pub secret: SecretString,
}

impl Harness {
    pub fn new(log: Arc<dyn Log>, configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = Arc::new(MasterKey::from_bytes(&[9u8; 32]).unwrap());
        let devices = Arc::new(FileDeviceStore::new(dir.path(), Some(key)));
        let dead_letters = Arc::new(FileDeadLetters::open(&dir.path().join("deadletter.ndjson")).unwrap());
        let mut settings = Settings { max_record_bytes: 1 << 20, ..Settings::default() };
        settings.webhooks.insert("suricata".into(), webhook_config());
        configure(&mut settings);
        let ports = Ports {
            log,
            devices: Arc::clone(&devices) as Arc<dyn DeviceStore>,
            dead_letters,
            clock: Arc::new(SystemClock),
            metrics: ward_api::telemetry::install().unwrap(),
        };
        let app = router(AppState::new(ports, &settings).unwrap());
        Self { dir, app, devices }
    }

    pub async fn device(&self, tenant: &str) -> Dev {
        let tenant = TenantId::new(tenant).unwrap();
        FileTenantStore::new(self.dir.path()).ensure(&tenant).await.unwrap();
        let new = self.devices.create(&tenant, "test sensor").await.unwrap();
        Dev { id: new.device.id.to_string(), secret: new.secret }
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, Response<Body>) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        (response.status(), response)
    }

    pub fn dead_letters(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("deadletter.ndjson")).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

pub fn webhook_config() -> WebhookConfig {
    let config =
        serde_json::json!({ "tenant": "soc", "secret": WEBHOOK_SECRET, "signature_prefix": "sha256=" });
    serde_json::from_value(config).unwrap()
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A signed POST of `body` to `path`, signed at `ts`.
pub fn signed_at(dev: &Dev, path: &str, body: impl Into<Bytes>, ts: i64) -> Request<Body> {
    let body = body.into();
    let h = sign_request(&dev.id, &dev.secret, "POST", path, &body, ts).unwrap();
    build(path, body, h.pairs())
}

pub fn signed(dev: &Dev, path: &str, body: impl Into<Bytes>) -> Request<Body> {
    signed_at(dev, path, body, now())
}

pub fn signed_nonce(dev: &Dev, path: &str, body: impl Into<Bytes>, nonce: &str) -> Request<Body> {
    let body = body.into();
    let h = sign_with_nonce(&dev.id, &dev.secret, "POST", path, &body, now(), nonce);
    build(path, body, h.pairs())
}

pub fn build(path: &str, body: Bytes, headers: [(&str, &str); 4]) -> Request<Body> {
    let mut r = Request::post(path);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.body(Body::from(body)).unwrap()
}

pub async fn json(response: Response<Body>) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)))
}

pub async fn text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
