//! Beaconing: a host connecting to the same destination at regular intervals (malware
//! checking in with its command-and-control server). Sigma correlation counts and
//! distinct-counts matches in a window but cannot test how *regular* their spacing is, so this
//! is a small flow-specific detector: per (tenant, source, destination, port) it keeps the last
//! start times and fires when enough intervals have a low coefficient of variation.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use ward_model::Event;

/// When a series of connections counts as a beacon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeaconConfig {
    /// Connections needed before judging (intervals = connections − 1).
    pub min_connections: usize,
    /// Largest coefficient of variation (standard deviation / mean) of the intervals.
    pub max_jitter: f64,
    /// Shortest mean interval considered (ms); faster repeats are sessions, not check-ins.
    pub min_interval_ms: f64,
    /// Longest mean interval considered (ms).
    pub max_interval_ms: f64,
    /// Start times kept per pair.
    pub window: usize,
    /// Pairs tracked at most; the least recently seen is forgotten beyond this.
    pub max_pairs: usize,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        Self {
            min_connections: 8,
            max_jitter: 0.1,
            min_interval_ms: 10_000.0,
            max_interval_ms: 86_400_000.0,
            window: 32,
            max_pairs: 100_000,
        }
    }
}

/// A detected beacon.
#[derive(Clone, Debug, PartialEq)]
pub struct BeaconAlert {
    /// Tenant of the flows.
    pub tenant: String,
    /// The beaconing host.
    pub source: IpAddr,
    /// Where it calls.
    pub destination: IpAddr,
    /// Destination port (0 when the protocol has none).
    pub port: u16,
    /// Connections in the judged series.
    pub connections: usize,
    /// Mean interval (ms).
    pub mean_interval_ms: f64,
    /// Coefficient of variation of the intervals.
    pub jitter: f64,
    /// First and last connection start (Unix ms).
    pub first_ms: i64,
    /// Last connection start (Unix ms).
    pub last_ms: i64,
}

type Key = (String, IpAddr, IpAddr, u16);

struct Series {
    starts: VecDeque<i64>,
    alerted: bool,
    last_seen: u64,
}

/// The streaming detector.
pub struct BeaconDetector {
    config: BeaconConfig,
    pairs: HashMap<Key, Series>,
    tick: u64,
}

impl BeaconDetector {
    /// A detector with the given thresholds.
    pub fn new(config: BeaconConfig) -> Self {
        Self { config, pairs: HashMap::new(), tick: 0 }
    }

    /// Pairs currently tracked.
    pub fn tracked(&self) -> usize {
        self.pairs.len()
    }

    /// Looks at one event; flow events (`netflow.flow`, `pcap.flow`) extend their pair's series.
    /// Returns an alert the first time a series becomes regular (again).
    pub fn observe(&mut self, ev: &Event) -> Option<BeaconAlert> {
        let dataset = ev.str("event.dataset")?;
        if dataset != "netflow.flow" && dataset != "pcap.flow" {
            return None;
        }
        let src = ev.get("source.ip")?.as_ip()?;
        let dst = ev.get("destination.ip")?.as_ip()?;
        let port = ev
            .get("destination.port")
            .and_then(|p| p.as_i64())
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0);
        let start = ev
            .str("event.start")
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map_or_else(|| ev.timestamp().timestamp_millis(), |t| t.timestamp_millis());
        self.tick += 1;
        let key = (ev.tenant().to_owned(), src, dst, port);
        if !self.pairs.contains_key(&key) && self.pairs.len() >= self.config.max_pairs {
            self.forget_oldest();
        }
        let window = self.config.window.max(2);
        let tick = self.tick;
        let s = self.pairs.entry(key).or_insert_with(|| Series {
            starts: VecDeque::new(),
            alerted: false,
            last_seen: 0,
        });
        s.last_seen = tick;
        let at = s.starts.partition_point(|t| *t <= start);
        s.starts.insert(at, start);
        while s.starts.len() > window {
            s.starts.pop_front();
        }
        let (n, mean, cv) = regularity(&s.starts)?;
        let c = &self.config;
        let regular = n >= c.min_connections
            && cv <= c.max_jitter
            && (c.min_interval_ms..=c.max_interval_ms).contains(&mean);
        if !regular {
            s.alerted = false;
            return None;
        }
        if s.alerted {
            return None;
        }
        s.alerted = true;
        Some(BeaconAlert {
            tenant: ev.tenant().to_owned(),
            source: src,
            destination: dst,
            port,
            connections: n,
            mean_interval_ms: mean,
            jitter: cv,
            first_ms: *s.starts.front()?,
            last_ms: *s.starts.back()?,
        })
    }

    fn forget_oldest(&mut self) {
        if let Some(k) = self.pairs.iter().min_by_key(|(_, s)| s.last_seen).map(|(k, _)| k.clone()) {
            self.pairs.remove(&k);
        }
    }
}

/// (connections, mean interval, coefficient of variation) of a sorted series.
fn regularity(starts: &VecDeque<i64>) -> Option<(usize, f64, f64)> {
    if starts.len() < 3 {
        return None;
    }
    let gaps: Vec<f64> = starts.iter().zip(starts.iter().skip(1)).map(|(a, b)| (b - a) as f64).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    if mean <= 0.0 {
        return None;
    }
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    Some((starts.len(), mean, var.sqrt() / mean))
}
