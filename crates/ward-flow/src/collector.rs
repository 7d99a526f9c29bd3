//! The NetFlow/IPFIX UDP collector: binds the configured ports (receive buffer sized by
//! config), decodes each datagram with a per-socket template [`Session`], hands batches of flow
//! events to the caller's [`FlowSink`] (which appends them to the durable log in `ward serve`),
//! and dead-letters malformed packets and data whose template never came.
//!
//! Metrics: `ward_flow_packets_total`, `ward_flow_records_total`,
//! `ward_flow_dropped_total{reason}` (decode errors by reason, `kernel` for datagrams the kernel
//! dropped because the socket buffer was full, read from `/proc/net/udp`), and the gauges
//! `ward_flow_templates` and `ward_flow_pending_sets`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use ward_model::{Event, TenantId};

use crate::error::PacketError;
use crate::event::flow_event;
use crate::netflow::{Session, SessionConfig, Tag};

/// Collector settings (`[flow]` in the configuration).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorConfig {
    /// Addresses to listen on (NetFlow commonly 2055, IPFIX 4739).
    pub listen: Vec<SocketAddr>,
    /// Socket receive buffer (`SO_RCVBUF`) in bytes; the kernel may cap it (`net.core.rmem_max`).
    pub recv_buffer_bytes: usize,
    /// Events per batch handed to the sink.
    pub batch_size: usize,
    /// Longest a partial batch waits before it is handed over (ms).
    pub linger_ms: u64,
    /// Data sets kept per socket while waiting for their template.
    pub max_pending_sets: usize,
    /// Templates kept per socket.
    pub max_templates: usize,
    /// How long data waits for its template before it is dead-lettered (ms).
    pub pending_ttl_ms: u64,
    /// Tenant stamped on the flow events.
    pub tenant: String,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        Self {
            listen: vec![SocketAddr::from(([0, 0, 0, 0], 2055)), SocketAddr::from(([0, 0, 0, 0], 4739))],
            recv_buffer_bytes: 8 << 20,
            batch_size: 1024,
            linger_ms: 100,
            max_pending_sets: 4096,
            max_templates: 65_536,
            pending_ttl_ms: 60_000,
            tenant: TenantId::default_tenant().as_str().to_owned(),
        }
    }
}

/// A packet (or buffered data) that could not be decoded, kept for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Who sent it.
    pub exporter: SocketAddr,
    /// When it was received (Unix ms).
    pub received_ms: i64,
    /// Metric label of the reason.
    pub label: &'static str,
    /// Full reason.
    pub reason: String,
    /// The datagram (empty for buffered data given up later).
    pub payload: Vec<u8>,
}

/// Why the sink could not take a batch.
#[derive(Debug, thiserror::Error)]
#[error("flow sink: {0}")]
pub struct SinkError(pub String);

/// Where the collector delivers: batches of events (appended durably by the caller) and dead
/// letters.
pub trait FlowSink: Send + Sync + 'static {
    /// Takes a batch of flow events; the collector waits for it (backpressure: meanwhile
    /// datagrams queue in the socket buffer, and what overflows is counted as kernel drops).
    fn deliver(&self, batch: Vec<Event>) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Keeps a packet that could not be decoded.
    fn dead_letter(&self, letter: DeadLetter) -> impl Future<Output = ()> + Send;
}

/// Why the collector could not start.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// A listen address could not be bound or configured.
    #[error("flow collector cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The reason.
        #[source]
        source: std::io::Error,
    },
    /// The tenant name is invalid.
    #[error("flow collector tenant: {0}")]
    Tenant(String),
}

/// Counters of a running collector (also exported as metrics).
#[derive(Debug, Default)]
pub struct CollectorStats {
    /// Datagrams received.
    pub packets: AtomicU64,
    /// Flow records decoded.
    pub records: AtomicU64,
    /// Packets or buffered sets dead-lettered.
    pub dead_letters: AtomicU64,
    /// Datagrams the kernel dropped (socket buffer full).
    pub kernel_drops: AtomicU64,
    /// Batches the sink refused (their events are lost to this collector; counted).
    pub sink_failures: AtomicU64,
    /// Templates cached over all sockets.
    pub templates: AtomicU64,
}

/// A bound collector, ready to run.
pub struct Collector {
    config: CollectorConfig,
    tenant: TenantId,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>, Option<u64>)>,
    stats: Arc<CollectorStats>,
}

fn bind(addr: SocketAddr, rcvbuf: usize) -> std::io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_recv_buffer_size(rcvbuf)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// The socket inode (`/proc/self/fd/N` → `socket:[inode]`), to find its row in /proc/net/udp.
#[cfg(unix)]
fn socket_inode(s: &std::net::UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let link = std::fs::read_link(format!("/proc/self/fd/{}", s.as_raw_fd())).ok()?;
    link.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

#[cfg(not(unix))]
fn socket_inode(_: &std::net::UdpSocket) -> Option<u64> {
    None
}

/// Kernel drop counters by socket inode, from `/proc/net/udp` and `/proc/net/udp6`.
pub fn kernel_drops() -> HashMap<u64, u64> {
    let mut out = HashMap::new();
    for file in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(file) else { continue };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if let (Some(inode), Some(drops)) = (cols.get(9), cols.last())
                && let (Ok(i), Ok(d)) = (inode.parse::<u64>(), drops.parse::<u64>())
            {
                out.insert(i, d);
            }
        }
    }
    out
}

impl Collector {
    /// Binds every listen address with the configured receive buffer.
    ///
    /// # Errors
    /// [`CollectorError`] for an address that cannot be bound or a bad tenant.
    pub fn bind(config: CollectorConfig) -> Result<Self, CollectorError> {
        let tenant = TenantId::new(&config.tenant).map_err(|e| CollectorError::Tenant(e.to_string()))?;
        let mut sockets = Vec::new();
        for addr in &config.listen {
            let err = |source| CollectorError::Bind { addr: *addr, source };
            let std_sock = bind(*addr, config.recv_buffer_bytes).map_err(err)?;
            let inode = socket_inode(&std_sock);
            let local = std_sock.local_addr().map_err(err)?;
            let sock = UdpSocket::from_std(std_sock).map_err(err)?;
            sockets.push((local, Arc::new(sock), inode));
        }
        Ok(Self { config, tenant, sockets, stats: Arc::new(CollectorStats::default()) })
    }

    /// The bound addresses (with the ports the OS chose for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets.iter().map(|s| s.0).collect()
    }

    /// Live counters.
    pub fn stats(&self) -> Arc<CollectorStats> {
        self.stats.clone()
    }

    /// Receives until `shutdown` completes, then delivers what is batched and dead-letters
    /// data still waiting for templates.
    pub async fn run<S: FlowSink>(self, sink: Arc<S>, shutdown: impl Future<Output = ()> + Send) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let inodes: Vec<u64> = self.sockets.iter().filter_map(|s| s.2).collect();
        tasks.push(tokio::spawn(watch_kernel_drops(inodes, self.stats.clone(), stop_rx.clone())));
        for (_, sock, _) in self.sockets {
            let worker = Worker {
                config: self.config.clone(),
                tenant: self.tenant.clone(),
                stats: self.stats.clone(),
                session: Session::new(SessionConfig {
                    max_templates: self.config.max_templates,
                    max_pending_sets: self.config.max_pending_sets,
                    ..SessionConfig::default()
                }),
                batch: Vec::with_capacity(self.config.batch_size),
                letters: Vec::new(),
                templates: 0,
            };
            tasks.push(tokio::spawn(worker.run(sock, sink.clone(), stop_rx.clone())));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
    }
}

async fn watch_kernel_drops(inodes: Vec<u64>, stats: Arc<CollectorStats>, mut stop: watch::Receiver<bool>) {
    if inodes.is_empty() {
        return;
    }
    let base = kernel_drops();
    let mut seen: HashMap<u64, u64> =
        inodes.iter().map(|i| (*i, base.get(i).copied().unwrap_or(0))).collect();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let now = kernel_drops();
        for (inode, last) in &mut seen {
            let cur = now.get(inode).copied().unwrap_or(*last);
            if cur > *last {
                let d = cur - *last;
                stats.kernel_drops.fetch_add(d, Ordering::Relaxed);
                metrics::counter!("ward_flow_dropped_total", "reason" => "kernel").increment(d);
                *last = cur;
            }
        }
    }
}

/// One socket's receive loop.
struct Worker {
    config: CollectorConfig,
    tenant: TenantId,
    stats: Arc<CollectorStats>,
    session: Session,
    batch: Vec<Event>,
    letters: Vec<DeadLetter>,
    templates: usize,
}

impl Worker {
    async fn run<S: FlowSink>(mut self, sock: Arc<UdpSocket>, sink: Arc<S>, mut stop: watch::Receiver<bool>) {
        let mut buf = vec![0u8; 65_536];
        let linger = Duration::from_millis(self.config.linger_ms.max(1));
        let mut flush_at = tokio::time::Instant::now() + linger;
        let ttl = Duration::from_millis(self.config.pending_ttl_ms.max(1));
        let mut expire_at = tokio::time::Instant::now() + ttl;
        let mut waiting_since_last = 0usize;
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                r = sock.recv_from(&mut buf) => match r {
                    Ok((len, from)) => {
                        n += 1;
                        self.packet(from, &buf[..len], n);
                        if self.batch.len() >= self.config.batch_size {
                            self.flush(&*sink).await;
                            flush_at = tokio::time::Instant::now() + linger;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "flow collector receive failed"),
                },
                () = tokio::time::sleep_until(flush_at) => {
                    self.flush(&*sink).await;
                    flush_at = tokio::time::Instant::now() + linger;
                }
                () = tokio::time::sleep_until(expire_at) => {
                    let now = self.session.pending_count();
                    let old = waiting_since_last.min(now);
                    let received_ms = Utc::now().timestamp_millis();
                    let mut given_up = Vec::new();
                    self.session.expire_pending(now - old, &mut |_, r| if let Err(e) = r { given_up.push(e) });
                    for e in given_up {
                        self.dead(e, received_ms, &[]);
                    }
                    waiting_since_last = self.session.pending_count();
                    expire_at = tokio::time::Instant::now() + ttl;
                }
            }
        }
        let received_ms = Utc::now().timestamp_millis();
        let mut given_up = Vec::new();
        self.session.flush_pending(&mut |_, r| {
            if let Err(e) = r {
                given_up.push(e);
            }
        });
        for e in given_up {
            self.dead(e, received_ms, &[]);
        }
        self.flush(&*sink).await;
    }

    fn packet(&mut self, from: SocketAddr, data: &[u8], n: u64) {
        self.stats.packets.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ward_flow_packets_total").increment(1);
        let now = Utc::now();
        let mut records = 0u64;
        let mut errors = Vec::new();
        let (tenant, batch) = (&self.tenant, &mut self.batch);
        self.session.decode(from, data, Tag { packet: n, offset: 0 }, &mut |_, r| match r {
            Ok(rec) => {
                records += 1;
                batch.push(flow_event(&rec, &rec.to_json(), tenant, "netflow", now));
            }
            Err(e) => errors.push(e),
        });
        self.stats.records.fetch_add(records, Ordering::Relaxed);
        metrics::counter!("ward_flow_records_total").increment(records);
        for e in errors {
            self.dead(e, now.timestamp_millis(), data);
        }
        let templates = self.session.template_count();
        if templates != self.templates {
            let delta = templates as i64 - self.templates as i64;
            if delta > 0 {
                self.stats.templates.fetch_add(delta.unsigned_abs(), Ordering::Relaxed);
            } else {
                self.stats.templates.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
            }
            self.templates = templates;
            metrics::gauge!("ward_flow_templates").set(self.stats.templates.load(Ordering::Relaxed) as f64);
        }
        metrics::gauge!("ward_flow_pending_sets").set(self.session.pending_count() as f64);
    }

    fn dead(&mut self, e: PacketError, received_ms: i64, payload: &[u8]) {
        let label = e.reason.label();
        self.stats.dead_letters.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ward_flow_dropped_total", "reason" => label).increment(1);
        self.letters.push(DeadLetter {
            exporter: e.exporter,
            received_ms,
            label,
            reason: e.to_string(),
            payload: payload.to_vec(),
        });
    }

    async fn flush<S: FlowSink>(&mut self, sink: &S) {
        for letter in self.letters.drain(..) {
            sink.dead_letter(letter).await;
        }
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.config.batch_size));
        let n = batch.len() as u64;
        if let Err(e) = sink.deliver(batch).await {
            self.stats.sink_failures.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("ward_flow_dropped_total", "reason" => "sink").increment(n);
            tracing::warn!(error = %e, events = n, "flow batch refused by the sink");
        }
    }
}
