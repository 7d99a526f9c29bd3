//! What the NATS and Redis adapter tests share: reaching the local server (a failure under
//! `CI=true`, a skip elsewhere), unique prefixes, and the conformance harness.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use ward_log::conformance::Harness;
use ward_log::{Log, LogLayout};

/// Whether the server behind `url` accepts connections; under `CI=true` an unreachable server
/// fails the test.
pub async fn reachable(name: &str, url: &str) -> bool {
    let addr = url.split_once("://").map_or(url, |(_, rest)| rest).trim_end_matches('/');
    match tokio::net::TcpStream::connect(addr).await {
        Ok(_) => true,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{name} at {url} not reachable under CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {name} at {url} not reachable: {e}");
            false
        }
    }
}

/// A prefix no other test (or test run) uses: `stem` + process id + clock + counter.
pub fn unique_prefix(stem: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{stem}{}-{nanos:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A server adapter the conformance harness can open under a prefix.
#[async_trait]
pub trait Connect: Log + Clone + Sized + 'static {
    /// A new prefix for an isolated log.
    fn new_prefix() -> String;
    /// Connects to the log under `prefix`.
    async fn open(prefix: &str, layout: LogLayout) -> Self;
}

/// Conformance harness: each `fresh` log lives under a new prefix; `logs` keeps them so the
/// test can delete them at the end.
pub struct ServerHarness<L> {
    prefix: String,
    /// Every log `fresh` opened.
    pub logs: Vec<L>,
}

impl<L> Default for ServerHarness<L> {
    fn default() -> Self {
        Self { prefix: String::new(), logs: Vec::new() }
    }
}

#[async_trait]
impl<L: Connect> Harness for ServerHarness<L> {
    async fn fresh(&mut self) -> Arc<dyn Log> {
        self.prefix = L::new_prefix();
        let log = L::open(&self.prefix, LogLayout::conformance()).await;
        self.logs.push(log.clone());
        Arc::new(log)
    }

    async fn reopen(&mut self) -> Arc<dyn Log> {
        Arc::new(L::open(&self.prefix, LogLayout::conformance()).await)
    }
}
