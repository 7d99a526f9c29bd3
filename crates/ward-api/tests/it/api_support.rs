//! A router with the `/api/*` routes on, over a real state store (SQLite in a temporary
//! directory, or PostgreSQL in a fresh schema), plus request helpers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use ward_api::api::{ApiConfig, ApiPorts, PipelineStats};
use ward_api::backend::StoreBackend;
use ward_api::deadletter::FileDeadLetters;
use ward_api::identity::{IdentityStore, Role};
use ward_api::registry::file::FileDeviceStore;
use ward_api::{AppState, MasterKey, Ports, Settings, StreamHub, SystemClock, router};
use ward_enrich::{AssetInventory, Attack};
use ward_features::Features;
use ward_model::{AlertRecord, Entities, Incident, IncidentStatus, Severity, SignalKind, TenantId};
use ward_respond::exec::{ActionError, ExecContext, Executor, Executors};
use ward_respond::model::{PlaybookRun, RunStatus};
use ward_respond::{
    ActionKind, ActionRequest, MemoryRepo, Mode, PolicySet, RespondConfig, Responder, ResponseRepo, RiskClass,
};
use ward_store::Store;

use async_trait::async_trait;
use ward_log::{Durability, Log, LogError, PartitionStats, Position, Record, StoredRecord, Topic};

/// An in-memory log with one partition per topic (every topic, unlike the ingest tests' log).
#[derive(Default)]
pub struct TopicLog {
    data: std::sync::Mutex<std::collections::HashMap<Topic, Vec<Record>>>,
}

#[async_trait]
impl Log for TopicLog {
    fn durability(&self) -> Durability {
        Durability::Fsync
    }
    fn partitions(&self, _: Topic) -> u32 {
        1
    }
    async fn append(&self, topic: Topic, batch: Vec<Record>) -> Result<Vec<Position>, LogError> {
        let mut data = self.data.lock().unwrap();
        let part = data.entry(topic).or_default();
        let start = part.len() as u64;
        part.extend(batch);
        Ok((start..part.len() as u64).map(|offset| Position { partition: 0, offset }).collect())
    }
    async fn read(&self, topic: Topic, _: u32, from: u64, max: usize) -> Result<Vec<StoredRecord>, LogError> {
        let data = self.data.lock().unwrap();
        let part = data.get(&topic).map(Vec::as_slice).unwrap_or_default();
        let rows = part.iter().enumerate().skip(from as usize).take(max);
        Ok(rows
            .map(|(i, r)| StoredRecord {
                partition: 0,
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
        let part = data.get(&topic).map(Vec::as_slice).unwrap_or_default();
        let bytes = part.iter().map(|r| r.payload.len() as u64).sum();
        Ok(vec![PartitionStats {
            topic,
            partition: 0,
            first_offset: 0,
            next_offset: part.len() as u64,
            bytes,
        }])
    }
    async fn apply_retention(&self, _: Topic, _: i64) -> Result<u64, LogError> {
        Ok(0)
    }
}

/// Which store adapter a harness runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct ApiHarness {
    pub _dir: tempfile::TempDir,
    pub app: Router,
    pub store: Store,
    pub backend: StoreBackend,
    pub hub: StreamHub,
    pub log: Arc<TopicLog>,
    pub stats: Arc<PipelineStats>,
    /// The responder behind the response routes, its repo and its `block_ip` executor.
    pub responder: Arc<Responder>,
    pub respond_repo: Arc<MemoryRepo>,
    pub block: Arc<FakeBlock>,
    /// The live inventory of tenant `acme`, swapped by the asset routes.
    pub inventory: Arc<AssetInventory>,
    /// The in-memory online feature store behind the entity feature route.
    pub features: Arc<Features>,
    pg: bool,
}

use ward_testkit::pg::url as pg_url;

fn unique_schema() -> String {
    ward_testkit::pg::unique_schema("ward_api_t")
}

impl ApiHarness {
    pub async fn new() -> Self {
        Self::with(Db::Sqlite, |_| {}).await
    }

    /// A harness on `db`, with `[api]` settings changed by `configure`.
    pub async fn with(db: Db, configure: impl FnOnce(&mut ApiConfig)) -> Self {
        Self::with_extras(db, configure, true).await
    }

    /// As [`ApiHarness::with`]; `extras` wires the response, asset, feature and ATT&CK ports.
    pub async fn with_extras(db: Db, configure: impl FnOnce(&mut ApiConfig), extras: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = match db {
            Db::Sqlite => Store::for_data_dir(dir.path()).await.unwrap(),
            Db::Postgres => Store::open_postgres_in_schema(&pg_url(), &unique_schema())
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {} must be reachable: {e}", pg_url())),
        };
        let backend = StoreBackend::new(store.clone());
        let key = Arc::new(MasterKey::from_bytes(&[9u8; 32]).unwrap());
        let dead_letters = Arc::new(FileDeadLetters::open(&dir.path().join("deadletter.ndjson")).unwrap());
        let log = Arc::new(TopicLog::default());
        let ports = Ports {
            log: Arc::clone(&log) as _,
            devices: Arc::new(FileDeviceStore::new(dir.path(), Some(key))),
            dead_letters: Arc::clone(&dead_letters) as _,
            clock: Arc::new(SystemClock),
            metrics: ward_api::telemetry::install().unwrap(),
        };
        let hub = StreamHub::new(64);
        let stats = Arc::new(PipelineStats::default());
        let api = ApiPorts {
            identity: Arc::new(backend.clone()),
            incidents: Arc::new(backend.clone()),
            audit: Arc::new(backend.clone()),
            dead_letters,
            hub: hub.clone(),
            stats: Arc::clone(&stats),
            enrichment: None,
            features: None,
            assets: None,
            response: None,
            playbooks: None,
        };
        let respond_repo = Arc::new(MemoryRepo::new());
        let block = Arc::new(FakeBlock::default());
        let responder = responder(Arc::clone(&respond_repo), Arc::clone(&block));
        let inventory = Arc::new(AssetInventory::default());
        let features = Arc::new(Features::in_memory(1000));
        let acme = TenantId::new("acme").unwrap();
        respond_repo.put_run(&playbook_run(&acme)).await.unwrap();
        let api = if extras {
            let techniques = ["attack.t1110.001", "T1059", "T9999"].map(str::to_owned).to_vec();
            let coverage = ward_api::api::AttackCoverage::new(attack(), techniques);
            api.with_response(Arc::clone(&responder) as _)
                .with_features(Arc::clone(&features) as _)
                .with_enrichment(Arc::new(coverage))
                .with_assets(Arc::new(backend.assets(Some((acme, Arc::clone(&inventory))))))
                .with_playbooks(Arc::new(ward_api::api::StorePlaybooks::new(
                    store.clone(),
                    Arc::clone(&responder),
                )))
        } else {
            api
        };
        let mut config = ApiConfig::default();
        configure(&mut config);
        let settings = Settings { max_record_bytes: 1 << 20, ..Settings::default() };
        let app = router(AppState::with_api(ports, &settings, api, &config).unwrap());
        Self {
            _dir: dir,
            app,
            store,
            backend,
            hub,
            log,
            stats,
            responder,
            respond_repo,
            block,
            inventory,
            features,
            pg: db == Db::Postgres,
        }
    }

    /// The dead-letter file the API reads.
    pub fn dead_letter_path(&self) -> std::path::PathBuf {
        self._dir.path().join("deadletter.ndjson")
    }

    /// Drops the PostgreSQL schema (SQLite lives in the temporary directory).
    pub async fn cleanup(self) {
        if self.pg {
            self.store.drop_schema().await.unwrap();
        }
    }

    /// A fresh API key of `tenant` with `role`.
    pub async fn key(&self, tenant: &str, role: Role) -> String {
        let t = TenantId::new(tenant).unwrap();
        self.backend.create_api_key(&t, role, "test", None).await.unwrap().plaintext
    }

    /// A user with a password.
    pub async fn user(&self, tenant: &str, name: &str, role: Role, password: &str) {
        let t = TenantId::new(tenant).unwrap();
        self.backend.create_user(&t, name, role, Some(password.to_owned().into())).await.unwrap();
    }

    /// An incident `id` of `tenant` with two alerts (`{id}-a1`, `{id}-a2`) linked.
    pub async fn incident(&self, tenant: &str, id: &str) -> Incident {
        let t = TenantId::new(tenant).unwrap();
        self.store.ensure_tenant(&t).await.unwrap();
        let ts = self.store.tenant(&t);
        let alerts: Vec<AlertRecord> = (1..=2).map(|n| alert(&t, &format!("{id}-a{n}"))).collect();
        ts.insert_alerts(&alerts).await.unwrap();
        ts.upsert_incident(&incident(&t, id)).await.unwrap();
        let ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
        ts.link_alerts(id, &ids).await.unwrap();
        ts.incident(id).await.unwrap()
    }

    /// An action of `tenant` on `target` requested directly (not through the API) by
    /// `user:requester`: verified, or pending approval when `approval`; returns its id.
    pub async fn action(&self, tenant: &str, target: &str, approval: bool) -> String {
        let t = TenantId::new(tenant).unwrap();
        let mut request = ActionRequest::manual(t, ActionKind::BlockIp, target, "user:requester");
        request.force_approval = approval;
        let result = self.responder.request(&request).await.unwrap();
        let want = if approval { "pending_approval" } else { "verified" };
        assert_eq!(result.status.as_str(), want, "{}", result.reason);
        result.id
    }

    /// Sends a text body (`text/csv`) with a bearer key; returns status and JSON.
    pub async fn call_text(&self, method: Method, path: &str, key: &str, body: &str) -> (StatusCode, Value) {
        let r = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "text/csv");
        let response = self.app.clone().oneshot(r.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Sends a request with an optional bearer key and JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, json) = self.call_full(method, path, key, &[], body).await;
        (status, json)
    }

    /// As [`ApiHarness::call`], with extra headers, also returning the response headers.
    pub async fn call_full(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut r = Request::builder().method(method).uri(path);
        if let Some(k) = key {
            r = r.header("authorization", format!("Bearer {k}"));
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                r = r.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(r.body(body).unwrap()).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, headers, json)
    }

    /// Serves the router on 127.0.0.1:0 (with client addresses) in the background.
    pub async fn serve(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.app.clone().into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

pub fn alert(tenant: &TenantId, id: &str) -> AlertRecord {
    let mut entities = Entities::new();
    ward_model::add_entity(&mut entities, "source.ip", "203.0.113.7");
    AlertRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        kind: SignalKind::Sigma,
        rule_id: "ssh-brute-force".into(),
        rule_title: "SSH brute force".into(),
        level: Severity::High,
        score: 0.75,
        timestamp: chrono::Utc::now(),
        event_ids: vec![format!("{id}-e")],
        tags: vec![],
        techniques: vec![],
        entities,
        source: "cowrie".into(),
        details: serde_json::json!({}),
    }
}

pub fn incident(tenant: &TenantId, id: &str) -> Incident {
    let now = chrono::Utc::now();
    let mut entities = Entities::new();
    ward_model::add_entity(&mut entities, "source.ip", "203.0.113.7");
    Incident {
        id: id.to_owned(),
        tenant: tenant.clone(),
        status: IncidentStatus::New,
        severity: Severity::High,
        score: 0.75,
        title: format!("SSH brute force ({id})"),
        group_key: format!("source.ip=203.0.113.7/{id}"),
        entities,
        alert_count: 0,
        verdict: None,
        confidence: None,
        reasoning: vec![],
        iocs: Default::default(),
        recommended_actions: vec![],
        assignee: None,
        first_seen: now,
        last_seen: now,
        created_at: now,
        updated_at: now,
    }
}

/// The bundled ATT&CK matrix, parsed once per test binary.
fn attack() -> Arc<Attack> {
    static ATTACK: std::sync::OnceLock<Arc<Attack>> = std::sync::OnceLock::new();
    Arc::clone(ATTACK.get_or_init(|| Arc::new(Attack::bundled().unwrap())))
}

/// Playbook run `run-1` of `tenant` (playbook `contain`), with no journal yet.
pub fn playbook_run(tenant: &TenantId) -> PlaybookRun {
    let now = chrono::Utc::now();
    PlaybookRun {
        id: "run-1".into(),
        tenant: tenant.clone(),
        playbook: "contain".into(),
        playbook_hash: "h".into(),
        incident_id: "inc-1".into(),
        context: serde_json::json!({}),
        status: RunStatus::Completed,
        reason: "completed".into(),
        created_at: now,
        updated_at: now,
    }
}

/// A reversible, high-risk `block_ip` whose effect is its target in a set.
#[derive(Default)]
pub struct FakeBlock {
    pub active: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

#[async_trait]
impl Executor for FakeBlock {
    fn kind(&self) -> ActionKind {
        ActionKind::BlockIp
    }
    fn risk(&self) -> RiskClass {
        RiskClass::High
    }
    fn inverse(&self) -> Option<ActionKind> {
        Some(ActionKind::UnblockIp)
    }
    fn validate(&self, target: &str) -> Result<(), ActionError> {
        match target.parse::<std::net::IpAddr>() {
            Ok(_) => Ok(()),
            Err(e) => Err(ActionError::BadTarget {
                kind: ActionKind::BlockIp,
                target: target.into(),
                reason: e.to_string(),
            }),
        }
    }
    async fn execute(&self, ctx: &ExecContext) -> Result<Value, ActionError> {
        self.active.lock().unwrap().insert(ctx.target.clone());
        Ok(serde_json::json!({ "target": ctx.target }))
    }
    async fn verify(&self, ctx: &ExecContext, _: &Value) -> Result<bool, ActionError> {
        Ok(self.active.lock().unwrap().contains(&ctx.target))
    }
    async fn undo(&self, ctx: &ExecContext, _: &Value) -> Result<(), ActionError> {
        self.active.lock().unwrap().remove(&ctx.target);
        Ok(())
    }
    async fn verify_undone(&self, ctx: &ExecContext, _: &Value) -> Result<bool, ActionError> {
        Ok(!self.active.lock().unwrap().contains(&ctx.target))
    }
}

/// A responder in autonomous mode over the in-memory repo, with [`FakeBlock`] as `block_ip`.
pub fn responder(repo: Arc<MemoryRepo>, block: Arc<FakeBlock>) -> Arc<Responder> {
    let mut config =
        RespondConfig { mode: Mode::Autonomous, retry_backoff_ms: 1, ..RespondConfig::default() };
    config.guards.rate_limits.clear();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let policies = Arc::new(PolicySet::load_dir(&root).unwrap());
    let mut executors = Executors::new();
    executors.register(block);
    Arc::new(Responder::new(config, policies, repo, executors, Arc::new(ward_respond::SystemClock)))
}
